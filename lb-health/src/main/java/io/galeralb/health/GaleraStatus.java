package io.galeralb.health;

import java.util.Map;
import java.util.Optional;

/**
 * The Galera status values a check read, as numbers for metrics: one scrape of galera-lb shows the
 * cluster as the balancer sees it.
 *
 * @param localState        {@code wsrep_local_state} (4 Synced, 2 Donor/Desynced, ...)
 * @param clusterSize       {@code wsrep_cluster_size}
 * @param recvQueue         {@code wsrep_local_recv_queue}
 * @param flowControlPaused {@code wsrep_flow_control_paused}: the fraction of time replication was
 *                          paused by flow control since the last FLUSH STATUS
 */
public record GaleraStatus(int localState, int clusterSize, long recvQueue, double flowControlPaused) {

    static final String FLOW_CONTROL_PAUSED = "wsrep_flow_control_paused";

    /** The values, when the node reported every one of them as a number. */
    static Optional<GaleraStatus> of(Map<String, String> values) {
        try {
            return Optional.of(new GaleraStatus(Integer.parseInt(values.get("wsrep_local_state").trim()),
                    Integer.parseInt(values.get("wsrep_cluster_size").trim()),
                    Long.parseLong(values.get("wsrep_local_recv_queue").trim()),
                    Double.parseDouble(values.get(FLOW_CONTROL_PAUSED).trim())));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
