package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Debian package as an operator meets it: installed with dpkg, its unit checked by
 * systemd-analyze, its ExecStart line run as the unit runs it (user, environment, runtime
 * directory) against the local cluster, then purged. This machine has no systemd as PID 1, so
 * the test does for the unit what systemd would.
 */
@ExtendWith(GaleraClusterExtension.class)
class DebPackageIT {

    private static final Path UNIT = Path.of("/lib/systemd/system/galera-lb.service");
    private static final Path CONFIG = Path.of("/etc/galera-lb/galera-lb.yaml");
    private static final Path ENVIRONMENT = Path.of("/etc/galera-lb/environment");
    /** `systemd-analyze security --offline=yes` of Debian 12's own haproxy.service. */
    private static final double HAPROXY_EXPOSURE = 9.6;

    private Process service;
    private Path serviceLog;

    @AfterEach
    void purgeWhateverIsLeft() throws InterruptedException, IOException {
        if (service != null && service.isAlive()) {
            service.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Command.run("dpkg", "--purge", "galera-lb");
        if (serviceLog != null) {
            System.out.println("== galera-lb's output\n" + Files.readString(serviceLog));
        }
    }

    @Test
    void installedRunAsItsUserFromTheUnitThenPurgedWithoutATrace() throws Exception {
        Command.requireRoot();
        Path deb = Command.builtArtifact("galera-lb_*_all.deb");
        Command.run("dpkg", "--purge", "galera-lb");

        Command install = Command.ok("dpkg", "-i", deb.toString());
        System.out.println("== " + String.join(" ", install.line()) + "\n" + install.output());
        assertThat(Command.ok("getent", "passwd", "galera-lb").output())
                .as("a system user without a home or a shell").contains(":/nonexistent:/usr/sbin/nologin");
        assertThat(Command.ok("getent", "group", "galera-lb").output()).startsWith("galera-lb:");
        assertOwnerGroupMode(CONFIG, "root", "galera-lb", "rw-r-----");
        assertOwnerGroupMode(CONFIG.getParent(), "root", "galera-lb", "rwxr-x---");
        assertOwnerGroupMode(ENVIRONMENT, "root", "root", "rw-------");
        assertThat(Files.readSymbolicLink(Path.of("/usr/bin/galera-lb")).toString()).isEqualTo("../share/galera-lb/bin/galera-lb");
        assertThat(Command.ok("dpkg-query", "-W", "-f", "${Conffiles}", "galera-lb").output())
                .contains(CONFIG.toString()).contains(ENVIRONMENT.toString());
        assertThat(Command.ok("galera-lb", "--version").output()).startsWith("galera-lb 0.");
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/galera-lb.service")).as("enabled")
                .isSymbolicLink();

        Command verify = Command.run("systemd-analyze", "verify", UNIT.toString());
        assertThat(verify.output()).as("systemd-analyze verify").isEmpty();
        assertThat(verify.exitCode()).isZero();
        double exposure = exposure(UNIT);
        System.out.println("== systemd-analyze security --offline=yes: galera-lb.service " + exposure
                + ", Debian's haproxy.service " + HAPROXY_EXPOSURE);
        assertThat(exposure).isLessThanOrEqualTo(HAPROXY_EXPOSURE);

        int port = TestConfigs.freePort();
        int admin = TestConfigs.freePort();
        Files.writeString(CONFIG, PackagedConfig.yaml(admin, port, ""));
        Command withoutSecret = asServiceUser(Map.of(), "/usr/bin/galera-lb", "check");
        assertThat(withoutSecret.exitCode()).isEqualTo(3);
        assertThat(withoutSecret.output()).contains("environment variable GALERA_LB_CHECK_PASSWORD is not set; the "
                + "galera-lb service reads it from /etc/galera-lb/environment");
        Files.writeString(ENVIRONMENT, Files.readString(ENVIRONMENT)
                + "GALERA_LB_CHECK_PASSWORD=clustercheck\nGALERA_LB_JAVA_OPTS=-Dio.netty.leakDetection.level=paranoid\n");

        Map<String, String> unitEnv = environmentOf(UNIT);
        assertThat(asServiceUser(unitEnv, "/usr/bin/galera-lb", "check").assertOk().output())
                .contains("OK: /etc/galera-lb/galera-lb.yaml: 1 listener(s), 3 server(s)");
        serviceLog = Files.createTempFile("galera-lb-deb", ".log");
        service = startAsTheUnitDoes(unitEnv, serviceLog);
        PackagedConfig.awaitSession(port);
        assertThat(Command.ok("ps", "-o", "user:20=,args=", "-p", Long.toString(service.pid())).output())
                .as("JVM options from GALERA_LB_JAVA_OPTS").startsWith("galera-lb ")
                .contains("-Dio.netty.leakDetection.level=paranoid");
        Command status = Command.ok("galera-lb", "status");
        System.out.println("== galera-lb status\n" + status.output());
        assertThat(status.output()).contains("config /etc/galera-lb/galera-lb.yaml").contains("listener app-cluster");
        Files.writeString(CONFIG, Files.readString(CONFIG).replace("interval: 500ms", "interval: 1s"));
        Command reload = Command.ok("galera-lb", "reload");
        System.out.println("== galera-lb reload\n" + reload.output());
        assertThat(reload.output()).startsWith("generation 2 applied").contains("app-cluster: changed health");

        Command purge = Command.ok("dpkg", "--purge", "galera-lb");
        System.out.println("== " + String.join(" ", purge.line()) + "\n" + purge.output());
        assertThat(service.waitFor(1, TimeUnit.MINUTES)).as("the prerm stopped galera-lb").isTrue();
        assertThat(service.exitValue()).as("a graceful stop").isZero();
        assertThat(Command.run("getent", "passwd", "galera-lb").exitCode()).isEqualTo(2);
        assertThat(Command.run("getent", "group", "galera-lb").exitCode()).isEqualTo(2);
        for (String gone : List.of("/etc/galera-lb", "/run/galera-lb", "/usr/share/galera-lb", "/usr/bin/galera-lb",
                UNIT.toString(), "/usr/share/doc/galera-lb", "/etc/systemd/system/multi-user.target.wants/galera-lb.service")) {
            assertThat(Path.of(gone)).as(gone).doesNotExist();
        }
        assertThat(Command.run("dpkg-statoverride", "--list", "/etc/galera-lb*").output()).isEmpty();
        assertThat(Command.run("pgrep", "-f", "/usr/share/galera-lb/").exitCode()).as("no process left").isEqualTo(1);
    }

    private static void assertOwnerGroupMode(Path p, String owner, String group, String mode) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertThat(a.owner().getName() + ":" + a.group().getName() + " " + PosixFilePermissions.toString(a.permissions()))
                .as(p.toString()).isEqualTo(owner + ":" + group + " " + mode);
    }

    private static double exposure(Path unit) {
        Command c = Command.run("systemd-analyze", "security", "--offline=yes", unit.toString());
        Matcher m = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+)").matcher(c.output());
        assertThat(m.find()).as(c.output()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** The unit's Environment= and EnvironmentFile= variables and its RuntimeDirectory, as systemd passes them. */
    private static Map<String, String> environmentOf(Path unit) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String line : Files.readAllLines(unit)) {
            if (line.startsWith("Environment=")) {
                String[] kv = line.substring("Environment=".length()).split("=", 2);
                env.put(kv[0], kv[1]);
            } else if (line.startsWith("EnvironmentFile=")) {
                Path file = Path.of(line.substring("EnvironmentFile=".length()).replaceFirst("^-", ""));
                for (String l : Files.readAllLines(file)) {
                    if (!l.isBlank() && !l.startsWith("#")) {
                        String[] kv = l.split("=", 2);
                        env.put(kv[0].strip(), kv[1].strip());
                    }
                }
            } else if (line.startsWith("RuntimeDirectory=")) {
                env.put("RUNTIME_DIRECTORY", "/run/" + line.substring("RuntimeDirectory=".length()));
            }
        }
        return env;
    }

    private static String unitValue(String key) throws IOException {
        return Files.readAllLines(UNIT).stream().filter(l -> l.startsWith(key + "=")).findFirst()
                .map(l -> l.substring(key.length() + 1)).orElseThrow(() -> new AssertionError(UNIT + " has no " + key));
    }

    private static List<String> asServiceUserCommand(Map<String, String> env, List<String> line) throws IOException {
        String user = unitValue("User");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + unitValue("Group"),
                "--init-groups", "--", "env", "-i"));
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(line);
        return cmd;
    }

    private static Command asServiceUser(Map<String, String> env, String... line) throws IOException {
        return Command.run(asServiceUserCommand(env, List.of(line)).toArray(String[]::new));
    }

    /** ExecStart as the service's user, with its environment and its runtime directory made as systemd makes it. */
    private static Process startAsTheUnitDoes(Map<String, String> env, Path log) throws IOException {
        Path runtime = Path.of(env.get("RUNTIME_DIRECTORY"));
        Files.createDirectories(runtime);
        Command.ok("chown", unitValue("User") + ":" + unitValue("Group"), runtime.toString());
        Command.ok("chmod", unitValue("RuntimeDirectoryMode"), runtime.toString());
        List<String> cmd = asServiceUserCommand(env, List.of(unitValue("ExecStart").split(" ")));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
