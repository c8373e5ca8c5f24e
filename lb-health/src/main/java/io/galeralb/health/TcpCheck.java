package io.galeralb.health;

import io.galeralb.config.Durations;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** A TCP connect and nothing more: proves a port is open, not that a node may serve. */
final class TcpCheck implements HealthCheck {

    private final HealthConfig config;
    private final ServerConfig server;
    /** Where the server's name resolves now (live DNS); null: the name, looked up by the JDK. */
    private volatile InetSocketAddress target;

    TcpCheck(HealthConfig config, ServerConfig server) {
        this.config = config;
        this.server = server;
    }

    @Override
    public CheckResult run() {
        try (Socket s = new Socket()) {
            if (server.source().isPresent()) {
                s.bind(new InetSocketAddress(server.source().get(), 0));
            }
            InetSocketAddress to = target;
            s.connect(to != null ? to : new InetSocketAddress(server.address().host(), server.address().port()),
                    (int) Math.max(1, config.timeout().toMillis()));
            return CheckResult.pass(CheckResult.Cause.ANSWERED, "TCP connect succeeded");
        } catch (SocketTimeoutException e) {
            return CheckResult.unreachable(CheckResult.Cause.TIMEOUT, "TCP connect timed out after " + Durations.format(config.timeout()));
        } catch (ConnectException e) {
            return CheckResult.unreachable(CheckResult.Cause.UNREACHABLE, "connection refused");
        } catch (IOException e) {
            return CheckResult.unreachable(CheckResult.Cause.UNREACHABLE, e.toString());
        }
    }

    @Override
    public void connectTo(InetSocketAddress address) {
        target = address;
    }

    @Override
    public void close() {
        // Nothing is held between checks.
    }
}
