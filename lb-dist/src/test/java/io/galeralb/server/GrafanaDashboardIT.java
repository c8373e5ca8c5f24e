package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.server.process.Instance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard asks only for what galera-lb exports: every query parses (promtool checks
 * them as recording rules) and every metric it names is in a real scrape of an instance with a
 * leastconn listener, a single-writer listener and a server that fails its check.
 */
@ExtendWith(GaleraClusterExtension.class)
class GrafanaDashboardIT {

    private static final Path DASHBOARD = Path.of("src/grafana/galera-lb-dashboard.json");
    private static final Pattern METRIC = Pattern.compile("\\b((?:galera_lb|process|jvm)_[a-z_]+)\\b");

    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    private static List<String> queries() throws Exception {
        Map<String, Object> dashboard = JSON.std.mapFrom(Files.readString(DASHBOARD));
        List<String> exprs = new ArrayList<>();
        for (Object p : (List<Object>) dashboard.get("panels")) {
            for (Object t : (List<Object>) ((Map<String, Object>) p).get("targets")) {
                exprs.add((String) ((Map<String, Object>) t).get("expr"));
            }
        }
        return exprs;
    }

    @Test
    void everyQueryParsesAndNamesOnlyExportedMetrics() throws Exception {
        List<String> exprs = queries();
        assertThat(exprs).hasSizeGreaterThan(10);
        StringBuilder rules = new StringBuilder("groups:\n  - name: galera-lb-dashboard\n    rules:\n");
        for (int i = 0; i < exprs.size(); i++) {
            rules.append("      - record: dashboard:query").append(i).append("\n        expr: '")
                    .append(exprs.get(i).replace("'", "''")).append("'\n");
        }
        Path rulesFile = dir.resolve("dashboard-rules.yml");
        Files.writeString(rulesFile, rules);
        Command check = Command.run("promtool", "check", "rules", rulesFile.toString());
        assertThat(check.exitCode()).as(check.output()).isZero();

        int port = TestConfigs.freePort();
        int writerPort = TestConfigs.freePort();
        int admin = TestConfigs.freePort();
        String yaml = TestConfigs.instanceYaml(port, admin, dir.resolve("lb.lock"))
                + TestConfigs.writerYaml(writerPort, admin, new int[] {1, 2, 3}, "").lines()
                        .dropWhile(l -> !l.startsWith("  rw:")).collect(Collectors.joining("\n", "", "\n"))
                + """
                  down:
                    bind: 127.0.0.1:%d
                    health: { type: galera, user: clustercheck, password: x, interval: 200ms }
                    servers:
                      gone: { address: 127.0.0.1:%d }
                """.formatted(TestConfigs.freePort(), TestConfigs.freePort());
        Path file = dir.resolve("lb.yaml");
        Files.writeString(file, yaml);
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Instance instance = Instance.start(file);
        try {
            try (Connection c = DriverManager.getConnection(TestConfigs.appUrl(port))) {
                GaleraCluster.nodeOf(c);
            }
            HttpClient http = HttpClient.newHttpClient();
            Set<String> exported = new TreeSet<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                String scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                exported.clear();
                PrometheusText.parse(scrape).forEach(s -> exported.add(s.name()));
                return exported.contains("galera_lb_check_failures_total");
            });
            Set<String> named = new TreeSet<>();
            for (String e : exprs) {
                Matcher m = METRIC.matcher(e);
                while (m.find()) {
                    named.add(m.group(1));
                }
            }
            assertThat(exported).as("metrics the dashboard names").containsAll(named);
        } finally {
            instance.shutdown();
        }
    }
}
