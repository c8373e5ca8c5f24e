package io.galeralb.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
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

    private static final ThreadLocal<Consumer<Socket>> OPENING = new ThreadLocal<>();

    /** Runs {@code open} with every socket this thread creates meanwhile handed to {@code created}. */
    static Connection capturing(Consumer<Socket> created, Opener open) throws SQLException {
        OPENING.set(created);
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
        Socket s = new Socket();
        Consumer<Socket> created = OPENING.get();
        if (created != null) {
            created.accept(s);
        }
        return s;
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
