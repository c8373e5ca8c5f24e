package io.galeralb.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One listening address and the servers behind it.
 *
 * @param name           the operator's name, unique in the file
 * @param bind           where to listen
 * @param balance        how a server is chosen
 * @param maxConnections most sessions at once; the next client gets MySQL error 1040
 * @param timeouts       connect and idle timeouts
 * @param health         how servers are checked, when the file says so
 * @param servers        the servers by name, in file order
 */
public record ListenerConfig(
        String name,
        HostPort bind,
        Balance balance,
        int maxConnections,
        Timeouts timeouts,
        Optional<HealthConfig> health,
        Map<String, ServerConfig> servers) {

    public static final int DEFAULT_MAX_CONNECTIONS = 4096;

    public ListenerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(health, "health");
        servers = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(servers, "servers")));
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("listener " + name + " has no servers");
        }
    }
}
