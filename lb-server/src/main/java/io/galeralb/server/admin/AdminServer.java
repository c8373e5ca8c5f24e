package io.galeralb.server.admin;

import io.galeralb.config.HostPort;
import io.galeralb.core.io.AcceptFailures;
import io.galeralb.core.LogLimit;
import io.galeralb.server.process.Instance;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API: {@code GET /} (the status page), {@code /status}, {@code /stats},
 * {@code /metrics}, {@code /live} and {@code /ready} (for probes), {@code /health/LISTENER/SERVER}
 * (clustercheck's answer); {@code POST /reload},
 * {@code /servers/LISTENER/SERVER/state} and {@code /listeners/LISTENER/switchover}, which need
 * the bearer token. On a loopback address it answers only requests whose {@code Host} is a
 * loopback one, so that a web page cannot reach it through DNS rebinding. A reload blocks
 * (it checks new servers and binds new listeners), so it runs on its own thread, never on the
 * event loop; the answer is written when it is done. Anything malformed gets a 4xx and changes
 * nothing.
 *
 * <p>Whoever can reach it can cost galera-lb only a bounded amount: at most
 * {@link #MAX_CONNECTIONS} connections (more are closed at once, so the admin API never takes
 * the descriptors sessions need), one request per connection, read within
 * {@link #REQUEST_TIMEOUT}, and bounded work queues that answer 503 when full. Every request gets
 * a status code, and every connection is closed after its answer.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    public static final int MAX_CONNECTIONS = 64;
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** How long GET /live waits for every I/O thread to run a task. */
    static final Duration LIVE_TIMEOUT = Duration.ofSeconds(2);
    public static final String OPENMETRICS = "application/openmetrics-text";
    public static final String OPENMETRICS_CONTENT_TYPE = OPENMETRICS + "; version=1.0.0; charset=utf-8";
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Requests waiting for a worker, reads (status, metrics) and changes (reload, states) apart. */
    public static final int MAX_QUEUED_READS = 16;
    static final int MAX_QUEUED_CHANGES = 4;

    /** The page runs only its own script and talks only to this origin. */
    public static final String PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final EventLoopGroup group;
    private final ExecutorService reads;
    private final ExecutorService changes;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, ExecutorService reads, ExecutorService changes, Channel channel) {
        this.group = group;
        this.reads = reads;
        this.changes = changes;
        this.channel = channel;
    }

    public static AdminServer start(HostPort bind, Instance instance) throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("admin"),
                NioIoHandler.newFactory());
        // Off the event loop, one at a time each: a reload waits behind no status read.
        ExecutorService reads = worker("admin-read", MAX_QUEUED_READS);
        ExecutorService changes = worker("admin-work", MAX_QUEUED_CHANGES);
        AtomicInteger open = new AtomicInteger();
        LogLimit refusedConnections = new LogLimit(Duration.ofSeconds(10));
        LogLimit unauthorized = new LogLimit(Duration.ofSeconds(10));
        boolean loopbackOnly = HostPort.isLoopback(bind.host());
        ServerBootstrap sb = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new AcceptFailures(() -> "admin API", "connections", Duration.ofSeconds(10)))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (open.incrementAndGet() > MAX_CONNECTIONS) {
                            open.decrementAndGet();
                            long n = refusedConnections.count();
                            if (n > 0) {
                                log.warn("admin API: {} connection(s) closed at once: {} are open already "
                                        + "(latest from {})", n, MAX_CONNECTIONS, ch.remoteAddress());
                            }
                            ch.unsafe().closeForcibly();
                            return;
                        }
                        ch.closeFuture().addListener(c -> open.decrementAndGet());
                        ch.pipeline().addLast(new HttpServerCodec(), new Aggregator(),
                                new AdminRoutes(instance, reads, changes, unauthorized, loopbackOnly));
                    }
                });
        ChannelFuture f = sb.bind(new InetSocketAddress(bind.host(), bind.port())).awaitUninterruptibly();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            reads.shutdownNow();
            changes.shutdownNow();
            throw new IOException(f.cause().getMessage(), f.cause());
        }
        return new AdminServer(group, reads, changes, f.channel());
    }

    private static ExecutorService worker(String name, int queue) {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        reads.shutdownNow();
        changes.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** A body over the limit gets 413 and the connection is closed, whatever the client asked. */
    private static final class Aggregator extends HttpObjectAggregator {
        Aggregator() {
            super(MAX_REQUEST_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            ReferenceCountUtil.release(oversized);
            AdminRoutes.reply(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    AdminRoutes.error("the request is larger than " + MAX_REQUEST_BYTES + " bytes"));
        }
    }
}
