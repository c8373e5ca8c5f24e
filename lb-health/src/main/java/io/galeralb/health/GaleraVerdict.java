package io.galeralb.health;

import io.galeralb.config.DonorPolicy;
import io.galeralb.config.HealthConfig;
import io.galeralb.health.CheckResult.Cause;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Galera verdict over the status and variables a node reports; a pure function, so every
 * rule is tested over recorded values. Rules as in MaxScale's Galera monitor and DESIGN.
 */
public final class GaleraVerdict {

    /** Status variables read, lower case. */
    public static final Set<String> STATUS = Set.of("wsrep_ready", "wsrep_connected", "wsrep_cluster_status",
            "wsrep_local_state", "wsrep_local_state_comment", "wsrep_local_recv_queue", "wsrep_cluster_size",
            ClusterView.STATE_UUID, ClusterView.CONF_ID, GaleraStatus.FLOW_CONTROL_PAUSED);
    /** Server variables read, lower case. */
    public static final Set<String> VARIABLES = Set.of("wsrep_on", "wsrep_desync", "wsrep_reject_queries",
            "wsrep_sst_donor_rejects_queries", "wsrep_sst_method", "read_only", "wait_timeout", "interactive_timeout");
    /**
     * SST methods that stop the donor's commits while they copy (rsync and mysqldump take a global
     * read lock for the whole copy). Every other method (mariabackup, with backup locks) keeps a
     * donor serving, and so does any IST, whatever the method: it reads the write-set cache.
     */
    static final Set<String> BLOCKING_SST = Set.of("rsync", "rsync_wan", "mysqldump");

    private GaleraVerdict() {
    }

    /**
     * @param values status and variables by lower-case name, as the node reported them
     */
    public static CheckResult evaluate(Map<String, String> values, HealthConfig config) {
        if (!values.containsKey("wsrep_local_state") || !values.containsKey("wsrep_cluster_status")) {
            return CheckResult.refused(Cause.NOT_GALERA, "not a Galera node: the wsrep_% status variables do not exist");
        }
        if (!"ON".equalsIgnoreCase(values.getOrDefault("wsrep_on", "ON"))) {
            return CheckResult.refused(Cause.NOT_GALERA, "wsrep_on=OFF (replication disabled on this node)");
        }
        String clusterStatus = values.get("wsrep_cluster_status");
        if (!"Primary".equalsIgnoreCase(clusterStatus)) {
            return CheckResult.refused(Cause.NON_PRIMARY, "wsrep_cluster_status=" + clusterStatus + " (not in the Primary component)");
        }
        if (!"ON".equalsIgnoreCase(values.get("wsrep_connected"))) {
            return CheckResult.refused(Cause.NON_PRIMARY, "wsrep_connected=" + values.get("wsrep_connected") + " (not connected to the cluster)");
        }
        if (!"ON".equalsIgnoreCase(values.get("wsrep_ready"))) {
            return CheckResult.refused(Cause.NOT_READY, "wsrep_ready=" + values.get("wsrep_ready") + " (not accepting queries)");
        }
        if ("ON".equalsIgnoreCase(values.get("wsrep_desync"))) {
            return CheckResult.refused(Cause.DESYNCED, "wsrep_desync=ON (desynced by an operator), wsrep_local_state="
                    + values.get("wsrep_local_state") + " (" + stateName(values.get("wsrep_local_state")) + ")");
        }
        String reject = values.getOrDefault("wsrep_reject_queries", "NONE");
        if (!"NONE".equalsIgnoreCase(reject)) {
            return CheckResult.refused(Cause.REJECTING_QUERIES, "wsrep_reject_queries=" + reject);
        }
        if ("ON".equalsIgnoreCase(values.get("read_only")) && !config.availableWhenReadOnly()) {
            return CheckResult.refused(Cause.READ_ONLY, "read_only=ON (available-when-read-only is false)");
        }
        if (config.maxRecvQueue().isPresent()) {
            long queue = parseLong(values.get("wsrep_local_recv_queue"));
            if (queue > config.maxRecvQueue().getAsInt()) {
                return CheckResult.refused(Cause.RECV_QUEUE, "wsrep_local_recv_queue=" + queue + " over max-recv-queue "
                        + config.maxRecvQueue().getAsInt());
            }
        }
        String state = values.get("wsrep_local_state");
        String described = "wsrep_local_state=" + state + " (" + stateName(state) + ")";
        switch (state) {
            case "4":
                return CheckResult.pass(Cause.SYNCED, described + ", cluster Primary, size " + values.get("wsrep_cluster_size"));
            case "2":
                if ("ON".equalsIgnoreCase(values.get("wsrep_sst_donor_rejects_queries"))) {
                    return CheckResult.refused(Cause.REJECTING_QUERIES, described + ", wsrep_sst_donor_rejects_queries=ON");
                }
                String method = values.getOrDefault("wsrep_sst_method", "rsync").toLowerCase(Locale.ROOT);
                if (!BLOCKING_SST.contains(method)) {
                    return CheckResult.pass(Cause.DONOR, described + ", donating with wsrep_sst_method=" + method
                            + ", which keeps it serving");
                }
                return CheckResult.donor(described + ", wsrep_sst_method=" + method + " (an SST by it blocks "
                        + "the donor's commits; an IST does not)");
            default:
                return CheckResult.refused(Cause.NOT_SYNCED, described);
        }
    }

    /**
     * Whether a result lets the server serve, under the donor policy. {@code anotherNodeSynced}:
     * some other server of the listener passed its last check as Synced.
     */
    public static boolean serves(CheckResult result, DonorPolicy policy, boolean anotherNodeSynced) {
        return switch (result.kind()) {
            case PASS -> true;
            case FAIL -> false;
            case DONOR -> policy == DonorPolicy.ALWAYS || (policy == DonorPolicy.LAST_NODE && !anotherNodeSynced);
        };
    }

    /** Galera's names for wsrep_local_state. */
    static String stateName(String state) {
        if (state == null) {
            return "unknown";
        }
        return switch (state) {
            case "1" -> "Joining";
            case "2" -> "Donor/Desynced";
            case "3" -> "Joined";
            case "4" -> "Synced";
            default -> "Undefined";
        };
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim().toLowerCase(Locale.ROOT));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
