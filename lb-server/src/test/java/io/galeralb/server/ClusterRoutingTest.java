package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** galera-lb in front of the real 3-node Galera cluster, reached by a real JDBC driver. */
@ExtendWith(GaleraClusterExtension.class)
class ClusterRoutingTest {

    /** Runs of one round Galera may abort before the test gives up on it. */
    private static final int MAX_ATTEMPTS = 5;

    private GaleraLb lb;
    private String url;

    @BeforeEach
    void start() throws Exception {
        int port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.cluster(port));
        url = TestConfigs.appUrl(port);
    }

    @AfterEach
    void stop() {
        lb.close();
    }


    @Test
    void sixtySessionsLandTwentyOnEachNode() throws Exception {
        List<Connection> open = new ArrayList<>();
        try {
            Map<String, Integer> perNode = new TreeMap<>();
            for (int i = 0; i < 60; i++) {
                Connection c = DriverManager.getConnection(url);
                open.add(c);
                perNode.merge(GaleraCluster.nodeOf(c), 1, Integer::sum);
            }
            assertThat(perNode).containsExactly(Map.entry("node1", 20), Map.entry("node2", 20), Map.entry("node3", 20));
            assertThat(lb.listener("app-cluster").pool().servers())
                    .allSatisfy(s -> assertThat(s.activeSessions()).isEqualTo(20));
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
    }

    @Test
    void aMixedReadWriteWorkloadCompletesWithoutErrors() throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS workload");
            // No secondary index: inserts of different nodes next to each other in a non-unique
            // index can make Galera abort a local transaction ("deadlock", for the application to
            // retry). That is Galera's behaviour, not galera-lb's, and not what this test is about.
            s.execute("CREATE TABLE workload (id INT AUTO_INCREMENT PRIMARY KEY, worker INT NOT NULL, "
                    + "n INT NOT NULL, note VARCHAR(64))");
        }
        // DDL replicates in total order but is applied on the other nodes a moment later; a
        // transaction that meets it there is aborted by it (a "deadlock"). Let every node catch up.
        for (int n = 1; n <= GaleraCluster.NODES; n++) {
            GaleraCluster.execute(n, "SET SESSION wsrep_sync_wait = 15", "SELECT COUNT(*) FROM demo.workload");
        }
        int workers = 6;
        int rounds = 100;
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        List<Future<Integer>> results = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            results.add(pool.submit(() -> runWorker(worker, rounds)));
        }
        pool.shutdown();
        for (Future<Integer> f : results) {
            assertThat(f.get()).isEqualTo(rounds);
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("SET SESSION wsrep_sync_wait = 1"); // read what every node has committed
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*), COUNT(DISTINCT worker), SUM(n) FROM workload")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(workers * rounds);
                assertThat(rs.getInt(2)).isEqualTo(workers);
                assertThat(rs.getLong(3)).isEqualTo((long) workers * rounds * 2);
            }
        }
    }

    /**
     * Each round: a new session through galera-lb, an insert, an update of it, and reads. Returns
     * rounds done. A round Galera aborts at commit ("deadlock": another node's write set met this
     * transaction's locks, seen now and then with inserts from three nodes into one table) is run
     * again, as every application writing to several Galera nodes must; anything else fails the test.
     */
    private int runWorker(int worker, int rounds) throws SQLException {
        int done = 0;
        for (int i = 0; i < rounds; i++) {
            for (int attempt = 1; ; attempt++) {
                try {
                    runRound(worker, i);
                    break;
                } catch (SQLTransactionRollbackException e) {
                    if (attempt == MAX_ATTEMPTS) {
                        throw e;
                    }
                    System.out.printf("WORKLOAD worker %d round %d: run again after a Galera abort: %s%n", worker, i,
                            e.getMessage());
                }
            }
            done++;
        }
        return done;
    }

    private void runRound(int worker, int i) throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            long id;
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO workload (worker, n, note) VALUES (?, 1, ?)", Statement.RETURN_GENERATED_KEYS)) {
                ins.setInt(1, worker);
                ins.setString(2, "round " + i);
                ins.executeUpdate();
                try (ResultSet keys = ins.getGeneratedKeys()) {
                    keys.next();
                    id = keys.getLong(1);
                }
            }
            try (PreparedStatement upd = c.prepareStatement("UPDATE workload SET n = n + 1 WHERE id = ?")) {
                upd.setLong(1, id);
                assertThat(upd.executeUpdate()).isEqualTo(1);
            }
            c.commit();
            try (PreparedStatement sel = c.prepareStatement("SELECT n FROM workload WHERE id = ?")) {
                sel.setLong(1, id);
                try (ResultSet rs = sel.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
            }
        }
    }

    @Test
    void withEveryNodeStoppedAClientGetsAnErrorNamingGaleraLbAndTheReason() {
        try {
            GaleraCluster.stopAll();
            // Whether the health checks have taken a node out yet or the connect is refused, the
            // client is told galera-lb's reason for each node.
            assertThatThrownBy(() -> DriverManager.getConnection(url).close())
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("galera-lb: no available server for listener app-cluster (")
                    .hasMessageMatching("(?s).*node1: (DOWN \\(.+\\)|connection refused).*")
                    .hasMessageMatching("(?s).*node2: (DOWN \\(.+\\)|connection refused).*")
                    .hasMessageMatching("(?s).*node3: (DOWN \\(.+\\)|connection refused).*");
            await().atMost(Duration.ofSeconds(30)).until(() -> lb.listener("app-cluster").pool().servers().stream()
                    .noneMatch(Server::isUp));
            // A node on its way out may first answer that it left the Primary component (taken out
            // at once for that); once it is gone the reason a client gets is the current one.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThatThrownBy(
                    () -> DriverManager.getConnection(url).close())
                    .hasMessageContaining("node1: DOWN (connection refused; ")
                    .hasMessageContaining("node2: DOWN (connection refused; ")
                    .hasMessageContaining("node3: DOWN (connection refused; ")
                    .hasMessageContaining("checks failed"));
        } finally {
            GaleraCluster.reset();
        }
    }
}
