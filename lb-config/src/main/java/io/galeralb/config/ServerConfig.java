package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One backend server of a listener.
 *
 * @param name     the operator's name for it, unique within its listener
 * @param address  where to connect
 * @param weight   relative share of sessions, 1 to 256
 * @param priority order of preference for {@code balance: first}: the lowest number is the
 *                 first choice of writer, ties go by name
 * @param source   the local address galera-lb connects to it from (sessions, checks, writer
 *                 lease), as HAProxy's {@code source}; empty: the one the kernel chooses
 * @param sendProxy the PROXY header each session's connection to it starts with (the listener's
 *                 {@code send-proxy} unless the server has its own)
 * @param slowstart after it comes back UP (from DOWN, or out of MAINT), the time over which its
 *                 weight grows from near zero to {@code weight}; zero: at once (HAProxy's
 *                 {@code slowstart}). Not applied when galera-lb starts.
 */
public record ServerConfig(String name, HostPort address, int weight, int priority, Optional<String> source,
                           SendProxy sendProxy, Duration slowstart) {

    public static final int MIN_WEIGHT = 1;
    public static final int MAX_WEIGHT = 256;
    public static final int DEFAULT_PRIORITY = 1;
    public static final int MAX_PRIORITY = 1000;
    public static final Duration MAX_SLOWSTART = Duration.ofHours(1);

    public ServerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sendProxy, "sendProxy");
        Objects.requireNonNull(slowstart, "slowstart");
        if (slowstart.isNegative() || slowstart.compareTo(MAX_SLOWSTART) > 0) {
            throw new IllegalArgumentException("slowstart " + slowstart + " out of range");
        }
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " out of range");
        }
        if (priority < 0 || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("priority " + priority + " out of range");
        }
    }

    /** A server with the default priority. */
    public ServerConfig(String name, HostPort address, int weight) {
        this(name, address, weight, DEFAULT_PRIORITY);
    }

    /** A server connected to from the address the kernel chooses, without slow start. */
    public ServerConfig(String name, HostPort address, int weight, int priority) {
        this(name, address, weight, priority, Optional.empty(), SendProxy.OFF, Duration.ZERO);
    }
}
