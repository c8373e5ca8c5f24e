package io.galeralb.server;

import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Configurations for tests, written as YAML the way an operator would. */
final class TestConfigs {

    private TestConfigs() {
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A listener named app-cluster on {@code port} in front of the three local nodes. */
    static String clusterYaml(int port) {
        StringBuilder sb = new StringBuilder("""
                shutdown-grace: 2s
                listeners:
                  app-cluster:
                    bind: 127.0.0.1:%d
                    balance: leastconn
                    timeouts: { connect: 2s }
                    servers:
                """.formatted(port));
        for (int n = 1; n <= GaleraCluster.NODES; n++) {
            sb.append("      ").append(GaleraCluster.nodeName(n)).append(": { address: 127.0.0.1:")
                    .append(GaleraCluster.sqlPort(n)).append(" }\n");
        }
        return sb.toString();
    }

    static GaleraLbConfig cluster(int port) {
        try {
            return ConfigLoader.parse("test.yaml", clusterYaml(port));
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }
}
