package io.galeralb.core;

import io.galeralb.config.ServerConfig;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The running state of one backend server of a listener: its address and its session counts.
 * Shared by every event loop; counters are atomic.
 */
public final class Server {

    private final ServerConfig config;
    private final InetSocketAddress address;
    private final AtomicInteger activeSessions = new AtomicInteger();
    private final LongAdder totalSessions = new LongAdder();

    /**
     * Resolves the server's host name once, here, so that no DNS lookup ever blocks an event
     * loop; a name that does not resolve stays unresolved and its connects fail with that reason.
     */
    Server(ServerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.address = new InetSocketAddress(config.address().host(), config.address().port());
    }

    public String name() {
        return config.name();
    }

    public ServerConfig config() {
        return config;
    }

    InetSocketAddress address() {
        return address;
    }

    int weight() {
        return config.weight();
    }

    /** Sessions attached to this server now, counted from the moment it was picked (pending connects too). */
    public int activeSessions() {
        return activeSessions.get();
    }

    /** Sessions ever picked for this server. */
    public long totalSessions() {
        return totalSessions.sum();
    }

    void acquire() {
        activeSessions.incrementAndGet();
        totalSessions.increment();
    }

    void release() {
        activeSessions.decrementAndGet();
    }

    @Override
    public String toString() {
        return name() + " (" + config.address() + ")";
    }
}
