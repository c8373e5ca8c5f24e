package io.galeralb.health;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.Properties;

/**
 * One JDBC connection at a time (of a health check, of the writer lease) that any thread can
 * cut off at once, in the middle of a statement or of the handshake: {@link #sever()} closes its
 * socket, and the statement waiting on it fails.
 *
 * <p>Connector/J's {@code Connection.abort} does not do that while a statement runs: it first
 * opens a second connection to the same server to send {@code KILL}, and against a server that
 * stopped answering (SIGSTOP) that waits out the connect timeout: an abort took 60 s with a
 * 60 s timeout. Nothing of the driver's needs releasing beyond the socket.
 */
public final class SeverableConnection {

    private volatile Socket socket;
    private volatile Connection connection;
    /** Set by {@link #sever()}: a socket the driver creates after it is closed at once. */
    private volatile boolean severed;

    /** The open connection, or null. */
    public Connection get() {
        return connection;
    }

    /**
     * Opens a connection in place of the current one (which is severed); on the thread that will
     * use it. With {@code target}, the socket connects there whatever the URL's host resolves to.
     */
    public Connection open(String url, Properties properties, InetSocketAddress target) throws SQLException {
        sever();
        severed = false;
        Properties withSockets = new Properties();
        withSockets.putAll(properties);
        withSockets.setProperty("socketFactory", SeverableSocketFactory.class.getName());
        Connection c = SeverableSocketFactory.capturing(target, s -> {
            socket = s;
            if (severed) {
                closeQuietly(s); // severed while the driver was still making it
            }
        }, () -> DriverManager.getConnection(url, withSockets));
        connection = c;
        if (severed) {
            sever();
            throw new SQLNonTransientConnectionException("connection cut off while it was being opened");
        }
        return c;
    }

    /** Closes the socket, from any thread, without waiting for the server. */
    public void sever() {
        severed = true;
        Socket s = socket;
        socket = null;
        connection = null;
        if (s != null) {
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closed either way.
        }
    }
}
