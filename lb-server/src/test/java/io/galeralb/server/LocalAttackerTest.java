package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.TrustedFiles;
import io.galeralb.server.process.Instance;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What another local user can do to galera-lb through the files it shares with them. The other
 * user is {@code nobody}: these tests need root, as CI has, to give a file to them.
 */
@ExtendWith(GaleraClusterExtension.class)
class LocalAttackerTest {

    private static final int NOBODY = 65534;

    @TempDir
    Path dir;

    @BeforeAll
    static void needsRoot() {
        assertThat(TrustedFiles.currentUid()).as("these tests give files to another user: run them as root").isZero();
    }

    /** A directory like /tmp: anyone may create files in it, only their owner may remove them. */
    private Path sharedDirectory() throws Exception {
        Path shared = dir.resolve("shared");
        Files.createDirectory(shared);
        Files.setAttribute(shared, "unix:mode", 01777);
        return shared;
    }

    private static void giveToNobody(Path file, String mode) throws Exception {
        Files.setAttribute(file, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }

    private Path config(Path lockFile, String extraTop) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, extraTop + TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), lockFile));
        return f;
    }

    private static int cli(StringWriter err, String... args) {
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void aLockFilePlantedByAnotherUserIsRefusedNamingItsOwnerAndModeAndGetsNoToken() throws Exception {
        Path lock = sharedDirectory().resolve("lb.lock");
        Files.writeString(lock, "");
        giveToNobody(lock, "rw-rw-rw-");
        Path f = config(lock, "");
        assertThatThrownBy(() -> Instance.start(f)).isInstanceOf(Instance.Refused.class)
                .hasMessageContaining(lock + " belongs to another user")
                .hasMessageContaining("owner nobody (uid 65534), mode rw-rw-rw-");
        assertThat(Files.readString(lock)).as("nothing, and no token, was written into it").isEmpty();
        assertThat(Files.getAttribute(lock, "unix:uid")).isEqualTo(NOBODY);
    }

    @Test
    void aSymbolicLinkAtTheLockPathIsNotFollowed() throws Exception {
        Path shared = sharedDirectory();
        Path precious = dir.resolve("precious");
        Files.writeString(precious, "keep me");
        Path lock = shared.resolve("lb.lock");
        Files.createSymbolicLink(lock, precious);
        Path f = config(lock, "");
        assertThatThrownBy(() -> Instance.start(f)).isInstanceOf(Instance.Refused.class)
                .hasMessageContaining("lock file " + lock + " is a symbolic link (to " + precious + ")");
        assertThat(Files.readString(precious)).isEqualTo("keep me");
    }

    @Test
    void aLockFileInADirectoryOthersMayWriteIntoIsRefused() throws Exception {
        Path open = dir.resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path f = config(open.resolve("lb.lock"), "");
        assertThatThrownBy(() -> Instance.start(f)).isInstanceOf(Instance.Refused.class)
                .hasMessageContaining("directory " + open + " is writable by other users");
    }

    @Test
    void theCliSendsNoTokenToTheAdminAddressOfAForgedLockFile() throws Exception {
        Path token = dir.resolve("admin.token");
        Files.writeString(token, "the-operators-token-0123456789\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        Path lock = sharedDirectory().resolve("lb.lock");
        try (ServerSocket attacker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // A live PID (this test's) and the attacker's listener.
            Files.writeString(lock, "{\"pid\": " + ProcessHandle.current().pid() + ", \"admin\": \"127.0.0.1:"
                    + attacker.getLocalPort() + "\"}");
            giveToNobody(lock, "rw-r--r--");
            Path f = config(lock, "");
            Files.writeString(f, Files.readString(f).replaceFirst("admin: \\{ bind: ([^ ]+) }",
                    "admin: { bind: $1, token-file: " + token + " }"));
            StringWriter err = new StringWriter();
            assertThat(cli(err, "reload", "--config", f.toString())).as("refused").isEqualTo(4);
            assertThat(err.toString()).contains("refusing to contact galera-lb: lock file " + lock
                    + " cannot be trusted").contains("owner nobody (uid 65534)");
            // The CLI has returned: a connect it made would be waiting in the backlog.
            attacker.setSoTimeout(200);
            assertThatThrownBy(attacker::accept).isInstanceOf(SocketTimeoutException.class);
        }
    }

    @Test
    void withoutALockFileSettingTheLockIsAPrivateFileInAPrivateRuntimeDirectory() throws Exception {
        Path runtime = TrustedFiles.runtimeDirectory(Map.of());
        assertThat(runtime).isEqualTo(Path.of("/run/galera-lb"));
        assertThat(TrustedFiles.runtimeDirectory(Map.of("RUNTIME_DIRECTORY", "/run/galera-lb-unit")))
                .as("systemd's RuntimeDirectory=").isEqualTo(Path.of("/run/galera-lb-unit"));
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(TestConfigs.freePort(), TestConfigs.freePort(), Path.of("x"))
                .replace("lock-file: x\n", ""));
        Instance instance = Instance.start(f);
        try {
            Path lock = GaleraLbConfig.defaultLockFile(f.toString());
            assertThat(lock.getParent()).isEqualTo(runtime);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lock))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(runtime)).substring(3)).doesNotContain("w");
            assertThat(Files.readString(lock)).contains("\"token\"");
        } finally {
            instance.shutdown();
        }
    }

    @Test
    void failedAdminLoginsAreLoggedWithThePeerOncePerInterval() throws Exception {
        int adminPort = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(TestConfigs.freePort(), adminPort, dir.resolve("lb.lock")));
        Instance instance = Instance.start(f);
        HttpClient http = HttpClient.newHttpClient();
        try (LogCapture logs = new LogCapture()) {
            for (int i = 0; i < 5; i++) {
                // The first, which is logged, with a newline in its path that would forge a log line.
                String path = i == 0 ? "/servers/app%0AINFO%20forged/node1/state" : "/reload";
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
                                + path)).header("Authorization", "Bearer guess-" + i)
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(401);
            }
            assertThat(logs.lines()).filteredOn(l -> l.contains("refused without a valid token")).singleElement()
                    .asString().contains("1 call(s)").contains("POST /servers/app?INFO forged/node1/state from /127.0.0.1:")
                    .doesNotContain("\n");
        } finally {
            instance.shutdown();
        }
    }
}
