package io.galeralb.core;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;

/**
 * The socket transport: native epoll where it loads, NIO otherwise. The system property
 * {@code galeralb.transport} ({@code auto}, {@code epoll}, {@code nio}) overrides the choice.
 */
public enum Transport {
    EPOLL(EpollServerSocketChannel.class, EpollSocketChannel.class) {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return EpollKeepRegisteredIoHandler.factory(EpollIoHandler.newFactory());
        }
    },
    NIO(NioServerSocketChannel.class, NioSocketChannel.class) {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }
    };

    public static final String PROPERTY = "galeralb.transport";

    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends SocketChannel> channelClass;

    Transport(Class<? extends ServerChannel> serverChannelClass, Class<? extends SocketChannel> channelClass) {
        this.serverChannelClass = serverChannelClass;
        this.channelClass = channelClass;
    }

    abstract IoHandlerFactory ioHandlerFactory();

    Class<? extends ServerChannel> serverChannelClass() {
        return serverChannelClass;
    }

    Class<? extends SocketChannel> channelClass() {
        return channelClass;
    }

    /** The transport to use on this machine, honouring {@value #PROPERTY}. */
    public static Transport detect() {
        String wanted = System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "nio":
                return NIO;
            case "epoll":
                Epoll.ensureAvailability();
                return EPOLL;
            case "auto":
                return Epoll.isAvailable() ? EPOLL : NIO;
            default:
                throw new IllegalArgumentException(PROPERTY + "=" + wanted + " is not one of auto, epoll, nio");
        }
    }
}
