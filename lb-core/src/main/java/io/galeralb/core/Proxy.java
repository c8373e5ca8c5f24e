package io.galeralb.core;

import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.ListenerConfig;
import io.galeralb.core.io.BusyPoll;
import io.galeralb.core.io.IoLoops;
import io.galeralb.core.io.Transport;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The event loops of one galera-lb process and the listeners bound on them: I/O threads that
 * each own their sessions, client and server side alike (which thread a session lives on:
 * {@link IoLoops}). A listening socket lives on one of them too: a thread of its own for
 * accepting would be one more thread to wake and put to sleep for every connection.
 */
public final class Proxy implements AutoCloseable {

    private final Transport transport;
    private final BusyPoll busyPoll;
    private final IoLoops loops;

    private Proxy(Transport transport, int ioThreads, long settleNanos, BusyPoll busyPoll) {
        this.transport = transport;
        this.busyPoll = busyPoll;
        this.loops = new IoLoops(ioThreads, busyPoll.wrap(transport.ioHandlerFactory()), settleNanos);
    }

    /**
     * Starts event loops with {@code ioThreads} I/O threads on the detected transport, busy
     * polling for up to {@code busyPoll} after I/O while the machine has CPU to spare.
     */
    public static Proxy start(int ioThreads, Duration busyPoll) {
        return start(Transport.detect(), ioThreads, IoLoops.SETTLE_NANOS, BusyPoll.start(busyPoll));
    }

    /** As {@link #start(int, Duration)}, with the default busy-poll window. */
    public static Proxy start(int ioThreads) {
        return start(ioThreads, GaleraLbConfig.DEFAULT_BUSY_POLL);
    }

    /**
     * As {@link #start(int, Duration)}, on {@code transport}, sessions staying where they were
     * accepted for {@code settleNanos}, busy polling as {@code busyPoll} says (closed with the proxy).
     */
    static Proxy start(Transport transport, int ioThreads, long settleNanos, BusyPoll busyPoll) {
        if (ioThreads < 1) {
            busyPoll.close();
            throw new IllegalArgumentException("ioThreads must be at least 1");
        }
        return new Proxy(transport, ioThreads, settleNanos, busyPoll);
    }

    public Transport transport() {
        return transport;
    }

    /** Changes how long I/O threads busy poll after I/O; zero stops it. */
    public void busyPoll(Duration window) {
        busyPoll.window(window);
    }

    /** How long I/O threads busy poll after I/O now. */
    public Duration busyPoll() {
        return busyPoll.window();
    }

    /** Seconds the I/O threads have spent busy polling without finding I/O. */
    public double busyPollIdleSeconds() {
        return busyPoll.idlePollNanos() / 1e9;
    }

    /** The number of I/O threads. */
    public int ioThreads() {
        return loops.size();
    }

    /** The sessions living on I/O thread {@code thread} (0 to {@link #ioThreads()} - 1) now. */
    public int sessionsOnIoThread(int thread) {
        return loops.sessions(thread);
    }

    /**
     * Creates a listener and its server pool without binding it, so that its servers can be
     * checked before the first client arrives; {@link Listener#bind()} then opens it.
     */
    public Listener prepare(ListenerConfig config) {
        Objects.requireNonNull(config, "config");
        return Listener.create(config, transport, loops);
    }

    /**
     * Completes once every I/O thread has run a task handed to it now: proof that the event loops
     * are turning (for liveness probes), at the cost of one empty task per thread.
     */
    public CompletableFuture<Void> ioThreadsTurning() {
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (EventExecutor loop : loops.group()) {
            CompletableFuture<Void> ran = new CompletableFuture<>();
            loop.execute(() -> ran.complete(null));
            all.add(ran);
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
    }

    /** Creates and binds a listener; blocks until bound. Not to be called from an event loop. */
    public Listener bind(ListenerConfig config) throws ListenerBindException {
        Listener listener = prepare(config);
        listener.bind();
        return listener;
    }

    /** Stops the event loops; listeners and sessions should be closed first. */
    @Override
    public void close() {
        loops.shutdown();
        busyPoll.close();
    }
}
