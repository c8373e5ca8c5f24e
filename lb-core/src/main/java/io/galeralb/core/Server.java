package io.galeralb.core;

import io.galeralb.config.ServerConfig;
import io.galeralb.config.Timeouts;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.LongAdder;

/**
 * The running state of one backend server of a listener: its address, whether it may take
 * new sessions (set by the health checks), and its sessions. Shared by every event loop;
 * counters are atomic, the state volatile.
 */
public final class Server {

    /** How much longer than the server galera-lb waits under {@code client-idle: auto}. */
    static final Duration AUTO_MARGIN = Duration.ofSeconds(5);

    /** Volatile: a reload may change the weight of a server that stays. */
    private volatile ServerConfig config;
    /** Where sessions connect: resolved at start, and again every resolve-interval (live DNS). */
    private volatile InetSocketAddress address;
    /** Why the last lookup of its name failed, while the last good address is kept; empty otherwise. */
    private volatile String addressProblem = "";
    /** The local address to connect from; null: the kernel's choice. Volatile: a reload may change it. */
    private volatile InetSocketAddress source;
    private final AtomicInteger activeSessions = new AtomicInteger();
    private final LongAdder totalSessions = new LongAdder();
    /** Client channels of this server's sessions, so they can be closed when it goes down. */
    private final ChannelGroup sessions = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final LongAdder idleClosedByServer = new LongAdder();
    private final AtomicInteger maxSessions = new AtomicInteger();
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesToClients = new LongAdder();
    private final LongAdder connectFailures = new LongAdder();
    private final LongAdder hostBlocked = new LongAdder();
    private final LongAdder clientAborts = new LongAdder();
    private final LongAdder serverAborts = new LongAdder();
    /** What {@code client-idle: auto} means for this server; MySQL's default wait_timeout until it is read. */
    private volatile long autoClientIdleNanos = Timeouts.DEFAULT_IDLE.toNanos();
    private volatile boolean up = true;
    private volatile AdminState adminState = AdminState.READY;
    private volatile String downReason = "";
    /** When it last went DOWN (System.nanoTime), and the DOWN time before that: guarded by this. */
    private long downSinceNanos;
    private long downNanos;
    /** Whether a check has passed since it was added: slow start applies only after that. Guarded by this. */
    private boolean everUp;
    /** The slow start in progress: when it began and ends (System.nanoTime); 0 when none. */
    private volatile long slowStartBeganNanos;
    private volatile long slowStartEndsNanos;
    private static final AtomicLongFieldUpdater<Server> SLOW_START_ENDS =
            AtomicLongFieldUpdater.newUpdater(Server.class, "slowStartEndsNanos");

    /**
     * Resolves the server's host name here, so that no DNS lookup ever blocks an event loop (a
     * name that does not resolve stays unresolved and its connects fail with that reason); live
     * DNS changes it later through {@link #connectTo}.
     */
    Server(ServerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.address = new InetSocketAddress(config.address().host(), config.address().port());
        this.source = sourceOf(config);
    }

    private static InetSocketAddress sourceOf(ServerConfig config) {
        return config.source().map(a -> new InetSocketAddress(a, 0)).orElse(null);
    }

    public String name() {
        return config.name();
    }

    public ServerConfig config() {
        return config;
    }

    /**
     * Takes a new weight, priority or source from a reload; the address never changes (a new
     * address is a new server).
     */
    void reconfigure(ServerConfig next) {
        if (!next.address().equals(config.address())) {
            throw new IllegalArgumentException(name() + ": a server keeps its address; " + next.address()
                    + " is a new server");
        }
        config = next;
        source = sourceOf(next);
    }

    InetSocketAddress source() {
        return source;
    }

    /** Where new sessions connect to. */
    public InetSocketAddress address() {
        return address;
    }

    /**
     * Its name now resolves to {@code next}: new sessions connect there, open ones stay where
     * they are. Returns whether the address changed.
     */
    public boolean connectTo(InetSocketAddress next) {
        addressProblem = "";
        if (next.equals(address)) {
            return false;
        }
        address = next;
        return true;
    }

    /** A lookup of its name failed: the last good address stays, with {@code why} to show. */
    public void addressLookupFailed(String why) {
        addressProblem = Objects.requireNonNull(why, "why");
    }

    public String addressProblem() {
        return addressProblem;
    }

    public int weight() {
        return config.weight();
    }

    /** What {@link #effectiveWeight} counts as the whole weight: 256ths, so a slow start can grow finely. */
    static final int WEIGHT_SCALE = 256;

    /**
     * The weight new sessions are balanced by, in {@link #WEIGHT_SCALE}ths: the configured weight,
     * or during a slow start a share of it that grows linearly with the time since the server came
     * back, from 1 to the whole (HAProxy's {@code slowstart}).
     */
    public long effectiveWeight() {
        long full = (long) config.weight() * WEIGHT_SCALE;
        long ends = slowStartEndsNanos;
        if (ends == 0) {
            return full;
        }
        return weightAt(System.nanoTime(), full);
    }

    /** {@link #effectiveWeight} at {@code nowNanos}; ends the slow start once its window has passed. */
    public long weightAt(long nowNanos, long full) {
        long ends = slowStartEndsNanos;
        long began = slowStartBeganNanos; // read after ends: written before it
        if (ends == 0) {
            return full;
        }
        if (nowNanos - ends >= 0) {
            // Unless a new slow start has begun meanwhile.
            SLOW_START_ENDS.compareAndSet(this, ends, 0);
            return full;
        }
        return Math.max(1, full * Math.max(0, nowNanos - began) / (ends - began));
    }

    /** The share of its weight the server has now: 1 outside a slow start. */
    public double weightShare() {
        return (double) effectiveWeight() / ((long) config.weight() * WEIGHT_SCALE);
    }

    private void beginSlowStart() {
        long window = config.slowstart().toNanos();
        if (window > 0) {
            long now = System.nanoTime();
            slowStartBeganNanos = now;
            slowStartEndsNanos = now + window;
        }
    }

    /** Sessions attached to this server now, counted from the moment it was picked (pending connects too). */
    public int activeSessions() {
        return activeSessions.get();
    }

    /** Sessions ever picked for this server. */
    public long totalSessions() {
        return totalSessions.sum();
    }

    /** Whether new sessions may be sent here. A pool without health checks keeps every server up. */
    public boolean isUp() {
        return up;
    }

    /** Why the server is down, as the last check put it; empty while up. */
    public String downReason() {
        return downReason;
    }

    public AdminState adminState() {
        return adminState;
    }

    /** Sets the operator's state; DRAIN and MAINT stop new sessions at once. Out of MAINT, a slow start begins. */
    public synchronized void adminState(AdminState state) {
        if (adminState == AdminState.MAINT && state != AdminState.MAINT && up) {
            beginSlowStart();
        }
        adminState = Objects.requireNonNull(state, "state");
    }

    /** UP and READY: new sessions may go here (and, for {@code balance: first}, it may be the writer). */
    public boolean takesSessions() {
        return up && adminState == AdminState.READY;
    }

    /** Order of preference as writer ({@code balance: first}): lower first. */
    public int priority() {
        return config.priority();
    }

    /** Why no new session may go here, for messages: DOWN with the check's reason, or the operator's state. */
    public String unavailableReason() {
        if (adminState != AdminState.READY) {
            return adminState + " (set by an operator)";
        }
        return up ? "UP" : "DOWN (" + downReason + ")";
    }

    /** For an operator: MAINT or DRAIN when set, else UP or DOWN. */
    public String state() {
        return adminState != AdminState.READY ? adminState.name() : up ? "UP" : "DOWN";
    }

    /** Its checks pass. Back from DOWN (not at its first check), a slow start begins. */
    public synchronized void markUp() {
        if (!up) {
            downNanos += System.nanoTime() - downSinceNanos;
            if (everUp) {
                beginSlowStart();
            }
        }
        everUp = true;
        up = true;
        downReason = "";
    }

    public synchronized void markDown(String reason) {
        downReason = Objects.requireNonNull(reason, "reason");
        if (up) {
            downSinceNanos = System.nanoTime();
        }
        up = false;
    }

    /** How long it has been DOWN since it was added, in total (waiting for its first check counts). */
    public synchronized Duration downtime() {
        return Duration.ofNanos(downNanos + (up ? 0 : System.nanoTime() - downSinceNanos));
    }

    /** Sessions whose client reset its connection or failed with an I/O error (HAProxy's cli_abrt). */
    public long clientAborts() {
        return clientAborts.sum();
    }

    /** Sessions whose server connection was reset or failed with an I/O error (HAProxy's srv_abrt). */
    public long serverAborts() {
        return serverAborts.sum();
    }

    void countAbort(boolean byClient) {
        (byClient ? clientAborts : serverAborts).increment();
    }

    /**
     * Takes the server's own idle timeouts (wait_timeout, interactive_timeout, as its health
     * check read them): under {@code client-idle: auto} galera-lb waits a little longer than the
     * longer of the two, so the server, not galera-lb, closes an idle session.
     */
    public void serverIdleTimeouts(Duration waitTimeout, Duration interactiveTimeout) {
        Duration longer = waitTimeout.compareTo(interactiveTimeout) >= 0 ? waitTimeout : interactiveTimeout;
        autoClientIdleNanos = longer.plus(AUTO_MARGIN).toNanos();
    }

    long autoClientIdleNanos() {
        return autoClientIdleNanos;
    }

    /** Sessions this server closed while they waited for their client: its wait_timeout at work. */
    public long idleClosedByServer() {
        return idleClosedByServer.sum();
    }

    void countIdleClosedByServer() {
        idleClosedByServer.increment();
    }

    /**
     * Closes this server's sessions for {@code why} at their transaction boundaries, and at
     * {@code deadline} whatever their state (see {@link GracefulClose}).
     */
    public GracefulClose.Progress closeAtBoundaries(SessionEnd why, Duration deadline) {
        return GracefulClose.within(sessions, why, deadline);
    }

    /**
     * Closes this server's sessions for {@code why} at their transaction boundaries, without a
     * deadline: those in a transaction when they end it, those not followed never.
     */
    public CompletableFuture<GracefulClose.FirstRound> closeWhenIdle(SessionEnd why) {
        return GracefulClose.whenIdle(sessions, why);
    }

    /** Closes every session attached to this server now, for the session log's {@code why}; returns how many. */
    public int closeSessions(SessionEnd why) {
        int n = sessions.size();
        sessions.forEach(ch -> ch.attr(SessionEnd.FORCED).setIfAbsent(why));
        sessions.close();
        return n;
    }

    /** The client channels of this server's sessions. */
    Collection<Channel> sessionChannels() {
        return sessions;
    }

    void track(Channel client) {
        sessions.add(client);
    }

    /** Counts a new session on this server. */
    public void acquire() {
        counted(activeSessions.incrementAndGet());
    }

    /** Counts a new session only if the server still has {@code seen} active sessions. */
    public boolean tryAcquire(int seen) {
        if (!activeSessions.compareAndSet(seen, seen + 1)) {
            return false;
        }
        counted(seen + 1);
        return true;
    }

    private void counted(int active) {
        maxSessions.accumulateAndGet(active, Math::max);
        totalSessions.increment();
    }

    /** The most sessions at once since start. */
    public int maxSessions() {
        return maxSessions.get();
    }

    /** Bytes clients sent through this server's sessions (HAProxy's bin). */
    public long bytesFromClients() {
        return bytesFromClients.sum();
    }

    /** Bytes this server sent to clients (HAProxy's bout). */
    public long bytesToClients() {
        return bytesToClients.sum();
    }

    /** Connects to this server that were refused or timed out. */
    public long connectFailures() {
        return connectFailures.sum();
    }

    void countFromClient(int bytes) {
        bytesFromClients.add(bytes);
    }

    void countToClient(int bytes) {
        bytesToClients.add(bytes);
    }

    void countConnectFailure() {
        connectFailures.increment();
    }

    void countHostBlocked() {
        hostBlocked.increment();
    }

    /** Sessions the server refused with error 1129: it blocks galera-lb's address. */
    public long hostBlocked() {
        return hostBlocked.sum();
    }

    public void release() {
        activeSessions.decrementAndGet();
    }

    @Override
    public String toString() {
        return name() + " (" + config.address() + ")";
    }
}
