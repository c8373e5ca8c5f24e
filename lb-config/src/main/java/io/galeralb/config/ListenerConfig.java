package io.galeralb.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
 * @param onServerDown   what happens to a server's sessions when it goes DOWN
 * @param failback       {@code balance: first} only: move the writer back to a server of better
 *                       priority as soon as it is UP again (off: the writer stays while it is UP)
 * @param writerLease    {@code balance: first} only: record the writer in the cluster, so that
 *                       every instance agrees on it
 * @param servers        the servers by name, in file order
 * @param acceptProxy    {@code accept-proxy}: every client connection starts with a PROXY header
 *                       (v1 or v2) from a load balancer in front, which names the real client
 * @param trustedProxies {@code trusted-proxies}: the only sources a header is accepted from
 * @param sessionLog     {@code session-log}: a line per ended session, for all, none, or those not ended by a close
 */
public record ListenerConfig(
        String name,
        HostPort bind,
        Balance balance,
        int maxConnections,
        Timeouts timeouts,
        Optional<HealthConfig> health,
        OnServerDown onServerDown,
        boolean failback,
        Optional<WriterLeaseConfig> writerLease,
        Map<String, ServerConfig> servers,
        boolean acceptProxy,
        List<Cidr> trustedProxies,
        SessionLogMode sessionLog,
        Duration resolveInterval,
        int rebalanceRate) {

    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    /** Sessions per second a rebalance closes at most when {@code rebalance: on} and no rate is given. */
    public static final int DEFAULT_REBALANCE_RATE = 5;
    public static final int MAX_REBALANCE_RATE = 1000;
    public static final Duration MIN_RESOLVE_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MAX_RESOLVE_INTERVAL = Duration.ofDays(1);

    /** A listener that takes clients directly, without a PROXY header. */
    public ListenerConfig(String name, HostPort bind, Balance balance, int maxConnections, Timeouts timeouts,
                          Optional<HealthConfig> health, OnServerDown onServerDown, boolean failback,
                          Optional<WriterLeaseConfig> writerLease, Map<String, ServerConfig> servers) {
        this(name, bind, balance, maxConnections, timeouts, health, onServerDown, failback, writerLease, servers,
                false, List.of(), SessionLogMode.OFF, Duration.ZERO, 0);
    }

    /** Whether idle sessions are moved to a server that holds clearly fewer ({@code rebalance: on}). */
    public boolean rebalance() {
        return rebalanceRate > 0;
    }

    /** The health check in force: the configured one, or a TCP connect when none is configured. */
    public HealthConfig effectiveHealth() {
        return health.orElse(HealthConfig.TCP_ONLY);
    }

    public ListenerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(onServerDown, "onServerDown");
        Objects.requireNonNull(writerLease, "writerLease");
        Objects.requireNonNull(resolveInterval, "resolveInterval");
        if (rebalanceRate < 0 || rebalanceRate > MAX_REBALANCE_RATE) {
            throw new IllegalArgumentException("listener " + name + ": rebalance rate " + rebalanceRate + " out of range");
        }
        if (rebalanceRate > 0 && balance == Balance.FIRST) {
            throw new IllegalArgumentException("listener " + name + ": rebalance needs leastconn or roundrobin");
        }
        if (balance != Balance.FIRST && (failback || writerLease.isPresent())) {
            throw new IllegalArgumentException("listener " + name + ": failback and writer-lease need balance first");
        }
        servers = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(servers, "servers")));
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("listener " + name + " has no servers");
        }
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(sessionLog, "sessionLog");
        if (acceptProxy && trustedProxies.isEmpty()) {
            throw new IllegalArgumentException("listener " + name + ": accept-proxy needs trusted-proxies");
        }
    }
}
