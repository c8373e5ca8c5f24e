package io.galeralb.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;

/** The server's half of a session: relays server bytes to the client. */
final class ServerSideHandler extends Relay {

    private boolean connected;

    ServerSideHandler(Session session) {
        super(session);
    }

    @Override
    Channel peer() {
        return session.client();
    }

    @Override
    void activity(ByteBuf bytes) {
        session.serverActivity(bytes);
    }

    @Override
    void forwarded() {
        session.serverBytesForwarded();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connected = true;
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // A failed connect never was active and must not end the session: the next server is tried.
        if (connected) {
            session.serverClosed();
            closeOnFlush(session.client());
        }
        ctx.fireChannelInactive();
    }
}
