#!/usr/bin/env python3
"""The statistics of benchmarks/e2e/run, in one place.

  median V...              the median of the figures; "-" or empty is a failed run and left out;
                           prints "fail" when every run failed
  ratio A B                A / B to two decimals; "-" when either is missing
  cpu-per TICKS RATE S TICK_US
                           microseconds of a proxy's CPU per query or connection: TICKS clock
                           ticks used while RATE units/s were done for S seconds
  paired LB HA             LB and HA: the rates of galera-lb and HAProxy, comma-separated, one
                           per round ("-" when that run failed). Prints "WON/ROUNDS LOW-HIGH": the
                           rounds galera-lb was faster, of those both completed, and the 95%
                           interval of galera-lb/HAProxy: the geometric mean of the rounds' own
                           ratios (both measured in the same round, so what the machine did that
                           round weighs on both) +- Student's t. An interval that contains 1 says
                           the run cannot tell the two apart; "-" below two rounds.
"""
import math
import statistics
import sys

# Student's t, two-sided 95%, by degrees of freedom 1..19; 2.0 beyond.
T95 = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11,
       2.10, 2.09]


def figures(values):
    return [float(v) for v in values if v not in ("", "-")]


def median(values):
    """The middle figure as it was given, or the mean of the two middle ones to two decimals."""
    given = sorted((v for v in values if v not in ("", "-")), key=float)
    if not given:
        return "fail"
    mid = len(given) // 2
    return given[mid] if len(given) % 2 else "%.2f" % ((float(given[mid - 1]) + float(given[mid])) / 2)


def ratio(a, b):
    xs = figures([a, b])
    return "%.2f" % (xs[0] / xs[1]) if len(xs) == 2 and xs[0] > 0 and xs[1] > 0 else "-"


def cpu_per(ticks, rate, seconds, tick_us):
    t, r, s, us = float(ticks), float(rate or 0), float(seconds or 0), float(tick_us)
    return "%.1f" % (t * us / (r * s)) if t > 0 and r > 0 and s > 0 else ""


def paired(lb, ha):
    pairs = [(float(a), float(b)) for a, b in zip(lb.split(","), ha.split(","))
             if a not in ("", "-") and b not in ("", "-") and float(b) > 0]
    won = sum(1 for a, b in pairs if a > b)
    logs = [math.log(a / b) for a, b in pairs]
    if len(logs) < 2:
        return "%d/%d -" % (won, len(pairs))
    m = statistics.mean(logs)
    df = len(logs) - 1
    h = (T95[df - 1] if df <= len(T95) else 2.0) * statistics.stdev(logs) / math.sqrt(len(logs))
    return "%d/%d %.2f-%.2f" % (won, len(pairs), math.exp(m - h), math.exp(m + h))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    command, args = argv[1], argv[2:]
    if command == "median":
        print(median(args))
    elif command == "ratio" and len(args) == 2:
        print(ratio(*args))
    elif command == "cpu-per" and len(args) == 4:
        print(cpu_per(*args))
    elif command == "paired" and len(args) == 2:
        print(paired(*args))
    else:
        sys.exit("unknown or malformed command: " + " ".join(argv[1:]) + "\n" + __doc__)


if __name__ == "__main__":
    main(sys.argv)
