package io.galeralb.server;

import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /** The local cluster's check password, in a file as an operator would keep it. */
    static Path checkPasswordFile() {
        try {
            Path f = Files.createTempFile("galera-lb-check", ".password");
            f.toFile().deleteOnExit();
            Files.writeString(f, "clustercheck\n");
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Path CHECK_PASSWORD = checkPasswordFile();

    /**
     * A listener named app-cluster on {@code port} in front of the three local nodes, with a
     * Galera check at a test pace: interval 500ms, timeout 1s, rise 2, fall 3.
     */
    static String clusterYaml(int port) {
        return clusterYaml(port, "");
    }

    /** As {@link #clusterYaml(int)}, with extra lines in the health section (indented by the caller's text). */
    static String clusterYaml(int port, String extraHealth) {
        StringBuilder sb = new StringBuilder("""
                shutdown-grace: 2s
                listeners:
                  app-cluster:
                    bind: 127.0.0.1:%d
                    balance: leastconn
                    timeouts: { connect: 2s }
                    health:
                      type: galera
                      user: clustercheck
                      password-file: %s
                      interval: 500ms
                      timeout: 1s
                      rise: 2
                      fall: 3
                %s    servers:
                """.formatted(port, CHECK_PASSWORD, extraHealth));
        for (int n = 1; n <= GaleraCluster.NODES; n++) {
            sb.append("      ").append(GaleraCluster.nodeName(n)).append(": { address: 127.0.0.1:")
                    .append(GaleraCluster.sqlPort(n)).append(" }\n");
        }
        return sb.toString();
    }

    static GaleraLbConfig cluster(int port) {
        return parse(clusterYaml(port));
    }

    static GaleraLbConfig parse(String yaml) {
        try {
            return ConfigLoader.parse("test.yaml", yaml);
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }
}
