package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.health.CheckResult;
import io.galeralb.health.ServerHealth;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real state transfers, watched by galera-lb at a 100 ms check interval. The cluster's SST method
 * is rsync, which blocks the donor's commits while it copies; an IST blocks nothing.
 */
@ExtendWith(GaleraClusterExtension.class)
class DonorClusterTest {

    /** Enough data that the rsync transfer, and so the donor state, lasts long enough to watch. */
    private static final int BALLAST_MB = 160;

    private record Seen(String node, boolean up) {
    }

    private static String fastChecks(String yaml) {
        return yaml.replaceAll("interval: .*", "interval: 100ms");
    }

    /**
     * Node 3 is wiped and rejoins by full rsync SST while two instances watch, one with
     * {@code available-when-donor: last-node} (the default) and one with {@code always}. The
     * first takes the donor out of new sessions (another node is still Synced) once it has been a
     * donor for fall checks, and never closes the sessions it has; the second keeps it in.
     */
    @Test
    void aBlockingSstDonorTakesNoNewSessionsButKeepsItsOwnUnderTheDefaultPolicy() throws Exception {
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

        int port = TestConfigs.freePort();
        List<Connection> held = new ArrayList<>();
        try (GaleraLb lastNode = GaleraLb.start(TestConfigs.parse(fastChecks(TestConfigs.clusterYaml(port))));
             GaleraLb always = GaleraLb.start(TestConfigs.parse(fastChecks(
                     TestConfigs.clusterYaml(TestConfigs.freePort(), "      available-when-donor: always\n"))))) {
            for (int i = 0; i < 4; i++) {
                held.add(DriverManager.getConnection(TestConfigs.appUrl(port)));
            }
            assertThat(held.stream().map(DonorClusterTest::nodeOf).distinct()).containsExactlyInAnyOrder("node1", "node2");
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
            assertThat(seenLastNode).as("last-node: a blocking donor with another Synced node left goes out")
                    .anySatisfy(s -> assertThat(s.up()).isFalse());
            assertThat(seenAlways).as("donor seen by the always instance").isNotEmpty();
            assertThat(seenAlways).as("always: a donor stays in").allSatisfy(s -> assertThat(s.up()).isTrue());
            for (Connection c : held) {
                assertThat(nodeOf(c)).as("a session of the donor goes on").isIn("node1", "node2");
            }

            for (GaleraLb lb : List.of(lastNode, always)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> lb.health("app-cluster").snapshot().values()
                        .stream().allMatch(ServerHealth::up));
            }
        } finally {
            for (Connection c : held) {
                c.close();
            }
            GaleraCluster.reset();
            GaleraCluster.execute(1, "DROP TABLE IF EXISTS demo.sst_ballast");
        }
    }

    /**
     * Node 3 is stopped cleanly and rejoins by IST: its donor is a donor for about a second and
     * blocks nothing. Nothing SQL can read tells an IST donation from an SST (rsync) one, so the
     * donor may be out of new sessions for that second; but its sessions go on, it is back at its
     * first Synced check, and no client sees an error.
     */
    @Test
    void anIstDonorKeepsServingAndKeepsItsSessions() throws Exception {
        GaleraCluster.stopNode(3);
        GaleraCluster.execute(1, "CREATE TABLE IF NOT EXISTS demo.ist_rows (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
                "INSERT INTO demo.ist_rows (v) VALUES (1), (2), (3)");
        int port = TestConfigs.freePort();
        String url = TestConfigs.appUrl(port);
        List<Connection> held = new ArrayList<>();
        List<String> errors = new CopyOnWriteArrayList<>();
        try (GaleraLb lb = GaleraLb.start(TestConfigs.parse(fastChecks(TestConfigs.clusterYaml(port))));
             LogCapture logs = new LogCapture()) {
            for (int i = 0; i < 4; i++) {
                held.add(DriverManager.getConnection(url));
            }
            List<Seen> seen = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> rejoin = CompletableFuture.runAsync(() -> GaleraCluster.startNode(3));
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(5)).until(() -> {
                collectDonors(lb, seen);
                writeThroughANewConnection(url, "demo.ist_rows", errors);
                return rejoin.isDone();
            });
            rejoin.join();
            System.out.printf("IST DONOR observations: %d%n", seen.size());
            assertThat(seen).as("the IST donor was seen donating").isNotEmpty();
            String donor = seen.get(0).node();
            List<String> transitions = logs.lines().stream().filter(l -> l.contains("app-cluster/" + donor + " ")
                    && (l.contains(" UP: ") || l.contains(" DOWN: "))).toList();
            if (transitions.stream().anyMatch(l -> l.contains(" DOWN: "))) {
                assertThat(transitions.get(transitions.size() - 1)).as(String.join("\n", transitions))
                        .contains(" UP: wsrep_local_state=4 (Synced)").endsWith("; its donation is over");
            }
            assertThat(logs.lines()).noneMatch(l -> l.contains("closed") && l.contains("session(s)"));
            for (Connection c : held) {
                assertThat(nodeOf(c)).as("no session was closed").isIn("node1", "node2");
            }
            assertThat(errors).isEmpty();
        } finally {
            for (Connection c : held) {
                c.close();
            }
            GaleraCluster.execute(1, "DROP TABLE IF EXISTS demo.ist_rows");
        }
    }

    /**
     * Node 3 is wiped and rejoins by a mariabackup SST, which keeps its donor serving: the donor
     * stays UP through the whole donation, keeps its sessions, and takes writes meanwhile.
     */
    @Test
    void aMariabackupDonorKeepsServing() throws Exception {
        for (int n = 1; n <= 2; n++) {
            GaleraCluster.execute(n, "SET GLOBAL wsrep_sst_method = 'mariabackup'");
        }
        GaleraCluster.stopNode(3);
        GaleraCluster.wipeNode(3);
        GaleraCluster.execute(1, "CREATE TABLE IF NOT EXISTS demo.mb_rows (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
        int port = TestConfigs.freePort();
        String url = TestConfigs.appUrl(port);
        List<Connection> held = new ArrayList<>();
        List<String> errors = new CopyOnWriteArrayList<>();
        try (GaleraLb lb = GaleraLb.start(TestConfigs.parse(fastChecks(TestConfigs.clusterYaml(port))))) {
            for (int i = 0; i < 4; i++) {
                held.add(DriverManager.getConnection(url));
            }
            List<String> donating = new CopyOnWriteArrayList<>();
            List<String> outWhileDonating = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> rejoin = CompletableFuture.runAsync(() -> GaleraCluster.startNode(3, "mariabackup"));
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(20)).until(() -> {
                lb.health("app-cluster").snapshot().forEach((name, h) -> {
                    if (h.lastResult() != null && h.lastResult().reason().contains("donating with wsrep_sst_method=mariabackup")) {
                        donating.add(name);
                        if (!h.up()) {
                            outWhileDonating.add(name + ": " + h);
                        }
                    }
                });
                writeThroughANewConnection(url, "demo.mb_rows", errors);
                return rejoin.isDone();
            });
            rejoin.join();
            System.out.printf("MARIABACKUP DONOR observations: %d%n", donating.size());
            assertThat(donating).as("the donor was seen donating by mariabackup").isNotEmpty();
            assertThat(outWhileDonating).isEmpty();
            for (Connection c : held) {
                assertThat(nodeOf(c)).as("no session was closed").isIn("node1", "node2");
            }
            assertThat(errors).isEmpty();
        } finally {
            for (Connection c : held) {
                c.close();
            }
            GaleraCluster.reset();
            GaleraCluster.execute(1, "DROP TABLE IF EXISTS demo.mb_rows");
        }
    }

    /** One row written through a new connection, as a client with a connection per write does; errors noted. */
    private static void writeThroughANewConnection(String url, String table, List<String> errors) {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + table + " (v) VALUES (1)");
        } catch (SQLException e) {
            errors.add(e.getMessage());
        }
    }

    private static String nodeOf(Connection c) {
        try {
            return GaleraCluster.nodeOf(c);
        } catch (SQLException e) {
            return "closed: " + e.getMessage();
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
