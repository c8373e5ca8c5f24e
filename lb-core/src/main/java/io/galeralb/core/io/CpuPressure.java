package io.galeralb.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether there is CPU to spare, from the kernel's pressure stall information
 * ({@code /proc/pressure/cpu}, Linux 4.20 and later): the share of wall time during which some
 * runnable task waited for a CPU, which must be below {@link #LOW}; and, under a CPU quota
 * ({@link CpuQuota}, a container's CPU limit), that galera-lb's cgroup has not run out of its
 * quota for {@link #QUOTA_QUIET_MILLIS} ms. Sampled every {@link #PERIOD_MILLIS} ms on a thread
 * of its own, since reading a file is not for an event loop. Why these thresholds:
 * docs/decisions/busy-polling.md.
 */
final class CpuPressure implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CpuPressure.class);

    static final Path PROC = Path.of("/proc/pressure/cpu");
    static final long PERIOD_MILLIS = 100;
    /** Below this share of time with a task waiting for a CPU, the machine has CPU to spare. */
    static final double LOW = 0.5;
    /**
     * Under a quota, polling stops for this long each time the cgroup runs out of its quota (is
     * throttled): polling spends what the quota leaves, and a throttled period is what says it
     * left too little. Where the load alone keeps the cgroup throttled, polling stays off.
     */
    static final long QUOTA_QUIET_MILLIS = 200;

    private static final Pattern SOME_TOTAL = Pattern.compile("(?m)^some .*\\btotal=(\\d+)");

    private final Path file;
    private final CpuQuota quota;
    private final ScheduledExecutorService sampler;
    private volatile boolean low;
    private boolean failing;
    private long lastTotalMicros;
    private long lastThrottledPeriods;
    private long lastThrottledAt;
    private long lastNanos;

    private CpuPressure(Path file, long totalMicros, CpuQuota quota, long throttledPeriods) {
        this.file = file;
        this.quota = quota;
        this.lastTotalMicros = totalMicros;
        this.lastThrottledPeriods = throttledPeriods;
        this.lastNanos = System.nanoTime();
        this.lastThrottledAt = lastNanos - TimeUnit.MILLISECONDS.toNanos(QUOTA_QUIET_MILLIS);
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lb-cpu-pressure");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(this::sample, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts sampling {@code file} and the usage of {@code quota}, if there is one; null when the
     * file cannot be read (a kernel without pressure stall information), which is logged once.
     */
    static CpuPressure start(Path file, Optional<CpuQuota> quota) {
        long totalMicros;
        try {
            totalMicros = someTotalMicros(Files.readString(file));
        } catch (IOException | IllegalArgumentException e) {
            log.info("busy polling off: cannot read the CPU pressure from {} ({}); it needs Linux 4.20 or later "
                    + "with pressure stall information (PSI) enabled", file, e.getMessage());
            return null;
        }
        if (quota.isEmpty()) {
            return new CpuPressure(file, totalMicros, null, 0);
        }
        try {
            long throttled = quota.get().throttledPeriods();
            log.info("CPU quota of {}: busy polling stops for {} ms whenever galera-lb's cgroup runs out of it",
                    quota.get(), QUOTA_QUIET_MILLIS);
            return new CpuPressure(file, totalMicros, quota.get(), throttled);
        } catch (IOException | NumberFormatException e) {
            log.info("busy polling off: CPU quota of {}, whose throttling cannot be read ({})", quota.get(), e.getMessage());
            return null;
        }
    }

    /** Whether, in the last period, the machine and the quota (if any) had CPU to spare. */
    boolean low() {
        return low;
    }

    private void sample() {
        try {
            long total = someTotalMicros(Files.readString(file));
            long throttled = quota == null ? 0 : quota.throttledPeriods();
            long now = System.nanoTime();
            if (throttled != lastThrottledPeriods) {
                lastThrottledAt = now;
            }
            low = share(total - lastTotalMicros, now - lastNanos) < LOW
                    && now - lastThrottledAt >= TimeUnit.MILLISECONDS.toNanos(QUOTA_QUIET_MILLIS);
            lastTotalMicros = total;
            lastThrottledPeriods = throttled;
            lastNanos = now;
            if (failing) {
                failing = false;
                log.info("the CPU pressure can be read again");
            }
        } catch (IOException | IllegalArgumentException e) {
            low = false;
            if (!failing) {
                failing = true;
                log.warn("cannot read the CPU pressure from {}{}: {}; no busy polling until it can", file,
                        quota == null ? "" : " or the throttling of the CPU quota of " + quota, e.getMessage());
            }
        }
    }

    /** The share of {@code elapsedNanos} that {@code stalledMicros} of waiting time make. */
    static double share(long stalledMicros, long elapsedNanos) {
        return elapsedNanos <= 0 ? 1 : stalledMicros * 1000.0 / elapsedNanos;
    }

    /** The cumulative microseconds of the {@code some} line of a pressure file. */
    static long someTotalMicros(String pressure) {
        Matcher m = SOME_TOTAL.matcher(pressure);
        if (!m.find()) {
            throw new IllegalArgumentException("no 'some ... total=' line in " + pressure.strip());
        }
        return Long.parseLong(m.group(1));
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
