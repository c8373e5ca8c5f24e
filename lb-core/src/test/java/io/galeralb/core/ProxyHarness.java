package io.galeralb.core;

import io.galeralb.config.Balance;
import io.galeralb.config.Cidr;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.IdleTimeout;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.OnServerDown;
import io.galeralb.config.SendProxy;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.SessionLogMode;
import io.galeralb.config.Timeouts;
import io.galeralb.core.io.BusyPoll;
import io.galeralb.core.io.IoLoops;
import io.galeralb.core.io.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** A real {@link Proxy} on loopback with one listener, for tests. */
final class ProxyHarness implements AutoCloseable {

    private final Proxy proxy;
    final Listener listener;

    private ProxyHarness(ListenerConfig config, Transport transport, Duration settle, BusyPoll busyPoll)
            throws ListenerBindException {
        proxy = Proxy.start(transport, 2, settle.toNanos(), busyPoll);
        listener = proxy.bind(config);
    }

    static Builder builder() {
        return new Builder();
    }

    Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(listener.localAddress(), 5000);
        s.setSoTimeout(60_000);
        return s;
    }

    InetSocketAddress address() {
        return listener.localAddress();
    }

    @Override
    public void close() {
        listener.stopAccepting();
        listener.closeSessions(SessionEnd.SHUTDOWN);
        proxy.close();
    }

    /** A loopback port nothing listens on: connects to it are refused. */
    static int closedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class Builder {
        private final Map<String, ServerConfig> servers = new LinkedHashMap<>();
        private Timeouts timeouts = new Timeouts(Duration.ofSeconds(5), IdleTimeout.of(Duration.ofHours(1)),
                IdleTimeout.of(Duration.ofHours(1)), Timeouts.DEFAULT_FIN);
        private int maxConnections = 1000;
        private Balance balance = Balance.LEASTCONN;
        private int port;
        private Duration settle = Duration.ofNanos(IoLoops.SETTLE_NANOS);
        private Transport transport = Transport.detect();
        private BusyPoll busyPoll;
        private List<Cidr> trustedProxies = List.of();

        Builder server(String name, int port) {
            servers.put(name, new ServerConfig(name, new HostPort("127.0.0.1", port), 1));
            return this;
        }

        /** A server whose connections start with a PROXY header. */
        Builder server(String name, int port, SendProxy header) {
            servers.put(name, new ServerConfig(name, new HostPort("127.0.0.1", port), 1, ServerConfig.DEFAULT_PRIORITY,
                    Optional.empty(), header, Duration.ZERO));
            return this;
        }

        /** accept-proxy: every client starts with a PROXY header, taken only from these networks. */
        Builder acceptProxy(String... trusted) {
            trustedProxies = Stream.of(trusted).map(Cidr::parse).toList();
            return this;
        }

        Builder timeouts(Duration connect, Duration clientIdle, Duration serverIdle) {
            timeouts = new Timeouts(connect, IdleTimeout.of(clientIdle), IdleTimeout.of(serverIdle), timeouts.fin());
            return this;
        }

        Builder finTimeout(Duration fin) {
            timeouts = new Timeouts(timeouts.connect(), timeouts.clientIdle(), timeouts.serverIdle(), fin);
            return this;
        }

        Builder maxConnections(int n) {
            maxConnections = n;
            return this;
        }

        Builder balance(Balance b) {
            balance = b;
            return this;
        }

        /** The listener's port; a free one if not set. */
        Builder port(int p) {
            port = p;
            return this;
        }

        Builder transport(Transport t) {
            transport = t;
            return this;
        }

        /** How long sessions stay on the loop that accepted them (see {@link IoLoops}). */
        Builder settle(Duration d) {
            settle = d;
            return this;
        }

        /** How the I/O threads busy poll; galera-lb's default (on the kernel's CPU pressure) if not set. */
        Builder busyPoll(BusyPoll b) {
            busyPoll = b;
            return this;
        }

        ProxyHarness start() throws ListenerBindException {
            ListenerConfig config = new ListenerConfig("test", new HostPort("127.0.0.1", port > 0 ? port : closedPort()), balance,
                    maxConnections, timeouts, Optional.empty(), OnServerDown.KEEP_SESSIONS, false, Optional.empty(), servers,
                    !trustedProxies.isEmpty(), trustedProxies, SessionLogMode.OFF, Duration.ZERO, 0);
            return new ProxyHarness(config, transport, settle,
                    busyPoll != null ? busyPoll : BusyPoll.start(GaleraLbConfig.DEFAULT_BUSY_POLL));
        }
    }
}
