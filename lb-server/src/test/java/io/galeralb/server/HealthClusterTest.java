package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.galeralb.config.Durations;
import io.galeralb.core.Server;
import io.galeralb.health.ServerHealth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Galera health checks against real faults of real nodes, at the test pace of {@link TestConfigs}.
 * Detection times are printed (DETECTION lines) for the record, not asserted beyond the bound
 * the check settings promise.
 */
@ExtendWith(GaleraClusterExtension.class)
class HealthClusterTest {

    private static final Duration INTERVAL = TestConfigs.INTERVAL;
    private static final Duration TIMEOUT = TestConfigs.TIMEOUT;
    private static final int RISE = TestConfigs.RISE;
    private static final int FALL = TestConfigs.FALL;
    /** Scheduling slack on a loaded 2-core machine, on top of what the settings promise. */
    private static final Duration SLACK = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private GaleraLb lb;
    private String url;

    @AfterEach
    void stop() {
        if (lb != null) {
            lb.close();
        }
    }

    private void start(String extraHealth) throws Exception {
        int port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(port, extraHealth)));
        url = TestConfigs.appUrl(port);
    }

    private Server server(int node) {
        return lb.listener("app-cluster").pool().server(GaleraCluster.nodeName(node));
    }

    private ServerHealth health(int node) {
        return lb.health("app-cluster").snapshot().get(GaleraCluster.nodeName(node));
    }

    /** Waits until the node has the state; returns how long that took. */
    private Duration awaitState(int node, boolean up, Duration atMost) {
        return awaitNode(node, up ? "UP" : "DOWN", () -> server(node).isUp() == up, atMost);
    }

    /** Waits until the node is UP on a last check whose reason starts with {@code reason}. */
    private void awaitUpWith(int node, String reason, Duration atMost) {
        awaitNode(node, "UP with " + reason,
                () -> server(node).isUp() && health(node).lastResult().reason().startsWith(reason), atMost);
    }

    private Duration awaitNode(int node, String what, Callable<Boolean> condition, Duration atMost) {
        long t0 = System.nanoTime();
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(condition);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("node" + node + " not " + what + " within " + atMost
                    + "; its health: " + health(node) + ", wsrep_local_state now " + directState(node), e);
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private void assertUp(int node) {
        assertThat(server(node).isUp()).as("node%d UP; its health: %s", node, health(node)).isTrue();
    }

    private static void record(String what, Duration d) {
        System.out.printf("DETECTION %s: %d ms%n", what, d.toMillis());
    }

    @Test
    void everyNodeIsCheckedBeforeTheListenerAcceptsAndStartsUp() throws Exception {
        start("");
        for (int n = 1; n <= 3; n++) {
            assertUp(n);
            assertThat(health(n).lastResult().reason()).startsWith("wsrep_local_state=4 (Synced), cluster Primary, size 3");
        }
    }

    @Test
    void aDesyncedNodeIsTakenOutItsSessionsClosedAndItComesBack() throws Exception {
        start("");
        List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                open.add(DriverManager.getConnection(url));
            }
            GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
            Duration took = awaitState(2, false, INTERVAL.multipliedBy(FALL).plus(TIMEOUT).plus(SLACK));
            record("desync", took);
            assertThat(server(2).downReason()).contains("wsrep_desync=ON").contains("Donor/Desynced");

            // Its open sessions were closed (on-server-down: shutdown-sessions); the others go on.
            int closed = 0;
            for (Connection c : open) {
                try {
                    assertThat(GaleraCluster.nodeOf(c)).isNotEqualTo("node2");
                } catch (SQLException e) {
                    closed++;
                }
            }
            assertThat(closed).isEqualTo(2);
            // No new session lands there.
            for (int i = 0; i < 12; i++) {
                try (Connection c = DriverManager.getConnection(url)) {
                    assertThat(GaleraCluster.nodeOf(c)).isNotEqualTo("node2");
                }
            }

            GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=OFF");
            record("desync OFF to UP", awaitState(2, true, INTERVAL.multipliedBy(RISE + 1).plus(TIMEOUT).plus(SLACK)));
            assertThat(health(2).lastResult().reason()).startsWith("wsrep_local_state=4 (Synced)");
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
    }

    @Test
    void newConnectionsNeverFailWhileANodeIsDesynced() throws Exception {
        start("");
        GaleraCluster.execute(1, "SET GLOBAL wsrep_desync=ON");
        awaitState(1, false, INTERVAL.multipliedBy(FALL).plus(TIMEOUT).plus(SLACK));
        int failures = 0;
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).isNotEqualTo("node1");
            } catch (SQLException e) {
                failures++;
                errors.add(e.getMessage());
            }
        }
        assertThat(errors).isEmpty();
        assertThat(failures).isZero();
    }

    @Test
    void aStoppedProcessIsTakenOutByTheTimeoutRuleWhileTheOthersKeepTheirPace() throws Exception {
        start("");
        // A second instance whose checks may take 60 s: stopping it must not wait for its check
        // of the stopped node (the check's timeout is not the stop's).
        GaleraLb patient = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(TestConfigs.freePort(), "")
                .replace("timeout: " + Durations.format(TIMEOUT), "timeout: 60s")));
        long before1 = health(1).checks();
        long before2 = health(2).checks();
        long t0 = System.nanoTime();
        GaleraCluster.pauseNode(3);
        try {
            Duration took = awaitState(3, false,
                    INTERVAL.plus(TIMEOUT.multipliedBy(2)).multipliedBy(FALL).plus(SLACK));
            record("SIGSTOP", took);
            assertThat(server(3).downReason()).contains("timed out after " + Durations.format(TIMEOUT))
                    .contains(FALL + "/" + FALL + " checks failed");
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            // The other checkers were not held up by the hung one: they kept checking about every
            // interval (allowing for jitter and scheduling), and stayed UP.
            long expected = elapsed.toMillis() / (INTERVAL.toMillis() * 2);
            assertThat(health(1).checks() - before1).isGreaterThanOrEqualTo(Math.max(2, expected));
            assertThat(health(2).checks() - before2).isGreaterThanOrEqualTo(Math.max(2, expected));
            assertUp(1);
            assertUp(2);

            // The patient instance checks every interval too, so a check of node3 began within
            // one of the pause and waits on it (for up to 60 s) while node3 was taken out here.
            CompletableFuture<Void> stop = CompletableFuture.runAsync(patient::close);
            await().atMost(Duration.ofSeconds(15)).until(stop::isDone);
            stop.join();
        } finally {
            patient.close();
            GaleraCluster.resumeNode(3);
        }
        record("SIGCONT to UP", awaitState(3, true, Duration.ofSeconds(90)));
    }

    /**
     * A node resumed after a pause long enough for the others to evict it reports the view it
     * had, Synced and Primary, for seconds: it is not UP until its view agrees with theirs, so
     * transactions made with a new connection each never meet it half back.
     */
    @Test
    void aResumedNodeIsNotUpOnTheStaleViewItHadBeforeItsPause() throws Exception {
        start("");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS demo.resumed (id INT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(16))");
        }
        GaleraCluster.pauseNode(3);
        awaitState(3, false, INTERVAL.plus(TIMEOUT.multipliedBy(2)).multipliedBy(FALL).plus(SLACK));
        await().atMost(Duration.ofSeconds(60)).until(() -> "2".equals(GaleraCluster.status(1, "wsrep_cluster_size")));

        List<String> errors = new CopyOnWriteArrayList<>();
        AtomicInteger onNode3 = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        CompletableFuture<Integer> writer = CompletableFuture.supplyAsync(() -> {
            int done = 0;
            while (running.get()) {
                try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
                    c.setAutoCommit(false);
                    String node = GaleraCluster.nodeOf(c);
                    st.execute("INSERT INTO demo.resumed (node) VALUES ('" + node + "')");
                    c.commit();
                    if (node.equals("node3")) {
                        onNode3.incrementAndGet();
                    }
                    done++;
                } catch (SQLException e) {
                    errors.add(e.getErrorCode() + " " + e.getMessage());
                }
            }
            return done;
        });
        try {
            GaleraCluster.resumeNode(3);
            record("SIGCONT to UP, stale view", awaitState(3, true, Duration.ofSeconds(120)));
            await().atMost(Duration.ofSeconds(60)).until(() -> onNode3.get() >= 20);
        } finally {
            running.set(false);
        }
        int transactions = writer.get(60, TimeUnit.SECONDS);
        System.out.printf("RESUME %d transactions, %d on node3 once back, %d errors%n", transactions, onNode3.get(),
                errors.size());
        assertThat(errors).isEmpty();
    }

    @Test
    void aKilledNodeIsDownAndComesBackOnlyOnceSynced() throws Exception {
        start("");
        GaleraCluster.killNode(3);
        Duration took = awaitState(3, false, INTERVAL.plus(TIMEOUT).multipliedBy(FALL).plus(SLACK));
        record("SIGKILL", took);
        assertThat(server(3).downReason()).contains("checks failed");

        // While the node restarts and rejoins (IST), it must never be UP before it is Synced.
        AtomicReference<String> upWhileNotSynced = new AtomicReference<>();
        CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> GaleraCluster.startNode(3));
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(20)).until(() -> {
            if (server(3).isUp()) {
                String state = directState(3);
                if (state != null && !state.equals("4")) {
                    upWhileNotSynced.set("UP while wsrep_local_state=" + state);
                }
            }
            return restart.isDone();
        });
        restart.join();
        awaitState(3, true, Duration.ofSeconds(60));
        assertThat(upWhileNotSynced.get()).isNull();
        assertThat(directState(3)).isEqualTo("4");
    }

    private static String directState(int node) {
        try {
            return GaleraCluster.status(node, "wsrep_local_state");
        } catch (SQLException e) {
            return null;
        }
    }

    @Test
    void aNodeOutsideThePrimaryComponentIsDownNamingTheClusterStatusAndLaterWhatHoldsItDown() throws Exception {
        start("");
        try (LogCapture logs = new LogCapture()) {
            GaleraCluster.execute(3, "SET GLOBAL wsrep_provider_options='gmcast.isolate=1'");
            Duration took = awaitState(3, false, Duration.ofSeconds(60));
            record("isolation (includes Galera's own suspect timeout)", took);
            // Taken out first for its stale view (the others moved on without it) or for its own
            // non-Primary status, whichever the checks saw first; it settles on the latter.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> server(3).downReason().contains("wsrep_cluster_status=non-Primary"));
            // The two others go on as the Primary component of size 2. While they agree on that
            // view they may pass through a non-Primary one on a loaded machine (seen once in CI:
            // node1 DOWN just as node3 was), which the rule above takes out at once; so what is
            // asserted is where they settle, not that they never blinked. Settling took longer
            // than 30 s once in CI on a loaded machine (node1 itself said non-Primary, size 2).
            for (int n = 1; n <= 2; n++) {
                awaitUpWith(n, "wsrep_local_state=4 (Synced), cluster Primary, size 2", Duration.ofSeconds(90));
            }

            // Still DOWN for another reason: once the new one has held for `fall` checks in a row,
            // it is the one clients and status are given, and the log says what it replaced.
            GaleraCluster.pauseNode(3);
            try {
                await().atMost(INTERVAL.plus(TIMEOUT.multipliedBy(2)).multipliedBy(FALL).plus(SLACK))
                        .until(() -> server(3).downReason().startsWith("check timed out after "
                                + Durations.format(TIMEOUT)));
                assertThat(server(3).downReason()).contains(FALL + "/" + FALL + " checks failed");
                assertThat(server(3).isUp()).isFalse();
                assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("node3 still DOWN: check timed out")
                        .contains("(was: wsrep_cluster_status=non-Primary"));
            } finally {
                GaleraCluster.resumeNode(3);
            }
        }
    }

    @Test
    void readOnlyTakesANodeOutUnlessAllowed() throws Exception {
        start("");
        GaleraCluster.execute(1, "SET GLOBAL read_only=ON");
        awaitState(1, false, INTERVAL.multipliedBy(FALL).plus(TIMEOUT).plus(SLACK));
        assertThat(server(1).downReason()).contains("read_only=ON");
        lb.close();

        start("      available-when-read-only: true\n");
        long checks = health(1).checks();
        await().atMost(Duration.ofSeconds(30)).until(() -> health(1).checks() >= checks + 4);
        assertUp(1);
        assertThat(health(1).lastResult().reason()).startsWith("wsrep_local_state=4 (Synced)");
    }

    @Test
    void aWrongCheckPasswordIsDownWithAccessDeniedAndNeverLogged() throws Exception {
        String wrong = "Wr0ng-Pa55-" + System.nanoTime();
        Path pw = dir.resolve("wrong.password");
        Files.writeString(pw, wrong + "\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        int port = TestConfigs.freePort();
        String yaml = TestConfigs.clusterYaml(port).replaceAll("password-file: .*", "password-file: " + pw);
        try (LogCapture logs = new LogCapture()) {
            lb = GaleraLb.start(TestConfigs.parse(yaml));
            for (int n = 1; n <= 3; n++) {
                assertThat(server(n).isUp()).isFalse();
                assertThat(server(n).downReason()).contains("access denied");
            }
            assertThatThrownBy(() -> DriverManager.getConnection(TestConfigs.appUrl(port)).close())
                    .hasMessageContaining("access denied for check user 'clustercheck'");
            await().atMost(Duration.ofSeconds(10)).until(() -> health(1).checks() >= 3);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("node1 DOWN").contains("access denied"));
            assertThat(logs.lines()).noneSatisfy(l -> assertThat(l).contains(wrong));
        }
        Map<String, ServerHealth> snapshot = lb.health("app-cluster").snapshot();
        assertThat(snapshot.values()).noneSatisfy(h -> assertThat(h.lastResult().reason()).contains(wrong));
    }
}
