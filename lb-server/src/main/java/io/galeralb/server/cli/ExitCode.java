package io.galeralb.server.cli;

/**
 * The exit codes of every command, one per cause, so that scripts and systemd can tell them
 * apart (docs/operations.md lists them).
 */
final class ExitCode {

    static final int OK = 0;
    /** The command ran and what it checked failed: a probe connection, a doctor check, a switchover that did not finish. */
    static final int FAILED = 1;
    /** Wrong options or arguments (picocli's own usage error). */
    static final int USAGE = 2;
    /** The configuration file is invalid, unreadable, or names a secret that is missing. */
    static final int INVALID_CONFIG = 3;
    /** Refused: by the running instance (reload, drain, switchover), or run refused to start. */
    static final int REFUSED = 4;
    /** No galera-lb runs for this configuration, or its admin API cannot be reached. */
    static final int NOT_RUNNING = 5;

    private ExitCode() {
    }
}
