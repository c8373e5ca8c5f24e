package io.galeralb.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real 3-node MariaDB Galera cluster the tests run against, driven through the project's
 * own {@code scripts/local-cluster}: started once per test JVM, reset before every test,
 * stopped at the end if this JVM started it. If it cannot start, tests fail with
 * the script's output; they never skip.
 */
final class GaleraCluster {

    static final int NODES = 3;
    private static final int SQL_BASE = Integer.parseInt(System.getenv().getOrDefault("GLB_CLUSTER_SQL_PORT", "23306"));
    /** Whether this JVM has looked if the cluster was running before it (and so whether to stop it at exit). */
    private static boolean ownerKnown;

    private GaleraCluster() {
    }

    static int sqlPort(int node) {
        return SQL_BASE + node - 1;
    }

    static String nodeName(int node) {
        return "node" + node;
    }

    /**
     * The reset between tests: every node running and Synced, no fault left behind (paused
     * nodes resumed, wsrep_desync, read_only and gmcast.isolate off).
     */
    static synchronized void reset() {
        if (!ownerKnown) {
            // Decided at the first reset only: a test that stops every node (and the reset after
            // it) does not make a cluster this JVM found running its own to stop.
            ownerKnown = true;
            if (script("status").output().lines().noneMatch(l -> l.contains(" PID "))) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> script("stop"), "galera-cluster-stop"));
            }
        }
        Command r = script("reset");
        if (r.exitCode() != 0) {
            throw new AssertionError("the local Galera cluster could not be started or reset (scripts/local-cluster "
                    + "reset exited " + r.exitCode() + "):\n" + r.output());
        }
    }

    static void stopNode(int node) {
        script("stop-node", Integer.toString(node)).assertOk();
    }

    static void startNode(int node) {
        script("start-node", Integer.toString(node)).assertOk();
    }

    /** Starts a node whose state transfer, when it needs one, is by {@code sstMethod}. */
    static void startNode(int node, String sstMethod) {
        script(Map.of("GLB_CLUSTER_SST_METHOD", sstMethod), "start-node", Integer.toString(node)).assertOk();
    }

    static void killNode(int node) {
        script("kill-node", Integer.toString(node)).assertOk();
    }

    static void pauseNode(int node) {
        script("pause-node", Integer.toString(node)).assertOk();
    }

    static void resumeNode(int node) {
        script("resume-node", Integer.toString(node)).assertOk();
    }

    static void wipeNode(int node) {
        script("wipe-node", Integer.toString(node)).assertOk();
    }

    /**
     * The standalone MariaDB (no Galera) that resolves client addresses, so that it blocks a host
     * after max_connect_errors (see scripts/local-cluster start-standalone); started once.
     */
    static synchronized int startStandalone() {
        script("start-standalone").assertOk();
        return SQL_BASE + 10;
    }

    /** Runs statements on the standalone server as admin. */
    static void executeOnStandalone(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + (SQL_BASE + 10)
                + "/?user=admin&password=admin&connectTimeout=5000"); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    static void stopAll() {
        script("stop").assertOk();
    }

    /** A file of the cluster's TLS material (scripts/local-cluster): ca.pem, other-ca.pem. */
    static Path tlsFile(String name) {
        String dir = System.getenv().getOrDefault("GLB_CLUSTER_DIR",
                System.getenv().getOrDefault("TMPDIR", "/tmp") + "/galera-lb-cluster");
        return Path.of(dir, "tls", name);
    }

    /** Runs statements on every node as admin. */
    static void executeOnEveryNode(String... statements) throws SQLException {
        for (int n = 1; n <= NODES; n++) {
            execute(n, statements);
        }
    }

    /** A connection straight to a node (not through galera-lb) as the cluster's admin user, over TLS (a node may require it). */
    static Connection admin(int node) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + sqlPort(node)
                + "/?user=admin&password=admin&connectTimeout=5000&socketTimeout=30000&sslMode=trust");
    }

    /** Runs statements on one node as admin. */
    static void execute(int node, String... statements) throws SQLException {
        try (Connection c = admin(node); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** The Galera node a connection (through galera-lb or not) is on. */
    static String nodeOf(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@wsrep_node_name")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** One global status value of a node, read directly. */
    static String status(int node, String name) throws SQLException {
        try (Connection c = admin(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
            return rs.next() ? rs.getString(2) : null;
        }
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("scripts/local-cluster"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("cannot find scripts/local-cluster above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    private static Command script(String... args) {
        return script(Map.of(), args);
    }

    private static Command script(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot().resolve("scripts/local-cluster").toString());
        cmd.addAll(List.of(args));
        return Command.run(env, cmd.toArray(String[]::new));
    }
}
