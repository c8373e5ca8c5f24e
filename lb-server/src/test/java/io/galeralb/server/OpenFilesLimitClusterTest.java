package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A galera-lb process that runs out of file descriptors, for real: its open-files limit is
 * lowered (prlimit) until it can accept a client but not open a socket to any server, then until
 * it cannot accept one either.
 */
@ExtendWith(GaleraClusterExtension.class)
class OpenFilesLimitClusterTest {

    @TempDir
    Path dir;

    @Test
    void outOfFileDescriptorsClientsAreToldWhyOrWaitAndServiceResumesOnceFilesAreFree() throws Exception {
        int port = TestConfigs.freePort();
        int adminPort = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(port, adminPort, dir.resolve("lb.lock")));
        String url = TestConfigs.appUrl(port);
        List<Connection> held = new ArrayList<>();
        // 10 000: enough for the default max-connections 4096 (no warning), whatever this machine's limit.
        try (GaleraLbProcess lb = GaleraLbProcess.startWithOpenFilesLimit(10_000, "run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started");
            assertThat(lb.output()).doesNotContain("open-files limit");
            held.add(session(url)); // whatever the first session opens lazily is open from now on
            long pid = lb.pid();
            // Lower the limit to just above the highest descriptor in use, then take sessions (two
            // descriptors each: the client's and the server's) until exactly one is left: the next
            // client is accepted with it, and no socket to a server can be made.
            int limit = openDescriptors(pid).stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
            setOpenFilesLimit(pid, limit);
            while (true) {
                int free = freeBelow(pid, limit);
                if (free == 1) {
                    break;
                }
                if (free == 0) {
                    setOpenFilesLimit(pid, ++limit);
                } else {
                    held.add(session(url));
                }
            }

            String noSocket = "cannot open a socket: too many open files (this process may open " + limit + ")";
            assertThatThrownBy(() -> DriverManager.getConnection(url))
                    .isInstanceOf(SQLException.class)
                    .hasMessageEndingWith("galera-lb: " + noSocket.replace("socket:", "socket for listener app-cluster:"));
            lb.awaitOutput("app-cluster: 1 client(s) refused with a MySQL error: " + noSocket);
            int lastLimit = limit;
            // The refused client's descriptor is closed; once a session ends, its two serve the next client.
            await().atMost(Duration.ofSeconds(10)).until(() -> freeBelow(pid, lastLimit) == 1);
            held.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> freeBelow(pid, lastLimit) == 3);
            held.add(session(url));

            // Not one descriptor left: the next client waits in the backlog, the log says why, and
            // the client is served once the limit is raised.
            while (freeBelow(pid, limit) > 0) {
                setOpenFilesLimit(pid, --limit);
            }
            CompletableFuture<Connection> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return session(url);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            });
            lb.awaitOutput("app-cluster: cannot accept clients: too many open files (this process may open " + limit
                    + "); they wait in the listen backlog, tried again every second");
            assertThat(waiting).isNotDone();
            setOpenFilesLimit(pid, limit + 16);
            held.add(waiting.get(20, TimeUnit.SECONDS));
            assertThat(lb.output()).doesNotContain("reached at the tail of the pipeline");

            // Counted as galera-lb's own want of sockets, not as any server's failure.
            List<PrometheusText.Sample> metrics = PrometheusText.parse(HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertThat(metrics).filteredOn(m -> m.name().equals("galera_lb_refused_total"))
                    .extracting(m -> m.labels().get("reason"), PrometheusText.Sample::value)
                    .containsExactlyInAnyOrder(tuple("no-server", 0.0), tuple("max-connections", 0.0),
                            tuple("no-socket", 1.0), tuple("proxy-untrusted", 0.0), tuple("proxy-header", 0.0));
            assertThat(metrics).filteredOn(m -> m.name().equals("galera_lb_connect_failures_total"))
                    .hasSize(3).allSatisfy(m -> assertThat(m.value()).isZero());
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
    }

    /** Started with fewer descriptors than its max-connections may need, galera-lb says so, with the figures. */
    @Test
    void aLimitBelowWhatMaxConnectionsMayNeedIsNamedAtStart() throws Exception {
        int port = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock")));
        try (GaleraLbProcess lb = GaleraLbProcess.startWithOpenFilesLimit(400, "run", "--config", f.toString())) {
            lb.awaitOutput("galera-lb started");
            assertThat(lb.output()).contains("the open-files limit of this process is 400, below the 8392 that "
                    + "max-connections 4096 (all listeners) may need: 2 per session and 200 besides; past about 100 "
                    + "sessions clients get \"too many open files\". Raise LimitNOFILE (systemd) or ulimit -n, or "
                    + "lower max-connections");
            try (Connection c = session(TestConfigs.appUrl(port))) {
                assertThat(GaleraCluster.nodeOf(c)).startsWith("node");
            }
        }
    }

    /** A session through galera-lb that has run a query. */
    private static Connection session(String url) throws SQLException {
        Connection c = DriverManager.getConnection(url);
        GaleraCluster.nodeOf(c);
        return c;
    }

    private static List<Integer> openDescriptors(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.map(p -> Integer.parseInt(p.getFileName().toString())).toList();
        }
    }

    /** How many descriptor numbers below {@code limit} are free in process {@code pid}. */
    private static int freeBelow(long pid, int limit) throws IOException {
        return limit - (int) openDescriptors(pid).stream().filter(fd -> fd < limit).count();
    }

    /** Sets the soft open-files limit of a running process (its hard limit stays). */
    private static void setOpenFilesLimit(long pid, int limit) throws Exception {
        Process p = new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--nofile=" + limit + ":")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("prlimit: " + out).isZero();
    }
}
