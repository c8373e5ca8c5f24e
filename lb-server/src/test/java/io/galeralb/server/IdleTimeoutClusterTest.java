package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** client-idle: auto against nodes with different wait_timeout: the server closes, not galera-lb. */
@ExtendWith(GaleraClusterExtension.class)
class IdleTimeoutClusterTest {

    @Test
    void withAutoTheServerClosesIdleSessionsAndTheMismatchIsLoggedOnce() throws Exception {
        GaleraCluster.execute(1, "SET GLOBAL wait_timeout = 10");
        int port = TestConfigs.freePort();
        String yaml = TestConfigs.clusterYaml(port).replace("timeouts: { connect: 2s }",
                "timeouts: { connect: 2s, client-idle: auto }");
        String url = TestConfigs.appUrl(port);
        Map<String, Connection> byNode = new HashMap<>();
        try (LogCapture logs = new LogCapture(); GaleraLb lb = GaleraLb.start(TestConfigs.parse(yaml))) {
            String mismatch = "app-cluster: nodes disagree on wait_timeout: node1=10s node2,node3=28800s; "
                    + "pooled connections on node1 will see \"server has gone away\" after 10 s idle";
            await().atMost(Duration.ofSeconds(10)).until(() -> logs.lines().stream().anyMatch(l -> l.contains(mismatch)));

            for (int i = 0; i < 3; i++) {
                Connection c = DriverManager.getConnection(url);
                byNode.put(GaleraCluster.nodeOf(c), c);
            }
            assertThat(byNode).containsOnlyKeys("node1", "node2", "node3");
            Server node1 = lb.listener("app-cluster").pool().server("node1");

            // node1 closes its idle session after its 10 s; galera-lb counts it and closes nothing itself.
            await().atMost(Duration.ofSeconds(40)).until(() -> node1.idleClosedByServer() == 1);
            assertThatThrownBy(() -> GaleraCluster.nodeOf(byNode.get("node1"))).isInstanceOf(SQLException.class);
            assertThat(GaleraCluster.nodeOf(byNode.get("node2"))).isEqualTo("node2");
            assertThat(GaleraCluster.nodeOf(byNode.get("node3"))).isEqualTo("node3");
            assertThat(lb.listener("app-cluster").pool().server("node2").idleClosedByServer()).isZero();

            // Once per change, not once per check.
            assertThat(logs.lines().stream().filter(l -> l.contains("nodes disagree on wait_timeout")).count()).isEqualTo(1);
        } finally {
            for (Connection c : byNode.values()) {
                c.close();
            }
        }
    }
}
