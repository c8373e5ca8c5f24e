package io.galeralb.config;

/** {@code session-log}: a line per session when it ends, for every session or only those that did not end by a close. */
public enum SessionLogMode {
    OFF("off"),
    ON("on"),
    ERRORS("errors");

    private final String yamlName;

    SessionLogMode(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
