package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How the servers of a listener are checked.
 *
 * @param type                  what the check asks
 * @param user                  the check user, for {@code galera} and {@code mysql} checks
 * @param password              the check user's password, read when the configuration was loaded
 * @param interval              time between the end of one check of a server and the start of the next
 * @param fastInterval          the interval while a server is between states (some checks passed or
 *                              failed, not yet {@code rise} or {@code fall}); equal to interval unless set
 * @param timeout               how long one check may take (connect and query each)
 * @param rise                  consecutive passes that bring a server up
 * @param fall                  consecutive failures that take a server down
 * @param availableWhenDonor    donor policy
 * @param availableWhenReadOnly whether a node with {@code read_only=ON} may serve
 * @param maxRecvQueue          a node whose {@code wsrep_local_recv_queue} exceeds this is unhealthy
 * @param tls                   TLS of the check's connections (and the writer lease's, and doctor's)
 */
public record HealthConfig(
        HealthCheckType type,
        Optional<String> user,
        Secret password,
        Duration interval,
        Duration fastInterval,
        Duration timeout,
        int rise,
        int fall,
        DonorPolicy availableWhenDonor,
        boolean availableWhenReadOnly,
        OptionalInt maxRecvQueue,
        TlsConfig tls) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration MAX_INTERVAL = Duration.ofHours(1);
    public static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);
    public static final int DEFAULT_RISE = 2;
    public static final int DEFAULT_FALL = 3;

    /** What a listener without a {@code health} section gets: a TCP connect, which cannot see Galera state. */
    public static final HealthConfig TCP_ONLY = new HealthConfig(HealthCheckType.TCP, Optional.empty(), Secret.NONE,
            DEFAULT_INTERVAL, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_RISE, DEFAULT_FALL, DonorPolicy.LAST_NODE, false,
            OptionalInt.empty());

    /** A check over plain connections. */
    public HealthConfig(HealthCheckType type, Optional<String> user, Secret password, Duration interval,
                        Duration fastInterval, Duration timeout, int rise, int fall, DonorPolicy availableWhenDonor,
                        boolean availableWhenReadOnly, OptionalInt maxRecvQueue) {
        this(type, user, password, interval, fastInterval, timeout, rise, fall, availableWhenDonor,
                availableWhenReadOnly, maxRecvQueue, TlsConfig.DISABLED);
    }

    public HealthConfig {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(fastInterval, "fastInterval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(availableWhenDonor, "availableWhenDonor");
        Objects.requireNonNull(maxRecvQueue, "maxRecvQueue");
        Objects.requireNonNull(tls, "tls");
    }
}
