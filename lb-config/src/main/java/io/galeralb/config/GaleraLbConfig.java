package io.galeralb.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The whole, validated configuration of one galera-lb process. Immutable: a reload builds a
 * new one and swaps it in.
 *
 * @param source        the file it was read from, as named by the operator
 * @param shutdownGrace how long sessions may go on after SIGTERM before they are closed
 * @param listeners     listeners by name, in file order
 */
public record GaleraLbConfig(String source, Duration shutdownGrace, Map<String, ListenerConfig> listeners) {

    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

    public GaleraLbConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        listeners = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(listeners, "listeners")));
    }
}
