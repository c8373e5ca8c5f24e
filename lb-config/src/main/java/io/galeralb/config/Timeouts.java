package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts of a listener's sessions.
 *
 * @param connect    how long a connect to one server may take before the next server is tried
 * @param clientIdle how long a session may wait for its client (the server has answered, the
 *                   client says nothing, as a pooled connection does) before galera-lb closes it;
 *                   {@code auto}: a little longer than the server's own wait_timeout/interactive_timeout,
 *                   so the server closes first
 * @param serverIdle how long a session may wait for its server (the client has sent a query,
 *                   the server says nothing) before galera-lb closes it; {@code auto}: no limit
 *                   (MySQL never drops a session during its own query; a hung node is the health
 *                   checks' to take out)
 * @param fin        how long a session may stay idle once one side has closed its end (HAProxy's
 *                   {@code timeout client-fin} and {@code server-fin}): a peer that never closes its
 *                   own end holds a connection slot for this long at most, not for an idle timeout
 */
public record Timeouts(Duration connect, IdleTimeout clientIdle, IdleTimeout serverIdle, Duration fin) {

    /** MySQL's own default {@code wait_timeout}: a proxy must not be the first to close an idle session. */
    public static final Duration DEFAULT_IDLE = Duration.ofHours(8);
    public static final Duration DEFAULT_FIN = Duration.ofSeconds(5);
    public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(5), IdleTimeout.of(DEFAULT_IDLE),
            IdleTimeout.of(DEFAULT_IDLE), DEFAULT_FIN);
    public static final Duration MAX_CONNECT = Duration.ofMinutes(5);
    public static final Duration MAX_IDLE = Duration.ofDays(30);
    public static final Duration MAX_FIN = Duration.ofHours(1);

    public Timeouts {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(clientIdle, "clientIdle");
        Objects.requireNonNull(serverIdle, "serverIdle");
        Objects.requireNonNull(fin, "fin");
    }
}
