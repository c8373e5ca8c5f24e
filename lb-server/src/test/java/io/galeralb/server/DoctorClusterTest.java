package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.server.process.Instance;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code galera-lb doctor} against the real cluster and real processes on the ports. */
@ExtendWith(GaleraClusterExtension.class)
class DoctorClusterTest {

    @TempDir
    Path dir;
    private Path file;
    private int port;
    private String yaml;

    private record Run(int exitCode, String out) {
    }

    @BeforeEach
    void writeConfig() throws Exception {
        port = TestConfigs.freePort();
        yaml = TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock"));
        file = dir.resolve("lb.yaml");
        Files.writeString(file, yaml);
    }

    private Run doctor() {
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(out));
        int code = cmd.execute("doctor", "--config", file.toString());
        return new Run(code, out.toString());
    }

    @Test
    void aHealthyClusterWithoutARunningInstanceOnlyWarnsThatItIsNotRunning() {
        Run r = doctor();
        assertThat(r.exitCode()).as(r.out()).isZero();
        assertThat(r.out()).contains("WARN  instance      galera-lb is not running for " + file)
                .contains("wsrep_cluster_size 3 on node1,node2,node3, 3 server(s) configured")
                .contains("all nodes answering are in one cluster: galera-lb-local")
                .endsWith("0 FAIL, 1 WARN, " + (r.out().lines().count() - 2) + " OK\n");
    }

    @Test
    void aWaitTimeoutMismatchIsReportedNamingTheNodeAndBothValues() throws Exception {
        GaleraCluster.execute(1, "SET GLOBAL wait_timeout = 10");
        Run r = doctor();
        assertThat(r.out()).contains("node1 127.0.0.1:" + GaleraCluster.sqlPort(1) + ": wait_timeout 10s")
                .contains("WARN  app-cluster   nodes disagree on wait_timeout: node1=10s node2,node3=28800s");
    }

    @Test
    void aNodeMissingFromTheClusterFails() {
        GaleraCluster.stopNode(3);
        Run r = doctor();
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL  app-cluster   node3 127.0.0.1:" + GaleraCluster.sqlPort(3)
                        + ": cannot be asked with the check credentials")
                .contains("FAIL  app-cluster   wsrep_cluster_size 2 on node1,node2, 3 server(s) configured: "
                        + "a configured node is not in the cluster");
    }

    @Test
    void aForeignProcessOnAConfiguredPortIsNamed() throws Exception {
        try (ServerSocket foreign = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            Run r = doctor();
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.out()).contains("FAIL  ports         listener app-cluster 127.0.0.1:" + port + " is held by PID "
                    + ProcessHandle.current().pid() + " (").contains("not by this configuration's galera-lb (not running)");
        }
    }

    @Test
    void aRunningInstanceWithAnOlderFileIsAReloadPending() throws Exception {
        Instance instance = Instance.start(file);
        try {
            Run current = doctor();
            assertThat(current.out()).contains("OK    instance      galera-lb PID " + ProcessHandle.current().pid()
                    + " runs this file (generation 1").contains("served by this configuration's galera-lb");
            Files.writeString(file, yaml.replace("balance: leastconn", "balance: roundrobin"));
            Run pending = doctor();
            assertThat(pending.out()).contains("WARN  instance      reload pending: galera-lb PID "
                    + ProcessHandle.current().pid() + " runs generation 1").contains("run 'galera-lb reload'");
        } finally {
            instance.shutdown();
        }
    }
}
