package io.galeralb.config;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 100us}, {@code 500ms}, {@code 5s}, {@code 1m},
 * {@code 8h}, {@code 1d}.
 */
public final class Durations {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(us|ms|s|m|h|d)");

    private Durations() {
    }

    /**
     * Parses a duration with its unit.
     *
     * @throws IllegalArgumentException with a message fit for an operator
     */
    public static Duration parse(String text) {
        Objects.requireNonNull(text, "text");
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            if (text.trim().matches("\\d+")) {
                throw new IllegalArgumentException(
                        "duration \"" + text + "\" has no unit (write e.g. " + text.trim() + "s or " + text.trim() + "ms)");
            }
            throw new IllegalArgumentException(
                    "bad duration \"" + text + "\" (write a whole number and a unit: 100us, 500ms, 5s, 1m, 8h, 1d)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "us" -> Duration.ofNanos(n * 1000);
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new AssertionError(m.group(2));
        };
    }

    /** The shortest exact form of a duration in the units {@link #parse} accepts. */
    public static String format(Duration d) {
        if (d.toNanos() % 1_000_000 != 0) {
            return d.toNanos() / 1000 + "us";
        }
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms != 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms != 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms != 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
