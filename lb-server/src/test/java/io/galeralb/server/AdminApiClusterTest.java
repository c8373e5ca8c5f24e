package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.core.SessionEnd;
import io.galeralb.health.CheckResult;
import io.galeralb.server.admin.AdminServer;
import io.galeralb.server.process.Instance;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The admin API's server states and its guard rails, on an instance in front of the real cluster. */
@ExtendWith(GaleraClusterExtension.class)
class AdminApiClusterTest {

    private static final String TOKEN = "test-admin-token-0123456789";

    @TempDir
    Path dir;
    private Path file;
    private String yaml;
    private Instance instance;
    private String url;
    private String admin;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        int port = TestConfigs.freePort();
        int adminPort = TestConfigs.freePort();
        yaml = TestConfigs.instanceYaml(port, adminPort, dir.resolve("lb.lock"), dir, TOKEN);
        file = dir.resolve("lb.yaml");
        Files.writeString(file, yaml);
        instance = Instance.start(file);
        url = TestConfigs.appUrl(port);
        admin = "http://127.0.0.1:" + adminPort;
    }

    @AfterEach
    void stop() {
        instance.shutdown();
    }

    private int cli(String... args) {
        return cli(new StringWriter(), args);
    }

    private int cli(StringWriter err, String... args) {
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    /** {@code promtool check metrics} on a scrape: its exit code and what it printed. */
    private static String promtool(String scrape) throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(scrape.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("promtool check metrics:%n%s", out).isZero();
        return out;
    }

    @Test
    void metricsPassPromtoolInBothFormatsWithEveryCounterFromZero() throws Exception {
        try (Connection c = DriverManager.getConnection(url)) {
            GaleraCluster.nodeOf(c);
        }
        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
        await().atMost(Duration.ofSeconds(30)).until(() -> stateOf("node2").equals("DOWN"));
        HttpResponse<String> text = call("GET", "/metrics", null, null);
        assertThat(text.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        System.out.println("== promtool check metrics: exit 0" + promtool(text.body()));
        HttpResponse<String> open = http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics"))
                .header("Accept", "application/openmetrics-text").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(open.headers().firstValue("content-type")).hasValue(AdminServer.OPENMETRICS_CONTENT_TYPE);
        assertThat(open.body()).endsWith("# EOF\n");
        HttpResponse<String> head = call("HEAD", "/metrics", null, null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();

        List<PrometheusText.Sample> samples = PrometheusText.parse(text.body());
        assertThat(samples).extracting(PrometheusText.Sample::name).contains("galera_lb_build_info",
                "process_cpu_seconds_total", "process_open_fds", "process_max_fds", "system_cpus",
                "galera_lb_server_weight", "galera_lb_listener_sessions_limit", "galera_lb_check_seconds_bucket");
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_reloads_total"))
                .extracting(m -> m.labels().get("result"), PrometheusText.Sample::value)
                .containsExactlyInAnyOrder(tuple("applied", 0.0), tuple("refused", 0.0));
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_sessions_ended_total"))
                .as("every reason of the session log's vocabulary, from 0").hasSize(SessionEnd.values().length)
                .anySatisfy(m -> assertThat(m.labels()).containsEntry("reason", "client_closed"));
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_refused_total"))
                .extracting(m -> m.labels().get("reason")).as("a fixed set").containsOnly("no-server",
                        "max-connections", "no-socket", "proxy-untrusted", "proxy-header");
        Set<String> causes = Arrays.stream(CheckResult.Cause.values()).map(CheckResult.Cause::label)
                .collect(Collectors.toSet());
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_server_state"))
                .extracting(m -> m.labels().get("server") + " " + m.labels().get("state") + " " + m.labels().get("reason"))
                .containsExactlyInAnyOrder("node1 UP synced", "node2 DOWN desynced", "node3 UP synced");
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_check_failures_total"))
                .allSatisfy(m -> assertThat(causes).contains(m.labels().get("reason")))
                .anySatisfy(m -> assertThat(m.labels()).containsEntry("server", "node2").containsEntry("reason", "desynced"));
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_node_wsrep_local_state"))
                .extracting(m -> m.labels().get("server"), PrometheusText.Sample::value).as("2: Donor/Desynced")
                .containsExactlyInAnyOrder(tuple("node1", 4.0), tuple("node2", 2.0), tuple("node3", 4.0));
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_node_wsrep_cluster_size"))
                .extracting(PrometheusText.Sample::value).containsOnly(3.0).hasSize(3);
        assertThat(samples).extracting(PrometheusText.Sample::name).contains("galera_lb_node_wsrep_local_recv_queue",
                "galera_lb_node_wsrep_flow_control_paused");
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_server_last_change_seconds")
                        && m.labels().get("server").equals("node2"))
                .singleElement().satisfies(m -> assertThat(m.value()).isGreaterThan(1.7e9));
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_check_seconds_bucket")
                        && m.labels().get("server").equals("node1") && m.labels().get("result").equals("pass"))
                .as("a few buckets").hasSize(7);
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_server_downtime_seconds_total")
                        && m.labels().get("server").equals("node2"))
                .singleElement().satisfies(m -> assertThat(m.value()).as("DOWN since the desync").isPositive());
        assertThat(samples).filteredOn(m -> m.name().equals("galera_lb_client_aborts_total")
                || m.name().equals("galera_lb_server_aborts_total")).as("per server, from 0").hasSize(6);
    }

    @Test
    void anUnknownServerOrListenerIsRefusedNamingTheKnownOnes() {
        StringWriter err = new StringWriter();
        assertThat(cli(err, "drain", "--config", file.toString(), "app-cluster", "nodeX")).as("refused").isEqualTo(4);
        assertThat(err.toString()).contains("listener app-cluster has no server nodeX (servers: node1, node2, node3)");
        StringWriter err2 = new StringWriter();
        assertThat(cli(err2, "maint", "--config", file.toString(), "app", "node1")).isEqualTo(4);
        assertThat(err2.toString()).contains("no listener app (listeners: app-cluster)");
    }

    private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(admin + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    private String stateOf(String server) throws Exception {
        Map<String, Object> status = JSON.std.mapFrom(call("GET", "/status", null, null).body());
        Map<String, Object> listener = (Map<String, Object>) ((List<Object>) status.get("listeners")).get(0);
        for (Object o : (List<Object>) listener.get("servers")) {
            Map<String, Object> s = (Map<String, Object>) o;
            if (s.get("name").equals(server)) {
                return (String) s.get("state");
            }
        }
        throw new AssertionError("no server " + server);
    }

    @Test
    void drainKeepsSessionsMaintClosesThemAndBothSurviveAReload() throws Exception {
        Map<String, Connection> byNode = new HashMap<>();
        try {
            for (int i = 0; i < 3; i++) {
                Connection c = DriverManager.getConnection(url);
                byNode.put(GaleraCluster.nodeOf(c), c);
            }
            assertThat(byNode).containsOnlyKeys("node1", "node2", "node3");

            assertThat(cli("drain", "--config", file.toString(), "app-cluster", "node1")).isZero();
            assertThat(stateOf("node1")).isEqualTo("DRAIN");
            assertThat(GaleraCluster.nodeOf(byNode.get("node1"))).isEqualTo("node1");
            for (int i = 0; i < 6; i++) {
                try (Connection c = DriverManager.getConnection(url)) {
                    assertThat(GaleraCluster.nodeOf(c)).isNotEqualTo("node1");
                }
            }

            assertThat(cli("maint", "--config", file.toString(), "app-cluster", "node2")).isZero();
            assertThat(stateOf("node2")).isEqualTo("MAINT");
            assertThatThrownBy(() -> GaleraCluster.nodeOf(byNode.get("node2"))).isInstanceOf(SQLException.class);
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).isEqualTo("node3");
            }

            Files.writeString(file, yaml.replace("connect: 2s", "connect: 3s"));
            assertThat(cli("reload", "--config", file.toString())).isZero();
            assertThat(stateOf("node1")).isEqualTo("DRAIN");
            assertThat(stateOf("node2")).isEqualTo("MAINT");

            assertThat(cli("ready", "--config", file.toString(), "app-cluster", "node1")).isZero();
            assertThat(stateOf("node1")).isEqualTo("UP");
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).isIn("node1", "node3");
            }
        } finally {
            for (Connection c : byNode.values()) {
                c.close();
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void statusStatsAndMetricsAgreeWithTheSessionsOpened() throws Exception {
        java.util.List<Connection> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Connection c = DriverManager.getConnection(url);
                GaleraCluster.nodeOf(c);
                open.add(c);
            }
            Map<String, Object> status = JSON.std.mapFrom(call("GET", "/status", null, null).body());
            Map<String, Object> listener = (Map<String, Object>) ((List<Object>) status.get("listeners")).get(0);
            assertThat(listener.get("sessions")).isEqualTo(4);
            int perServer = 0;
            for (Object o : (List<Object>) listener.get("servers")) {
                Map<String, Object> srv = (Map<String, Object>) o;
                perServer += ((Number) srv.get("sessions")).intValue();
                assertThat(((Number) srv.get("bytes-out")).longValue()).isPositive();
                assertThat(srv.get("check-duration-ms")).isNotNull();
            }
            assertThat(perServer).isEqualTo(4);

            HttpResponse<String> stats = call("GET", "/stats", null, null);
            assertThat(stats.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/csv"));
            List<String> lines = stats.body().lines().toList();
            assertThat(lines.get(0)).startsWith("# pxname,svname,scur,smax,stot,bin,bout,");
            int scur = 0;
            for (String line : lines.subList(1, lines.size())) {
                String[] f = csvFields(line);
                assertThat(f).hasSize(15);
                assertThat(f[0]).isEqualTo("app-cluster");
                if (f[1].equals("FRONTEND")) {
                    assertThat(f[2]).isEqualTo("4");
                    assertThat(Long.parseLong(f[4])).isGreaterThanOrEqualTo(4);
                } else {
                    scur += Integer.parseInt(f[2]);
                    assertThat(f[9]).isEqualTo("UP");
                }
            }
            assertThat(scur).isEqualTo(4);

            HttpResponse<String> metrics = call("GET", "/metrics", null, null);
            assertThat(metrics.statusCode()).isEqualTo(200);
            List<PrometheusText.Sample> samples = PrometheusText.parse(metrics.body());
            assertThat(sum(samples, "galera_lb_sessions_current")).isEqualTo(4);
            assertThat(sum(samples, "galera_lb_sessions_max")).isGreaterThanOrEqualTo(4);
            assertThat(sum(samples, "galera_lb_listener_sessions_current")).isEqualTo(4);
            // One per I/O thread (one per CPU by default: this is the same JVM).
            assertThat(samples).filteredOn(x -> x.name().equals("galera_lb_io_thread_sessions"))
                    .extracting(x -> x.labels().get("thread")).containsExactlyInAnyOrderElementsOf(
                            IntStream.range(0, Runtime.getRuntime().availableProcessors()).mapToObj(String::valueOf).toList());
            assertThat(sum(samples, "galera_lb_io_thread_sessions")).isEqualTo(4);
            assertThat(samples).filteredOn(x -> x.name().equals("galera_lb_io_busy_poll_idle_seconds_total"))
                    .singleElement().satisfies(x -> assertThat(x.value()).isNotNegative());
            assertThat(sum(samples, "galera_lb_sessions_total")).isGreaterThanOrEqualTo(4);
            assertThat(sum(samples, "galera_lb_connect_seconds_count")).isGreaterThanOrEqualTo(4);
            assertThat(sum(samples, "galera_lb_bytes_out_total")).isPositive();
            assertThat(sum(samples, "galera_lb_check_seconds_count")).isPositive();
            assertThat(sum(samples, "galera_lb_config_generation")).isEqualTo(1);
            assertThat(sum(samples, "jvm_memory_used_bytes")).isPositive();
            assertThat(samples).filteredOn(x -> x.name().equals("galera_lb_server_state")).hasSize(3)
                    .allSatisfy(x -> assertThat(x.labels()).containsEntry("state", "UP")
                            .containsEntry("listener", "app-cluster")
                            .containsEntry("reason", "synced"));
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
    }

    /** RFC 4180 fields: commas inside double quotes, "" for a quote. */
    private static String[] csvFields(String line) {
        java.util.List<String> out = new java.util.ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    f.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(f.toString());
                f.setLength(0);
            } else {
                f.append(c);
            }
        }
        out.add(f.toString());
        return out.toArray(String[]::new);
    }

    private static double sum(List<PrometheusText.Sample> samples, String name) {
        List<PrometheusText.Sample> found = samples.stream().filter(x -> x.name().equals(name)).toList();
        assertThat(found).as(name).isNotEmpty();
        return found.stream().mapToDouble(PrometheusText.Sample::value).sum();
    }

    @Test
    void mutatingCallsNeedTheTokenAndBadRequestsGet4xx() throws Exception {
        assertThat(call("POST", "/reload", null, null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/reload", "wrong-token-wrong-token", null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/servers/app-cluster/node1/state", null, "{\"state\":\"maint\"}").statusCode())
                .isEqualTo(401);
        assertThat(stateOf("node1")).isEqualTo("UP");
        assertThat(instance.status().generation()).isEqualTo(1L);

        String state = "/servers/app-cluster/node1/state";
        assertThat(call("POST", "/servers/nope/node1/state", TOKEN, "{\"state\":\"drain\"}").statusCode()).isEqualTo(404);
        assertThat(call("POST", "/servers/app-cluster/nope/state", TOKEN, "{\"state\":\"drain\"}").statusCode()).isEqualTo(404);
        HttpResponse<String> badState = call("POST", state, TOKEN, "{\"state\":\"sleep\"}");
        assertThat(badState.statusCode()).isEqualTo(400);
        assertThat(badState.body()).contains("state must be ready, drain or maint");
        assertThat(call("POST", state, TOKEN, "{not json").statusCode()).isEqualTo(400);
        assertThat(call("GET", "/reload", TOKEN, null).statusCode()).isEqualTo(405);
        assertThat(call("DELETE", "/status", TOKEN, null).statusCode()).isEqualTo(405);
        assertThat(call("GET", "/nowhere", null, null).statusCode()).isEqualTo(404);
        assertThat(stateOf("node1")).isEqualTo("UP");

        assertThat(call("POST", state, TOKEN, "{\"state\":\"drain\"}").statusCode()).isEqualTo(200);
        assertThat(stateOf("node1")).isEqualTo("DRAIN");
    }

    /** A raw HTTP/1.1 request with the given Host header: its status line and headers. */
    private String rawGet(String path, String host) throws Exception {
        URI u = URI.create(admin);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void onLoopbackOnlyRequestsForALoopbackHostAreAnsweredSoDnsRebindingReadsNothing() throws Exception {
        int port = URI.create(admin).getPort();
        for (String host : List.of("attacker.example:" + port, "attacker.example", "10.0.0.1:" + port,
                "127.0.0.1.nip.io:" + port)) {
            assertThat(rawGet("/status", host)).as(host).startsWith("HTTP/1.1 421 ")
                    .contains("answers requests for localhost or a loopback address only").doesNotContain("listeners");
            assertThat(rawGet("/", host)).as(host).startsWith("HTTP/1.1 421 ");
        }
        for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "localhost", "[::1]:" + port)) {
            assertThat(rawGet("/status", host)).as(host).startsWith("HTTP/1.1 200 ").contains("\"listeners\"");
        }
    }

    @Test
    void theStatusPageIsServedWithItsOwnFilesOnlyAndAPolicyThatKeepsItToThisOrigin() throws Exception {
        HttpResponse<String> page = call("GET", "/", null, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("content-security-policy")).hasValue(AdminServer.PAGE_POLICY);
        assertThat(page.headers().firstValue("x-content-type-options")).hasValue("nosniff");
        assertThat(page.headers().firstValue("x-frame-options")).hasValue("DENY");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(page.body()).contains("<script src=\"/ui/status.js\"", "href=\"/ui/status.css\"")
                .doesNotContain("http://", "https://");
        for (String asset : List.of("/ui/status.js", "/ui/status.css")) {
            HttpResponse<String> a = call("GET", asset, null, null);
            assertThat(a.statusCode()).as(asset).isEqualTo(200);
            assertThat(a.body()).as(asset + ": nothing from elsewhere").doesNotContain("http://", "https://");
        }
        assertThat(call("HEAD", "/", null, null).body()).isEmpty();
        assertThat(call("POST", "/", TOKEN, "{}").statusCode()).isEqualTo(405);
        assertThat(call("GET", "/ui/other.js", null, null).statusCode()).isEqualTo(404);
    }

    @Test
    void theClustercheckEndpointAnswers200WhileAServerMayTakeSessionsAnd503WithTheReason() throws Exception {
        HttpResponse<String> up = call("GET", "/health/app-cluster/node1", null, null);
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(up.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(up.body()).startsWith("app-cluster/node1 UP: wsrep_local_state=4 (Synced)").endsWith("\n")
                .hasLineCount(1);

        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
        await().atMost(Duration.ofSeconds(30)).until(() -> stateOf("node2").equals("DOWN"));
        HttpResponse<String> down = call("GET", "/health/app-cluster/node2", null, null);
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).startsWith("app-cluster/node2 DOWN: wsrep_desync=ON");

        assertThat(call("POST", "/servers/app-cluster/node3/state", TOKEN, "{\"state\": \"drain\"}").statusCode())
                .isEqualTo(200);
        HttpResponse<String> drained = call("GET", "/health/app-cluster/node3", null, null);
        assertThat(drained.statusCode()).isEqualTo(503);
        assertThat(drained.body()).startsWith("app-cluster/node3 DRAIN: DRAIN (set by an operator)");

        assertThat(call("HEAD", "/health/app-cluster/node2", null, null)).satisfies(r -> {
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).isEmpty();
        });
        HttpResponse<String> unknown = call("GET", "/health/app-cluster/node9", null, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("has no server node9 (servers: node1, node2, node3)");
        assertThat(call("GET", "/health/nope/node1", null, null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/health/app-cluster/node1", TOKEN, "{}").statusCode()).isEqualTo(405);
    }

    @Test
    void drainCloseIdleAndMaintGraceFromTheCliAndTheApiAndTheirRefusals() throws Exception {
        try (Connection inTransaction = DriverManager.getConnection(url)) {
            String node = GaleraCluster.nodeOf(inTransaction);
            inTransaction.createStatement().execute("BEGIN");
            StringWriter out = new StringWriter();
            CommandLine cmd = Main.commandLine();
            cmd.setOut(new PrintWriter(out, true));
            cmd.setErr(new PrintWriter(new StringWriter(), true));
            assertThat(cmd.execute("drain", "--close-idle", "--config", file.toString(), "app-cluster", node)).isZero();
            assertThat(out.toString()).contains("app-cluster/" + node + " is DRAIN; 0 session(s) closed at once, "
                    + "1 close at their next transaction boundary");
            assertThat(GaleraCluster.nodeOf(inTransaction)).as("inside its transaction: it goes on").isEqualTo(node);
            inTransaction.createStatement().execute("COMMIT");
            assertThat(inTransaction.isValid(5)).as("closed at its boundary").isFalse();
        }
        String state = "/servers/app-cluster/node1/state";
        HttpResponse<String> maint = call("POST", state, TOKEN, "{\"state\": \"maint\", \"grace\": \"30s\"}");
        assertThat(maint.statusCode()).isEqualTo(200);
        assertThat(maint.body()).contains("app-cluster/node1 is MAINT; 0 session(s) closed at once, 0 close at their next "
                + "transaction boundary, or in 30s");
        for (String bad : List.of("{\"state\": \"maint\", \"grace\": \"soon\"}",
                "{\"state\": \"ready\", \"close-idle\": true}", "{\"state\": \"drain\", \"grace\": \"1s\"}")) {
            HttpResponse<String> r = call("POST", state, TOKEN, bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
        }
        assertThat(stateOf("node1")).isEqualTo("MAINT");
    }

    @Test
    void aBurstOfMalformedHttpLeavesProxiedSessionsAlone() throws Exception {
        try (Connection c = DriverManager.getConnection(url)) {
            String node = GaleraCluster.nodeOf(c);
            Random r = new Random(7);
            URI u = URI.create(admin);
            for (int i = 0; i < 200; i++) {
                try (Socket s = new Socket(u.getHost(), u.getPort())) {
                    OutputStream out = s.getOutputStream();
                    byte[] junk = new byte[1 + r.nextInt(2048)];
                    r.nextBytes(junk);
                    out.write(i % 2 == 0 ? junk : ("POST /servers/app-cluster/node1/state HTTP/1.1\r\nContent-Length: "
                            + "99999999999\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (java.io.IOException e) {
                    // The server may close on us mid-write: that is its right.
                }
                if (i % 20 == 0) {
                    assertThat(GaleraCluster.nodeOf(c)).isEqualTo(node);
                }
            }
            assertThat(GaleraCluster.nodeOf(c)).isEqualTo(node);
            assertThat(call("GET", "/status", null, null).statusCode()).isEqualTo(200);
            assertThat(stateOf("node1")).isEqualTo("UP");
        }
    }

    @Test
    void liveWhileTheIoThreadsTurnReadyWhileEveryListenerHasAServer() throws Exception {
        assertThat(call("GET", "/live", null, null).statusCode()).isEqualTo(200);
        HttpResponse<String> ready = call("GET", "/ready", null, null);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("every listener can serve");
        for (String node : List.of("node1", "node2", "node3")) {
            assertThat(call("POST", "/servers/app-cluster/" + node + "/state", TOKEN, "{\"state\": \"maint\"}")
                    .statusCode()).isEqualTo(200);
        }
        HttpResponse<String> notReady = call("GET", "/ready", null, null);
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("listener app-cluster: no server can take sessions (node1: MAINT");
        assertThat(call("GET", "/live", null, null).statusCode()).as("alive all the same").isEqualTo(200);
        assertThat(call("POST", "/servers/app-cluster/node2/state", TOKEN, "{\"state\": \"ready\"}").statusCode())
                .isEqualTo(200);
        assertThat(call("GET", "/ready", null, null).statusCode()).isEqualTo(200);
    }
}
