package io.galeralb.server;

import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;

/**
 * What the package tests run: a listener in front of the local cluster whose check password
 * comes from {@code GALERA_LB_CHECK_PASSWORD}, as the packages keep secrets.
 */
final class PackagedConfig {

    private PackagedConfig() {
    }

    /** The admin API on {@code adminPort}, listener app-cluster on {@code port}, {@code extra} lines at its end. */
    static String yaml(int adminPort, int port, String extra) {
        return """
                admin: { bind: 127.0.0.1:%d }
                listeners:
                  app-cluster:
                    bind: 127.0.0.1:%d
                    health: { type: galera, user: clustercheck, password-env: GALERA_LB_CHECK_PASSWORD, interval: 500ms }
                    servers:
                      node1: { address: 127.0.0.1:%d }
                      node2: { address: 127.0.0.1:%d }
                      node3: { address: 127.0.0.1:%d }
                """.formatted(adminPort, port, GaleraCluster.sqlPort(1), GaleraCluster.sqlPort(2),
                GaleraCluster.sqlPort(3)) + extra;
    }

    /** Waits until a session through {@code port} reaches a node. */
    static void awaitSession(int port) {
        String url = TestConfigs.appUrl(port);
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> {
            try (Connection c = DriverManager.getConnection(url)) {
                return GaleraCluster.nodeOf(c).startsWith("node");
            }
        });
    }
}
