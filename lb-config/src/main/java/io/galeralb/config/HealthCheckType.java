package io.galeralb.config;

/** What a health check asks of a server. */
public enum HealthCheckType {
    /** Galera state over SQL ({@code wsrep_%} status and variables). */
    GALERA("galera"),
    /** A MySQL login and {@code SELECT 1}, for backends that are not Galera nodes. */
    MYSQL("mysql"),
    /** A TCP connect only. */
    TCP("tcp");

    private final String yamlName;

    HealthCheckType(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
