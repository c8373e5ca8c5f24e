package io.galeralb.core.io;

import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.Locale;

/**
 * The socket transport: native epoll where it loads, NIO otherwise. The system property
 * {@code galeralb.transport} ({@code auto}, {@code epoll}, {@code nio}) overrides the choice.
 *
 * <p>Sockets are made in the family of the address they bind or connect to: an IPv4 address
 * gets an IPv4 socket, not Netty's default dual-stack IPv6 socket with a mapped address (which
 * costs an extra setsockopt per socket and the kernel's mapped-address paths on every packet).
 * A host name that is not resolved yet gets the dual-stack socket, which takes either.
 */
public enum Transport {
    EPOLL {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return BatchingEpollIoHandler.factory(EpollIoHandler.newFactory());
        }

        @Override
        ServerChannel newServerChannel(SocketProtocolFamily family) {
            return family == null ? new EpollServerSocketChannel() : new EpollServerSocketChannel(family);
        }

        @Override
        public SocketChannel newChannel(SocketProtocolFamily family) {
            return family == null ? new EpollSocketChannel() : new EpollSocketChannel(family);
        }
    },
    NIO {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        ServerChannel newServerChannel(SocketProtocolFamily family) {
            return family == null ? new NioServerSocketChannel()
                    : new NioServerSocketChannel(SelectorProvider.provider(), family);
        }

        @Override
        public SocketChannel newChannel(SocketProtocolFamily family) {
            return family == null ? new NioSocketChannel() : new NioSocketChannel(SelectorProvider.provider(), family);
        }
    };

    public static final String PROPERTY = "galeralb.transport";

    public abstract IoHandlerFactory ioHandlerFactory();

    /** A listening socket of {@code family}, or dual-stack when it is null. */
    abstract ServerChannel newServerChannel(SocketProtocolFamily family);

    /** A client socket of {@code family}, or dual-stack when it is null. */
    public abstract SocketChannel newChannel(SocketProtocolFamily family);

    /** Makes listening sockets for {@code bind}. */
    public ChannelFactory<ServerChannel> serverChannels(InetSocketAddress bind) {
        SocketProtocolFamily family = familyOf(bind);
        return () -> newServerChannel(family);
    }

    /** The family of a resolved address; null (dual-stack) for one that is not resolved. */
    public static SocketProtocolFamily familyOf(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address) {
            return SocketProtocolFamily.INET;
        }
        if (ip instanceof Inet6Address) {
            return SocketProtocolFamily.INET6;
        }
        return null;
    }

    /**
     * Ends the output of {@code ch} (sends a FIN) once everything written to it has been sent.
     * Netty's {@link DuplexChannel#shutdownOutput()} builds a {@code ChannelOutputShutdownException}
     * with a full stack trace on every call, to fail writes still queued; a relay ends an output
     * only when nothing is queued, so on a native socket the FIN goes to the socket itself, without
     * that cost on every session's half-close. The socket records the shutdown, so {@link DuplexChannel#isOutputShutdown()} still tells.
     */
    public static void shutdownOutput(DuplexChannel ch) {
        if (ch instanceof UnixChannel unix && unix.fd() instanceof Socket socket) {
            try {
                socket.shutdown(false, true);
            } catch (IOException e) {
                ch.pipeline().fireExceptionCaught(e);
            }
        } else {
            ch.shutdownOutput();
        }
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
