package io.galeralb.server;

import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.server.process.Instance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.function.IntFunction;

/** Configurations for tests, written as YAML the way an operator would. */
final class TestConfigs {

    private TestConfigs() {
    }

    /**
     * Test ports come from below the kernel's ephemeral range (where it picks the local port of
     * every outgoing connection and of every bind to port 0), so that nothing on the machine can
     * take one between the test choosing it and galera-lb binding it; and from below the local
     * cluster's ports (23306 and up).
     */
    private static final int FIRST_PORT = 10_000;
    private static final int END_PORT = Math.min(GaleraCluster.sqlPort(1) - 306, ephemeralLow());
    /** The next port to try; each JVM starts at its own place, so that two never compete. */
    private static int next = FIRST_PORT + (int) (ProcessHandle.current().pid() * 97 % (END_PORT - FIRST_PORT));

    /** A loopback port free now and never handed out before in this JVM (two calls never collide). */
    static synchronized int freePort() {
        for (int tried = 0; tried < END_PORT - FIRST_PORT; tried++) {
            int port = next;
            next = next + 1 < END_PORT ? next + 1 : FIRST_PORT;
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // taken by a process of this machine: the next one
            }
        }
        throw new IllegalStateException("no free loopback port in " + FIRST_PORT + "-" + END_PORT);
    }

    /**
     * The first port the kernel hands out by itself ({@code net.ipv4.ip_local_port_range}). Read
     * through a buffer: a sysctl file answers a one-byte first read (what {@code Files.readString}
     * makes of a file of size 0) with one byte, and the next with none.
     */
    private static int ephemeralLow() {
        try (var in = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            return Integer.parseInt(in.readLine().trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the kernel's ephemeral port range", e);
        }
    }

    /** The demo database through galera-lb on {@code port}, as the application user, connect timeout 10 s. */
    static String appUrl(int port) {
        return appUrl(port, "connectTimeout=10000");
    }

    /** As {@link #appUrl(int)}, with {@code params} (e.g. {@code connectTimeout=5000&useSsl=false}) in place of the timeout. */
    static String appUrl(int port, String params) {
        return "jdbc:mariadb://127.0.0.1:" + port + "/demo?user=app&password=app&" + params;
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

    /*
     * The health-check pace of the cluster tests. A fast default keeps the suite short; run with
     * e.g. -Dgaleralb.test.health.interval=2s to measure detection times at galera-lb's defaults.
     */
    static final Duration INTERVAL = Durations.parse(System.getProperty("galeralb.test.health.interval", "500ms"));
    static final Duration TIMEOUT = Durations.parse(System.getProperty("galeralb.test.health.timeout", "1s"));
    static final int RISE = Integer.getInteger("galeralb.test.health.rise", 2);
    static final int FALL = Integer.getInteger("galeralb.test.health.fall", 3);

    /**
     * A listener named app-cluster on {@code port} in front of the three local nodes, with a
     * Galera check at the test pace ({@link #INTERVAL}, {@link #TIMEOUT}, {@link #RISE}, {@link #FALL}).
     */
    static String clusterYaml(int port) {
        return clusterYaml(port, "");
    }

    /**
     * A whole process configuration for {@link Instance}: the cluster listener, its own admin
     * port and lock file (so that tests never meet another instance), and a short drain-timeout.
     */
    static String instanceYaml(int port, int adminPort, Path lockFile) {
        return "admin: { bind: 127.0.0.1:" + adminPort + " }\nlock-file: " + lockFile + "\ndrain-timeout: 1s\n"
                + clusterYaml(port);
    }

    /** As {@link #instanceYaml(int, int, Path)}, with an admin token: see {@link #withAdminToken}. */
    static String instanceYaml(int port, int adminPort, Path lockFile, Path dir, String token) throws IOException {
        return withAdminToken(instanceYaml(port, adminPort, lockFile), adminPort, dir, token);
    }

    /** {@code yaml} whose admin API on {@code adminPort} takes {@code token}, kept in a 0600 file in {@code dir}. */
    static String withAdminToken(String yaml, int adminPort, Path dir, String token) throws IOException {
        Path file = dir.resolve("admin.token");
        Files.writeString(file, token + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        String admin = "admin: { bind: 127.0.0.1:" + adminPort + " }";
        if (!yaml.contains(admin)) {
            throw new IllegalArgumentException("no '" + admin + "' in the configuration");
        }
        return yaml.replace(admin, "admin: { bind: 127.0.0.1:" + adminPort + ", token-file: " + file + " }");
    }

    /** As {@link #clusterYaml(int)}, with extra lines in the health section (indented by the caller's text). */
    static String clusterYaml(int port, String extraHealth) {
        return listenerYaml("app-cluster", port, "leastconn", extraHealth, node -> "");
    }

    /**
     * A {@code balance: first} listener named rw on {@code port} in front of the three nodes,
     * with node priorities in the order given ({@code priorities[0]} for node1), the test pace
     * of health checks, an admin address of its own (which names the instance in a lease), and
     * {@code extra} lines for the listener (failback, writer-lease).
     */
    static String writerYaml(int port, int adminPort, int[] priorities, String extra) {
        return "admin: { bind: 127.0.0.1:" + adminPort + " }\n"
                + listenerYaml("rw", port, "first", extra, node -> ", priority: " + priorities[node - 1]);
    }

    /**
     * One listener in front of the three local nodes with a Galera check at the test pace;
     * {@code extra} goes after the health section, {@code serverExtra} after each node's address.
     */
    private static String listenerYaml(String name, int port, String balance, String extra,
                                       IntFunction<String> serverExtra) {
        StringBuilder sb = new StringBuilder("""
                shutdown-grace: 2s
                listeners:
                  %s:
                    bind: 127.0.0.1:%d
                    balance: %s
                    timeouts: { connect: 2s }
                    health:
                      type: galera
                      user: clustercheck
                      password-file: %s
                      interval: %s
                      timeout: %s
                      rise: %d
                      fall: %d
                %s    servers:
                """.formatted(name, port, balance, CHECK_PASSWORD, Durations.format(INTERVAL), Durations.format(TIMEOUT),
                RISE, FALL, extra));
        for (int n = 1; n <= GaleraCluster.NODES; n++) {
            sb.append("      ").append(GaleraCluster.nodeName(n)).append(": { address: 127.0.0.1:")
                    .append(GaleraCluster.sqlPort(n)).append(serverExtra.apply(n)).append(" }\n");
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
