package io.galeralb.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Looks at the first bytes a server sends in a session, then leaves the pipeline: when they
 * are MySQL error 1129 (the server blocks galera-lb's address after too many aborted
 * connections from it), the listener says so. Every later read passes it by.
 */
final class GreetingWatch extends ChannelInboundHandlerAdapter {

    /** ER_HOST_IS_BLOCKED. */
    static final int HOST_BLOCKED = 1129;
    private static final int ERR_PACKET = 0xFF;

    private final Listener listener;
    private final Server server;

    GreetingWatch(Listener listener, Server server) {
        this.listener = listener;
        this.server = server;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b && isHostBlocked(b)) {
            server.countHostBlocked();
            listener.hostBlocked(server, ctx.channel().localAddress());
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
    }

    /** A MySQL packet (3 bytes length, 1 sequence) whose payload is an ERR packet with code 1129. */
    static boolean isHostBlocked(ByteBuf b) {
        int i = b.readerIndex();
        return b.readableBytes() >= 7 && b.getUnsignedByte(i + 4) == ERR_PACKET
                && b.getUnsignedShortLE(i + 5) == HOST_BLOCKED;
    }
}
