package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.server.cli.ConfigOption;
import io.galeralb.server.process.Instance;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The galera-lb command as an operator uses it. */
@ExtendWith(GaleraClusterExtension.class)
class CliTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run cli(String... args) {
        return cli(Main.commandLine(), args);
    }

    /** Runs {@code cmd} the way {@link Main#main} does, capturing what it prints. */
    private static Run cli(CommandLine cmd, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int code = Main.execute(cmd, args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Fails the way a running galera-lb does when its jar was replaced under it. */
    @CommandLine.Command(name = "fail-with-error")
    static final class FailWithError implements Runnable {
        @Override
        public void run() {
            throw new NoClassDefFoundError("io/galeralb/server/Instance$Gone");
        }
    }

    @Test
    void anErrorEscapingACommandIsReportedAndGivesExitCodeOneInsteadOfEndingOnlyTheMainThread() {
        // Main.main passes the code to System.exit. An Error that ended only the main thread
        // would leave the non-daemon I/O threads running a process that no signal stops any more.
        Run r = cli(Main.commandLine().addSubcommand(new FailWithError()), "fail-with-error");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("galera-lb: failed: java.lang.NoClassDefFoundError: io/galeralb/server/Instance$Gone")
                .contains("at io.galeralb.server.CliTest$FailWithError.run");
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : new String[][] {{"--help"}, {"run", "--help"}, {"check", "--help"}, {"reload", "--help"},
                {"status", "--help"}, {"probe", "--help"}, {"doctor", "--help"}, {"switchover", "--help"}}) {
            Run r = cli(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).contains("Usage: galera-lb");
        }
        assertThat(cli("run", "--help").out()).contains("--config=FILE");
        assertThat(cli().exitCode()).as("no command").isEqualTo(2);
    }

    @Test
    void checkAcceptsAValidFile() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(3307));
        Run r = cli("check", "--config", f.toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("OK: " + f + ": 1 listener(s), 3 server(s)");
    }

    @Test
    void theExampleConfigurationsAreValid() throws Exception {
        for (String example : new String[] {"galera-lb.yaml", "single-writer.yaml"}) {
            Path f = GaleraCluster.repoRoot().resolve("examples").resolve(example);
            GaleraLbConfig c = ConfigLoader.parse(f.toString(), Files.readString(f),
                    Map.of("GALERA_LB_CHECK_PASSWORD", "example"));
            assertThat(c.listeners()).as(example).isNotEmpty();
        }
    }

    @Test
    void withoutConfigEveryCommandReadsGaleraLbConfigFromTheEnvironment() throws Exception {
        Path f = dir.resolve("env.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(3307));
        try (GaleraLbProcess check = GaleraLbProcess.startWithEnvironment(Map.of("GALERA_LB_CONFIG", f.toString()), "check")) {
            assertThat(check.waitForExit()).as(check.output()).isZero();
            assertThat(check.output()).contains("OK: " + f + ": 1 listener(s), 3 server(s)");
        }
        try (GaleraLbProcess check = GaleraLbProcess.startWithEnvironment(Map.of(), "check")) {
            assertThat(check.waitForExit()).isEqualTo(3);
            assertThat(check.output()).as("the packaged path, when nothing names another")
                    .contains(ConfigOption.DEFAULT_CONFIG + ": file not found");
        }
    }

    @Test
    void durationOptionsTakeTheConfigurationsSyntaxAndABadOneIsAUsageError() {
        for (String[] args : new String[][] {{"reload", "--timeout", "soon"}, {"switchover", "app", "--to", "n1",
                "--timeout", "30"}}) {
            Run r = cli(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).contains("--timeout: ");
        }
    }

    @Test
    void exitCodesTellUsageInvalidConfigurationAndNotRunningApart() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(TestConfigs.freePort()).replace("balance: leastconn", "balance: x"));
        assertThat(cli("run", "--config", f.toString()).exitCode()).as("run, invalid configuration").isEqualTo(3);
        assertThat(cli("doctor", "--config", f.toString()).exitCode()).as("doctor, invalid configuration").isEqualTo(3);
        assertThat(cli("probe", "--config", f.toString()).exitCode()).as("probe, invalid configuration").isEqualTo(3);
        Files.writeString(f, TestConfigs.clusterYaml(TestConfigs.freePort()));
        Run probe = cli("probe", "--config", f.toString(), "-u", "app", "--password-env", "GALERA_LB_TEST_UNSET");
        assertThat(probe.exitCode()).as("usage").isEqualTo(2);
        assertThat(probe.err()).contains("--password-env: environment variable GALERA_LB_TEST_UNSET is not set");
        assertThat(cli("reload", "--config", f.toString()).exitCode()).as("not running").isEqualTo(5);
        assertThat(cli("drain", "--config", f.toString(), "app-cluster", "node1").exitCode()).isEqualTo(5);
        assertThat(cli("status", "--nonsense").exitCode()).as("usage").isEqualTo(2);
    }

    @Test
    void checkRejectsABadFileNamingFileLineAndKey() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(3307).replace("balance: leastconn", "balance: leastcon"));
        Run r = cli("check", "--config", f.toString());
        assertThat(r.exitCode()).as("invalid configuration").isEqualTo(3);
        assertThat(r.err()).contains(f + ":5: listeners.app-cluster.balance: \"leastcon\" is not one of")
                .contains("did you mean 'leastconn'?");
    }

    @Test
    void probeReportsWhereEachConnectionWentAndEveryFailure() throws Exception {
        int port = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(port));
        Path pw = dir.resolve("app.password");
        Files.writeString(pw, "app\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        try (GaleraLb lb = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(port)))) {
            Run greetings = cli("probe", "--config", f.toString());
            assertThat(greetings.exitCode()).as(greetings.out()).isZero();
            assertThat(greetings.out().lines().filter(l -> l.contains("OK    greeting from ")).count()).isEqualTo(20);
            assertThat(greetings.out()).endsWith("OK: 20 / FAIL: 0\n");

            Run named = cli("probe", "--config", f.toString(), "--count", "9", "--user", "app", "--password-file",
                    pw.toString());
            assertThat(named.exitCode()).as(named.out()).isZero();
            assertThat(named.out()).contains("per node: {node1=3, node2=3, node3=3}").endsWith("OK: 9 / FAIL: 0\n");
        }

        Path down = dir.resolve("down.yaml");
        Files.writeString(down, """
                listeners:
                  nowhere:
                    bind: 127.0.0.1:%d
                    health: { type: tcp, interval: 500ms }
                    servers:
                      a: { address: 127.0.0.1:%d }
                      b: { address: 127.0.0.1:%d }
                """.formatted(port, TestConfigs.freePort(), TestConfigs.freePort()));
        try (GaleraLb lb = GaleraLb.start(TestConfigs.parse(Files.readString(down)))) {
            Run failed = cli("probe", "--config", down.toString(), "--count", "5");
            assertThat(failed.exitCode()).isEqualTo(1);
            assertThat(failed.out().lines().filter(l -> l.contains("FAIL  ERROR 1105: galera-lb: no available server "
                    + "for listener nowhere (a: DOWN (connection refused; first check), b: DOWN (connection refused; "
                    + "first check))")).count()).isEqualTo(5);
            assertThat(failed.out()).endsWith("OK: 0 / FAIL: 5\n");
        }
    }

    @Test
    void runServesUntilSigtermLetsOpenSessionsFinishAndExitsZero() throws Exception {
        int port = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock"))
                .replace("shutdown-grace: 2s", "shutdown-grace: 2m"));
        String url = TestConfigs.appUrl(port);
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started: 1 listener(s)");
            assertThat(lb.output()).contains("listener app-cluster on 127.0.0.1:" + port + " (leastconn")
                    .contains("listener app-cluster server node1 at 127.0.0.1:" + GaleraCluster.sqlPort(1));

            Connection open = DriverManager.getConnection(url);
            assertThat(GaleraCluster.nodeOf(open)).startsWith("node");
            open.createStatement().execute("BEGIN");
            lb.terminate();
            lb.awaitOutput("stopped accepting; 1 open session(s) close at their transaction boundaries, within 2m");

            // The session in its transaction goes on; new clients are no longer accepted.
            assertThat(GaleraCluster.nodeOf(open)).startsWith("node");
            assertThatThrownBy(() -> DriverManager.getConnection(url + "&connectTimeout=2000").close())
                    .isInstanceOf(SQLException.class);
            open.createStatement().execute("COMMIT"); // and galera-lb exits right after it, not in 2m

            assertThat(lb.waitForExit()).isZero();
            assertThat(lb.output()).contains("SIGTERM received").contains("sessions closed: 1 at a transaction boundary")
                    .contains("galera-lb stopped");
            open.close();
        }
    }

    @Test
    void runRefusesABadConfigWithFileLineAndKey() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), dir.resolve("lb.lock"))
                .replace("connect: 2s", "connect: soon"));
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
            assertThat(lb.waitForExit()).isEqualTo(3);
            assertThat(lb.output()).contains("refused to start")
                    .contains(f + ":9: listeners.app-cluster.timeouts.connect: bad duration \"soon\"");
        }
    }

    @Test
    void runRefusesAPortHeldByAnotherProcessAndNamesIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path f = dir.resolve("lb.yaml");
            Files.writeString(f, TestConfigs.instanceYaml(taken.getLocalPort(), TestConfigs.freePort(), dir.resolve("lb.lock")));
            try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
                assertThat(lb.waitForExit()).isEqualTo(4);
                assertThat(lb.output()).contains("refused to start: cannot bind listener app-cluster: 127.0.0.1:"
                        + taken.getLocalPort() + " is in use by PID " + ProcessHandle.current().pid() + " (")
                        .contains("running since ");
            }
        }
    }

    @Test
    void aSecondInstanceIsRefusedAndTheLockDoesNotOutliveAKilledInstance() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), dir.resolve("lb.lock")));
        try (GaleraLbProcess first = GaleraLbProcess.start("run", "--config", f.toString())) {
            first.awaitOutput("galera-lb started");
            try (GaleraLbProcess second = GaleraLbProcess.start("run", "--config", f.toString())) {
                assertThat(second.waitForExit()).isEqualTo(4);
                assertThat(second.output()).contains("refused to start: galera-lb is already running as PID "
                        + first.pid() + " since ").contains("(config " + f.toAbsolutePath() + ", generation 1); "
                        + "use 'galera-lb reload'");
            }
            first.kill();
            try (GaleraLbProcess third = GaleraLbProcess.start("run", "--config", f.toString())) {
                third.awaitOutput("galera-lb started");
                third.terminate();
                assertThat(third.waitForExit()).isZero();
            }
        }
    }

    @Test
    void startedWithSighupIgnoredItSaysSoAndTheReloadCommandStillWorks() throws Exception {
        Path f = dir.resolve("lb.yaml");
        String yaml = TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), dir.resolve("lb.lock"));
        Files.writeString(f, yaml);
        try (GaleraLbProcess lb = GaleraLbProcess.startWithSighupIgnored("run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started");
            assertThat(lb.output()).contains("SIGHUP is ignored in this process").contains("'galera-lb reload'");

            Files.writeString(f, yaml.replace("balance: leastconn", "balance: roundrobin"));
            Run reload = cli("reload", "--config", f.toString());
            assertThat(reload.exitCode()).as(reload.err()).isZero();
            assertThat(reload.out()).startsWith("generation 2 applied in ").contains("app-cluster: changed balance");
        }
    }

    /**
     * "galera-lb started" is logged a moment before the process takes reloads; a SIGHUP sent in
     * that moment (once made a clean-clone run red) or earlier is applied once the start is done,
     * not dropped. Here the start is held for a second by a server that accepts and never answers
     * (its first check waits for the check timeout), and the SIGHUP is sent during it.
     */
    @Test
    void aSighupWhileStartingIsAppliedOnceStarted() throws Exception {
        Path f = dir.resolve("lb.yaml");
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String yaml = TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), dir.resolve("lb.lock"))
                    + "      silent: { address: 127.0.0.1:" + silent.getLocalPort() + " }\n";
            Files.writeString(f, yaml);
            try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
                lb.awaitOutput("app-cluster/node1 UP");
                Files.writeString(f, yaml.replace("balance: leastconn", "balance: roundrobin"));
                new ProcessBuilder("kill", "-HUP", Long.toString(lb.pid())).start().waitFor();
                lb.awaitOutput("reload: generation 2 applied");

                String out = lb.output();
                assertThat(out).contains("SIGHUP received while starting")
                        .contains("app-cluster: changed balance");
                assertThat(out.indexOf("SIGHUP received while starting")).isLessThan(out.indexOf("galera-lb started"));
                assertThat(out.indexOf("galera-lb started")).isLessThan(out.indexOf("reload: generation 2 applied"));
            }
        }
    }

    @Test
    void watchConfigReloadsEachNewContentOnceAndOnlyNewContent() throws Exception {
        assertThat(cli("run", "--watch-config", "5ms").exitCode()).as("below 100ms").isEqualTo(2);
        Path f = dir.resolve("lb.yaml");
        String yaml = TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), dir.resolve("lb.lock"));
        Files.writeString(f, yaml);
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString(), "--watch-config", "100ms")) {
            lb.awaitOutput("galera-lb started");
            Files.writeString(f, yaml.replace("balance: leastconn", "balance: roundrobin"));
            lb.awaitOutput("reload: generation 2 applied");
            Files.writeString(f, yaml + "bogus: 1\n");
            lb.awaitOutput("reload refused, generation 2 keeps running");
            // As a ConfigMap update does: the new content under a new name, then a rename over the old.
            Path next = dir.resolve("lb.yaml.new");
            Files.writeString(next, yaml.replace("balance: leastconn", "balance: first"));
            Files.move(next, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            lb.awaitOutput("reload: generation 3 applied");
            String out = lb.output();
            assertThat(out).contains("changed (sha256 ");
            assertThat(out.lines().filter(l -> l.contains("reload refused")).count()).as("refused content not retried")
                    .isEqualTo(1);
        }
    }

    @Test
    void sighupAndTheReloadCommandBothReloadAndStatusShowsTheGeneration() throws Exception {
        int port = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        String yaml = TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock"));
        Files.writeString(f, yaml);
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started");

            Files.writeString(f, yaml.replace("balance: leastconn",
                    "balance: roundrobin"));
            new ProcessBuilder("kill", "-HUP", Long.toString(lb.pid())).start().waitFor();
            lb.awaitOutput("reload: generation 2 applied");
            assertThat(lb.output()).contains("SIGHUP received").contains("app-cluster: changed balance");

            Files.writeString(f, yaml);
            Run reload = cli("reload", "--config", f.toString());
            assertThat(reload.exitCode()).as(reload.err()).isZero();
            assertThat(reload.out()).startsWith("generation 3 applied in ").contains("app-cluster: changed balance");

            Files.writeString(f, yaml + "bogus: 1\n");
            Run refused = cli("reload", "--config", f.toString());
            assertThat(refused.exitCode()).as("invalid configuration").isEqualTo(3);
            assertThat(refused.err()).contains("reload refused, generation 3 keeps running")
                    .contains(f + ":" + (yaml.lines().count() + 1) + ": bogus: unknown key");

            Run status = cli("status", "--config", f.toString());
            assertThat(status.exitCode()).isZero();
            assertThat(status.out()).contains("PID " + lb.pid()).contains("generation 3")
                    .contains("; epoll, " + Runtime.getRuntime().availableProcessors() + " I/O thread(s), busy-poll 100us")
                    .contains("reload pending")
                    .contains("listener app-cluster on 127.0.0.1:" + port + " (leastconn)")
                    .containsPattern("node1 +127.0.0.1:" + GaleraCluster.sqlPort(1) + " +UP");
        }
        Run gone = cli("status", "--config", f.toString());
        assertThat(gone.exitCode()).as("not running").isEqualTo(5);
        assertThat(gone.err()).contains("galera-lb is not running");
    }

    @Test
    void switchoverStreamsEachStepAndStatusAndMetricsShowTheWriterAndItsLease() throws Exception {
        int port = TestConfigs.freePort();
        int adminPort = TestConfigs.freePort();
        String table = "cli_lease_" + ProcessHandle.current().pid();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, "lock-file: " + dir.resolve("lb.lock") + "\n" + TestConfigs.writerYaml(port, adminPort,
                new int[] {1, 2, 3}, "    writer-lease: { table: " + table + " }\n"));
        String url = TestConfigs.appUrl(port);
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString());
             Connection busy = awaitStartedAndConnect(lb, url)) {
            assertThat(GaleraCluster.nodeOf(busy)).isEqualTo("node1");
            Run status = cli("status", "--config", f.toString());
            assertThat(status.out()).contains("listener rw on 127.0.0.1:" + port + " (first)")
                    .contains("writer node1 since").contains("writer lease: node1, epoch 1, set ");

            busy.createStatement().execute("BEGIN"); // a transaction the switchover's timeout cuts
            Run moved = cli("switchover", "rw", "--to", "node3", "--timeout", "1s", "--config", f.toString());
            assertThat(moved.exitCode()).as(moved.err()).isZero();
            assertThat(moved.out().lines().toList()).containsSubsequence(
                    "new sessions wait for the new writer (each up to connect timeout 2s)",
                    "node1 set to DRAIN; its 1 session(s) close at their transaction boundaries, within 1s",
                    "writer lease: node3 recorded (epoch 2)",
                    "done: the writer of rw is node3")
                    .anyMatch(l -> l.startsWith("sessions of node1 closed after ") && l.endsWith(": 0 at a transaction "
                            + "boundary, 0 ended otherwise, 1 cut mid-transaction, 0 not followed (TLS, compression)"));
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).isEqualTo("node3");
            }

            Run refused = cli("switchover", "rw", "--to", "node1", "--config", f.toString());
            assertThat(refused.exitCode()).as("refused").isEqualTo(4);
            assertThat(refused.err()).contains("switchover refused: node1 is DRAIN (set by an operator)");

            assertThat(cli("status", "--config", f.toString()).out()).contains("writer node3 since")
                    .contains("(switchover from node1 by ").containsPattern("node1 +127.0.0.1:\\d+ +DRAIN");
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("galera_lb_writer{listener=\"rw\",server=\"node3\"} 1.0")
                    .contains("galera_lb_writer_lease_epoch{listener=\"rw\"} 2.0")
                    .contains("# TYPE galera_lb_writer_changes_total counter")
                    .containsPattern("galera_lb_writer_changes_total\\{listener=\"rw\"} [1-9]");
        } finally {
            GaleraCluster.execute(1, "DROP TABLE IF EXISTS galera_lb." + table);
        }
    }

    private static Connection awaitStartedAndConnect(GaleraLbProcess lb, String url) throws SQLException {
        lb.awaitOutput("galera-lb started");
        return DriverManager.getConnection(url);
    }
}
