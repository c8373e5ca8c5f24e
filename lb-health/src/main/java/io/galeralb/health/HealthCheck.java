package io.galeralb.health;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.net.InetSocketAddress;

/**
 * One way of asking one server whether it may serve. {@link #run()} blocks (it does network
 * I/O) and is only ever called from its checker's own thread.
 */
interface HealthCheck extends AutoCloseable {

    /** Checks once, within the configured timeout; never throws. */
    CheckResult run();

    /** Releases what the check holds (its connection); may be called from any thread. */
    @Override
    void close();

    /**
     * Called from another thread when {@link #run()} has overrun its deadline: breaks what it is
     * blocked on, so that it returns a timeout instead of hanging its checker for good.
     */
    default void abort() {
        close();
    }

    /**
     * The server's name now resolves to {@code address} (live DNS): the next check connects
     * there, a connection kept elsewhere is given up first. TLS still verifies the name.
     * May be called from any thread.
     */
    void connectTo(InetSocketAddress address);

    static HealthCheck create(HealthConfig config, ServerConfig server) {
        return switch (config.type()) {
            case GALERA -> new GaleraCheck(config, server);
            case MYSQL -> new MysqlCheck(config, server);
            case TCP -> new TcpCheck(config, server);
        };
    }
}
