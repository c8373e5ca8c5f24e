package io.galeralb.config;

import java.util.Objects;

/**
 * A password read from the environment, a file or the configuration itself. Its value never
 * appears in {@link #toString()}, so it cannot reach a log line by accident.
 *
 * @param source where it came from, e.g. {@code env GALERA_LB_CHECK_PASSWORD}
 */
public record Secret(String source, String value) {

    public static final Secret NONE = new Secret("none", "");

    public Secret {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
        return "Secret[" + source + "]";
    }
}
