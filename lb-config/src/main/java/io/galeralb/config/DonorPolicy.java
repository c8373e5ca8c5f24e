package io.galeralb.config;

/** Whether a node that is Donor/Desynced (wsrep_local_state=2) because it donates a state transfer may serve. */
public enum DonorPolicy {
    /** A donor never serves. */
    NEVER("never"),
    /** A donor serves only when no Synced node is left in the listener. */
    LAST_NODE("last-node"),
    /** A donor always serves. */
    ALWAYS("always");

    private final String yamlName;

    DonorPolicy(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
