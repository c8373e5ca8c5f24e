package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.galeralb.server.process.Instance;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Reloads of a running instance against the real cluster. */
@ExtendWith(GaleraClusterExtension.class)
class ReloadClusterTest {

    @TempDir
    Path dir;
    private Path file;
    private String configA;
    private String configB;
    private Instance instance;
    private String url;

    @BeforeEach
    void start() throws Exception {
        int port = TestConfigs.freePort();
        configA = TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock"));
        // B: node3 removed, node1 weighted 3.
        configB = configA.replaceAll("(?m)^      node3: .*\\n", "")
                .replace("node1: { address: 127.0.0.1:" + GaleraCluster.sqlPort(1) + " }",
                        "node1: { address: 127.0.0.1:" + GaleraCluster.sqlPort(1) + ", weight: 3 }");
        assertThat(configB).isNotEqualTo(configA).doesNotContain("node3");
        file = dir.resolve("lb.yaml");
        Files.writeString(file, configA);
        instance = Instance.start(file);
        url = TestConfigs.appUrl(port);
    }

    @AfterEach
    void stop() {
        instance.shutdown();
    }

    private record Cli(int exitCode, String out, String err) {
    }

    /** The galera-lb command, as an operator runs it, with what it prints. */
    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }


    /**
     * Scripts wait for "galera-lb started" and then run 'galera-lb reload' or 'status', which find
     * the admin API and its token in the lock file: both must be there when the line is logged
     * (a reload right after it was once refused for want of the token). Checked at the moment the
     * line is logged, from inside the logging call.
     */
    @Test
    void whenStartedIsLoggedTheAdminApiListensAndTheLockFileHoldsItsToken() throws Exception {
        int adminPort = TestConfigs.freePort();
        Path lock = dir.resolve("second.lock");
        Path second = dir.resolve("second.yaml");
        Files.writeString(second, TestConfigs.instanceYaml(TestConfigs.freePort(), adminPort, lock));
        AtomicReference<String> lockWhenStarted = new AtomicReference<>();
        AtomicBoolean adminListeningWhenStarted = new AtomicBoolean();
        AppenderBase<ILoggingEvent> atStarted = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                if (!event.getFormattedMessage().startsWith("galera-lb started")) {
                    return;
                }
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), adminPort)) {
                    adminListeningWhenStarted.set(true);
                } catch (IOException e) {
                    adminListeningWhenStarted.set(false);
                }
                try {
                    lockWhenStarted.set(Files.readString(lock));
                } catch (IOException e) {
                    lockWhenStarted.set(e.toString());
                }
            }
        };
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        atStarted.start();
        root.addAppender(atStarted);
        Instance started;
        try {
            started = Instance.start(second);
        } finally {
            root.detachAppender(atStarted);
        }
        try {
            assertThat(lockWhenStarted.get()).as("lock file when 'galera-lb started' was logged")
                    .contains("\"admin\":\"127.0.0.1:" + adminPort + "\"").contains("\"token\"");
            assertThat(adminListeningWhenStarted).isTrue();
        } finally {
            started.shutdown();
        }
    }

    @Test
    void twoThousandConnectionsThroughTwentyReloadsWithoutOneFailure() throws Exception {
        int total = 2000;
        int reloads = 20;
        AtomicInteger done = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        Set<String> nodes = ConcurrentHashMap.newKeySet();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            clients.submit(() -> {
                while (done.get() < total) {
                    try (Connection c = DriverManager.getConnection(url)) {
                        nodes.add(GaleraCluster.nodeOf(c));
                    } catch (SQLException e) {
                        failures.add(e.getMessage());
                    }
                    done.incrementAndGet();
                }
            });
        }
        List<Long> reloadMillis = new ArrayList<>();
        for (int i = 1; i <= reloads; i++) {
            int before = done.get();
            await().atMost(Duration.ofMinutes(2)).until(() -> done.get() >= Math.min(total - 1, before + total / (reloads + 2)));
            Files.writeString(file, i % 2 == 1 ? configB : configA);
            long t0 = System.nanoTime();
            Instance.ReloadOutcome outcome = instance.reload();
            reloadMillis.add((System.nanoTime() - t0) / 1_000_000);
            assertThat(outcome.ok()).as(outcome.message()).isTrue();
        }
        clients.shutdown();
        assertThat(clients.awaitTermination(5, TimeUnit.MINUTES)).isTrue();

        Collections.sort(reloadMillis);
        System.out.printf("RELOAD loop: %d connections, %d reloads, %d failures; reload median %d ms, max %d ms%n",
                done.get(), reloads, failures.size(), reloadMillis.get(reloads / 2), reloadMillis.get(reloads - 1));
        assertThat(failures).isEmpty();
        assertThat(done.get()).isGreaterThanOrEqualTo(total);
        assertThat(instance.status().generation()).isEqualTo(reloads + 1L);
        assertThat(nodes).containsExactlyInAnyOrder("node1", "node2", "node3");
    }

    /**
     * The I/O threads are made at start: a reload that changes their number is applied in all else,
     * says the number waits for a restart, and the process keeps its threads; the next start takes it.
     */
    @Test
    void ioThreadsAreSetAtStartAndAReloadThatChangesThemSaysSo() throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        assertThat(instance.status().ioThreads()).isEqualTo(cpus);
        Files.writeString(file, "io-threads: " + (cpus + 1) + "\n" + configB);
        Instance.ReloadOutcome outcome = instance.reload();
        assertThat(outcome.ok()).as(outcome.message()).isTrue();
        assertThat(outcome.message()).endsWith("; changed io-threads (io-threads: take effect at the next start)");
        assertThat(instance.status().ioThreads()).isEqualTo(cpus);
        assertThat(instance.status().generation()).isEqualTo(2L);
        assertThat(instance.lb().listener("app-cluster").pool().servers()).extracting(s -> s.name())
                .containsExactly("node1", "node2");

        instance.shutdown();
        instance = Instance.start(file);
        assertThat(instance.status().ioThreads()).isEqualTo(cpus + 1);
        try (Connection c = DriverManager.getConnection(url)) {
            assertThat(GaleraCluster.nodeOf(c)).isIn("node1", "node2");
        }
    }

    @Test
    void aReloadChangesTheBusyPollWindowInPlace() throws Exception {
        assertThat(instance.status().busyPoll()).isEqualTo("100us");
        Files.writeString(file, "busy-poll: 0us\n" + configB);
        Instance.ReloadOutcome outcome = instance.reload();
        assertThat(outcome.ok()).as(outcome.message()).isTrue();
        assertThat(outcome.message()).endsWith("; changed busy-poll");
        assertThat(instance.status().busyPoll()).isEqualTo("0s");
        try (Connection c = DriverManager.getConnection(url)) {
            assertThat(GaleraCluster.nodeOf(c)).isIn("node1", "node2");
        }
    }

    @Test
    void anInvalidFileChangesNothing() throws Exception {
        try (Connection open = DriverManager.getConnection(url)) {
            String node = GaleraCluster.nodeOf(open);
            Files.writeString(file, configA.replace("balance: leastconn", "balance: fastest"));
            Instance.ReloadOutcome outcome = instance.reload();
            assertThat(outcome.ok()).isFalse();
            assertThat(outcome.generation()).isEqualTo(1);
            assertThat(outcome.message()).startsWith("reload refused, generation 1 keeps running")
                    .contains(file + ":8: listeners.app-cluster.balance: \"fastest\" is not one of");
            // The open session goes on; new sessions route over all three nodes as before.
            assertThat(GaleraCluster.nodeOf(open)).isEqualTo(node);
            List<Connection> fresh = new ArrayList<>();
            try {
                Set<String> seen = new java.util.HashSet<>();
                for (int i = 0; i < 6; i++) {
                    Connection c = DriverManager.getConnection(url);
                    fresh.add(c);
                    seen.add(GaleraCluster.nodeOf(c));
                }
                assertThat(seen).containsExactlyInAnyOrder("node1", "node2", "node3");
            } finally {
                for (Connection c : fresh) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aNewListenerOnAPortHeldByAnotherProcessIsRejectedAsAWhole() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String extra = """
                      extra:
                        bind: 127.0.0.1:%d
                        servers:
                          node1: { address: 127.0.0.1:%d }
                    """.formatted(held.getLocalPort(), GaleraCluster.sqlPort(1));
            // Also a change to the listener that stays, which must not be applied either.
            Files.writeString(file, configB + extra);
            Instance.ReloadOutcome outcome = instance.reload();
            assertThat(outcome.ok()).isFalse();
            assertThat(outcome.message()).contains("cannot bind listener extra: 127.0.0.1:" + held.getLocalPort()
                    + " is in use by PID " + ProcessHandle.current().pid() + " (");
            assertThat(instance.lb().listeners()).extracting(l -> l.name()).containsExactly("app-cluster");
            assertThat(instance.lb().listener("app-cluster").pool().servers()).extracting(s -> s.name())
                    .containsExactly("node1", "node2", "node3");
            assertThat(instance.status().generation()).isEqualTo(1L);
        }
    }
    @Test
    void aListenerRenamedOnTheSameAddressTakesOverItsSocketAndItsOpenSessionsGoOn() throws Exception {
        try (Connection open = DriverManager.getConnection(url)) {
            String node = GaleraCluster.nodeOf(open);
            open.createStatement().execute("BEGIN"); // inside a transaction: it goes on until it ends it
            Files.writeString(file, configA.replace("  app-cluster:", "  app:"));
            Instance.ReloadOutcome outcome = instance.reload();
            assertThat(outcome.ok()).as(outcome.message()).isTrue();
            assertThat(instance.lb().listeners()).extracting(l -> l.name()).containsExactly("app");
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).startsWith("node");
                assertThat(instance.lb().listener("app").activeSessions())
                        .as("the new name counts its own sessions, not the old name's").isEqualTo(1);
            }
            assertThat(GaleraCluster.nodeOf(open)).as("a session of the old name goes on while in its transaction")
                    .isEqualTo(node);
            open.createStatement().execute("COMMIT");
            assertThat(open.isValid(5)).as("closed at its transaction boundary").isFalse();
        }
    }

    @Test
    void aReloadThatMovesTheAdminApiOrTheLockIsRefusedAndTheCliStillReachesTheInstance() throws Exception {
        String adminLine = configA.lines().filter(l -> l.startsWith("admin:")).findFirst().orElseThrow();
        Files.writeString(file, configB.replace(adminLine, "admin: { bind: 127.0.0.1:" + TestConfigs.freePort() + " }"));
        Instance.ReloadOutcome moved = instance.reload();
        assertThat(moved.ok()).isFalse();
        assertThat(moved.message()).contains("admin.bind changed from 127.0.0.1:").contains("which takes a restart");
        Files.writeString(file, configB.replace("lock-file: " + dir.resolve("lb.lock"), "lock-file: " + dir.resolve("other.lock")));
        Instance.ReloadOutcome relocked = instance.reload();
        assertThat(relocked.ok()).isFalse();
        assertThat(relocked.message()).contains("lock-file changed from " + dir.resolve("lb.lock"));
        assertThat(instance.lb().listener("app-cluster").pool().servers()).as("nothing half-applied")
                .extracting(s -> s.name()).containsExactly("node1", "node2", "node3");
        Files.writeString(file, configB);
        Cli reload = cli("reload", "--config", file.toString());
        assertThat(reload.exitCode()).isZero();
        assertThat(reload.out()).startsWith("generation 2 applied");
    }

    @Test
    void reloadingAFileThatIsNotYamlPrintsItsErrorsInsteadOfNotRunning() throws Exception {
        Files.writeString(file, "listeners: [ unclosed\n" + configA);
        Cli reload = cli("reload", "--config", file.toString());
        assertThat(reload.exitCode()).as("invalid configuration").isEqualTo(3);
        assertThat(reload.err()).contains("reload refused, generation 1 keeps running").contains("not valid YAML")
                .doesNotContain("not running");
    }
    @Test
    void newCheckCredentialsThatFailOnEveryServerAreRefusedUnlessForced() throws Exception {
        Path wrong = Files.createTempFile(dir, "wrong", ".password");
        Files.writeString(wrong, "not-the-password\n");
        Files.writeString(file, configA.replaceAll("password-file: .*", "password-file: " + wrong));
        Instance.ReloadOutcome refused = instance.reload();
        assertThat(refused.ok()).isFalse();
        assertThat(refused.message()).contains("the new health settings of listener app-cluster fail on every server "
                + "that is UP with the running ones (node1: ").contains("reload with --force");
        assertThat(instance.lb().listener("app-cluster").pool().servers()).allMatch(s -> s.isUp());
        Cli refusedByCli = cli("reload", "--config", file.toString());
        assertThat(refusedByCli.exitCode()).as("refused, the file being valid").isEqualTo(4);

        Cli forced = cli("reload", "--force", "--config", file.toString());
        assertThat(forced.exitCode()).isZero();
        assertThat(forced.out()).startsWith("generation 2 applied");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> instance.lb().listener("app-cluster").pool().servers().stream().noneMatch(s -> s.isUp()));
    }
}
