package io.galeralb.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cross-node rule over recorded views: only a view behind the others' is suspect. */
class ClusterViewTest {

    private static final String HISTORY = "a1b2c3d4-0000-11ee-0000-000000000001";

    @Test
    void aNodeResumedAfterAPauseIsBehindTheViewTheOthersFormedWithoutIt() {
        ClusterView resumed = new ClusterView(HISTORY, 3, 3);
        assertThat(resumed.disagreement(Map.of("node1", new ClusterView(HISTORY, 4, 2),
                "node2", new ClusterView(HISTORY, 4, 2))))
                .hasValueSatisfying(r -> assertThat(r).matches("wsrep_cluster_conf_id=3 is behind node[12]'s 4 \\(size 2\\): "
                        + "its view of the cluster is stale, as after a pause; not UP until it catches up"));
    }

    @Test
    void aNodeAheadOfTheOthersOrInTheSameViewAgrees() {
        ClusterView self = new ClusterView(HISTORY, 5, 3);
        assertThat(self.disagreement(Map.of("node1", new ClusterView(HISTORY, 4, 2)))).isEmpty();
        assertThat(self.disagreement(Map.of("node1", new ClusterView(HISTORY, 5, 3)))).isEmpty();
        assertThat(self.disagreement(Map.of())).as("nothing to compare with").isEmpty();
    }

    @Test
    void anotherHistoryOrASizeThatContradictsTheSameViewIsSuspect() {
        assertThat(new ClusterView("ffff-other", 9, 3).disagreement(Map.of("node1", new ClusterView(HISTORY, 4, 3))))
                .hasValueSatisfying(r -> assertThat(r).contains("another history"));
        assertThat(new ClusterView(HISTORY, 4, 3).disagreement(Map.of("node1", new ClusterView(HISTORY, 4, 2))))
                .hasValue("wsrep_cluster_size=3 contradicts node1's 2 in the same view (wsrep_cluster_conf_id=4)");
    }

    @Test
    void aViewIsReadFromTheStatusVariables() {
        assertThat(ClusterView.of(Map.of("wsrep_cluster_state_uuid", HISTORY, "wsrep_cluster_conf_id", "7",
                "wsrep_cluster_size", "3"))).hasValue(new ClusterView(HISTORY, 7, 3));
        assertThat(ClusterView.of(Map.of("wsrep_cluster_size", "3"))).isEmpty();
    }
}
