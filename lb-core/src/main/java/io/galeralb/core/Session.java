package io.galeralb.core;

import io.galeralb.config.Balance;
import io.galeralb.config.Durations;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.SendProxy;
import io.galeralb.config.Timeouts;
import io.galeralb.core.io.IoLoops;
import io.galeralb.core.io.OpenFiles;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and the server connection it is relayed to.
 *
 * <p>Both channels are registered on the client's event loop, so every field here is only
 * ever touched by that one thread: no locks, no volatile. A session starts on the loop that
 * accepted it; at its first idle check, {@link IoLoops#SETTLE_NANOS} after connecting, it may
 * move to the loop with the fewest sessions (see {@link IoLoops}), both channels together, and
 * is then touched by that loop's thread only.
 */
final class Session {

    private static final Logger log = LoggerFactory.getLogger(Session.class);
    private static final long MAX_IDLE_CHECK_NANOS = TimeUnit.HOURS.toNanos(1);
    private static final long HOLD_RETRY_MILLIS = 20;

    private final Listener listener;
    private final ListenerConfig config;
    private final ServerPool pool;
    private final Channel client;
    private final Set<Server> tried = new HashSet<>(4);
    private final List<String> failures = new ArrayList<>(4);
    private final long acceptedNanos = System.nanoTime();

    private Server server;
    private Channel backend;
    private ChannelFuture pendingConnect;
    private long lastActivityNanos;
    /** True while the client has sent bytes the server has not answered yet. */
    private boolean awaitingServer = true;
    private boolean abortCounted;
    /** Follows the MySQL protocol: is the session between commands, outside a transaction? */
    private final MysqlObserver observer = new MysqlObserver();
    /** Set when the session is to close at its next transaction boundary, with why; else null. */
    private SessionEnd closeAtBoundary;
    private Runnable closedAtBoundary;
    /** The look at whether the session has become quiet enough to close; null when none is pending. */
    private ScheduledFuture<?> quietCheck;
    private ScheduledFuture<?> idleCheck;
    /** Client bytes read before the server connection was up; rare, see ClientSideHandler. */
    private List<ByteBuf> heldFromClient;
    private boolean clientInputEnded;
    /** The session's loop in {@link IoLoops}; -1 while it is not admitted. */
    private int loop = -1;
    /** Whether the session has had its chance to move to a less loaded loop. */
    private boolean settled;
    /** Whether {@link #clientClosed} has run: after a move it can be reached twice (see {@link #arrived}). */
    private boolean ended;
    /** Whether one side has ended its stream while the other is open: fin-timeout applies. */
    private boolean halfClosed;
    /** The client and the address it connected to, as a PROXY header from a trusted balancer named them; else null. */
    private InetSocketAddress proxiedClient;
    private InetSocketAddress proxiedDestination;
    /** For the session log: why it ended (null while it runs), its connect time, its bytes each way. */
    private SessionEnd end;
    private long connectNanos = -1;
    private long bytesFromClient;
    private long bytesToClient;

    Session(Listener listener, ListenerConfig config, ServerPool pool, Channel client) {
        this.listener = listener;
        this.config = config;
        this.pool = pool;
        this.client = client;
    }

    Channel client() {
        return client;
    }

    Channel backend() {
        return backend;
    }

    /** accept-proxy: the client and destination the load balancer in front named. */
    void proxied(InetSocketAddress clientAddress, InetSocketAddress destination) {
        this.proxiedClient = clientAddress;
        this.proxiedDestination = destination;
    }

    /** The client: the one a trusted PROXY header named, else the connection's peer. */
    InetSocketAddress clientAddress() {
        return proxiedClient != null ? proxiedClient : (InetSocketAddress) client.remoteAddress();
    }

    /** Where the client connected to: as the PROXY header named it, else galera-lb's listening address. */
    InetSocketAddress clientDestination() {
        return proxiedDestination != null ? proxiedDestination : (InetSocketAddress) client.localAddress();
    }

    /** Counts the new client in, unless its listener is full. */
    boolean admit() {
        if (!listener.admit(client)) {
            return false;
        }
        loop = listener.loops().sessionAdded(client.eventLoop());
        return true;
    }

    /** Picks a server and connects to it; on failure tries the next, then answers with an ERR packet. */
    void connectNext() {
        if (!client.isActive()) {
            return;
        }
        Server next = pool.pick(tried);
        if (next == null) {
            long waited = System.nanoTime() - acceptedNanos;
            if (pool.holdsNewSessions() && waited < config.timeouts().connect().toNanos()) {
                // A switchover is choosing the next writer: wait for it rather than refuse.
                client.eventLoop().schedule(this::connectNext, HOLD_RETRY_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            String unavailable = pool.unavailable(tried);
            if (!unavailable.isEmpty()) {
                failures.add(unavailable);
            }
            String servers = String.join(", ", failures);
            String what = pool.balance() == Balance.FIRST ? "no writer available" : "no available server";
            refuse(SessionEnd.REFUSED_NO_SERVER, MysqlErrorPacket.NO_SERVER, "galera-lb: " + what + " for listener "
                    + config.name()
                    + " (" + servers + ")");
            listener.refusedNoServer(what + " (" + servers + ")");
            return;
        }
        tried.add(next);
        long started = System.nanoTime();
        SocketChannel ch;
        try {
            ch = listener.newServerConnection(next.address(), config.timeouts().connect());
        } catch (ChannelException e) {
            Optional<String> exhausted = OpenFiles.exhausted(e);
            if (exhausted.isPresent()) {
                // galera-lb's own limit, not the server's fault: any other server would fail alike.
                next.release();
                refuse(SessionEnd.REFUSED_NO_SOCKET, MysqlErrorPacket.NO_SERVER, "galera-lb: cannot open a socket for "
                        + "listener " + config.name()
                        + ": " + exhausted.get());
                listener.refusedNoSocket("cannot open a socket: " + exhausted.get());
                return;
            }
            connectFailed(next, e);
            return;
        }
        // Read once: a reload may change the server's send-proxy while this connect is under way.
        SendProxy header = next.config().sendProxy();
        if (header != SendProxy.OFF) {
            // Only until the header is written (see connected): no per-packet work after that.
            ch.pipeline().addLast(HAProxyMessageEncoder.INSTANCE);
        }
        ch.pipeline().addLast(new GreetingWatch(listener, next), new ServerSideHandler(this));
        ChannelPromise connect = ch.newPromise();
        // The client's own event loop: registered at once, connected right after.
        client.eventLoop().register(ch).addListener((ChannelFutureListener) registered -> {
            if (registered.isSuccess()) {
                ch.connect(next.address(), next.source(), connect);
            } else {
                connect.tryFailure(registered.cause());
            }
        });
        pendingConnect = connect;
        connect.addListener((ChannelFutureListener) f -> connected(next, header, f, System.nanoTime() - started));
    }

    private void connected(Server picked, SendProxy header, ChannelFuture f, long tookNanos) {
        pendingConnect = null;
        if (!f.isSuccess()) {
            f.channel().close();
            if (f.isCancelled()) {
                picked.release();
                return;
            }
            connectFailed(picked, f.cause());
            return;
        }
        server = picked;
        backend = f.channel();
        connectNanos = tookNanos;
        listener.observer().connected(picked, tookNanos);
        picked.track(client);
        backend.closeFuture().addListener(cf -> picked.release());
        if (!client.isActive()) {
            backend.close();
            return;
        }
        lastActivityNanos = System.nanoTime();
        scheduleIdleCheck(Math.min(listener.loops().settleNanos(), minIdle(config.timeouts())));
        if (header != SendProxy.OFF) {
            backend.write(ProxyHeaders.of(header, clientAddress(), clientDestination()), backend.voidPromise());
            backend.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
            if (heldFromClient == null) {
                backend.flush();
            }
        }
        if (heldFromClient != null) {
            heldFromClient.forEach(b -> backend.write(b, backend.voidPromise()));
            heldFromClient = null;
            backend.flush();
        }
        if (clientInputEnded) {
            Relay.endOutput(backend);
            halfClosed();
        } else {
            client.config().setAutoRead(true);
        }
    }

    /** {@code picked} could not be connected: note why and try the next server. */
    private void connectFailed(Server picked, Throwable cause) {
        picked.release();
        if (!client.isActive()) {
            return;
        }
        picked.countConnectFailure();
        String reason = describe(cause, config.timeouts());
        log.debug("{}: connect to {} failed: {}", config.name(), picked, reason);
        failures.add(picked.name() + ": " + reason);
        connectNext();
    }

    void holdUntilConnected(ByteBuf msg) {
        if (heldFromClient == null) {
            heldFromClient = new ArrayList<>(2);
        }
        heldFromClient.add(msg);
    }

    void clientInputEndedBeforeConnect() {
        clientInputEnded = true;
    }

    private void releaseHeld() {
        if (heldFromClient != null) {
            heldFromClient.forEach(ByteBuf::release);
            heldFromClient = null;
        }
    }

    /** Called by the relay for every read from the client. */
    void clientActivity(ByteBuf buf) {
        int bytes = buf.readableBytes();
        observer.fromClient(buf);
        lastActivityNanos = System.nanoTime();
        bytesFromClient += bytes;
        awaitingServer = true;
        if (server != null) {
            server.countFromClient(bytes);
        }
    }

    /** Called by the relay for every read from the server. */
    void serverActivity(ByteBuf buf) {
        int bytes = buf.readableBytes();
        observer.fromServer(buf);
        lastActivityNanos = System.nanoTime();
        bytesToClient += bytes;
        awaitingServer = false;
        server.countToClient(bytes);
    }

    /** The client is gone: stop connecting, close the server side, write the session log line. */
    void clientClosed() {
        if (ended) {
            return;
        }
        ended = true;
        SessionEnd why = client.attr(SessionEnd.FORCED).get();
        if (why == null) {
            why = end != null ? end : SessionEnd.CLIENT_CLOSED;
        }
        listener.sessionEnded(why);
        if (observer.opaque() != MysqlObserver.Opaque.NONE) {
            listener.sessionOpaque(observer.opaque());
            log.debug("{}: session from {} was not followed ({}): transaction-aware closes left it alone",
                    config.name(), clientAddress(), observer.opaque());
        }
        SessionLog.ended(config.sessionLog(), config.name(), clientAddress(), server, connectNanos,
                System.nanoTime() - acceptedNanos, bytesFromClient, bytesToClient, why);
        releaseHeld();
        if (pendingConnect != null) {
            pendingConnect.cancel(false);
        }
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        if (backend != null) {
            Relay.closeOnFlush(backend);
        }
        if (loop >= 0) {
            listener.loops().sessionRemoved(loop);
            listener.sessionClosed();
        }
    }

    void refuse(SessionEnd why, int code, String message) {
        end = why;
        releaseHeld();
        client.writeAndFlush(MysqlErrorPacket.create(client.alloc(), code, message))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Idle detection without a handler per channel: one task per session that looks at the
     * time of the last read in either direction. Which timeout applies depends on whose turn
     * it is: the client's (client-idle) or the server's (server-idle).
     */
    private void scheduleIdleCheck(long delayNanos) {
        idleCheck = client.eventLoop().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * One side has ended its stream and the other not yet: from now on the session may stay idle
     * for fin-timeout only, so that a peer that never closes its end (or a flood of them) cannot
     * hold a connection slot for an idle timeout. Bytes still flowing the open way keep it alive.
     */
    void halfClosed() {
        if (halfClosed || backend == null) {
            return;
        }
        halfClosed = true;
        lastActivityNanos = System.nanoTime();
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        scheduleIdleCheck(config.timeouts().fin().toNanos());
    }

    private void checkIdle() {
        if (!client.isActive()) {
            return;
        }
        Timeouts t = config.timeouts();
        long idle = System.nanoTime() - lastActivityNanos;
        if (halfClosed) {
            long fin = t.fin().toNanos();
            if (idle >= fin) {
                log.debug("{}: closing half-closed session {} -> {}: fin-timeout {} reached", config.name(),
                        clientAddress(), server, Durations.format(t.fin()));
                listener.countFinTimeout();
                end = SessionEnd.FIN_TIMEOUT;
                client.close();
            } else {
                scheduleIdleCheck(fin - idle);
            }
            return;
        }
        long limit = awaitingServer ? serverIdleNanos(t) : clientIdleNanos(t);
        if (idle >= limit) {
            log.debug("{}: closing session {} -> {}: {} {} reached", config.name(), clientAddress(),
                    server, awaitingServer ? "server-idle" : "client-idle",
                    awaitingServer ? t.serverIdle() : t.clientIdle());
            end = awaitingServer ? SessionEnd.SERVER_IDLE : SessionEnd.CLIENT_IDLE;
            client.close();
            return;
        }
        // Wake again when this timeout would expire, or sooner if the turn changes to the
        // shorter timeout meanwhile.
        long next = Math.min(limit - idle, minIdle(t));
        if (!settled) {
            settled = true;
            if (moveToLighterLoop(next)) {
                return;
            }
        }
        scheduleIdleCheck(next);
    }

    /**
     * Moves both channels to the loop with the fewest sessions, if that evens the loops out:
     * both are taken off this loop, then registered on the other, whose thread alone touches the
     * session from then on. Bytes that arrive meanwhile wait in the kernel; the new loop reads
     * them once the channels are registered there. Returns whether the move has begun (the idle
     * check is then rescheduled on the new loop).
     */
    private boolean moveToLighterLoop(long nextIdleCheckNanos) {
        if (!bothOpenBothWays() || heldFromClient != null) {
            return false;
        }
        IoLoops loops = listener.loops();
        int to = loops.moveToLighter(loop);
        if (to < 0) {
            return false;
        }
        loop = to;
        EventLoop target = loops.loop(to);
        // Both channels are handed to the new loop in one of its tasks: were one registered there
        // before the other's loop had changed, a read on the new loop could write to a channel
        // still owned by the old one, and the two threads would interleave its writes.
        client.deregister().addListener(c -> backend.deregister().addListener(b -> target.execute(() -> {
            target.register(client);
            target.register(backend);
            arrived(nextIdleCheckNanos);
        })));
        return true;
    }

    private boolean bothOpenBothWays() {
        return backend != null && client.isActive() && backend.isActive()
                && !((DuplexChannel) client).isInputShutdown() && !((DuplexChannel) client).isOutputShutdown()
                && !((DuplexChannel) backend).isInputShutdown() && !((DuplexChannel) backend).isOutputShutdown();
    }

    /**
     * On the new loop, once both channels are registered there, or found closed: a channel
     * closed while it was on no loop was never told it became inactive, so the session ends here.
     */
    private void arrived(long nextIdleCheckNanos) {
        if (!client.isOpen()) {
            clientClosed();
            return;
        }
        if (!backend.isOpen()) {
            client.close();
            return;
        }
        // Bytes relayed between the decision and the move may wait for a flush that the old
        // loop can no longer finish.
        backend.flush();
        client.flush();
        scheduleIdleCheck(nextIdleCheckNanos);
    }

    private long clientIdleNanos(Timeouts t) {
        return t.clientIdle().fixed().map(Duration::toNanos).orElseGet(server::autoClientIdleNanos);
    }

    /** {@code server-idle: auto} sets no limit: MySQL never drops a session in the middle of its own query. */
    private static long serverIdleNanos(Timeouts t) {
        return t.serverIdle().fixed().map(Duration::toNanos).orElse(Long.MAX_VALUE);
    }

    /** How often to look: the shorter of the two limits, at most once an hour. */
    private long minIdle(Timeouts t) {
        return Math.min(MAX_IDLE_CHECK_NANOS, Math.min(clientIdleNanos(t), serverIdleNanos(t)));
    }

    /** One side ended its stream: the first to end closed the session, unless galera-lb ends it otherwise. */
    void inputEnded(boolean byClient) {
        if (end == null && !ended) {
            end = byClient || awaitingServer ? SessionEnd.CLIENT_CLOSED : SessionEnd.SERVER_CLOSED;
        }
    }

    /** What {@link #closeAtBoundary} did. */
    enum BoundaryClose {
        /** It had ended already. */
        ENDED,
        /** Closed now: its transaction had just ended, or it was quiet between autocommit statements. */
        NOW,
        /** Inside a transaction or a command, or not quiet yet: it closes at its next boundary. */
        AT_BOUNDARY,
        /** Not followed (TLS, compression, something unclassified): left for the caller to decide. */
        OPAQUE
    }

    /**
     * How long a session at a boundary between autocommit statements must stay silent before a
     * close takes it: an application may be holding it between two statements, while a pooled
     * connection at rest is silent (HikariCP validates a connection on borrow once it has been
     * unused for 500 ms, so a close after a second is seen by the pool, not the application).
     */
    static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * Closes the session for {@code why} at its first transaction boundary: right after an answer
     * that ends a transaction, or once it has been silent for {@link #QUIET_NANOS} between
     * commands outside a transaction; {@code done} runs when it does. Runs on the session's event loop.
     */
    BoundaryClose closeAtBoundary(SessionEnd why, Runnable done) {
        if (ended || !client.isActive()) {
            return BoundaryClose.ENDED;
        }
        if (observer.opaque() != MysqlObserver.Opaque.NONE) {
            return BoundaryClose.OPAQUE;
        }
        if (closableNow()) {
            closeFor(why);
            return BoundaryClose.NOW;
        }
        closeAtBoundary = why;
        closedAtBoundary = done;
        checkQuietLater();
        return BoundaryClose.AT_BOUNDARY;
    }

    /** At a boundary, and either a transaction has just ended or the session has been quiet long enough. */
    private boolean closableNow() {
        return observer.transactionJustEnded() || observer.atBoundary() && silentFor() >= QUIET_NANOS;
    }

    /** At a boundary but not quiet yet: looks again once it could be (one look pending at a time). */
    private void checkQuietLater() {
        if (observer.atBoundary() && quietCheck == null) {
            long wait = Math.max(0, QUIET_NANOS - silentFor()) + 1;
            quietCheck = client.eventLoop().schedule(() -> {
                // On the session's loop, even if it moved meanwhile.
                if (client.eventLoop().inEventLoop()) {
                    quietCheckDue();
                } else {
                    client.eventLoop().execute(this::quietCheckDue);
                }
            }, wait, TimeUnit.NANOSECONDS);
        }
    }

    private void quietCheckDue() {
        quietCheck = null;
        if (closeAtBoundary != null) {
            if (closableNow()) {
                closeAtBoundaryNow();
            } else {
                checkQuietLater();
            }
        }
    }

    private void closeAtBoundaryNow() {
        SessionEnd why = closeAtBoundary;
        Runnable done = closedAtBoundary;
        closeAtBoundary = null;
        closedAtBoundary = null;
        closeFor(why); // after the answer just written: it is flushed first
        if (done != null) {
            done.run();
        }
    }

    /** Whether a close at the next boundary is pending: at a deadline, such a session is cut mid-transaction. */
    boolean closingAtBoundary() {
        return closeAtBoundary != null;
    }

    /** The deadline came first: no close at a boundary any more (the caller closes it). */
    void cancelCloseAtBoundary() {
        closeAtBoundary = null;
        closedAtBoundary = null;
    }

    /** Inside a transaction, or inside a command (its answer not all read): closing it now cuts something. */
    boolean midTransaction() {
        return observer.inTransaction() || !observer.betweenCommands();
    }

    /** How long since the last byte either way. */
    long silentFor() {
        return System.nanoTime() - lastActivityNanos;
    }

    /** At a transaction boundary now: between commands, outside a transaction, and followed. */
    boolean atBoundary() {
        return observer.atBoundary();
    }

    MysqlObserver.Opaque opaque() {
        return observer.opaque();
    }

    Listener.SessionView view() {
        MysqlObserver.Opaque o = observer.opaque();
        return new Listener.SessionView(clientAddress(), server == null ? null : server.name(), observer.betweenCommands(),
                observer.inTransaction(), o == MysqlObserver.Opaque.NONE ? "" : o.name().toLowerCase(Locale.ROOT));
    }

    /** After server bytes went to the client: a close waiting for a boundary happens once one is reached. */
    void serverBytesForwarded() {
        if (closeAtBoundary != null) {
            if (observer.transactionJustEnded()) {
                closeAtBoundaryNow();
            } else if (observer.atBoundary()) {
                checkQuietLater();
            }
        }
    }

    /** Closes the client side (and with it the session) once what is written to it is flushed. */
    void closeFor(SessionEnd why) {
        client.attr(SessionEnd.FORCED).setIfAbsent(why);
        Relay.closeOnFlush(client);
    }

    /** One side's connection failed with an I/O error (a reset, mostly): counted once per session. */
    void aborted(boolean byClient) {
        if (!abortCounted && server != null) {
            abortCounted = true;
            server.countAbort(byClient);
        }
    }

    void serverClosed() {
        if (end == null && !ended) {
            // After the client's last request (a COM_QUIT, then MySQL closes), the client ended it;
            // while the client waited for nothing (KILL, wait_timeout, a node going away), the server.
            end = awaitingServer ? SessionEnd.CLIENT_CLOSED : SessionEnd.SERVER_CLOSED;
        }
        if (!awaitingServer && client.isActive() && !((DuplexChannel) client).isInputShutdown() && server != null) {
            server.countIdleClosedByServer();
        }
    }

    static String describe(Throwable cause, Timeouts timeouts) {
        if (cause instanceof ConnectTimeoutException) {
            return "connect timed out after " + Durations.format(timeouts.connect());
        }
        if (cause instanceof UnresolvedAddressException) {
            return "host name does not resolve";
        }
        if (cause instanceof ConnectException) {
            String m = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("refused")) {
                return "connection refused";
            }
            if (m.contains("no route")) {
                return "no route to host";
            }
            if (m.contains("unreachable")) {
                return "network unreachable";
            }
        }
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
}
