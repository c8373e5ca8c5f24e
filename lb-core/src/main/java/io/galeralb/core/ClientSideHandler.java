package io.galeralb.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/** The client's half of a session: admits it, starts the connect, relays client bytes to the server. */
final class ClientSideHandler extends Relay {

    private final Listener listener;

    ClientSideHandler(Listener listener, Session session) {
        super(session);
        this.listener = listener;
    }

    @Override
    Channel peer() {
        return session.backend();
    }

    @Override
    void activity(ByteBuf bytes) {
        session.clientActivity(bytes);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (session.backend() == null) {
            // Even with auto-read off, epoll reads what arrives together with a FIN; keep it for
            // the server rather than drop it.
            activity((ByteBuf) msg);
            session.holdUntilConnected((ByteBuf) msg);
            return;
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && session.backend() == null) {
            session.clientInputEndedBeforeConnect();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (session.admit()) {
            session.connectNext();
        } else {
            session.refuse(SessionEnd.REFUSED_MAX_CONNECTIONS, MysqlErrorPacket.TOO_MANY_CONNECTIONS, "galera-lb: too many connections to listener "
                    + listener.name() + " (max-connections " + listener.config().maxConnections() + ")");
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.clientClosed();
        ctx.fireChannelInactive();
    }
}
