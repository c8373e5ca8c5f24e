package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.Durations;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.core.Server;
import io.galeralb.server.process.Instance;
import io.galeralb.server.writer.JdbcLeaseStore;
import io.galeralb.server.writer.LeaseStore.Lease;
import io.galeralb.server.writer.LeaseStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two galera-lb instances (each with its own listener port and admin address) in front of the
 * same real cluster with {@code writer-lease}. They are given opposite preferences on purpose
 * (one prefers node1, the other node3): without the lease they would pick different writers;
 * with it every session through either goes to the same node.
 */
@ExtendWith(GaleraClusterExtension.class)
class WriterLeaseClusterTest {

    private static final int[] PREFERS_NODE1 = {1, 2, 3};
    private static final int[] PREFERS_NODE3 = {3, 2, 1};
    private static final Duration AGREE_BOUND = TestConfigs.INTERVAL.multipliedBy(4).plusSeconds(5);

    private final List<Instance> instances = new ArrayList<>();
    private final List<Connection> open = new ArrayList<>();
    /** A lease table of its own for each test: nothing carries over between tests. */
    private final String table = "lease_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);

    /** One galera-lb and the URL of its rw listener. */
    private record Instance(GaleraLb lb, String url) {
        String writer() {
            return lb.listener("rw").pool().writer().map(Server::name).orElse(null);
        }
    }

    @AfterEach
    void stop() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
        instances.forEach(i -> i.lb().close());
        GaleraCluster.execute(1, "DROP TABLE IF EXISTS galera_lb." + table);
    }

    private Instance start(int[] priorities, String lease) throws Exception {
        int port = TestConfigs.freePort();
        GaleraLb lb = GaleraLb.start(TestConfigs.parse(TestConfigs.writerYaml(port, TestConfigs.freePort(), priorities,
                "    writer-lease: " + lease + "\n")));
        Instance i = new Instance(lb, TestConfigs.appUrl(port));
        synchronized (instances) {
            instances.add(i);
        }
        return i;
    }

    private Instance start(int[] priorities) throws Exception {
        return start(priorities, "{ table: " + table + " }");
    }

    private String nodeOfNewSession(Instance i) throws SQLException {
        Connection c = DriverManager.getConnection(i.url());
        open.add(c);
        return GaleraCluster.nodeOf(c);
    }

    /** Waits until both instances have the same writer, not {@code notThis}; returns it. */
    private String awaitAgreement(Instance a, Instance b, String notThis) {
        await().atMost(AGREE_BOUND).pollInterval(Duration.ofMillis(50)).until(() -> a.writer() != null
                && a.writer().equals(b.writer()) && !a.writer().equals(notThis));
        return a.writer();
    }

    private void assertSessionsThroughBothLandOn(String node, Instance a, Instance b) throws SQLException {
        for (int k = 0; k < 3; k++) {
            assertThat(nodeOfNewSession(a)).isEqualTo(node);
            assertThat(nodeOfNewSession(b)).isEqualTo(node);
        }
    }

    private static long changes(Instance i) {
        return i.lb().writerState("rw").orElseThrow().changes();
    }

    private Lease lease(Instance i) {
        return i.lb().writerState("rw").orElseThrow().lease().orElseThrow();
    }

    @Test
    void startedAtTheSameMomentWithOppositePreferencesTheyStillAgree() throws Exception {
        for (int round = 0; round < 3; round++) {
            String roundTable = table + "_" + round;
            CyclicBarrier go = new CyclicBarrier(2);
            CompletableFuture<Instance> a = CompletableFuture.supplyAsync(() -> startAfter(go, PREFERS_NODE1, roundTable));
            CompletableFuture<Instance> b = CompletableFuture.supplyAsync(() -> startAfter(go, PREFERS_NODE3, roundTable));
            Instance ia = a.get(60, TimeUnit.SECONDS);
            Instance ib = b.get(60, TimeUnit.SECONDS);
            try {
                // Each chose a writer before its listener opened; the lease made them the same one.
                assertThat(ia.writer()).isNotNull().isEqualTo(ib.writer()).isIn("node1", "node3");
                assertThat(lease(ia).epoch()).isEqualTo(1);
                assertThat(lease(ib).epoch()).isEqualTo(1);
                // Neither ever routed to its own choice first and then gave way: one change each.
                assertThat(changes(ia)).isEqualTo(1);
                assertThat(changes(ib)).isEqualTo(1);
                assertSessionsThroughBothLandOn(ia.writer(), ia, ib);
                System.out.printf("LEASE RACE round %d: both on %s, recorded by %s%n", round, ia.writer(),
                        lease(ia).holder());
            } finally {
                ia.lb().close();
                ib.lb().close();
                instances.clear();
                GaleraCluster.execute(1, "DROP TABLE IF EXISTS galera_lb." + roundTable);
            }
        }
    }

    private Instance startAfter(CyclicBarrier go, int[] priorities, String leaseTable) {
        try {
            go.await();
            return start(priorities, "{ table: " + leaseTable + " }");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void afterTheWriterFailsAndAfterItReturnsBothRouteEverySessionToTheSameNode() throws Exception {
        Instance a = start(PREFERS_NODE1);
        Instance b = start(PREFERS_NODE3);
        // b prefers node3 but follows what the lease says.
        assertThat(a.writer()).isEqualTo("node1");
        assertThat(b.writer()).isEqualTo("node1");
        assertSessionsThroughBothLandOn("node1", a, b);

        GaleraCluster.execute(1, "SET GLOBAL wsrep_desync = ON");
        String next = awaitAgreement(a, b, "node1");
        assertThat(next).isIn("node2", "node3");
        assertSessionsThroughBothLandOn(next, a, b);
        assertThat(lease(a).epoch()).isEqualTo(2); // one change, not one per instance
        assertThat(changes(a)).isEqualTo(2);
        assertThat(changes(b)).isEqualTo(2);

        GaleraCluster.execute(1, "SET GLOBAL wsrep_desync = OFF");
        await().atMost(AGREE_BOUND).until(() -> a.lb().listener("rw").pool().server("node1").isUp()
                && b.lb().listener("rw").pool().server("node1").isUp());
        SingleWriterClusterTest.awaitElectionRounds(a.lb(), 3);
        SingleWriterClusterTest.awaitElectionRounds(b.lb(), 1);
        assertThat(a.writer()).isEqualTo(next);
        assertThat(b.writer()).isEqualTo(next);
        assertSessionsThroughBothLandOn(next, a, b);
        assertThat(changes(a)).isEqualTo(2);
        assertThat(changes(b)).isEqualTo(2);
    }

    @Test
    void anInstanceFollowsASwitchoverMadeThroughTheOtherAndClosesItsSessionsOnTheOldWriter() throws Exception {
        Instance a = start(PREFERS_NODE1);
        Instance b = start(PREFERS_NODE3);
        Connection onOldWriter = DriverManager.getConnection(b.url());
        open.add(onOldWriter);
        assertThat(GaleraCluster.nodeOf(onOldWriter)).isEqualTo("node1");

        assertThat(a.lb().switchover("rw", "node2", Duration.ofSeconds(1), s -> { }).get(30, TimeUnit.SECONDS)).isTrue();

        assertThat(awaitAgreement(a, b, "node1")).isEqualTo("node2");
        assertThat(lease(b).reason()).startsWith("switchover from node1");
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            try (var s = onOldWriter.createStatement()) {
                s.execute("SELECT 1");
                return false;
            } catch (SQLException e) {
                return true;
            }
        });
        assertSessionsThroughBothLandOn("node2", a, b);
    }

    @Test
    void anInstanceThatFindsTheLeaseTableDoesNotReplicateAnythingToFollowIt() throws Exception {
        Instance first = start(PREFERS_NODE1);
        assertThat(first.writer()).isEqualTo("node1");
        first.lb().close();
        // Every replicated event (a write, a DDL) moves this counter on every node. Nothing else
        // writes to the cluster meanwhile: a CREATE ... IF NOT EXISTS of the table that is
        // there would be one such event.
        long before = Long.parseLong(GaleraCluster.status(2, "wsrep_last_committed"));
        Instance second = start(PREFERS_NODE1);
        assertThat(second.writer()).isEqualTo("node1");
        assertThat(nodeOfNewSession(second)).isEqualTo("node1");
        assertThat(Long.parseLong(GaleraCluster.status(2, "wsrep_last_committed"))).isEqualTo(before);
    }

    @Test
    void whileTheLeaseIsUnreadableNewSessionsAreRefusedAndOpenOnesGoOn() throws Exception {
        Instance a = start(PREFERS_NODE1);
        Connection open = DriverManager.getConnection(a.url());
        this.open.add(open);
        assertThat(GaleraCluster.nodeOf(open)).isEqualTo("node1");
        try {
            GaleraCluster.execute(1, "REVOKE SELECT, INSERT, UPDATE ON galera_lb.* FROM 'clustercheck'@'127.0.0.1'");
            await().atMost(AGREE_BOUND).until(() -> a.writer() == null);
            assertThat(a.lb().writerState("rw").orElseThrow().noWriterReason()).contains("writer lease unreadable")
                    .contains("node1: ").contains("node2: ").contains("node3: ");
            assertThatThrownBy(() -> DriverManager.getConnection(a.url()))
                    .hasMessageContaining("no writer available for listener rw");
            // Nothing said the writer changed: the session already on it goes on.
            assertThat(GaleraCluster.nodeOf(open)).isEqualTo("node1");
        } finally {
            GaleraCluster.execute(1, "GRANT CREATE, SELECT, INSERT, UPDATE ON galera_lb.* TO 'clustercheck'@'127.0.0.1'");
        }
        await().atMost(AGREE_BOUND).until(() -> "node1".equals(a.writer()));
        assertThat(GaleraCluster.nodeOf(open)).isEqualTo("node1");
        assertThat(nodeOfNewSession(a)).isEqualTo("node1");
    }

    /**
     * With a user of its own, the lease needs nothing of the health check's user: here that user
     * may not even read the lease's schema, and the writer is still recorded and followed.
     */
    @Test
    void aLeaseWithAUserOfItsOwnWorksWhereTheCheckUserMayNotTouchItsSchema() throws Exception {
        String schema = "own_" + table;
        Path password = Files.createTempFile("galera-lb-lease", ".password");
        password.toFile().deleteOnExit();
        Files.writeString(password, "lease-secret\n");
        GaleraCluster.execute(1, "CREATE USER 'lease_writer'@'127.0.0.1' IDENTIFIED BY 'lease-secret'",
                "GRANT CREATE, SELECT, INSERT, UPDATE ON `" + schema + "`.* TO 'lease_writer'@'127.0.0.1'");
        try {
            Instance a = start(PREFERS_NODE1, "{ schema: " + schema + ", table: " + table
                    + ", user: lease_writer, password-file: " + password + " }");
            assertThat(a.writer()).isEqualTo("node1");
            assertThat(lease(a).writer()).isEqualTo("node1");
            assertThat(nodeOfNewSession(a)).isEqualTo("node1");
            try (Connection admin = GaleraCluster.admin(2)) {
                // A causal read: the lease was written through node1.
                admin.createStatement().execute("SET SESSION wsrep_sync_wait = 1");
                try (ResultSet rs = admin.createStatement().executeQuery("SELECT writer, holder FROM `" + schema
                        + "`.`" + table + "` WHERE listener = 'rw'")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("node1");
                    assertThat(rs.getString(2)).isEqualTo(lease(a).holder());
                }
            }
            assertThatThrownBy(() -> {
                try (Connection check = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:"
                        + GaleraCluster.sqlPort(1) + "/?user=clustercheck&password=clustercheck")) {
                    check.createStatement().executeQuery("SELECT writer FROM `" + schema + "`.`" + table + "`");
                }
            }).isInstanceOf(SQLException.class).hasMessageContaining("denied");
        } finally {
            instances.forEach(i -> i.lb().close());
            GaleraCluster.execute(1, "DROP USER IF EXISTS 'lease_writer'@'127.0.0.1'",
                    "DROP DATABASE IF EXISTS `" + schema + "`");
        }
    }

    @Test
    void whenTheLeaseCannotBeReadThereIsNoWriterAndClientsAreToldWhy() throws Exception {
        // The check user may not create tables in `mysql`: the lease cannot be kept there.
        Instance a = start(PREFERS_NODE1, "{ schema: mysql, table: " + table + " }");
        assertThat(a.writer()).isNull();
        String reason = a.lb().writerState("rw").orElseThrow().noWriterReason();
        assertThat(reason).contains("writer lease unreadable").contains("GRANT CREATE, SELECT, INSERT, UPDATE ON `mysql`.*");
        assertThatThrownBy(() -> DriverManager.getConnection(a.url()))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("no writer available for listener rw")
                .hasMessageContaining("writer lease unreadable");
        assertThat(Objects.requireNonNull(a.lb().writerState("rw").orElseThrow().leaseError().orElse(null)))
                .contains("denied");
    }

    /**
     * Stopping galera-lb does not wait for a lease query to a node that stopped answering: the
     * query's socket timeout is the health timeout (here 60 s, with an interval to match), and
     * the stop aborts the connection under it.
     */
    @Test
    void aLeaseQueryToAPausedNodeEndsAtOnceWhenTheLeaseIsAborted() throws Exception {
        String yaml = TestConfigs.writerYaml(TestConfigs.freePort(), TestConfigs.freePort(), PREFERS_NODE1,
                        "    writer-lease: { table: " + table + " }\n")
                .replace("interval: " + Durations.format(TestConfigs.INTERVAL), "interval: 90s")
                .replace("timeout: " + Durations.format(TestConfigs.TIMEOUT), "timeout: 60s");
        ListenerConfig rw = TestConfigs.parse(yaml).listeners().get("rw");
        assertThat(rw.effectiveHealth().timeout()).isEqualTo(Duration.ofSeconds(60));
        List<ServerConfig> node1 = List.of(rw.servers().get("node1"));
        LeaseStore lease = new JdbcLeaseStore("rw", rw.writerLease().orElseThrow(), rw.effectiveHealth(), "test");
        try {
            assertThat(lease.read(node1)).isEmpty(); // connected to node1, the table made
            GaleraCluster.pauseNode(1);
            CompletableFuture<Optional<Lease>> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return lease.read(node1);
                } catch (LeaseStore.UnavailableException e) {
                    throw new CompletionException(e);
                }
            });
            // Waits on node1 (for up to its 60 s socket timeout) ...
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> !read.isDone());
            // ... until aborted, which does not wait for node1 either.
            CompletableFuture<Void> abort = CompletableFuture.runAsync(lease::abort);
            await().atMost(Duration.ofSeconds(10)).until(() -> abort.isDone() && read.isDone());
            assertThatThrownBy(read::join).hasCauseInstanceOf(LeaseStore.UnavailableException.class)
                    .hasMessageContaining("writer lease closed");
            assertThatThrownBy(() -> lease.read(List.of(rw.servers().get("node2"))))
                    .as("and so is every later call").isInstanceOf(LeaseStore.UnavailableException.class)
                    .hasMessage("writer lease closed");
        } finally {
            lease.close();
            GaleraCluster.resumeNode(1);
        }
    }

    @Test
    void twoSeparateProcessesWithTheirOwnLockFilesFollowOneWriterThroughAFailureAndARestart() throws Exception {
        int[] ports = {TestConfigs.freePort(), TestConfigs.freePort()};
        int[] admins = {TestConfigs.freePort(), TestConfigs.freePort()};
        // Both stopped (and checked for leaks) even when the test fails or the first one leaked.
        try (GaleraLbProcess a = startLeaseProcess(ports[0], admins[0], PREFERS_NODE1);
             GaleraLbProcess b = startLeaseProcess(ports[1], admins[1], PREFERS_NODE3)) {
            a.awaitOutput("galera-lb started");
            b.awaitOutput("galera-lb started");
            assertThat(statusWriter(admins[0])).isEqualTo(statusWriter(admins[1]));
            String first = statusWriter(admins[0]);
            assertThat(first).isIn("node1", "node3");
            assertSessionsLandOn(first, ports);

            int failing = Integer.parseInt(first.substring(4));
            GaleraCluster.execute(failing, "SET GLOBAL wsrep_desync = ON");
            await().atMost(AGREE_BOUND).pollInterval(Duration.ofMillis(100)).until(() -> {
                String w0 = statusWriter(admins[0]);
                return w0 != null && !w0.equals(first) && w0.equals(statusWriter(admins[1]));
            });
            String second = statusWriter(admins[0]);
            assertSessionsLandOn(second, ports);

            GaleraCluster.execute(failing, "SET GLOBAL wsrep_desync = OFF");
            for (int admin : admins) {
                await().atMost(AGREE_BOUND).until(() -> "UP".equals(statusServerState(admin, first)));
                for (int round = 0; round < 3; round++) {
                    Instant mark = Instant.now();
                    await().atMost(AGREE_BOUND).until(() -> statusChecked(admin).isAfter(mark));
                }
            }
            assertThat(statusWriter(admins[0])).isEqualTo(second);
            assertThat(statusWriter(admins[1])).isEqualTo(second);
            assertSessionsLandOn(second, ports);
            assertThat(a.output() + b.output()).contains("writer " + first + " -> " + second);
        }
    }

    /** galera-lb as a process of its own, with a lock file of its own, sharing this test's lease. */
    private GaleraLbProcess startLeaseProcess(int port, int admin, int[] priorities) throws IOException {
        Path f = Files.createTempFile("galera-lb-lease", ".yaml");
        f.toFile().deleteOnExit();
        Files.writeString(f, "lock-file: " + f + ".lock\n" + TestConfigs.writerYaml(port, admin, priorities,
                "    writer-lease: { table: " + table + " }\n"));
        return GaleraLbProcess.start("run", "--config", f.toString());
    }

    private void assertSessionsLandOn(String node, int[] ports) throws SQLException {
        for (int port : ports) {
            for (int k = 0; k < 2; k++) {
                try (Connection c = DriverManager.getConnection(TestConfigs.appUrl(port))) {
                    assertThat(GaleraCluster.nodeOf(c)).as("through port " + port).isEqualTo(node);
                }
            }
        }
    }

    /** The rw listener as a running galera-lb process reports it in GET /status. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> statusListener(int adminPort) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + adminPort + "/status")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Object> status = JSON.std.mapFrom(body);
        return (Map<String, Object>) ((List<Object>) status.get("listeners")).get(0);
    }

    @SuppressWarnings("unchecked")
    private static String statusWriter(int adminPort) throws Exception {
        return (String) ((Map<String, Object>) statusListener(adminPort).get("writer")).get("server");
    }

    /** When the process's writer election last completed a round. */
    @SuppressWarnings("unchecked")
    private static Instant statusChecked(int adminPort) throws Exception {
        return Instant.parse((String) ((Map<String, Object>) statusListener(adminPort).get("writer")).get("checked"));
    }

    @SuppressWarnings("unchecked")
    private static String statusServerState(int adminPort, String server) throws Exception {
        for (Object o : (List<Object>) statusListener(adminPort).get("servers")) {
            Map<String, Object> srv = (Map<String, Object>) o;
            if (server.equals(srv.get("name"))) {
                return (String) srv.get("state");
            }
        }
        throw new AssertionError("no server " + server);
    }
}
