package io.galeralb.core;

import io.galeralb.config.ListenerConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The event loops of one galera-lb process and the listeners bound on them. One acceptor
 * thread, and I/O threads that each own their sessions, client and server side alike.
 */
public final class Proxy implements AutoCloseable {

    private final Transport transport;
    private final EventLoopGroup acceptor;
    private final EventLoopGroup workers;

    private Proxy(Transport transport, int ioThreads) {
        this.transport = transport;
        this.acceptor = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("lb-accept"),
                transport.ioHandlerFactory());
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("lb-io"),
                transport.ioHandlerFactory());
    }

    /** Starts event loops with {@code ioThreads} I/O threads on the detected transport. */
    public static Proxy start(int ioThreads) {
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads must be at least 1");
        }
        return new Proxy(Transport.detect(), ioThreads);
    }

    public Transport transport() {
        return transport;
    }

    /**
     * Creates a listener and its server pool without binding it, so that its servers can be
     * checked before the first client arrives; {@link Listener#bind()} then opens it.
     */
    public Listener prepare(ListenerConfig config) {
        Objects.requireNonNull(config, "config");
        return Listener.create(config, transport, acceptor, workers);
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
        acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        acceptor.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
