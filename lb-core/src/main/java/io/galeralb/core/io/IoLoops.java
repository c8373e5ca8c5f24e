package io.galeralb.core.io;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorChooserFactory;
import io.netty.util.concurrent.ThreadPerTaskExecutor;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The I/O threads, and which of them a session lives on.
 *
 * <p><b>A new session starts on the thread that accepted it.</b> Handing each accepted client
 * to the next thread in turn, as Netty does by default, wakes a second thread for every
 * connection: under connection churn (one query per connection) that is a wakeup, a
 * cross-thread task and a context switch per session, and the two threads together spend more
 * CPU per connection than HAProxy. A thread that accepts and serves its own short sessions
 * does without. Only while that thread is saturated do new sessions go to the threads in
 * turn, so a heavy churn still spreads over every core.
 *
 * <p><b>A session that lasts is moved to the thread with the fewest sessions</b>, once, after
 * {@link #SETTLE_NANOS} (at its first idle check): both of its sockets are taken off the
 * accepting thread and registered on the other (see {@code Session}). Pooled connections,
 * opened together at a quiet moment, would otherwise all stay on the thread that accepted
 * them.
 */
public final class IoLoops {

    /** How long a session stays on the loop that accepted it before it may move to a less loaded one. */
    public static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How often each loop measures how busy it was. */
    static final long MEASURE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** The share of a measuring period a loop must have been busy to pass new sessions on. */
    static final double SATURATED = 0.9;

    private final Group group;
    private final Loop[] loops;
    private final AtomicIntegerArray sessions;
    private final AtomicLong moves = new AtomicLong();
    private final long settleNanos;

    public IoLoops(int threads, IoHandlerFactory ioHandlers, long settleNanos) {
        this.settleNanos = settleNanos;
        LocalFirst chooser = new LocalFirst();
        this.group = new Group(threads, new ThreadPerTaskExecutor(new DefaultThreadFactory("lb-io")), chooser,
                ioHandlers);
        this.loops = chooser.loops;
        this.sessions = new AtomicIntegerArray(loops.length);
        for (Loop loop : loops) {
            loop.scheduleAtFixedRate(loop::measure, MEASURE_NANOS, MEASURE_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    /** The group to bind listening sockets on; a client is registered where it was accepted. */
    public EventLoopGroup group() {
        return group;
    }

    /** How long a session stays where it was accepted before it may move. */
    public long settleNanos() {
        return settleNanos;
    }

    public int size() {
        return loops.length;
    }

    public EventLoop loop(int index) {
        return loops[index];
    }

    /** The channels registered on loop {@code index}, as Netty counts them. */
    public int channels(int index) {
        return loops[index].registrations();
    }

    /** Whether loop {@code index} was saturated when it last measured. */
    public boolean saturated(int index) {
        return loops[index].saturated;
    }

    /** Counts a session in on {@code loop}; returns the loop's index. */
    public int sessionAdded(EventLoop loop) {
        int index = indexOf(loop);
        sessions.incrementAndGet(index);
        return index;
    }

    public void sessionRemoved(int index) {
        sessions.decrementAndGet(index);
    }

    public int sessions(int index) {
        return sessions.get(index);
    }

    /**
     * The loop with the fewest sessions, when moving one session there from {@code from} leaves
     * the two closer to even; -1 when no loop has at least two sessions fewer. The move is
     * counted at once, so that sessions deciding together do not all pick the same loop.
     */
    public int moveToLighter(int from) {
        int lightest = from;
        for (int i = 0; i < loops.length; i++) {
            if (sessions.get(i) < sessions.get(lightest)) {
                lightest = i;
            }
        }
        if (lightest == from || sessions.get(from) - sessions.get(lightest) < 2) {
            return -1;
        }
        sessions.decrementAndGet(from);
        sessions.incrementAndGet(lightest);
        moves.incrementAndGet();
        return lightest;
    }

    /** Sessions moved to another loop so far. */
    public long moves() {
        return moves.get();
    }

    private int indexOf(EventLoop loop) {
        for (int i = 0; i < loops.length; i++) {
            if (loops[i] == loop) {
                return i;
            }
        }
        throw new IllegalArgumentException(loop + " is not one of galera-lb's I/O threads");
    }

    public void shutdown() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        group.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /**
     * Picks the calling thread's own loop when it is one of the group's (an accepting loop
     * registering its new client) and was not saturated when it last measured; otherwise the
     * next loop in turn (a listening socket bound from the main thread, or a client accepted by
     * a saturated loop).
     */
    private static final class LocalFirst implements EventExecutorChooserFactory {
        private Loop[] loops;
        private final AtomicInteger turn = new AtomicInteger();

        @Override
        public EventExecutorChooser newChooser(EventExecutor[] executors) {
            loops = new Loop[executors.length];
            for (int i = 0; i < executors.length; i++) {
                loops[i] = (Loop) executors[i];
            }
            return this::next;
        }

        private EventExecutor next() {
            for (Loop loop : loops) {
                if (loop.inEventLoop()) {
                    return loop.saturated ? inTurn() : loop;
                }
            }
            return inTurn();
        }

        private Loop inTurn() {
            return loops[Math.floorMod(turn.getAndIncrement(), loops.length)];
        }
    }

    private static final class Group extends MultiThreadIoEventLoopGroup {
        Group(int threads, Executor executor, EventExecutorChooserFactory chooser, IoHandlerFactory ioHandlers) {
            super(threads, executor, chooser, ioHandlers);
        }

        @Override
        protected IoEventLoop newChild(Executor executor, IoHandlerFactory ioHandlers, Object... args) {
            return new Loop(this, executor, ioHandlers);
        }
    }

    /**
     * Netty's loop, measuring how busy it is: Netty adds up the time it spends on I/O and on
     * tasks (it measures both for its own auto-scaling, whether or not that is used); each
     * period the loop reads and resets the sum.
     */
    private static final class Loop extends SingleThreadIoEventLoop {
        private volatile boolean saturated;
        private long measuredAt = System.nanoTime();

        Loop(IoEventLoopGroup parent, Executor executor, IoHandlerFactory ioHandlers) {
            super(parent, executor, ioHandlers);
        }

        int registrations() {
            return getNumOfRegisteredChannels();
        }

        void measure() {
            long now = System.nanoTime();
            long busy = getAndResetAccumulatedActiveTimeNanos();
            saturated = busy >= SATURATED * (now - measuredAt);
            measuredAt = now;
        }
    }
}
