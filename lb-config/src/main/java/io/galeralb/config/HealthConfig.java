package io.galeralb.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How the servers of a listener are checked.
 *
 * @param type                  what the check asks
 * @param user                  the check user, for {@code galera} and {@code mysql} checks
 * @param passwordEnv           environment variable that holds the password, if it comes from there
 * @param passwordFile          file that holds the password, if it comes from there
 * @param interval              time between two checks of one server
 * @param timeout               how long one check may take (connect and query each)
 * @param rise                  consecutive passes that bring a server up
 * @param fall                  consecutive failures that take a server down
 * @param availableWhenDonor    donor policy
 * @param availableWhenReadOnly whether a node with {@code read_only=ON} may serve
 * @param maxRecvQueue          a node whose {@code wsrep_local_recv_queue} exceeds this is unhealthy
 */
public record HealthConfig(
        HealthCheckType type,
        Optional<String> user,
        Optional<String> passwordEnv,
        Optional<Path> passwordFile,
        Duration interval,
        Duration timeout,
        int rise,
        int fall,
        DonorPolicy availableWhenDonor,
        boolean availableWhenReadOnly,
        OptionalInt maxRecvQueue) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    public static final int DEFAULT_RISE = 2;
    public static final int DEFAULT_FALL = 3;

    public HealthConfig {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(passwordEnv, "passwordEnv");
        Objects.requireNonNull(passwordFile, "passwordFile");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(availableWhenDonor, "availableWhenDonor");
        Objects.requireNonNull(maxRecvQueue, "maxRecvQueue");
    }
}
