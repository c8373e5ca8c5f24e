package io.galeralb.core;

import io.galeralb.core.io.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays bytes from its channel to the peer channel of the same session.
 *
 * <ul>
 *   <li>Writes on read, flushes on read-complete: one syscall per batch of reads, not per read.</li>
 *   <li>Backpressure by writability: when this channel's outbound buffer passes the high water
 *       mark, the peer stops reading until it drains (the pattern Apache Pulsar's proxy settled on),
 *       so a slow client never makes the proxy hold a large result set in memory.</li>
 *   <li>Half-close: end of input on one side becomes a shutdown of output on the other; the
 *       session closes when both directions are done (the second end of input closes its
 *       channel directly, and that channel's handler closes the other once flushed), or when it
 *       has been idle for fin-timeout since (see {@link Session#halfClosed}).</li>
 * </ul>
 */
abstract class Relay extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(Relay.class);

    protected final Session session;

    Relay(Session session) {
        this.session = session;
    }

    /** The other channel of the session; null while it is not connected yet. */
    abstract Channel peer();

    /** Records (and observes) what arrived on this side, before it is passed on. */
    abstract void activity(ByteBuf bytes);

    /** After what was read has been passed on. */
    void forwarded() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        activity((ByteBuf) msg);
        Channel peer = peer();
        if (peer != null && peer.isActive()) {
            peer.write(msg, peer.voidPromise());
            forwarded();
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel peer = peer();
        if (peer != null) {
            peer.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel peer = peer();
        if (peer != null) {
            // This channel's outbound buffer is what the peer fills: read from the peer only while
            // it has room.
            peer.config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            session.inputEnded(ctx.channel() == session.client());
            Channel peer = peer();
            if (peer == null || !peer.isActive() || ((DuplexChannel) peer).isInputShutdown()) {
                // Both directions have ended (or there is no one left to tell): close both sides
                // once what is queued for them is written. A shutdown of output first would only
                // cost a system call per session; the FIN goes out with the close all the same.
                if (peer != null) {
                    closeOnFlush(peer);
                }
                closeOnFlush(ctx.channel());
                return;
            }
            endOutput(peer);
            session.halfClosed();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Sends everything written to {@code ch} so far, then the end of stream (a FIN), keeping the
     * other direction open: half-close passes through. The session ends when {@code ch}'s own
     * input ends too (see {@link #userEventTriggered}).
     */
    static void endOutput(Channel ch) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (ch instanceof DuplexChannel d && d.isActive() && !d.isOutputShutdown()) {
                // Nothing more goes this way: when the input ends as well, Netty may close the
                // channel at once (its channelInactive ends the session) instead of shutting down
                // an input that is already gone, which costs a syscall, two epoll_ctl and an
                // exception with a stack trace per session.
                d.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                Transport.shutdownOutput(d);
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // Resets and broken pipes are how TCP sessions often end; not an operator's concern
            // one by one, so counted (client or server abort), not logged.
            session.aborted(ctx.channel() == session.client());
            log.debug("{}: {}", ctx.channel(), cause.toString());
        } else {
            log.warn("{}: closing session after unexpected error", ctx.channel(), cause);
        }
        ctx.close();
    }

    /** Closes {@code ch} once what was written to it is flushed. */
    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else if (ch.isOpen()) {
            ch.close();
        }
    }
}
