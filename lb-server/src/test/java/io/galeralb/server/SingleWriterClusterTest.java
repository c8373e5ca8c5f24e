package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.AdminState;
import io.galeralb.core.Server;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code balance: first} on one instance (no lease), against real faults of the real cluster. */
@ExtendWith(GaleraClusterExtension.class)
class SingleWriterClusterTest {

    /** Detection of a desync (a definite answer) plus the election step, with slack for a loaded machine. */
    private static final Duration FAILOVER_BOUND = TestConfigs.INTERVAL.multipliedBy(2).plusSeconds(5);
    private static final Duration BACK_UP_BOUND =
            TestConfigs.INTERVAL.multipliedBy(TestConfigs.RISE + 2L).plus(TestConfigs.TIMEOUT).plusSeconds(5);

    private final List<Connection> open = new ArrayList<>();
    private GaleraLb lb;
    private String url;

    @AfterEach
    void stop() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
        if (lb != null) {
            lb.close();
        }
    }

    private void start(int[] priorities, String extra) throws Exception {
        int port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.parse(TestConfigs.writerYaml(port, TestConfigs.freePort(), priorities, extra)));
        url = TestConfigs.appUrl(port);
    }

    private Connection session() throws SQLException {
        Connection c = DriverManager.getConnection(url);
        open.add(c);
        return c;
    }

    private String writer() {
        return lb.listener("rw").pool().writer().map(Server::name).orElse(null);
    }

    private List<String> nodesOfNewSessions(int n) throws SQLException {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(GaleraCluster.nodeOf(session()));
        }
        return nodes;
    }

    /** Waits until the writer election of listener rw has completed {@code rounds} more rounds. */
    static void awaitElectionRounds(GaleraLb lb, int rounds) {
        for (int i = 0; i < rounds; i++) {
            Instant mark = Instant.now();
            await().atMost(TestConfigs.INTERVAL.plusSeconds(10))
                    .until(() -> lb.writerState("rw").orElseThrow().checked().isAfter(mark));
        }
    }

    private static boolean isClosed(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    @Test
    void everySessionGoesToTheWriterWhichMovesAtOnceWhenDesyncedAndDoesNotFailBack() throws Exception {
        start(new int[] {1, 2, 3}, "");
        assertThat(writer()).isEqualTo("node1");
        List<Connection> before = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            before.add(session());
        }
        for (Connection c : before) {
            assertThat(GaleraCluster.nodeOf(c)).isEqualTo("node1");
        }

        long t0 = System.nanoTime();
        GaleraCluster.execute(1, "SET GLOBAL wsrep_desync = ON");
        await().atMost(FAILOVER_BOUND).pollInterval(Duration.ofMillis(20)).until(() -> "node2".equals(writer()));
        System.out.printf("FAILOVER desync of the writer -> new writer after %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        await().atMost(Duration.ofSeconds(5)).until(() -> before.stream().allMatch(SingleWriterClusterTest::isClosed));
        assertThat(nodesOfNewSessions(4)).containsOnly("node2");

        GaleraCluster.execute(1, "SET GLOBAL wsrep_desync = OFF");
        Server node1 = lb.listener("rw").pool().server("node1");
        await().atMost(BACK_UP_BOUND).until(node1::isUp);
        // Several election rounds with node1 UP and better by priority: the writer stays.
        awaitElectionRounds(lb, 3);
        assertThat(writer()).isEqualTo("node2");
        assertThat(nodesOfNewSessions(4)).containsOnly("node2");
        assertThat(lb.writerState("rw").orElseThrow().changes()).isEqualTo(2);
    }

    @Test
    void failbackTrueMovesTheWriterBackAndClosesTheSessionsOnTheInterimWriter() throws Exception {
        start(new int[] {3, 1, 2}, "    failback: true\n");
        assertThat(writer()).isEqualTo("node2");
        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync = ON");
        await().atMost(FAILOVER_BOUND).until(() -> "node3".equals(writer()));
        Connection onInterim = session();
        assertThat(GaleraCluster.nodeOf(onInterim)).isEqualTo("node3");

        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync = OFF");
        await().atMost(BACK_UP_BOUND).until(() -> "node2".equals(writer()));
        assertThat(lb.writerState("rw").orElseThrow().reason()).contains("failback");
        await().atMost(Duration.ofSeconds(5)).until(() -> isClosed(onInterim));
        assertThat(nodesOfNewSessions(3)).containsOnly("node2");
    }

    @Test
    void withNoServerToWriteToAClientGetsAMysqlErrorThatSaysWhy() throws Exception {
        start(new int[] {1, 2, 3}, "");
        for (int n = 1; n <= GaleraCluster.NODES; n++) {
            lb.adminState("rw", GaleraCluster.nodeName(n), AdminState.MAINT, false);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> writer() == null);
        assertThatThrownBy(() -> DriverManager.getConnection(url))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("galera-lb: no writer available for listener rw")
                .hasMessageContaining("no server is UP and READY")
                .hasMessageContaining("node1: MAINT (set by an operator)");
        assertThat(lb.writerState("rw").orElseThrow().noWriterReason()).contains("no server is UP and READY");

        lb.adminState("rw", "node3", AdminState.READY, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> "node3".equals(writer()));
        assertThat(nodesOfNewSessions(2)).containsOnly("node3");
    }

    @Test
    void switchoverDrainsTheWriterClosesWhatIsLeftAndReportsEachStep() throws Exception {
        start(new int[] {1, 2, 3}, "");
        Connection busy = session();
        assertThat(GaleraCluster.nodeOf(busy)).isEqualTo("node1");
        List<String> steps = new CopyOnWriteArrayList<>();

        boolean moved = lb.switchover("rw", "node3", Duration.ofSeconds(1), steps::add).get(30, TimeUnit.SECONDS);

        assertThat(moved).isTrue();
        assertThat(steps).anyMatch(s -> s.contains("node1 set to DRAIN") && s.contains("1 session(s)"))
                .anyMatch(s -> s.startsWith("sessions of node1 closed after ") && s.endsWith(": 1 at a transaction "
                        + "boundary, 0 ended otherwise, 0 cut mid-transaction, 0 not followed (TLS, compression)"))
                .anyMatch(s -> s.startsWith("node3 is the writer of rw"));
        assertThat(isClosed(busy)).isTrue();
        assertThat(writer()).isEqualTo("node3");
        assertThat(lb.listener("rw").pool().server("node1").adminState()).isEqualTo(AdminState.DRAIN);
        assertThat(nodesOfNewSessions(3)).containsOnly("node3");
        assertThat(lb.availability("rw", "node3")).as("clustercheck: only the writer may take sessions")
                .satisfies(a -> assertThat(a.available()).isTrue())
                .satisfies(a -> assertThat(a.reason()).startsWith("node3 is the writer of rw: wsrep_local_state=4"));
        assertThat(lb.availability("rw", "node2")).satisfies(a -> assertThat(a.available()).isFalse())
                .satisfies(a -> assertThat(a.reason()).startsWith("node2 is not the writer of rw (node3 is); UP:"));

        // The old writer back to READY: no failback (failback is off), the switchover's choice stays.
        lb.adminState("rw", "node1", AdminState.READY, false);
        awaitElectionRounds(lb, 3);
        assertThat(writer()).isEqualTo("node3");
    }

    @Test
    void switchoverToAServerThatIsNotUpIsRefusedAndNothingMoves() throws Exception {
        start(new int[] {1, 2, 3}, "");
        GaleraCluster.execute(3, "SET GLOBAL wsrep_desync = ON");
        Server node3 = lb.listener("rw").pool().server("node3");
        await().atMost(FAILOVER_BOUND).until(() -> !node3.isUp());

        assertThatThrownBy(() -> lb.switchover("rw", "node3", Duration.ofSeconds(1), s -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("switchover refused: node3 is DOWN (")
                .hasMessageContaining("wsrep_desync=ON");
        assertThatThrownBy(() -> lb.switchover("rw", "node9", Duration.ofSeconds(1), s -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no server node9 (servers: node1, node2, node3)");
        assertThat(writer()).isEqualTo("node1");
        assertThat(lb.listener("rw").pool().server("node1").adminState()).isEqualTo(AdminState.READY);
    }

    @Test
    void aReloadTurnsSingleWriterModeOnAndOff() throws Exception {
        int port = TestConfigs.freePort();
        String first = TestConfigs.writerYaml(port, TestConfigs.freePort(), new int[] {2, 1, 3}, "");
        lb = GaleraLb.start(TestConfigs.parse(first.replace("balance: first", "balance: leastconn")));
        url = TestConfigs.appUrl(port);
        assertThat(lb.writerState("rw")).isEmpty();
        assertThat(nodesOfNewSessions(6)).contains("node1", "node2", "node3");

        assertThat(lb.reload(TestConfigs.parse(first), false).summary()).contains("balance");
        assertThat(writer()).isEqualTo("node2");
        assertThat(nodesOfNewSessions(4)).containsOnly("node2");

        lb.reload(TestConfigs.parse(first.replace("balance: first", "balance: roundrobin")), false);
        assertThat(lb.writerState("rw")).isEmpty();
        assertThat(nodesOfNewSessions(6)).containsOnly("node1", "node2", "node3").contains("node1", "node3");
    }
}
