package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS against nodes that require it (require_secure_transport=ON): the checks over verify-full,
 * the reasons when they cannot pass, and a client's own TLS passed through galera-lb untouched.
 */
@ExtendWith(GaleraClusterExtension.class)
class TlsClusterTest {

    private GaleraLb lb;

    @AfterEach
    void stop() {
        if (lb != null) {
            lb.close();
        }
    }

    private GaleraLb start(int port, String tls, String listenerExtra) throws Exception {
        String yaml = TestConfigs.clusterYaml(port, tls.isEmpty() ? "" : "      tls: " + tls + "\n")
                .replace("    balance: leastconn\n", "    balance: leastconn\n" + listenerExtra);
        return GaleraLb.start(TestConfigs.parse(yaml));
    }

    private static void requireTls() throws Exception {
        GaleraCluster.executeOnEveryNode("SET GLOBAL require_secure_transport=ON");
    }

    private List<Server> servers() {
        return lb.listener("app-cluster").pool().servers();
    }

    private void awaitAll(Predicate<Server> state) {
        await().atMost(Duration.ofSeconds(30)).until(() -> servers().stream().allMatch(state));
    }

    @Test
    void verifyFullChecksPassAndAClientsOwnVerifyFullSessionPassesThroughWithSendProxy() throws Exception {
        GaleraCluster.execute(1, "CREATE USER IF NOT EXISTS 'app3'@'127.0.0.3' IDENTIFIED BY 'app3'",
                "GRANT SELECT ON demo.* TO 'app3'@'127.0.0.3'");
        GaleraCluster.executeOnEveryNode("SET GLOBAL proxy_protocol_networks='127.0.0.1'");
        requireTls();
        int port = TestConfigs.freePort();
        lb = start(port, "{ mode: verify-full, ca-file: " + GaleraCluster.tlsFile("ca.pem") + " }",
                "    send-proxy: v2\n");
        awaitAll(Server::isUp);
        String url = "jdbc:mariadb://127.0.0.1:" + port + "/demo?user=app3&password=app3&sslMode=verify-full"
                + "&serverSslCert=" + GaleraCluster.tlsFile("ca.pem") + "&localSocketAddress=127.0.0.3";
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT USER(), (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                     + "WHERE VARIABLE_NAME = 'Ssl_version')")) {
            rs.next();
            assertThat(rs.getString(1)).as("send-proxy named the client").isEqualTo("app3@127.0.0.3");
            assertThat(rs.getString(2)).as("the session's own TLS, end to end").startsWith("TLSv1.");
        }
    }

    @Test
    void aCheckUserThatRequiresX509PassesWithTheClientCertificateOnly() throws Exception {
        GaleraCluster.execute(1, "CREATE USER IF NOT EXISTS 'checkx509'@'127.0.0.1' IDENTIFIED BY 'clustercheck' "
                + "REQUIRE X509", "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'checkx509'@'127.0.0.1'");
        String ca = "ca-file: " + GaleraCluster.tlsFile("ca.pem");
        lb = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(TestConfigs.freePort(),
                "      tls: { mode: verify-full, " + ca + " }\n").replace("user: clustercheck", "user: checkx509")));
        awaitAll(s -> !s.isUp() && s.downReason().contains("access denied for check user 'checkx509'"));
        lb.close();

        lb = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(TestConfigs.freePort(),
                "      tls: { mode: verify-full, " + ca + ", cert-file: " + GaleraCluster.tlsFile("client.pem")
                        + ", key-file: " + GaleraCluster.tlsFile("client-key.pem") + " }\n")
                .replace("user: clustercheck", "user: checkx509")));
        awaitAll(Server::isUp);
    }

    @Test
    void aCheckWithoutTlsAWrongCaOrANameTheCertificateLacksSaysSo() throws Exception {
        requireTls();
        lb = start(TestConfigs.freePort(), "", "");
        awaitAll(s -> !s.isUp() && s.downReason().contains("the node requires TLS"));
        System.out.println("== no tls: " + servers().get(0).downReason());
        lb.close();

        lb = start(TestConfigs.freePort(), "{ mode: verify-full, ca-file: " + GaleraCluster.tlsFile("other-ca.pem") + " }", "");
        awaitAll(s -> !s.isUp() && s.downReason().contains("TLS: the node's certificate is not signed by ca-file "
                + GaleraCluster.tlsFile("other-ca.pem")));
        System.out.println("== wrong CA: " + servers().get(0).downReason());
        lb.close();

        int port = TestConfigs.freePort();
        String byName = TestConfigs.clusterYaml(port, "      tls: { mode: verify-full, ca-file: "
                + GaleraCluster.tlsFile("ca.pem") + " }\n").replace("address: 127.0.0.1:", "address: localhost:");
        lb = GaleraLb.start(TestConfigs.parse(byName));
        awaitAll(s -> !s.isUp() && s.downReason().contains("TLS: the node's certificate does not name the address"));
        System.out.println("== verify-full to localhost: " + servers().get(0).downReason());
        lb.close();

        port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.parse(byName.replace("mode: verify-full", "mode: verify-ca")));
        awaitAll(Server::isUp);
    }
}
