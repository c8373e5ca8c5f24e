package io.galeralb.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * At most one log line per interval for events that can repeat without bound (refused clients,
 * failed admin logins, accept errors), with the count of events since the last line: a flood
 * costs the log one line per interval, and nothing is hidden. Thread-safe.
 */
public final class LogLimit {

    private final long intervalNanos;
    private final AtomicLong lastLine;
    private final AtomicLong sinceLine = new AtomicLong();

    public LogLimit(Duration interval) {
        this.intervalNanos = interval.toNanos();
        this.lastLine = new AtomicLong(System.nanoTime() - intervalNanos);
    }

    /**
     * Counts one event. Returns how many events the caller's line should report (this one and
     * those not logged before it) when a line is due now, else 0: log only on a positive answer.
     */
    public long count() {
        long events = sinceLine.incrementAndGet();
        long last = lastLine.get();
        long now = System.nanoTime();
        if (now - last >= intervalNanos && lastLine.compareAndSet(last, now)) {
            sinceLine.addAndGet(-events);
            return events;
        }
        return 0;
    }
}
