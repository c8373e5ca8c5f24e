package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nodes see the real client: a user granted only from 127.0.0.3 logs in through galera-lb
 * with send-proxy, and through HAProxy (send-proxy-v2) in front of galera-lb with accept-proxy.
 */
@ExtendWith(GaleraClusterExtension.class)
class ProxyProtocolClusterTest {

    @TempDir
    Path dir;

    private GaleraLb lb;
    private Process haproxy;

    @BeforeEach
    void grantFromOneAddressOnly() throws SQLException {
        GaleraCluster.execute(1, "CREATE USER IF NOT EXISTS 'app3'@'127.0.0.3' IDENTIFIED BY 'app3'",
                "GRANT SELECT ON demo.* TO 'app3'@'127.0.0.3'");
        // The nodes take a header from galera-lb's address; without one they see the connection's.
        GaleraCluster.executeOnEveryNode("SET GLOBAL proxy_protocol_networks='127.0.0.1'");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (lb != null) {
            lb.close();
        }
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private GaleraLb start(int port, String listenerExtra) throws Exception {
        String yaml = TestConfigs.clusterYaml(port).replace("    balance: leastconn\n",
                "    balance: leastconn\n" + listenerExtra);
        GaleraLb started = GaleraLb.start(TestConfigs.parse(yaml));
        await().atMost(Duration.ofSeconds(30)).until(() -> started.listener("app-cluster").pool().servers().stream()
                .allMatch(s -> s.isUp()));
        return started;
    }

    private static String userFrom(String localAddress, int port) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port
                + "/demo?user=app3&password=app3&connectTimeout=10000&localSocketAddress=" + localAddress);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT USER(), (SELECT HOST FROM information_schema.PROCESSLIST "
                     + "WHERE ID = CONNECTION_ID())")) {
            rs.next();
            assertThat(rs.getString(2)).as("the processlist's host").startsWith("127.0.0.3:");
            return rs.getString(1);
        }
    }

    @Test
    void withSendProxyTheNodeSeesTheClientsAddressAndItsGrantsApply() throws Exception {
        int direct = TestConfigs.freePort();
        lb = start(direct, "");
        assertThatThrownBy(() -> userFrom("127.0.0.3", direct)).as("without send-proxy").isInstanceOf(SQLException.class)
                .hasMessageContaining("Access denied for user 'app3'@'127.0.0.1'");
        lb.close();

        for (String version : new String[] {"v2", "v1"}) {
            int port = TestConfigs.freePort();
            lb = start(port, "    send-proxy: " + version + "\n");
            String user = userFrom("127.0.0.3", port);
            System.out.println("== send-proxy " + version + ": SELECT USER() from 127.0.0.3 through galera-lb: " + user);
            assertThat(user).isEqualTo("app3@127.0.0.3");
            assertThatThrownBy(() -> userFrom("127.0.0.4", port)).as("the grant is 127.0.0.3's only")
                    .isInstanceOf(SQLException.class).hasMessageContaining("'127.0.0.4'");
            assertThat(lb.listener("app-cluster").pool().servers()).as("checks need no header").allMatch(s -> s.isUp());
            lb.close();
        }
        lb = null;
    }

    @Test
    void anIpv6ClientIsNamedInATcp6HeaderToAnIpv4Node() throws Exception {
        GaleraCluster.execute(1, "CREATE USER IF NOT EXISTS 'app6'@'::1' IDENTIFIED BY 'app6'",
                "GRANT SELECT ON demo.* TO 'app6'@'::1'");
        int port = TestConfigs.freePort();
        String yaml = TestConfigs.clusterYaml(port).replace("bind: 127.0.0.1:" + port, "bind: \"[::1]:" + port + "\"")
                .replace("    balance: leastconn\n", "    balance: leastconn\n    send-proxy: v2\n");
        lb = GaleraLb.start(TestConfigs.parse(yaml));
        await().atMost(Duration.ofSeconds(30)).until(() -> lb.listener("app-cluster").pool().servers().stream()
                .allMatch(s -> s.isUp()));
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://[::1]:" + port
                + "/demo?user=app6&password=app6&connectTimeout=10000");
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT USER()")) {
            rs.next();
            System.out.println("== send-proxy v2 from [::1] through galera-lb: " + rs.getString(1));
            assertThat(rs.getString(1)).isEqualTo("app6@::1");
        }
    }

    @Test
    void haproxyInFrontWithSendProxyV2AndGaleraLbWithAcceptProxyPassTheClientOn() throws Exception {
        int port = TestConfigs.freePort();
        lb = start(port, "    send-proxy: v2\n    accept-proxy: true\n    trusted-proxies: [127.0.0.1]\n");
        int front = TestConfigs.freePort();
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, """
                global
                  maxconn 100
                defaults
                  mode tcp
                  timeout connect 5s
                  timeout client 1m
                  timeout server 1m
                listen mysql
                  bind 127.0.0.1:%d
                  server galera-lb 127.0.0.1:%d send-proxy-v2
                """.formatted(front, port));
        haproxy = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        String user = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> userFrom("127.0.0.3", front), u -> u != null);
        System.out.println("== HAProxy send-proxy-v2 -> galera-lb accept-proxy, send-proxy v2: SELECT USER() from "
                + "127.0.0.3: " + user);
        assertThat(user).isEqualTo("app3@127.0.0.3");
        assertThat(lb.listener("app-cluster").refusedProxyHeader()).isZero();

        // Straight to galera-lb, bypassing HAProxy: no header comes, and the client is not guessed.
        assertThatThrownBy(() -> DriverManager.getConnection(TestConfigs.appUrl(port,
                "connectTimeout=10000&socketTimeout=10000")))
                .isInstanceOf(SQLException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> lb.listener("app-cluster").refusedProxyHeader() == 1);
    }
}
