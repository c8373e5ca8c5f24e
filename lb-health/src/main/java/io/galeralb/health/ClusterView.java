package io.galeralb.health;

import java.util.Map;
import java.util.Optional;

/**
 * A node's view of its cluster, as it reports it: the history ({@code wsrep_cluster_state_uuid}),
 * the number of the view ({@code wsrep_cluster_conf_id}, which every membership change raises)
 * and its size. A node that was paused (SIGSTOP, a VM frozen) goes on reporting the view it had,
 * Synced and Primary, for seconds after it resumes, while the others have moved on without it:
 * no check of that node alone can tell. galera-lb checks every node, so it compares.
 */
public record ClusterView(String stateUuid, long confId, int size) {

    /** Status variables a view is read from. */
    static final String STATE_UUID = "wsrep_cluster_state_uuid";
    static final String CONF_ID = "wsrep_cluster_conf_id";

    static Optional<ClusterView> of(Map<String, String> values) {
        try {
            String uuid = values.get(STATE_UUID);
            String conf = values.get(CONF_ID);
            String size = values.get("wsrep_cluster_size");
            if (uuid == null || conf == null || size == null) {
                return Optional.empty();
            }
            return Optional.of(new ClusterView(uuid.trim(), Long.parseLong(conf.trim()), Integer.parseInt(size.trim())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Why this view cannot be trusted next to the latest views of the other nodes that serve,
     * by server name; empty when it agrees or there is nothing to compare with. Only a view that
     * is behind is suspect: a node ahead of the others has seen a change they will see next.
     */
    Optional<String> disagreement(Map<String, ClusterView> others) {
        Map.Entry<String, ClusterView> newest = null;
        for (Map.Entry<String, ClusterView> e : others.entrySet()) {
            if (newest == null || e.getValue().confId > newest.getValue().confId) {
                newest = e;
            }
        }
        if (newest == null) {
            return Optional.empty();
        }
        String name = newest.getKey();
        ClusterView n = newest.getValue();
        if (!stateUuid.equals(n.stateUuid)) {
            return Optional.of(STATE_UUID + "=" + stateUuid + " but " + name + " reports " + n.stateUuid
                    + " (another history of the cluster): not UP until it rejoins");
        }
        if (confId < n.confId) {
            return Optional.of(CONF_ID + "=" + confId + " is behind " + name + "'s " + n.confId + " (size " + n.size
                    + "): its view of the cluster is stale, as after a pause; not UP until it catches up");
        }
        if (confId == n.confId && size != n.size) {
            return Optional.of("wsrep_cluster_size=" + size + " contradicts " + name + "'s " + n.size + " in the same view ("
                    + CONF_ID + "=" + confId + ")");
        }
        return Optional.empty();
    }
}
