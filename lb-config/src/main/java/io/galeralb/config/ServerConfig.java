package io.galeralb.config;

import java.util.Objects;

/**
 * One backend server of a listener.
 *
 * @param name    the operator's name for it, unique within its listener
 * @param address where to connect
 * @param weight  relative share of sessions, 1 to 256
 */
public record ServerConfig(String name, HostPort address, int weight) {

    public static final int MIN_WEIGHT = 1;
    public static final int MAX_WEIGHT = 256;

    public ServerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " out of range");
        }
    }
}
