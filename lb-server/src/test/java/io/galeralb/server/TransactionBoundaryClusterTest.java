package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.AdminState;
import io.galeralb.core.Listener;
import io.galeralb.core.Server;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Closes at transaction boundaries against the real cluster: switchover, reload removing a
 * server, maint with a grace, drain --close-idle, shutdown-grace, and rebalance, with clients
 * that run transactions the whole time and count those cut mid-way.
 */
@ExtendWith(GaleraClusterExtension.class)
class TransactionBoundaryClusterTest {

    private GaleraLb lb;
    private int port;
    private String url;
    private final List<Workload> workloads = new ArrayList<>();
    private final List<Connection> open = new CopyOnWriteArrayList<>();
    /** The next row of demo.tx a pooled connection may take as its own. */
    private final AtomicInteger rows = new AtomicInteger(1);

    @BeforeEach
    void table() throws SQLException {
        GaleraCluster.execute(1, "CREATE TABLE IF NOT EXISTS demo.tx (id INT PRIMARY KEY, n INT NOT NULL)",
                "INSERT IGNORE INTO demo.tx SELECT seq, 0 FROM demo.seq_1_to_1000");
    }

    @AfterEach
    void stop() throws Exception {
        for (Workload w : workloads) {
            w.close();
        }
        for (Connection c : open) {
            c.close();
        }
        if (lb != null) {
            lb.close();
        }
    }

    private void start(String yaml) throws Exception {
        lb = GaleraLb.start(TestConfigs.parse(yaml));
    }

    private void startLeastconn(String extra) throws Exception {
        port = TestConfigs.freePort();
        start(TestConfigs.clusterYaml(port, extra));
        url = TestConfigs.appUrl(port);
    }

    private Connection session(String options) throws SQLException {
        Connection c = DriverManager.getConnection(url + options);
        open.add(c);
        return c;
    }

    private static boolean closed(Connection c) throws SQLException {
        return !c.isValid(5);
    }

    /** A pooled connection and the row it updates: its own, so that no two nodes write one row at once. */
    private static final class Pooled {
        final int row;
        Connection c;

        Pooled(int row, Connection c) {
            this.row = row;
            this.c = c;
        }
    }

    /**
     * Clients that run transactions without pause, each {@code BEGIN; UPDATE; SELECT SLEEP(0.1);
     * COMMIT} on a connection taken from a pool and validated first (as HikariCP does), and that
     * count every transaction that fails after its BEGIN: cut mid-way.
     */
    private final class Workload implements AutoCloseable {
        final BlockingQueue<Pooled> pool;
        final AtomicInteger committed = new AtomicInteger();
        final AtomicInteger cut = new AtomicInteger();
        final AtomicInteger reconnects = new AtomicInteger();
        /** Why transactions were cut, for the failure message. */
        final List<String> cutBy = new CopyOnWriteArrayList<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        final String options;

        Workload(int connections, int threads, String options) throws SQLException {
            this.options = options;
            pool = new ArrayBlockingQueue<>(connections);
            for (int i = 0; i < connections; i++) {
                pool.add(new Pooled(rows.getAndIncrement(), DriverManager.getConnection(url + options)));
            }
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(this::run, "workload-" + t);
                th.setDaemon(true);
                th.start();
                this.threads.add(th);
            }
            workloads.add(this);
        }

        private void run() {
            while (running.get()) {
                Pooled p;
                try {
                    p = pool.poll(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                if (p == null) {
                    continue;
                }
                try {
                    if (!p.c.isValid(5)) {
                        p.c.close();
                        p.c = DriverManager.getConnection(url + options);
                        reconnects.incrementAndGet();
                    }
                } catch (SQLException e) {
                    pool.add(p);
                    continue;
                }
                boolean begun = false;
                try (Statement s = p.c.createStatement()) {
                    s.execute("BEGIN");
                    begun = true;
                    s.executeUpdate("UPDATE tx SET n = n + 1 WHERE id = " + p.row);
                    s.execute("SELECT SLEEP(0.1)");
                    s.execute("COMMIT");
                    committed.incrementAndGet();
                } catch (SQLException e) {
                    if (begun) {
                        cut.incrementAndGet();
                        cutBy.add(e.getMessage());
                    }
                }
                pool.add(p);
            }
        }

        /** Waits until {@code n} more transactions have committed. */
        void awaitCommits(int n) {
            int target = committed.get() + n;
            await().atMost(Duration.ofSeconds(60)).until(() -> committed.get() >= target);
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
            for (Pooled p : pool) {
                p.c.close();
            }
        }
    }

    @Test
    void aSwitchoverClosesSessionsAtTheirBoundariesAndCutsOnlyTheOnesItCannotFollow() throws Exception {
        port = TestConfigs.freePort();
        start(TestConfigs.writerYaml(port, TestConfigs.freePort(), new int[] {1, 2, 3}, ""));
        url = TestConfigs.appUrl(port);
        Workload plain = new Workload(6, 6, "");
        Workload tls = new Workload(3, 3, "&sslMode=trust"); // TLS: not followed, closed as before
        plain.awaitCommits(20);
        tls.awaitCommits(10);

        List<String> steps = new CopyOnWriteArrayList<>();
        assertThat(lb.switchover("rw", "node2", Duration.ofSeconds(3), steps::add).get(60, TimeUnit.SECONDS)).isTrue();
        System.out.println("== switchover under load: " + String.join(" | ", steps));
        assertThat(steps).anyMatch(s -> s.contains("6 at a transaction boundary") && s.contains("0 cut mid-transaction")
                && s.contains("3 not followed"));
        plain.awaitCommits(20);
        tls.awaitCommits(5);
        System.out.printf("== transactions cut mid-way: followed %d of %d, TLS (opaque) %d of %d%n", plain.cut.get(),
                plain.committed.get() + plain.cut.get(), tls.cut.get(), tls.committed.get() + tls.cut.get());
        assertThat(plain.cut.get()).as("followed sessions: closed between transactions").isZero();
        assertThat(plain.reconnects.get()).as("each pool connection reopened on the new writer").isEqualTo(6);
        assertThat(tls.cut.get()).as("opaque sessions cut at the timeout, inside their transactions").isPositive();
    }

    @Test
    void aReloadThatRemovesAServerClosesItsSessionsBetweenTransactions() throws Exception {
        startLeastconn("");
        Workload w = new Workload(9, 9, "");
        w.awaitCommits(30);
        Server node1 = lb.listener("app-cluster").pool().server("node1");
        assertThat(node1.activeSessions()).isPositive();
        String without = TestConfigs.clusterYaml(port, "")
                .replaceAll("      node1: \\{[^}]*}\n", "");
        lb.reload(TestConfigs.parse("drain-timeout: 30s\n" + without), false);
        await().atMost(Duration.ofSeconds(20)).until(() -> node1.activeSessions() == 0);
        w.awaitCommits(30);
        assertThat(w.cut.get()).isZero();
    }

    @Test
    void maintWithAGraceAndDrainCloseIdleWaitForTheCommitAndLeaveOpaqueSessionsAlone() throws Exception {
        startLeastconn("");
        Server node1 = lb.listener("app-cluster").pool().server("node1");
        // Three sessions on node1: the others are in MAINT while they open.
        lb.adminState("app-cluster", "node2", AdminState.MAINT, false);
        lb.adminState("app-cluster", "node3", AdminState.MAINT, false);
        Connection idle = session("");
        Connection inTransaction = session("");
        Connection tls = session("&sslMode=trust");
        try (Statement s = inTransaction.createStatement()) {
            s.execute("BEGIN");
            s.executeUpdate("UPDATE tx SET n = n + 1 WHERE id = 900");
        }
        lb.adminState("app-cluster", "node2", AdminState.READY, false);
        lb.adminState("app-cluster", "node3", AdminState.READY, false);

        String drained = lb.adminState("app-cluster", "node1", AdminState.DRAIN,
                new GaleraLb.OpenSessions(false, true, Duration.ZERO));
        assertThat(drained).endsWith("2 close at their next transaction boundary, 1 not followed (TLS, compression)");
        // The idle one once it has been quiet for a second (asked nothing meanwhile: a ping is a command).
        await().atMost(Duration.ofSeconds(10)).until(() -> node1.activeSessions() == 2);
        assertThat(idle.isValid(5)).isFalse();
        inTransaction.createStatement().execute("COMMIT");
        await().atMost(Duration.ofSeconds(10)).until(() -> node1.activeSessions() == 1);
        assertThat(inTransaction.isValid(5)).as("closed right after its commit").isFalse();
        assertThat(tls.isValid(5)).as("not followed: a drain leaves it be").isTrue();

        lb.adminState("app-cluster", "node1", AdminState.READY, false);
        lb.adminState("app-cluster", "node2", AdminState.MAINT, false);
        lb.adminState("app-cluster", "node3", AdminState.MAINT, false);
        Connection busy = session("");
        try (Statement s = busy.createStatement()) {
            s.execute("BEGIN");
            s.executeUpdate("UPDATE tx SET n = n + 1 WHERE id = 901");
        }
        String maint = lb.adminState("app-cluster", "node1", AdminState.MAINT,
                new GaleraLb.OpenSessions(false, false, Duration.ofMinutes(10)));
        assertThat(maint).isEqualTo("0 session(s) closed at once, 1 close at their next transaction boundary, or in "
                + "10m, 1 not followed (TLS, compression)");
        busy.createStatement().execute("COMMIT");
        await().atMost(Duration.ofSeconds(10)).until(() -> node1.activeSessions() == 1);
        assertThat(busy.isValid(5)).isFalse();
        assertThat(tls.isValid(5)).as("not followed: closed when the grace is over").isTrue();
    }

    @Test
    void shutdownEndsRightAfterTheLastTransactionCommitsNotAtTheEndOfItsGrace() throws Exception {
        startLeastconn("");
        Connection idle = session("");
        Connection inTransaction = session("");
        try (Statement s = inTransaction.createStatement()) {
            s.execute("BEGIN");
            s.executeUpdate("UPDATE tx SET n = n + 1 WHERE id = 902");
        }
        Listener l = lb.listener("app-cluster");
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> lb.shutdown(Duration.ofMinutes(10)));
        await().atMost(Duration.ofSeconds(10)).until(() -> l.activeSessions() == 1);
        assertThat(closed(idle)).isTrue();
        assertThat(stopped).isNotDone();
        inTransaction.createStatement().execute("COMMIT");
        stopped.get(30, TimeUnit.SECONDS); // the grace is ten minutes
        try (Connection c = GaleraCluster.admin(1); Statement s = c.createStatement();
             var r = s.executeQuery("SELECT n FROM demo.tx WHERE id = 902")) {
            r.next();
            assertThat(r.getInt(1)).as("the commit went through").isPositive();
        }
    }

    private int[] sessionsPerNode() {
        return lb.listener("app-cluster").pool().servers().stream().mapToInt(Server::activeSessions).toArray();
    }

    @Test
    void rebalanceMovesIdlePooledSessionsToANodeThatCameBackAndWithoutItTheyStay() throws Exception {
        for (boolean on : new boolean[] {false, true}) {
            startLeastconn(on ? "    rebalance: on\n    rebalance-rate: 5\n" : "");
            Workload w = new Workload(60, 1, "");
            w.awaitCommits(20);
            GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
            Server node2 = lb.listener("app-cluster").pool().server("node2");
            await().atMost(Duration.ofSeconds(30)).until(() -> !node2.isUp());
            w.awaitCommits(70); // every pooled connection reopened on node1 or node3
            int cutByTheDesync = w.cut.get(); // node2 DOWN closed its sessions, maybe one mid-transaction
            GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=OFF");
            await().atMost(Duration.ofSeconds(30)).until(node2::takesSessions);
            if (on) {
                long back = System.nanoTime();
                List<String> trace = new CopyOnWriteArrayList<>();
                var sampler = Executors.newSingleThreadScheduledExecutor();
                sampler.scheduleAtFixedRate(() -> {
                    int[] n = sessionsPerNode();
                    trace.add(String.format("%ds %d/%d/%d", (System.nanoTime() - back) / 1_000_000_000, n[0], n[1], n[2]));
                }, 0, 1, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(60)).until(() -> node2.activeSessions() >= 15);
                w.awaitCommits(60);
                sampler.shutdownNow();
                System.out.println("== rebalance on: sessions per node by second after node2 came back: "
                        + String.join(", ", trace));
                int[] now = sessionsPerNode();
                System.out.printf("== rebalance on: sessions per node %d/%d/%d%n", now[0], now[1], now[2]);
                assertThat(Arrays.stream(now).boxed().toList()).allSatisfy(n -> assertThat(n).isBetween(14, 26));
            } else {
                w.awaitCommits(120); // every pooled connection used twice since node2 came back
                int[] now = sessionsPerNode();
                System.out.printf("== rebalance off: sessions per node %d/%d/%d%n", now[0], now[1], now[2]);
                assertThat(node2.activeSessions()).isZero();
            }
            assertThat(w.cut.get()).as("no transaction failed since node2 came back: %s", w.cutBy)
                    .isEqualTo(cutByTheDesync);
            w.close();
            workloads.remove(w);
            lb.close();
            lb = null;
        }
    }
}
