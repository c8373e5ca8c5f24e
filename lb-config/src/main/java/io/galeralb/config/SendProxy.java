package io.galeralb.config;

/** {@code send-proxy}: the PROXY protocol header galera-lb writes to a server before a session's first byte. */
public enum SendProxy {
    OFF("off"),
    V1("v1"),
    V2("v2");

    private final String yamlName;

    SendProxy(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
