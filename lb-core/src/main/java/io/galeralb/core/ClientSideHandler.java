package io.galeralb.core;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;

/** The client's half of a session: admits it, starts the connect, relays client bytes to the server. */
final class ClientSideHandler extends Relay {

    private final Listener listener;
    private boolean admitted;

    ClientSideHandler(Listener listener, Session session) {
        super(session);
        this.listener = listener;
    }

    @Override
    Channel peer() {
        return session.backend();
    }

    @Override
    void activity() {
        session.clientActivity();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        admitted = listener.admit(ctx.channel());
        if (admitted) {
            session.connectNext();
        } else {
            session.refuse(MysqlErrorPacket.TOO_MANY_CONNECTIONS, "galera-lb: too many connections to listener "
                    + listener.name() + " (max-connections " + listener.config().maxConnections() + ")");
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.clientClosed();
        if (admitted) {
            listener.sessionClosed();
        }
        ctx.fireChannelInactive();
    }
}
