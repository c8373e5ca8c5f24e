package io.galeralb.core;

import io.galeralb.config.HostPort;
import io.galeralb.config.ListenerConfig;
import io.galeralb.core.io.AcceptFailures;
import io.galeralb.core.io.IoLoops;
import io.galeralb.core.io.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listening address, its server pool and its sessions. Created by {@link Proxy#prepare},
 * accepting once {@link #bind()} has run.
 */
public final class Listener {

    private static final Logger log = LoggerFactory.getLogger(Listener.class);
    /** Outbound bytes queued per channel before the peer stops reading (see {@link Relay}). */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
    /**
     * How much one read may take: Netty's adaptive guess from 64 B up to 256 KiB (its default
     * stops at 64 KiB). Small MySQL packets keep reads small; a bulk transfer (a dump, a large
     * result set) moves in reads of up to 256 KiB, a quarter of the syscalls; what one streaming
     * session holds stays at about 256 KiB plus the water mark (docs/architecture.md).
     *
     * <p>Up to 16 reads per wakeup, Netty's default for a socket: an allocator set as an option
     * replaces that default with its own, 1, and then an answer larger than the current guess
     * (a 12 KiB range SELECT after a run of small packets) costs a second wakeup and a second
     * send. With 16, the reads of one wakeup leave in one {@code writev} at read-complete; the
     * water mark still stops the reading once the peer has 64 KiB queued. (A floor of 16 KiB, as
     * HAProxy's buffers, would also save the second read, but the water mark counts bytes, not
     * buffers: a server trickling small packets to a client that does not read would then make
     * galera-lb hold a 16 KiB buffer per packet.)
     */
    static final RecvByteBufAllocator READ_SIZES = readSizes();

    private static RecvByteBufAllocator readSizes() {
        AdaptiveRecvByteBufAllocator sizes = new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);
        sizes.maxMessagesPerRead(16);
        return sizes;
    }

    private static final Duration REFUSAL_LOG_INTERVAL = Duration.ofSeconds(5);

    /** The configuration and pool a new session takes, once, when it is accepted. */
    private record Snapshot(ListenerConfig config, ServerPool pool) {
    }

    private final AtomicReference<Snapshot> current;
    private final ChannelGroup sessions = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger activeSessions = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final LogLimit refusalLog = new LogLimit(REFUSAL_LOG_INTERVAL);
    private final LogLimit hostBlockedLog = new LogLimit(REFUSAL_LOG_INTERVAL);
    private final LongAdder refusedNoServer = new LongAdder();
    private final LongAdder refusedNoSocket = new LongAdder();
    private final LongAdder refusedMaxConnections = new LongAdder();
    private final LongAdder closedByFinTimeout = new LongAdder();
    /** Sessions ended, by why (the session log's vocabulary), whether or not session-log is on. */
    private final Map<SessionEnd, LongAdder> ended = new EnumMap<>(SessionEnd.class);
    private final LongAdder[] opaque = newAdders(MysqlObserver.Opaque.values().length);
    private final LongAdder refusedProxyUntrusted = new LongAdder();
    private final LongAdder refusedProxyHeader = new LongAdder();
    private final LogLimit proxyUntrustedLog = new LogLimit(REFUSAL_LOG_INTERVAL);
    private final LogLimit proxyHeaderLog = new LogLimit(REFUSAL_LOG_INTERVAL);
    private volatile SessionObserver observer = SessionObserver.NONE;
    private volatile boolean accepting = true;
    private final Transport transport;
    private final IoLoops loops;
    private volatile Channel serverChannel;
    /** The listener that took over this one's listening socket (a rename by a reload); null until then. */
    private volatile Listener successor;

    private Listener(ListenerConfig config, Transport transport, IoLoops loops) {
        for (SessionEnd why : SessionEnd.values()) {
            ended.put(why, new LongAdder());
        }
        this.current = new AtomicReference<>(new Snapshot(config, new ServerPool(config.servers().values(),
                config.balance())));
        this.transport = transport;
        this.loops = loops;
    }

    /** A listener whose listening socket and sessions live on {@code loops}. */
    static Listener create(ListenerConfig config, Transport transport, IoLoops loops) {
        return new Listener(config, transport, loops);
    }

    /** Binds the listening address; from then on clients are accepted. Not to be called from an event loop. */
    public void bind() throws ListenerBindException {
        HostPort bind = config().bind();
        InetSocketAddress address = new InetSocketAddress(bind.host(), bind.port());
        ServerBootstrap sb = new ServerBootstrap()
                .group(loops.group())
                .channelFactory(transport.serverChannels(address))
                // Never SO_REUSEPORT: no other process may share a port with galera-lb. SO_REUSEADDR
                // (which lets no two sockets listen on one port): a restart binds while the last
                // sessions of the process before wait in TIME_WAIT.
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .handler(new AcceptFailures(() -> acceptor().name(), "clients", REFUSAL_LOG_INTERVAL))
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                // TCP_NODELAY: Netty sets it on every socket it makes.
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, READ_SIZES)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Listener owner = acceptor();
                        Snapshot now = owner.current.get();
                        boolean acceptProxy = now.config().acceptProxy();
                        if (acceptProxy && now.config().trustedProxies().stream()
                                .noneMatch(n -> n.contains(ch.remoteAddress().getAddress()))) {
                            owner.refusedProxyUntrusted(ch.remoteAddress());
                            ch.close();
                            return;
                        }
                        Session session = new Session(owner, now.config(), now.pool(), ch);
                        if (acceptProxy) {
                            ProxyHeaderReader.install(ch.pipeline(), owner, session);
                        }
                        ch.pipeline().addLast(new ClientSideHandler(owner, session));
                    }
                });
        ChannelFuture f = sb.bind(address).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new ListenerBindException(name(), bind, f.cause());
        }
        serverChannel = f.channel();
    }

    /**
     * Takes over the listening socket of {@code old}, a listener of the same bind address that a
     * reload renames: clients are accepted without a gap, and by this listener from now on.
     * {@code old} keeps its sessions, and stopping it no longer closes the socket.
     */
    public void takeOver(Listener old) {
        if (!old.config().bind().equals(config().bind())) {
            throw new IllegalArgumentException("listener " + name() + " (" + config().bind() + ") cannot take over "
                    + old.name() + " (" + old.config().bind() + "): a different address");
        }
        serverChannel = old.serverChannel;
        old.successor = this;
        old.serverChannel = null;
    }

    /** Who accepts the clients of this listener's socket: itself, or the listener that took it over. */
    private Listener acceptor() {
        Listener l = this;
        for (Listener next = l.successor; next != null; next = l.successor) {
            l = next;
        }
        return l;
    }

    public String name() {
        return config().name();
    }

    /** The configuration new sessions get. */
    public ListenerConfig config() {
        return current.get().config();
    }

    /** The servers new sessions are balanced over. */
    public ServerPool pool() {
        return current.get().pool();
    }

    /**
     * Applies a reloaded configuration of this listener (same bind address) to new sessions;
     * sessions already accepted keep theirs. Returns the servers that are gone, marked DOWN so
     * that nothing picks them again; their sessions are the caller's to drain.
     */
    public List<Server> update(ListenerConfig next, String newServerReason) {
        Snapshot before = current.get();
        if (!next.bind().equals(before.config().bind())) {
            throw new IllegalArgumentException("listener " + name() + " keeps its bind address; a new one is a new listener");
        }
        ServerPool pool = before.pool().next(next.servers().values(), next.balance(), newServerReason);
        current.set(new Snapshot(next, pool));
        List<Server> gone = new ArrayList<>(before.pool().servers());
        gone.removeAll(pool.servers());
        gone.forEach(s -> s.markDown("removed by reload"));
        return gone;
    }

    /** The address actually bound. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    IoLoops loops() {
        return loops;
    }

    /** Sessions admitted and not closed yet. */
    public int activeSessions() {
        return activeSessions.get();
    }

    /**
     * A connection to {@code server} with the options of every server connection, not registered
     * yet: its event loop and handler are the session's. Its socket's family is the server
     * address's (see {@link Transport#newChannel}). Made directly rather than by a {@code Bootstrap},
     * which would copy its options, look up a resolver for an address already resolved and queue
     * the connect as one more task, for every session.
     *
     * @throws ChannelException when no socket can be made (out of file descriptors) or set up
     */
    SocketChannel newServerConnection(InetSocketAddress server, Duration connectTimeout) {
        SocketChannel ch = transport.newChannel(Transport.familyOf(server));
        try {
            ch.config()
                    .setAllowHalfClosure(true)
                    // TCP_NODELAY: Netty sets it on every socket it makes (setting it again is one
                    // more syscall per socket).
                    .setKeepAlive(true)
                    .setWriteBufferWaterMark(WATER_MARK)
                    .setRecvByteBufAllocator(READ_SIZES)
                    .setConnectTimeoutMillis((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
        } catch (ChannelException e) {
            ch.unsafe().closeForcibly(); // not registered yet: nothing else holds its socket
            throw e;
        }
        return ch;
    }

    /** Counts a new client in, unless max-connections is reached. */
    boolean admit(Channel client) {
        int max = config().maxConnections();
        if (activeSessions.incrementAndGet() > max) {
            activeSessions.decrementAndGet();
            refusedMaxConnections.increment();
            logRefused("max-connections " + max + " reached");
            return false;
        }
        sessions.add(client);
        return true;
    }

    void sessionClosed() {
        if (activeSessions.decrementAndGet() == 0 && !accepting) {
            drained.complete(null);
        }
    }

    void refusedNoServer(String why) {
        refusedNoServer.increment();
        logRefused(why);
    }

    void refusedNoSocket(String why) {
        refusedNoSocket.increment();
        logRefused(why);
    }

    /** {@code server} answered a session with error 1129: it blocks the address galera-lb connects from. */
    void hostBlocked(Server server, Object from) {
        long n = hostBlockedLog.count();
        if (n > 0) {
            log.warn("{}/{}: {} session(s) refused by the node with error 1129: it blocks galera-lb's address {} after "
                    + "max_connect_errors aborted connections from it, and every client behind galera-lb counts as that "
                    + "one host; run FLUSH HOSTS on the node, raise max_connect_errors, or send clients' addresses with "
                    + "the PROXY protocol", name(), server.name(), n, from);
        }
    }

    /** accept-proxy: a connection from outside trusted-proxies, closed before a byte is read. */
    void refusedProxyUntrusted(InetSocketAddress from) {
        refusedProxyUntrusted.increment();
        long n = proxyUntrustedLog.count();
        if (n > 0) {
            log.warn("{}: {} connection(s) closed: not from trusted-proxies (last from {}); accept-proxy takes clients "
                    + "only through the load balancers listed there", name(), n, from);
        }
    }

    /** accept-proxy: a trusted connection whose PROXY header was malformed or did not come in time. */
    void refusedProxyHeader(Object from, String why) {
        refusedProxyHeader.increment();
        long n = proxyHeaderLog.count();
        if (n > 0) {
            log.warn("{}: {} connection(s) closed without a valid PROXY header (last from {}: {})", name(), n, from, why);
        }
    }

    void sessionEnded(SessionEnd why) {
        ended.get(why).increment();
    }

    /** Sessions of this listener that ended for {@code why}. */
    public long sessionsEnded(SessionEnd why) {
        return ended.get(why).sum();
    }

    private static LongAdder[] newAdders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void sessionOpaque(MysqlObserver.Opaque why) {
        opaque[why.ordinal()].increment();
    }

    /** Sessions whose MySQL protocol galera-lb could not follow for {@code why}, counted when they end. */
    public long sessionsOpaque(MysqlObserver.Opaque why) {
        return opaque[why.ordinal()].sum();
    }

    /** Connections closed because accept-proxy is on and they did not come from trusted-proxies. */
    public long refusedProxyUntrusted() {
        return refusedProxyUntrusted.sum();
    }

    /** Connections from trusted-proxies closed for a malformed, missing or late PROXY header. */
    public long refusedProxyHeader() {
        return refusedProxyHeader.sum();
    }

    void countFinTimeout() {
        closedByFinTimeout.increment();
    }

    /** Sessions closed because one side had ended and the other stayed idle for fin-timeout. */
    public long closedByFinTimeout() {
        return closedByFinTimeout.sum();
    }

    /** Clients refused because galera-lb could open no socket to a server (out of file descriptors). */
    public long refusedNoSocket() {
        return refusedNoSocket.sum();
    }

    /** Clients refused because no server could take them. */
    public long refusedNoServer() {
        return refusedNoServer.sum();
    }

    /** Clients refused because max-connections was reached. */
    public long refusedMaxConnections() {
        return refusedMaxConnections.sum();
    }

    SessionObserver observer() {
        return observer;
    }

    /** Who hears of each session's connect (for metrics); set once, before clients arrive. */
    public void observer(SessionObserver observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /**
     * Logs that a client was refused (with a MySQL error), at most once per 5 s per listener
     * with the count of clients refused meanwhile, so an outage does not flood the log.
     */
    private void logRefused(String why) {
        long refused = refusalLog.count();
        if (refused > 0) {
            log.warn("{}: {} client(s) refused with a MySQL error: {}", name(), refused, why);
        }
    }

    /** Stops accepting new clients; sessions go on. Completes the returned future once none is left. */
    public CompletableFuture<Void> stopAccepting() {
        accepting = false;
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly();
        }
        if (activeSessions.get() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    /**
     * One open session as the protocol observer sees it: the client, its server, and whether it
     * is between commands, inside a transaction, or not followed (its opaque reason, else empty).
     */
    public record SessionView(InetSocketAddress client, String server, boolean betweenCommands,
                              boolean inTransaction, String opaque) {
    }

    /** Every open session's view, each read on its own event loop. */
    public CompletableFuture<List<SessionView>> sessionViews() {
        List<CompletableFuture<SessionView>> views = new ArrayList<>();
        for (Channel ch : sessions) {
            ClientSideHandler h = ch.pipeline().get(ClientSideHandler.class);
            if (h != null) {
                CompletableFuture<SessionView> v = new CompletableFuture<>();
                ch.eventLoop().execute(() -> v.complete(h.session.view()));
                views.add(v);
            }
        }
        return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
                .thenApply(x -> views.stream().map(CompletableFuture::join).toList());
    }

    /**
     * Closes every session for {@code why} at its transaction boundary, and at {@code deadline}
     * whatever its state (see {@link GracefulClose}).
     */
    public GracefulClose.Progress closeAtBoundaries(SessionEnd why, Duration deadline) {
        return GracefulClose.within(sessions, why, deadline);
    }

    /** Closes every session now, for the session log's {@code why}. */
    public void closeSessions(SessionEnd why) {
        sessions.forEach(ch -> ch.attr(SessionEnd.FORCED).setIfAbsent(why));
        sessions.close().awaitUninterruptibly();
    }
}
