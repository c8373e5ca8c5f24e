package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.jr.ob.JSON;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
        Path token = dir.resolve("admin.token");
        Files.writeString(token, TOKEN + "\n");
        yaml = TestConfigs.instanceYaml(port, adminPort, dir.resolve("lb.lock"))
                .replace("admin: { bind: 127.0.0.1:" + adminPort + " }",
                        "admin: { bind: 127.0.0.1:" + adminPort + ", token-file: " + token + " }");
        file = dir.resolve("lb.yaml");
        Files.writeString(file, yaml);
        instance = Instance.start(file);
        url = "jdbc:mariadb://127.0.0.1:" + port + "/demo?user=app&password=app";
        admin = "http://127.0.0.1:" + adminPort;
    }

    @AfterEach
    void stop() {
        instance.shutdown();
    }

    private int cli(String... args) {
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(new StringWriter()));
        return cmd.execute(args);
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
    void mutatingCallsNeedTheTokenAndBadRequestsGet4xx() throws Exception {
        assertThat(call("POST", "/reload", null, null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/reload", "wrong-token-wrong-token", null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/servers/app-cluster/node1/state", null, "{\"state\":\"maint\"}").statusCode())
                .isEqualTo(401);
        assertThat(stateOf("node1")).isEqualTo("UP");
        assertThat(instance.status().get("generation")).isEqualTo(1L);

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
}
