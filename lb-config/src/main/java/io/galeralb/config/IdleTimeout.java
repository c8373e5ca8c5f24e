package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * An idle timeout: a fixed duration, or {@code auto} (follow what the server the session is
 * attached to does, so that galera-lb never closes an idle session before MySQL would).
 *
 * @param fixed the duration, empty for {@code auto}
 */
public record IdleTimeout(Optional<Duration> fixed) {

    public static final IdleTimeout AUTO = new IdleTimeout(Optional.empty());

    public IdleTimeout {
        Objects.requireNonNull(fixed, "fixed");
    }

    public static IdleTimeout of(Duration d) {
        return new IdleTimeout(Optional.of(d));
    }

    /** {@code auto}, or a duration as in the YAML file. */
    public static IdleTimeout parse(String text) {
        return text.trim().equals("auto") ? AUTO : of(Durations.parse(text));
    }

    public boolean isAuto() {
        return fixed.isEmpty();
    }

    @Override
    public String toString() {
        return fixed.map(Durations::format).orElse("auto");
    }
}
