package io.galeralb.benchmarks;

import io.galeralb.config.Balance;
import io.galeralb.config.HostPort;
import io.galeralb.config.IdleTimeout;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.OnServerDown;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.Timeouts;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Proxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Real loopback peers for the benchmarks: a backend and galera-lb's proxy in front of it. */
final class Loopback {

    /** What the backend does with each connection. */
    enum Backend {
        /** Reads and drops everything: a sink, for throughput. */
        DISCARD,
        /** Answers every request of {@code request} bytes with {@code response} bytes: a point select. */
        PING_PONG,
        /** Sends one byte (a greeting) and waits for the close: for connection set-up. */
        GREETING
    }

    private Loopback() {
    }

    static ServerSocket backend(Backend kind, int request, int response) throws IOException {
        ServerSocket server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    Thread t = new Thread(() -> serve(kind, s, request, response));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    private static void serve(Backend kind, Socket s, int request, int response) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            byte[] buf = new byte[64 * 1024];
            switch (kind) {
                case DISCARD -> {
                    while (in.read(buf) >= 0) {
                        // drop
                    }
                }
                case PING_PONG -> {
                    byte[] answer = new byte[response];
                    while (in.readNBytes(buf, 0, request) == request) {
                        out.write(answer);
                    }
                }
                case GREETING -> {
                    out.write(1);
                    in.read();
                }
            }
        } catch (IOException ignored) {
            // The benchmark closed the connection.
        }
    }

    static Listener proxy(Proxy proxy, int backendPort) {
        ServerConfig server = new ServerConfig("backend", new HostPort("127.0.0.1", backendPort), 1);
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ListenerConfig config = new ListenerConfig("bench", new HostPort("127.0.0.1", port), Balance.LEASTCONN,
                100_000, new Timeouts(Duration.ofSeconds(5), IdleTimeout.of(Duration.ofHours(1)),
                IdleTimeout.of(Duration.ofHours(1)), Timeouts.DEFAULT_FIN), Optional.empty(), OnServerDown.KEEP_SESSIONS, false, Optional.empty(),
                Map.of("backend", server));
        try {
            return proxy.bind(config);
        } catch (ListenerBindException e) {
            throw new IllegalStateException(e);
        }
    }

    static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        return s;
    }
}
