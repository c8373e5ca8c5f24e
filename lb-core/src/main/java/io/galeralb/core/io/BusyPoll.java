package io.galeralb.core.io;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Busy polling: an I/O thread that has just handled I/O polls for more without sleeping for up
 * to a window (100 µs by default), as long as the machine has CPU to spare ({@link CpuPressure}).
 *
 * <p>A request through the proxy wakes its I/O thread twice (request, answer), and waking a
 * sleeping vCPU is slow; polling a little longer than MariaDB takes to answer saves both. It
 * takes CPU from whatever else runs, so it stops while tasks wait for a CPU and, under a CPU
 * quota, for a while after galera-lb's cgroup ran out of it. An idle thread never polls (only
 * the window after its own I/O). The figures behind the window and the rules:
 * docs/decisions/busy-polling.md.
 */
public final class BusyPoll implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BusyPoll.class);

    private volatile long windowNanos;
    private final BooleanSupplier cpuToSpare;
    private final AutoCloseable pressure;
    private final LongAdder idlePollNanos = new LongAdder();

    private BusyPoll(Duration window, BooleanSupplier cpuToSpare, AutoCloseable pressure) {
        window(window);
        this.cpuToSpare = cpuToSpare;
        this.pressure = pressure;
    }

    /**
     * Polls for up to {@code window} while the kernel reports little CPU pressure and galera-lb's
     * cgroup has not lately run out of its CPU quota, if it has one; never without those reports.
     */
    public static BusyPoll start(Duration window) {
        CpuPressure pressure = cpuPressure();
        return pressure == null ? of(window, () -> false) : new BusyPoll(window, pressure::low, pressure);
    }

    /** The kernel's CPU pressure, with galera-lb's CPU quota if it has one; null (logged) when either cannot be read. */
    private static CpuPressure cpuPressure() {
        Optional<CpuQuota> quota;
        try {
            quota = CpuQuota.ofThisProcess();
        } catch (IOException | RuntimeException e) {
            log.warn("busy polling off: cannot tell whether galera-lb's cgroup has a CPU quota: {}", e.toString());
            return null;
        }
        return CpuPressure.start(CpuPressure.PROC, quota);
    }

    /** Polls for up to {@code window} whenever {@code cpuToSpare} says so. */
    public static BusyPoll of(Duration window, BooleanSupplier cpuToSpare) {
        return new BusyPoll(window, cpuToSpare, () -> { });
    }

    /** Changes the window; zero stops busy polling. Takes effect at each thread's next poll. */
    public void window(Duration window) {
        this.windowNanos = window.toNanos();
    }

    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }

    /** Time the I/O threads have spent polling and finding nothing, in nanoseconds. */
    public long idlePollNanos() {
        return idlePollNanos.sum();
    }

    /** Wraps every handler {@code ioHandlers} makes. */
    public IoHandlerFactory wrap(IoHandlerFactory ioHandlers) {
        return ForwardingIoHandler.wrapping(ioHandlers, (io, thread) -> new Handler(io));
    }

    @Override
    public void close() {
        try {
            pressure.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop sampling the CPU pressure", e);
        }
    }

    /** One I/O thread's handler: Netty's, asked not to block while the window lasts. */
    private final class Handler extends ForwardingIoHandler {
        private final NonBlocking nonBlocking = new NonBlocking();
        /** When this thread last handled I/O; long enough ago at first that it does not poll. */
        private long lastIoNanos = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);

        Handler(IoHandler io) {
            super(io);
        }

        @Override
        public int run(IoHandlerContext context) {
            long window = windowNanos;
            if (window == 0 || !cpuToSpare.getAsBoolean()) {
                // No clock read: when the CPU has room again, polling starts after the next I/O.
                return wrapped.run(context);
            }
            long start = System.nanoTime();
            boolean poll = context.canBlock() && start - lastIoNanos < window;
            int handled;
            if (poll) {
                nonBlocking.context = context;
                handled = wrapped.run(nonBlocking);
            } else {
                handled = wrapped.run(context);
            }
            if (handled > 0) {
                lastIoNanos = System.nanoTime();
            } else if (poll) {
                idlePollNanos.add(System.nanoTime() - start);
            }
            return handled;
        }
    }

    /** The loop's context, except that it may not block: Netty then polls without waiting. */
    private static final class NonBlocking implements IoHandlerContext {
        private IoHandlerContext context;

        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return context.delayNanos(currentTimeNanos);
        }

        @Override
        public long deadlineNanos() {
            return context.deadlineNanos();
        }

        @Override
        public void reportActiveIoTime(long activeNanos) {
            context.reportActiveIoTime(activeNanos);
        }

        @Override
        public boolean shouldReportActiveIoTime() {
            return context.shouldReportActiveIoTime();
        }
    }
}
