package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.health.CheckResult;
import io.galeralb.health.ServerHealth;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real state transfer: node 3 is wiped and rejoins by full rsync SST while two galera-lb
 * instances watch the same cluster, one with {@code available-when-donor: last-node} (the
 * default) and one with {@code always}. While the donor donates, the first must keep it out
 * (another node is still Synced) and the second must keep it in.
 */
@ExtendWith(GaleraClusterExtension.class)
class DonorClusterTest {

    /** Enough data that the rsync transfer, and so the donor state, lasts long enough to watch. */
    private static final int BALLAST_MB = 160;

    private record Seen(String node, boolean up) {
    }

    @Test
    void theDonorIsHandledAsThePolicySaysWhileItDonates() throws Exception {
        try (Connection c = GaleraCluster.admin(1); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS demo.sst_ballast");
            s.execute("CREATE TABLE demo.sst_ballast (id INT AUTO_INCREMENT PRIMARY KEY, pad VARBINARY(8000))");
            for (int i = 0; i < BALLAST_MB; i++) {
                s.execute("INSERT INTO demo.sst_ballast (pad) WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
                        + "SELECT n + 1 FROM r WHERE n < 128) SELECT REPEAT(CHAR(65 + n % 26), 8000) FROM r");
            }
        }
        GaleraCluster.stopNode(3);
        GaleraCluster.wipeNode(3);

        String fast = TestConfigs.clusterYaml(TestConfigs.freePort()).replaceAll("interval: .*", "interval: 100ms");
        try (GaleraLb lastNode = GaleraLb.start(TestConfigs.parse(fast));
             GaleraLb always = GaleraLb.start(TestConfigs.parse(
                     TestConfigs.clusterYaml(TestConfigs.freePort(), "      available-when-donor: always\n")
                             .replaceAll("interval: .*", "interval: 100ms")))) {
            List<Seen> seenLastNode = new CopyOnWriteArrayList<>();
            List<Seen> seenAlways = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> rejoin = CompletableFuture.runAsync(() -> GaleraCluster.startNode(3));
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
                collectDonors(lastNode, seenLastNode);
                collectDonors(always, seenAlways);
                return rejoin.isDone();
            });
            rejoin.join();
            System.out.printf("DONOR observations: last-node %d, always %d%n", seenLastNode.size(), seenAlways.size());

            assertThat(seenLastNode).as("donor seen by the last-node instance").isNotEmpty();
            assertThat(seenLastNode).as("last-node: a donor with another Synced node left is out")
                    .allSatisfy(s -> assertThat(s.up()).isFalse());
            assertThat(seenAlways).as("donor seen by the always instance").isNotEmpty();
            assertThat(seenAlways).as("always: a donor stays in").allSatisfy(s -> assertThat(s.up()).isTrue());

            for (GaleraLb lb : List.of(lastNode, always)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> lb.health("app-cluster").snapshot().values()
                        .stream().allMatch(ServerHealth::up));
            }
        } finally {
            GaleraCluster.reset();
            GaleraCluster.execute(1, "DROP TABLE IF EXISTS demo.sst_ballast");
        }
    }

    private static void collectDonors(GaleraLb lb, List<Seen> seen) {
        for (Map.Entry<String, ServerHealth> e : lb.health("app-cluster").snapshot().entrySet()) {
            CheckResult r = e.getValue().lastResult();
            if (r != null && r.kind() == CheckResult.Kind.DONOR) {
                seen.add(new Seen(e.getKey(), e.getValue().up()));
            }
        }
    }
}
