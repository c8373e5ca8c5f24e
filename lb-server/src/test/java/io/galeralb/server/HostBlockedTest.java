package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every client behind galera-lb comes from galera-lb's address, so a node's host cache can block
 * them all (and the health checks) after max_connect_errors aborted handshakes: galera-lb says
 * what error 1129 is. The node is the standalone server, which resolves addresses as the Galera
 * nodes (skip-name-resolve) do not; galera-lb connects to it from 127.0.0.2, which unlike
 * 127.0.0.1 the server does not exempt.
 */
@ExtendWith(GaleraClusterExtension.class)
class HostBlockedTest {

    private static final String SOURCE = "127.0.0.2";

    @TempDir
    Path dir;
    private Path file;
    private GaleraLb lb;
    private String url;

    @BeforeEach
    void start() throws Exception {
        int node = GaleraCluster.startStandalone();
        int port = TestConfigs.freePort();
        file = dir.resolve("lb.yaml");
        Files.writeString(file, """
                listeners:
                  app:
                    bind: 127.0.0.1:%d
                    source: %s
                    health: { type: mysql, user: clustercheck, password-file: %s, interval: 500ms, timeout: 1s }
                    servers:
                      single: { address: 127.0.0.1:%d }
                """.formatted(port, SOURCE, TestConfigs.checkPasswordFile(), node));
        lb = GaleraLb.start(TestConfigs.parse(Files.readString(file)));
        url = TestConfigs.appUrl(port, "connectTimeout=5000");
    }

    @AfterEach
    void stop() {
        lb.close();
    }

    private Server server() {
        return lb.listener("app").pool().server("single");
    }

    /** Aborted handshakes from galera-lb's address, as broken clients behind it make them. */
    private static void abortHandshakesFromSource(int count, int port) throws Exception {
        for (int i = 0; i < count; i++) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(SOURCE, 0));
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                s.setSoTimeout(5000);
                s.getInputStream().read(new byte[512]);
                s.getOutputStream().write("\u0005\u0000\u0000\u0001garba".getBytes(StandardCharsets.ISO_8859_1));
                s.getInputStream().readAllBytes();
            }
        }
    }

    @Test
    void aNodeThatBlocksGaleraLbsAddressIsNamedAsSuchInSessionsChecksAndDoctor() throws Exception {
        await().until(() -> server().isUp());
        try (var c = DriverManager.getConnection(url)) {
            assertThat(c.isValid(5)).as("sessions come from " + SOURCE).isTrue();
        }
        GaleraCluster.executeOnStandalone("SET GLOBAL max_connect_errors = 2");
        abortHandshakesFromSource(2, server().config().address().port());

        try (LogCapture logs = new LogCapture()) {
            assertThatThrownBy(() -> DriverManager.getConnection(url)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1129));
            assertThat(server().hostBlocked()).isEqualTo(1);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN app/single: 1 session(s) refused by "
                    + "the node with error 1129: it blocks galera-lb's address /" + SOURCE + ":"));
        }
        // The check keeps its connection: once that ends (here killed, as a node restart would), it
        // opens a new one, which the node refuses.
        GaleraCluster.executeOnStandalone("BEGIN NOT ATOMIC FOR c IN (SELECT id FROM information_schema.processlist "
                + "WHERE user = 'clustercheck') DO KILL CONNECTION c.id; END FOR; END");
        await().atMost(Duration.ofSeconds(30)).until(() -> !server().isUp());
        assertThat(lb.health("app").snapshot().get("single").lastResult().reason())
                .startsWith("the node blocks galera-lb's address (error 1129: max_connect_errors aborted connections "
                        + "from it, and every client behind galera-lb counts as that one host); run FLUSH HOSTS");

        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(new StringWriter()));
        GaleraCluster.executeOnStandalone("FLUSH HOSTS");
        cmd.execute("doctor", "--config", file.toString());
        assertThat(out.toString()).contains("WARN").contains("max_connect_errors 2: behind galera-lb every client "
                + "counts as one host");
    }
}
