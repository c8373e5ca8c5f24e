package io.galeralb.server;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API, on loopback: {@code GET /status} and {@code POST /reload}. A reload blocks
 * (it checks new servers and binds new listeners), so it runs on its own thread, never on the
 * event loop; the answer is written when it is done.
 */
final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final ExecutorService reloads;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, ExecutorService reloads, Channel channel) {
        this.group = group;
        this.reloads = reloads;
        this.channel = channel;
    }

    static AdminServer start(HostPort bind, Instance instance) throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("admin"),
                NioIoHandler.newFactory());
        ExecutorService reloads = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "admin-reload");
            t.setDaemon(true);
            return t;
        });
        ServerBootstrap sb = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new Routes(instance, reloads));
                    }
                });
        ChannelFuture f = sb.bind(new InetSocketAddress(bind.host(), bind.port())).awaitUninterruptibly();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            reloads.shutdownNow();
            throw new IOException(f.cause().getMessage(), f.cause());
        }
        return new AdminServer(group, reloads, f.channel());
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        reloads.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Instance instance;
        private final ExecutorService reloads;

        Routes(Instance instance, ExecutorService reloads) {
            this.instance = instance;
            this.reloads = reloads;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = new QueryStringDecoder(req.uri()).path();
            HttpMethod method = req.method();
            switch (path) {
                case "/status" -> {
                    if (method.equals(HttpMethod.GET)) {
                        reply(ctx, HttpResponseStatus.OK, instance.status());
                    } else {
                        notAllowed(ctx, "GET");
                    }
                }
                case "/reload" -> {
                    if (method.equals(HttpMethod.POST)) {
                        CompletableFuture.supplyAsync(instance::reload, reloads).whenComplete((outcome, error) -> {
                            if (error != null) {
                                log.error("reload failed", error);
                                reply(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR,
                                        Map.of("ok", false, "message", "reload failed: " + error));
                            } else {
                                Map<String, Object> body = new LinkedHashMap<>();
                                body.put("ok", outcome.ok());
                                body.put("generation", outcome.generation());
                                body.put("message", outcome.message());
                                reply(ctx, outcome.ok() ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY,
                                        body);
                            }
                        });
                    } else {
                        notAllowed(ctx, "POST");
                    }
                }
                default -> reply(ctx, HttpResponseStatus.NOT_FOUND,
                        Map.of("ok", false, "message", "no such endpoint: " + path + " (try GET /status, POST /reload)"));
            }
        }

        private static void notAllowed(ChannelHandlerContext ctx, String allowed) {
            FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    Map.of("ok", false, "message", "use " + allowed));
            r.headers().set(HttpHeaderNames.ALLOW, allowed);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }

        private static void reply(ChannelHandlerContext ctx, HttpResponseStatus status, Map<String, ?> body) {
            ctx.writeAndFlush(response(status, body)).addListener(ChannelFutureListener.CLOSE);
        }

        private static FullHttpResponse response(HttpResponseStatus status, Map<String, ?> body) {
            byte[] json;
            try {
                json = (JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(body) + "\n").getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(json));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            return r;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection: {}", cause.toString());
            ctx.close();
        }
    }
}
