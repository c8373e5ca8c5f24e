package io.galeralb.config;

/** What happens to a server's open sessions when its health check takes it DOWN. */
public enum OnServerDown {
    /** Close them, so applications reconnect to a healthy node (the default for galera checks). */
    SHUTDOWN_SESSIONS("shutdown-sessions"),
    /** Leave them open; only new sessions avoid the server. */
    KEEP_SESSIONS("keep-sessions");

    private final String yamlName;

    OnServerDown(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
