package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts of a listener's sessions.
 *
 * @param connect    how long a connect to one server may take before the next server is tried
 * @param clientIdle how long a session may wait for its client (the server has answered, the
 *                   client says nothing, as a pooled connection does) before galera-lb closes it
 * @param serverIdle how long a session may wait for its server (the client has sent a query,
 *                   the server says nothing) before galera-lb closes it
 */
public record Timeouts(Duration connect, Duration clientIdle, Duration serverIdle) {

    /** MySQL's own default {@code wait_timeout}: a proxy must not be the first to close an idle session. */
    public static final Duration DEFAULT_IDLE = Duration.ofHours(8);
    public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(5), DEFAULT_IDLE, DEFAULT_IDLE);

    public Timeouts {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(clientIdle, "clientIdle");
        Objects.requireNonNull(serverIdle, "serverIdle");
    }
}
