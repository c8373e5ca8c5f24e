package io.galeralb.config;

import java.util.Objects;

/**
 * One problem found in a configuration file, located by file, line and key path.
 *
 * @param file    the file as the operator named it
 * @param line    1-based line number, or 0 when the problem concerns the whole file
 * @param key     dotted key path such as {@code listeners.app-cluster.timeouts.connect}, or empty
 * @param message what is wrong and, where possible, how to fix it
 */
public record ConfigError(String file, int line, String key, String message) {

    public ConfigError {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(message, "message");
    }

    /** {@code file:line: key: message}, the form compilers use, so editors can jump to it. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (!key.isEmpty()) {
            sb.append(key).append(": ");
        }
        return sb.append(message).toString();
    }
}
