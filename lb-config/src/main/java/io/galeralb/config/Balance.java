package io.galeralb.config;

/** How a listener chooses a server for a new session. */
public enum Balance {
    /** The server with the fewest sessions relative to its weight; ties broken at random. */
    LEASTCONN("leastconn"),
    /** Servers in turn, each as often as its weight says. */
    ROUNDROBIN("roundrobin"),
    /**
     * Single writer: every session goes to one server, chosen among the UP servers by priority
     * (then name), and kept while it stays UP.
     */
    FIRST("first");

    private final String yamlName;

    Balance(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The word used in the YAML file. */
    public String yamlName() {
        return yamlName;
    }
}
