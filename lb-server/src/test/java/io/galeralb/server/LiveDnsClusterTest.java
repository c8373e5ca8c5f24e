package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live DNS against the real cluster: a server named {@code node.galera.test}, served by a
 * dnsmasq the test starts, first at 127.0.0.1 (node1's port) and then at 127.0.0.2, where socat
 * forwards the same port to node2.
 */
@ExtendWith(GaleraClusterExtension.class)
class LiveDnsClusterTest {

    private static final String NAME = "node.galera.test";
    private static final Path DNSMASQ = Path.of("/usr/sbin/dnsmasq");

    @TempDir
    Path dir;
    private Path hosts;
    private Process dnsmasq;
    private Process socat;
    private GaleraLb lb;
    private String url;

    @BeforeEach
    void start() throws Exception {
        assertThat(DNSMASQ).as("dnsmasq (scripts/install-deps installs dnsmasq-base)").isExecutable();
        hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 " + NAME + "\n");
        int dnsPort = TestConfigs.freePort();
        dnsmasq = new ProcessBuilder(DNSMASQ.toString(), "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=" + dnsPort, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hosts, "--local-ttl=1", "--user=root", "--pid-file=")
                .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile()).start();
        int node1 = GaleraCluster.sqlPort(1);
        socat = new ProcessBuilder("socat", "TCP-LISTEN:" + node1 + ",bind=127.0.0.2,fork,reuseaddr",
                "TCP:127.0.0.1:" + GaleraCluster.sqlPort(2))
                .redirectErrorStream(true).redirectOutput(dir.resolve("socat.log").toFile()).start();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.2", node1), 1000);
                return true;
            }
        });
        int port = TestConfigs.freePort();
        // An interval of an hour: the change is seen within seconds only because dnsmasq answers with a TTL of 1s.
        String yaml = TestConfigs.clusterYaml(port, "    resolve-interval: 1h\n")
                .replaceFirst("(?s)    servers:\n.*", "    servers:\n      db: { address: " + NAME + ":" + node1 + " }\n");
        lb = GaleraLb.start(TestConfigs.parse("dns: { nameservers: [127.0.0.1:" + dnsPort + "] }\n" + yaml));
        url = TestConfigs.appUrl(port);
    }

    @AfterEach
    void stop() throws Exception {
        if (lb != null) {
            lb.close();
        }
        for (Process p : new Process[] {socat, dnsmasq}) {
            if (p != null) {
                p.destroy();
                p.waitFor();
            }
        }
    }

    private Server db() {
        return lb.listener("app-cluster").pool().server("db");
    }

    @Test
    void newSessionsAndChecksFollowTheNamesNewAddressWithinItsTtlOpenSessionsStayAndAFailedLookupKeepsTheLast()
            throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> db().takesSessions());
        assertThat(db().address()).isEqualTo(new InetSocketAddress("127.0.0.1", GaleraCluster.sqlPort(1)));
        try (Connection before = DriverManager.getConnection(url)) {
            assertThat(GaleraCluster.nodeOf(before)).isEqualTo("node1");

            Files.writeString(hosts, "127.0.0.2 " + NAME + "\n");
            new ProcessBuilder("kill", "-HUP", Long.toString(dnsmasq.pid())).start().waitFor(); // re-reads its hosts
            await().atMost(Duration.ofSeconds(15)).until(() -> db().address().getAddress().getHostAddress()
                    .equals("127.0.0.2"));
            try (Connection after = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(after)).as("a new session: the new address").isEqualTo("node2");
            }
            assertThat(GaleraCluster.nodeOf(before)).as("the open session stays where it was").isEqualTo("node1");

            // The check follows the name too: node1 desynced does not take the server DOWN any more.
            GaleraCluster.execute(1, "SET GLOBAL wsrep_desync=ON");
            Duration detection = TestConfigs.INTERVAL.plus(TestConfigs.TIMEOUT).multipliedBy(TestConfigs.FALL + 2L);
            long checks = lb.health("app-cluster").snapshot().get("db").checks();
            await().atMost(detection.plusSeconds(10)).until(() ->
                    lb.health("app-cluster").snapshot().get("db").checks() > checks + TestConfigs.FALL + 1);
            assertThat(db().isUp()).as("checked at node2 now").isTrue();

            dnsmasq.destroy();
            dnsmasq.waitFor();
            await().atMost(Duration.ofSeconds(30)).until(() -> !db().addressProblem().isEmpty());
            assertThat(db().addressProblem()).startsWith("cannot resolve " + NAME + ": ").endsWith("keeping 127.0.0.2");
            assertThat(db().address().getAddress().getHostAddress()).isEqualTo("127.0.0.2");
            try (Connection during = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(during)).as("the last good address").isEqualTo("node2");
            }
            assertThat(db().isUp()).isTrue();
        }
    }
}
