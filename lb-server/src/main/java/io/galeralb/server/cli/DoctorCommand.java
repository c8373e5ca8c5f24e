package io.galeralb.server.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HealthCheckType;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.health.CheckResult.NodeTimeouts;
import io.galeralb.health.CheckResult;
import io.galeralb.health.DriverTls;
import io.galeralb.health.GaleraVerdict;
import io.galeralb.health.StatusQuery;
import io.galeralb.server.TimeoutAudit;
import io.galeralb.server.process.Instance;
import io.galeralb.server.process.InstanceLock;
import io.galeralb.server.process.PortHolder;
import java.io.IOException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code galera-lb doctor}: a read-only audit of everything the outage behind this project
 * hid — ghost processes on the ports, a running configuration older than the file, nodes in the
 * wrong state or the wrong cluster, a node missing from the cluster, idle timeouts that do not
 * agree — one line per finding.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Audit a configuration, the processes on its ports, its running instance and its nodes.",
                "Read-only. One line per finding: OK, WARN or FAIL. Exits 1 if anything FAILs."})
public final class DoctorCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = "--json", description = "print the findings as JSON")
    boolean json;

    /** One finding. */
    record Finding(String level, String topic, String message) {
    }

    /**
     * The least max_connect_errors that does not put a proxy at the mercy of a few broken
     * clients (MariaDB's default is 100).
     */
    static final long MIN_CONNECT_ERRORS = 10_000;

    private final List<Finding> findings = new ArrayList<>();

    private void ok(String topic, String message) {
        findings.add(new Finding("OK", topic, message));
    }

    private void warn(String topic, String message) {
        findings.add(new Finding("WARN", topic, message));
    }

    private void fail(String topic, String message) {
        findings.add(new Finding("FAIL", topic, message));
    }

    @Override
    public Integer call() throws IOException {
        GaleraLbConfig cfg;
        try {
            cfg = ConfigLoader.load(configOption.file);
            ok("config", configOption.file + " is valid: " + cfg.listeners().size() + " listener(s)");
        } catch (ConfigException e) {
            fail("config", e.getMessage());
            report();
            return ExitCode.INVALID_CONFIG;
        }
        Optional<Long> instancePid = runningInstance(cfg);
        checkPorts(cfg, instancePid);
        for (ListenerConfig l : cfg.listeners().values()) {
            checkNodes(l);
        }
        return report();
    }

    /** The running instance of this configuration, from its lock file and admin API. */
    private Optional<Long> runningInstance(GaleraLbConfig cfg) {
        Map<String, Object> holder = InstanceLock.read(cfg.lockFile()).orElse(Map.of());
        Optional<Long> pid = holder.get("pid") instanceof Number n && ProcessHandle.of(n.longValue())
                .map(ProcessHandle::isAlive).orElse(false) ? Optional.of(n.longValue()) : Optional.empty();
        if (pid.isEmpty()) {
            warn("instance", "galera-lb is not running for " + configOption.file);
            return pid;
        }
        try {
            AdminClient.Answer a = AdminClient.forConfig(configOption.file).call("GET", "/status", Duration.ofSeconds(10));
            Object loaded = a.body().get("sha256");
            String onDisk = Instance.sha256(configOption.file);
            if (onDisk.equals(loaded)) {
                ok("instance", "galera-lb PID " + pid.get() + " runs this file (generation " + a.body().get("generation")
                        + ", sha256 " + onDisk.substring(0, 12) + ")");
            } else {
                warn("instance", "reload pending: galera-lb PID " + pid.get() + " runs generation "
                        + a.body().get("generation") + " loaded " + a.body().get("loaded") + " (sha256 "
                        + String.valueOf(loaded).substring(0, 12) + "), the file on disk differs (sha256 "
                        + onDisk.substring(0, 12) + "); run 'galera-lb reload'");
            }
        } catch (AdminClient.Unreachable | IOException e) {
            fail("instance", "galera-lb PID " + pid.get() + " holds the lock but its admin API does not answer: "
                    + e.getMessage());
        }
        return pid;
    }

    /** The ghost check: who listens on each configured address. */
    private void checkPorts(GaleraLbConfig cfg, Optional<Long> instancePid) {
        Map<String, HostPort> binds = new LinkedHashMap<>();
        cfg.listeners().values().forEach(l -> binds.put("listener " + l.name(), l.bind()));
        binds.put("admin API", cfg.adminBind());
        binds.forEach((what, bind) -> {
            Optional<Long> holder = PortHolder.find(bind.port());
            if (holder.isEmpty()) {
                if (instancePid.isPresent()) {
                    fail("ports", what + " " + bind + ": nothing listens there, yet galera-lb PID " + instancePid.get()
                            + " runs this configuration");
                } else {
                    ok("ports", what + " " + bind + ": free");
                }
            } else if (instancePid.equals(holder)) {
                ok("ports", what + " " + bind + ": served by this configuration's galera-lb, PID " + holder.get());
            } else {
                fail("ports", what + " " + bind + " is held by " + PortHolder.describeProcess(holder.get())
                        + ", not by this configuration's galera-lb"
                        + instancePid.map(p -> " (PID " + p + ")").orElse(" (not running)"));
            }
        });
    }

    /** What each node says, and whether the nodes of the listener agree. */
    private void checkNodes(ListenerConfig l) {
        HealthConfig h = l.effectiveHealth();
        if (h.type() == HealthCheckType.TCP) {
            warn(l.name(), "no galera or mysql health check configured: nodes cannot be audited over SQL");
            return;
        }
        Map<String, Map<String, String>> answers = new TreeMap<>();
        for (ServerConfig s : l.servers().values()) {
            try {
                answers.put(s.name(), ask(s, h));
            } catch (SQLException e) {
                String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                fail(l.name(), s.name() + " " + s.address() + ": cannot be asked with the check credentials (user "
                        + h.user().orElse("") + "): " + msg.replaceFirst("^\\(conn=\\d+\\)\\s*", ""));
            }
        }
        if (!answers.isEmpty()) {
            ok(l.name(), "check user '" + h.user().orElse("") + "' logs in and reads the status and variables the "
                    + h.type().yamlName() + " check needs on " + String.join(",", answers.keySet()));
        }
        Map<String, NodeTimeouts> timeouts = new TreeMap<>();
        answers.forEach((name, v) -> {
            ServerConfig s = l.servers().get(name);
            CheckResult verdict = GaleraVerdict.evaluate(v, h);
            String where = name + " " + s.address() + ": ";
            if (h.type() == HealthCheckType.GALERA) {
                String summary = verdict.reason() + ", cluster " + v.get("wsrep_cluster_name") + " "
                        + v.get("wsrep_cluster_state_uuid");
                if (verdict.kind() == CheckResult.Kind.FAIL) {
                    fail(l.name(), where + summary);
                } else {
                    ok(l.name(), where + summary);
                }
            } else {
                ok(l.name(), where + "answers the check user");
            }
            long used = parse(v.get("threads_connected"));
            long max = parse(v.get("max_connections"));
            String conns = where + used + " of max_connections " + max + " connections in use";
            if (max > 0 && used * 100 >= max * 80) {
                warn(l.name(), conns);
            } else {
                ok(l.name(), conns);
            }
            long maxConnectErrors = parse(v.get("max_connect_errors"));
            String errors = where + "max_connect_errors " + maxConnectErrors;
            if ("ON".equalsIgnoreCase(v.get("skip_name_resolve")) || "1".equals(v.get("skip_name_resolve"))) {
                ok(l.name(), errors + " (skip_name_resolve=ON: the node keeps no host cache and blocks no host)");
            } else if (maxConnectErrors < MIN_CONNECT_ERRORS) {
                warn(l.name(), errors + ": behind galera-lb every client counts as one host, so that many aborted "
                        + "handshakes from any of them block all (error 1129); raise it (e.g. to " + MIN_CONNECT_ERRORS
                        + " or more), or send clients' addresses with the PROXY protocol");
            } else {
                ok(l.name(), errors);
            }
            NodeTimeouts t = new NodeTimeouts(Duration.ofSeconds(parse(v.get("wait_timeout"))),
                    Duration.ofSeconds(parse(v.get("interactive_timeout"))));
            timeouts.put(name, t);
            ok(l.name(), where + "wait_timeout " + t.waitTimeout().toSeconds() + "s, interactive_timeout "
                    + t.interactiveTimeout().toSeconds() + "s");
        });
        List<String> timeoutFindings = TimeoutAudit.findings(l.timeouts().clientIdle(), timeouts);
        timeoutFindings.forEach(f -> warn(l.name(), f));
        if (timeoutFindings.isEmpty() && !timeouts.isEmpty()) {
            ok(l.name(), "idle timeouts agree (client-idle " + l.timeouts().clientIdle() + ")");
        }
        if (h.type() == HealthCheckType.GALERA && !answers.isEmpty()) {
            checkOneCluster(l, answers);
        }
    }

    private void checkOneCluster(ListenerConfig l, Map<String, Map<String, String>> answers) {
        Map<String, List<String>> byCluster = new TreeMap<>();
        answers.forEach((name, v) -> byCluster.computeIfAbsent(v.get("wsrep_cluster_name") + " "
                + v.get("wsrep_cluster_state_uuid"), k -> new ArrayList<>()).add(name));
        if (byCluster.size() > 1) {
            fail(l.name(), "the nodes of one listener belong to different clusters: " + byCluster.entrySet().stream()
                    .map(e -> String.join(",", e.getValue()) + " in " + e.getKey()).collect(Collectors.joining("; ")));
        } else {
            ok(l.name(), "all nodes answering are in one cluster: " + byCluster.keySet().iterator().next());
        }
        int configured = l.servers().size();
        Map<String, List<String>> bySize = new TreeMap<>();
        answers.forEach((name, v) -> bySize.computeIfAbsent(v.get("wsrep_cluster_size"), k -> new ArrayList<>()).add(name));
        bySize.forEach((size, names) -> {
            long n = parse(size);
            String seen = "wsrep_cluster_size " + n + " on " + String.join(",", names) + ", " + configured
                    + " server(s) configured";
            if (n < configured) {
                fail(l.name(), seen + ": a configured node is not in the cluster");
            } else if (n > configured) {
                warn(l.name(), seen + ": the cluster has a node this configuration does not know");
            } else {
                ok(l.name(), seen);
            }
        });
    }

    /** Status and variables of one node, as the check user sees them. */
    private static Map<String, String> ask(ServerConfig s, HealthConfig h) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", h.user().orElse(""));
        p.setProperty("password", h.password().value());
        int ms = (int) Math.max(1000, h.timeout().multipliedBy(2).toMillis());
        p.setProperty("connectTimeout", Integer.toString(ms));
        p.setProperty("socketTimeout", Integer.toString(ms));
        p.setProperty("allowMultiQueries", "true");
        s.source().ifPresent(a -> p.setProperty("localSocketAddress", a));
        DriverTls.apply(p, h.tls());
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://" + s.address() + "/", p)) {
            return StatusQuery.run(c, "SHOW GLOBAL STATUS WHERE Variable_name LIKE 'wsrep_%' "
                    + "OR Variable_name = 'Threads_connected'; SHOW GLOBAL VARIABLES WHERE Variable_name IN "
                    + "('wsrep_on','wsrep_desync','wsrep_reject_queries','wsrep_sst_donor_rejects_queries',"
                    + "'read_only','wait_timeout','interactive_timeout','max_connections','max_connect_errors',"
                    + "'skip_name_resolve','wsrep_cluster_name')");
        }
    }

    private static long parse(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private int report() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            List<Map<String, String>> rows = findings.stream()
                    .map(f -> Map.of("level", f.level(), "topic", f.topic(), "message", f.message())).toList();
            out.println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(rows));
        } else {
            for (Finding f : findings) {
                out.printf("%-4s  %-12s  %s%n", f.level(), f.topic(), f.message());
            }
            long fails = findings.stream().filter(f -> f.level().equals("FAIL")).count();
            long warns = findings.stream().filter(f -> f.level().equals("WARN")).count();
            out.printf("%d FAIL, %d WARN, %d OK%n", fails, warns, findings.size() - fails - warns);
        }
        return findings.stream().anyMatch(f -> f.level().equals("FAIL")) ? ExitCode.FAILED : ExitCode.OK;
    }
}
