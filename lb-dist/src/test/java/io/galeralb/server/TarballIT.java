package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The tarball unpacked into an empty directory and run from there, as an operator without the package would. */
@ExtendWith(GaleraClusterExtension.class)
class TarballIT {

    @TempDir
    Path dir;

    private Path unpack() {
        Path tarball = Command.builtArtifact("galera-lb-*.tar.gz");
        Command.ok("tar", "-xzf", tarball.toString(), "-C", dir.toString());
        try (Stream<Path> top = Files.list(dir)) {
            List<Path> roots = top.toList();
            assertThat(roots).hasSize(1);
            assertThat(roots.get(0).getFileName().toString()).isEqualTo(tarball.getFileName().toString()
                    .replace(".tar.gz", ""));
            return roots.get(0);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A configuration in front of the local cluster, written into the unpacked conf/. */
    private static Path demoConfig(Path home, int port) throws IOException {
        Path conf = home.resolve("conf/demo.yaml");
        String yaml = PackagedConfig.yaml(TestConfigs.freePort(), port, """
                  wrong-password:
                    bind: 127.0.0.1:%d
                    health: { type: galera, user: clustercheck, password-env: WRONG_PASSWORD, interval: 200ms }
                    servers:
                      node1: { address: 127.0.0.1:%d }
                """.formatted(TestConfigs.freePort(), GaleraCluster.sqlPort(1)))
                .replace("listeners:\n", "lock-file: " + home.resolve("galera-lb.lock") + "\nlisteners:\n")
                .replace("    bind: 127.0.0.1:" + port + "\n", "    bind: 127.0.0.1:" + port + "\n    session-log: on\n");
        Files.writeString(conf, yaml);
        return conf;
    }

    private static final Map<String, String> ENV = Map.of("GALERA_LB_CHECK_PASSWORD", "clustercheck",
            "WRONG_PASSWORD", "not-the-password", "GALERA_LB_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid");

    /** Sends SIGTERM to galera-lb's JVM, {@code p} or the one process under it (strace), and waits for {@code p}. */
    private static int stop(Process p) throws InterruptedException {
        Command.ok("kill", "-TERM", Long.toString(jvm(p)));
        assertThat(p.waitFor(1, TimeUnit.MINUTES)).as("stops on SIGTERM").isTrue();
        return p.exitValue();
    }

    private static long jvm(Process p) {
        return Stream.concat(Stream.of(p.toHandle()), p.descendants())
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no JVM in " + p.info())).pid();
    }

    @Test
    void unpackedAnywhereItRunsItsDemoConfigurationFromBin() throws Exception {
        Path home = unpack();
        for (String f : List.of("bin/galera-lb", "conf/galera-lb.yaml", "systemd/galera-lb.service", "LICENSE",
                "grafana/galera-lb-dashboard.json",
                "README.md", "THIRD-PARTY.txt")) {
            assertThat(home.resolve(f)).as(f).isRegularFile();
        }
        assertThat(home.resolve("bin/galera-lb")).isExecutable();
        try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
            assertThat(jars.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("lb-server-"))
                    .anyMatch(n -> n.startsWith("netty-transport-native-epoll-"));
        }
        Path launcher = home.resolve("bin/galera-lb");
        assertThat(Command.ok(launcher.toString(), "--version").output()).startsWith("galera-lb 0.");
        assertThat(Command.run(launcher.toString(), "check", "--config", home.resolve("conf/galera-lb.yaml").toString())
                .output()).as("the shipped example names its one secret").contains("GALERA_LB_CHECK_PASSWORD is not set");

        int port = TestConfigs.freePort();
        Path conf = demoConfig(home, port);
        Path log = dir.resolve("run.log");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "run", "--config", conf.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(ENV);
        Process lb = pb.start();
        try {
            PackagedConfig.awaitSession(port);
            assertThat(Command.run(ENV, launcher.toString(), "status", "--config", conf.toString()).output())
                    .contains("listener app-cluster on 127.0.0.1:" + port);
            // A check failing its login every 200 ms: failures go on after the transition is logged.
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(log).contains("wrong-password/node1 DOWN"));
            await().atMost(Duration.ofMinutes(1)).until(() -> Command.run(ENV, launcher.toString(), "status", "--json",
                    "--config", conf.toString()).output().contains("access denied for check user"));
        } finally {
            assertThat(stop(lb)).as(Files.readString(log)).isZero();
        }
        String out = Files.readString(log);
        assertThat(out).contains("galera-lb started").doesNotContain("LEAK: ");
        assertThat(out.lines().filter(l -> l.contains("wrong-password/node1 DOWN"))).as("one transition line").hasSize(1);
        assertThat(out).as("the driver's own line per failed login").doesNotContain("ErrorPacket");
    }

    /**
     * The shipped logback files: JSON lines with the session log's fields as key-value pairs, and
     * syslog with the session log on facility LOCAL0 (a UDP socket on port 514 stands for rsyslog).
     */
    @Test
    void theShippedJsonAndSyslogConfigurationsCarryTheSessionLog() throws Exception {
        Path home = unpack();
        for (String f : List.of("logback/logback-json.xml", "logback/logback-syslog.xml")) {
            assertThat(home.resolve(f)).as(f).isRegularFile();
        }
        int port = TestConfigs.freePort();
        Path conf = demoConfig(home, port);

        Path log = dir.resolve("json.log");
        Process json = startWith(home, conf, "logback/logback-json.xml", log);
        try {
            PackagedConfig.awaitSession(port);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("\"end\":\"client_closed\""));
        } finally {
            assertThat(stop(json)).as(Files.readString(log)).isZero();
        }
        List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
        assertThat(lines).isNotEmpty();
        for (String line : lines) {
            assertThat(com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(line)).as(line).containsKey("message");
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"loggerName\":\"galera-lb.session\"")
                .contains("\"listener\":\"app-cluster\"").contains("\"end\":\"client_closed\""));

        try (java.net.DatagramSocket syslog = new java.net.DatagramSocket(514, java.net.InetAddress.getLoopbackAddress())) {
            syslog.setSoTimeout(30_000);
            Process sys = startWith(home, conf, "logback/logback-syslog.xml", dir.resolve("syslog.log"));
            try {
                PackagedConfig.awaitSession(port);
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[4096], 4096);
                String got;
                do {
                    syslog.receive(p);
                    got = new String(p.getData(), 0, p.getLength(), java.nio.charset.StandardCharsets.UTF_8);
                } while (!got.contains("end=client_closed"));
                // PRI 134: facility LOCAL0 (16), severity informational (6).
                assertThat(got).startsWith("<134>").contains("galera-lb[").contains("app-cluster 127.0.0.1:");
            } finally {
                assertThat(stop(sys)).isZero();
            }
        }
    }

    private Process startWith(Path home, Path conf, String logback, Path log) throws java.io.IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/galera-lb").toString(), "run", "--config", conf.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(ENV);
        pb.environment().put("GALERA_LB_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid -Dlogback.configurationFile="
                + home.resolve(logback));
        return pb.start();
    }

    /**
     * Every system call galera-lb makes while it starts, checks, serves a session, reloads and
     * stops is one the unit's SystemCallFilter allows: a call it denied would fail with EPERM
     * only under systemd, which does not run here.
     */
    @Test
    void everySystemCallItMakesIsOneTheUnitAllows() throws Exception {
        Path home = unpack();
        int port = TestConfigs.freePort();
        Path conf = demoConfig(home, port);
        Path counts = dir.resolve("strace.txt");
        Path log = dir.resolve("run.log");
        ProcessBuilder pb = new ProcessBuilder("strace", "-f", "-qq", "-c", "-o", counts.toString(),
                home.resolve("bin/galera-lb").toString(), "run", "--config", conf.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(ENV);
        Process traced = pb.start();
        try {
            PackagedConfig.awaitSession(port);
            Files.writeString(conf, Files.readString(conf).replace("interval: 500ms", "interval: 1s"));
            Command.ok("kill", "-HUP", Long.toString(jvm(traced)));
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(log).contains("generation 2 applied"));
            PackagedConfig.awaitSession(port);
        } finally {
            assertThat(stop(traced)).as(Files.readString(log)).isZero();
        }
        Set<String> made = new TreeSet<>();
        for (String line : Files.readAllLines(counts)) {
            String[] cols = line.trim().split("\\s+");
            String name = cols[cols.length - 1];
            if (cols.length >= 5 && name.matches("[a-z_0-9]+") && !name.equals("total") && !name.equals("syscall")) {
                made.add(name);
            }
        }
        assertThat(made).as("strace counted the calls").contains("epoll_wait", "accept4", "connect");

        List<String> filter = Files.readAllLines(home.resolve("systemd/galera-lb.service")).stream()
                .filter(l -> l.startsWith("SystemCallFilter=")).map(l -> l.substring("SystemCallFilter=".length()))
                .toList();
        assertThat(filter).as("an allow list, then what it denies").hasSize(2);
        assertThat(filter.get(1)).startsWith("~");
        Map<String, List<String>> groups = syscallGroups();
        Set<String> allowed = expand(List.of(filter.get(0).split(" ")), groups);
        allowed.removeAll(expand(List.of(filter.get(1).substring(1).split(" ")), groups));
        Set<String> denied = new TreeSet<>(made);
        denied.removeAll(allowed);
        System.out.println("== " + made.size() + " distinct system calls made under strace, all allowed: " + denied.isEmpty());
        assertThat(denied).as("system calls galera-lb makes that the unit would deny").isEmpty();
    }

    /** systemd's named groups of system calls, from systemd-analyze, as group -> members (names or groups). */
    private static Map<String, List<String>> syscallGroups() {
        Map<String, List<String>> groups = new HashMap<>();
        List<String> current = null;
        for (String line : Command.ok("systemd-analyze", "syscall-filter").output().lines().toList()) {
            if (line.startsWith("@")) {
                current = new ArrayList<>();
                groups.put(line.split("\\s+")[0], current);
            } else if (current != null && !line.isBlank() && !line.strip().startsWith("#")) {
                current.add(line.strip().split("\\s+")[0]);
            }
        }
        assertThat(groups).containsKeys("@system-service", "@privileged", "@resources");
        return groups;
    }

    private static Set<String> expand(List<String> names, Map<String, List<String>> groups) {
        Set<String> out = new LinkedHashSet<>();
        for (String n : names) {
            if (n.startsWith("@")) {
                assertThat(groups).as("a group systemd knows").containsKey(n);
                out.addAll(expand(groups.get(n), groups));
            } else {
                out.add(n);
            }
        }
        return out;
    }
}
