package io.galeralb.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Consumer;
import javax.net.SocketFactory;

/**
 * The sockets of {@link SeverableConnection}: Connector/J creates each connection's socket
 * through this factory (its {@code socketFactory} option names the class; it instantiates it
 * by reflection, hence public), on the thread that opens the connection, which is how that
 * thread learns of the socket before the handshake.
 */
public final class SeverableSocketFactory extends SocketFactory {

    /** What the thread opening a connection wants of its sockets. */
    private record Opening(InetSocketAddress target, Consumer<Socket> created) {
    }

    private static final ThreadLocal<Opening> OPENING = new ThreadLocal<>();

    /**
     * Runs {@code open} with every socket this thread creates meanwhile handed to {@code created},
     * and connected to {@code target} when it is given (live DNS: the driver's URL keeps the name,
     * for TLS to verify, while the socket goes where the name resolves now).
     */
    static Connection capturing(InetSocketAddress target, Consumer<Socket> created, Opener open) throws SQLException {
        OPENING.set(new Opening(target, created));
        try {
            return open.open();
        } finally {
            OPENING.remove();
        }
    }

    interface Opener {
        Connection open() throws SQLException;
    }

    @Override
    public Socket createSocket() {
        Opening opening = OPENING.get();
        Socket s = opening != null && opening.target() != null ? new Redirected(opening.target()) : new Socket();
        if (opening != null) {
            opening.created().accept(s);
        }
        return s;
    }

    /** A socket that connects to its target, whatever address it is asked to connect to. */
    private static final class Redirected extends Socket {
        private final InetSocketAddress target;

        Redirected(InetSocketAddress target) {
            this.target = target;
        }

        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
            super.connect(target, timeout);
        }
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
        Socket s = createSocket();
        try {
            if (local != null) {
                s.bind(local);
            }
            s.connect(remote);
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }
}
