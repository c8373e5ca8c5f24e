package io.galeralb.core;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * {@code accept-proxy}: reads the PROXY header (v1 or v2, through Netty's decoder, at most
 * {@link #MAX_TLV_BYTES} of extensions) a trusted load balancer starts each connection with,
 * gives the session the client it names, then leaves the pipeline and lets the session start.
 * A header that is malformed or not complete within {@link #TIMEOUT_MILLIS} closes the
 * connection, counted and logged; nothing is guessed. A {@code LOCAL} header (the balancer's
 * own check) names no client: the session keeps the connection's addresses.
 */
final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {

    static final long TIMEOUT_MILLIS = 5_000;
    static final int MAX_TLV_BYTES = 4096;

    private final Listener listener;
    private final Session session;
    private ScheduledFuture<?> timeout;
    /** The header was read and the session started. */
    private boolean started;
    /** The connection was refused: nothing reaches the session, which never started. */
    private boolean refused;

    private ProxyHeaderReader(Listener listener, Session session) {
        this.listener = listener;
        this.session = session;
    }

    /** The decoder and the reader, in pipeline order, ahead of the session's own handler. */
    static void install(ChannelPipeline pipeline, Listener listener, Session session) {
        pipeline.addLast(new HAProxyMessageDecoder(MAX_TLV_BYTES, true), new ProxyHeaderReader(listener, session));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // The session starts once the header is read: not yet.
        timeout = ctx.executor().schedule(() -> refuse(ctx, "no complete PROXY header within "
                + TIMEOUT_MILLIS / 1000 + " s"), TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (started || !(msg instanceof HAProxyMessage header)) {
            // Bytes after the header: the session's, held until its server is connected.
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                session.proxied(new InetSocketAddress(header.sourceAddress(), header.sourcePort()),
                        new InetSocketAddress(header.destinationAddress(), header.destinationPort()));
            }
        } finally {
            header.release();
        }
        started = true;
        timeout.cancel(false);
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (started) {
            ctx.fireChannelReadComplete();
        } else if (!refused) {
            ctx.read(); // auto-read is off: ask for the rest of the header
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (started) {
            ctx.fireChannelInactive();
        } else if (timeout != null) {
            timeout.cancel(false); // gone before its header: never a session
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!started && cause instanceof HAProxyProtocolException) {
            Throwable root = cause;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            refuse(ctx, "malformed PROXY header: " + root.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        if (started || refused) {
            return;
        }
        refused = true;
        timeout.cancel(false);
        listener.refusedProxyHeader(ctx.channel().remoteAddress(), why);
        ctx.close();
    }
}
