package io.galeralb.server.admin;

import java.util.List;

/**
 * {@code GET /status}: the process, its configuration, and every listener and server. Written as
 * JSON by {@link AdminJson} (keys in kebab case, in this order) and read back by
 * {@code galera-lb status}; times are ISO-8601 instants.
 *
 * @param reloadPending whether the file on disk differs from the loaded one; null when it cannot be read
 */
public record StatusReport(long pid, String started, String version, String config, String sha256, long generation,
                    String loaded, Boolean reloadPending, String transport, int ioThreads, String busyPoll,
                    List<ListenerStatus> listeners) {

    /** @param writer for {@code balance: first} only */
    public record ListenerStatus(String name, String bind, String balance, int sessions, int maxConnections,
                          long refusedNoServer, long refusedMaxConnections, long refusedNoSocket, long closedFinTimeout,
                          WriterStatus writer, List<ServerStatus> servers) {
    }

    /**
     * @param server         the writer; null when there is none
     * @param noWriterReason why there is none; null while there is one
     * @param lease          what the writer lease says, with {@code writer-lease}
     * @param leaseError     why the lease could not be read, when it could not
     */
    public record WriterStatus(String server, String noWriterReason, String since, String reason, long changes,
                        String checked, LeaseStatus lease, String leaseError) {
    }

    public record LeaseStatus(String writer, String holder, long epoch, String changed, String reason) {
    }

    /**
     * @param connectsTo      the address a name resolves to now
     * @param addressProblem  why the name could not be resolved lately; null when it could
     * @param state           UP, DOWN, DRAIN or MAINT; {@code health} is UP or DOWN whatever the operator set
     * @param lastChange      the last health transition; null before the first
     * @param checkDurationMs the last check's duration; null before the first
     */
    public record ServerStatus(String name, String address, String connectsTo, String addressProblem, int weight,
                        double weightShare, String state, String health, String reason, String lastChange,
                        int sessions, long totalSessions, int maxSessions, long bytesIn, long bytesOut,
                        long connectFailures, long hostBlocked, long idleClosedByServer, long clientAborts,
                        long serverAborts, long downtimeSeconds, Long checkDurationMs) {
    }
}
