package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int code = cmd.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : new String[][] {{"--help"}, {"run", "--help"}, {"check", "--help"}}) {
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
    void checkRejectsABadFileNamingFileLineAndKey() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(3307).replace("balance: leastconn", "balance: leastcon"));
        Run r = cli("check", "--config", f.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains(f + ":5: listeners.app-cluster.balance: \"leastcon\" is not one of")
                .contains("did you mean 'leastconn'?");
    }

    @Test
    void runServesUntilSigtermLetsOpenSessionsFinishAndExitsZero() throws Exception {
        int port = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(port).replace("shutdown-grace: 2s", "shutdown-grace: 2m"));
        String url = "jdbc:mariadb://127.0.0.1:" + port + "/demo?user=app&password=app";
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started: 1 listener(s)");
            assertThat(lb.output()).contains("listener app-cluster on 127.0.0.1:" + port + " (leastconn")
                    .contains("listener app-cluster server node1 at 127.0.0.1:" + GaleraCluster.sqlPort(1));

            Connection open = DriverManager.getConnection(url);
            assertThat(queryNode(open)).startsWith("node");
            lb.terminate();
            lb.awaitOutput("waiting up to 2m for 1 open session(s)");

            // The open session goes on; new clients are no longer accepted.
            assertThat(queryNode(open)).startsWith("node");
            assertThatThrownBy(() -> DriverManager.getConnection(url + "&connectTimeout=2000").close())
                    .isInstanceOf(SQLException.class);
            open.close();

            assertThat(lb.waitForExit()).isZero();
            assertThat(lb.output()).contains("SIGTERM received").contains("galera-lb stopped");
        }
    }

    @Test
    void runRefusesABadConfigWithFileLineAndKey() throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.clusterYaml(TestConfigs.freePort()).replace("connect: 2s", "connect: soon"));
        try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
            assertThat(lb.waitForExit()).isEqualTo(1);
            assertThat(lb.output()).contains("refused to start")
                    .contains(f + ":6: listeners.app-cluster.timeouts.connect: bad duration \"soon\"");
        }
    }

    @Test
    void runRefusesAPortThatIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path f = dir.resolve("lb.yaml");
            Files.writeString(f, TestConfigs.clusterYaml(taken.getLocalPort()));
            try (GaleraLbProcess lb = GaleraLbProcess.start("run", "--config", f.toString())) {
                assertThat(lb.waitForExit()).isEqualTo(1);
                assertThat(lb.output()).contains("refused to start: cannot bind listener app-cluster on 127.0.0.1:"
                        + taken.getLocalPort());
            }
        }
    }

    private static String queryNode(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@wsrep_node_name")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
