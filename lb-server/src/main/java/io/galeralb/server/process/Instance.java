package io.galeralb.server.process;

import io.galeralb.config.ConfigDiff;
import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.Secret;
import io.galeralb.config.TrustedFiles;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Server;
import io.galeralb.health.ServerHealth;
import io.galeralb.server.AddressWatch;
import io.galeralb.server.GaleraLb;
import io.galeralb.server.Main;
import io.galeralb.server.admin.AdminServer;
import io.galeralb.server.admin.StatusReport;
import io.galeralb.server.writer.WriterElection;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one galera-lb process of a configuration file: its lock, its proxy, its admin API, and
 * its reloads. What {@code galera-lb run} runs.
 */
public final class Instance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Instance.class);
    /** Top-level settings a reload records but the running process keeps until it is restarted. */
    private static final List<String> AT_NEXT_START = List.of("io-threads");

    /** A start refused for a reason the operator must read. */
    public static final class Refused extends Exception {
        private final boolean invalidConfig;

        Refused(String message) {
            this(message, false);
        }

        Refused(String message, boolean invalidConfig) {
            super(message);
            this.invalidConfig = invalidConfig;
        }

        /** Refused because the configuration could not be loaded, not because of the machine's state. */
        public boolean invalidConfig() {
            return invalidConfig;
        }
    }

    /**
     * The outcome of a reload, as the admin API returns it and {@code galera-lb reload} prints it.
     *
     * @param ok            whether the new configuration is running
     * @param invalidConfig refused because the file could not be loaded
     * @param generation    the generation running now
     * @param message       what changed, or why nothing did
     */
    public record ReloadOutcome(boolean ok, boolean invalidConfig, long generation, String message) {
    }

    private final Path configFile;
    private final long pid = ProcessHandle.current().pid();
    private final Instant started = ProcessHandle.current().info().startInstant().orElse(Instant.now());
    private final InstanceLock lock;
    private final GaleraLb lb;
    private final PrometheusMeterRegistry registry;
    /** Where the admin API listens and the lock this process holds: both fixed for its life. */
    private final HostPort adminBind;
    private final Path lockFile;
    /** What mutating admin calls must present: from admin.token-file (read again by each reload), or made at start. */
    private volatile String adminToken;
    private final String generatedToken;
    private AdminServer admin;
    /** Where readiness and reloads are told to systemd; none unless {@code run} sets one. */
    private volatile SystemdNotify systemd = SystemdNotify.NONE;
    /** Guarded by this. */
    private long generation = 1;
    private String sha256;
    private Instant loadedAt;

    private Instance(Path configFile, InstanceLock lock, GaleraLb lb, PrometheusMeterRegistry registry,
                     String sha256) {
        this.configFile = configFile;
        this.lock = lock;
        this.lb = lb;
        this.registry = registry;
        this.adminBind = lb.config().adminBind();
        this.lockFile = lb.config().lockFile();
        this.generatedToken = newToken();
        this.adminToken = lb.config().adminToken().map(Secret::value).orElse(generatedToken);
        this.sha256 = sha256;
        this.loadedAt = Instant.now();
    }

    public static Instance start(Path configFile) throws Refused, InterruptedException {
        Path file = configFile.toAbsolutePath().normalize();
        Loaded loaded;
        try {
            loaded = load(file);
        } catch (ConfigException | IOException e) {
            throw new Refused(describe(e, file), true);
        }
        GaleraLbConfig config = loaded.config();
        String sha = loaded.sha256();
        InstanceLock lock;
        try {
            lock = InstanceLock.acquire(config.lockFile(), Map.of("pid", ProcessHandle.current().pid(),
                    "started", Instant.now().toString(), "config", file.toString(), "generation", 1,
                    "admin", config.adminBind().toString()));
        } catch (InstanceLock.AlreadyRunning | TrustedFiles.Untrusted e) {
            throw new Refused(e.getMessage());
        } catch (IOException e) {
            throw new Refused("cannot lock " + config.lockFile() + ": " + e.getMessage());
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        GaleraLb lb;
        try {
            lb = GaleraLb.start(config, registry);
        } catch (ListenerBindException e) {
            closeQuietly(lock);
            throw new Refused(explain(e));
        }
        Instance instance = new Instance(file, lock, lb, registry, sha);
        lb.metrics().process(instance::generation);
        try {
            instance.admin = AdminServer.start(config.adminBind(), instance);
        } catch (IOException e) {
            lb.close();
            closeQuietly(lock);
            throw new Refused("cannot bind the admin API on " + config.adminBind() + ": "
                    + PortHolder.describe(config.adminBind().host(), config.adminBind().port()));
        }
        instance.writeLock();
        // Last: once this is logged, the admin API answers and the lock file says where and with
        // which token (scripts wait for this line, then call 'galera-lb reload' or 'status').
        log.info("galera-lb started: {} listener(s) from {} (sha256 {}), generation 1; admin API on http://{}",
                config.listeners().size(), file, sha.substring(0, 12), config.adminBind());
        return instance;
    }

    /** A validated configuration and the SHA-256 of the file it came from. */
    private record Loaded(GaleraLbConfig config, String sha256) {
    }

    private static Loaded load(Path file) throws ConfigException, IOException {
        GaleraLbConfig config = ConfigLoader.load(file);
        return new Loaded(config, sha256(file));
    }

    private static String describe(Exception e, Path file) {
        return e instanceof ConfigException ? e.getMessage() : "cannot read " + file + ": " + e.getMessage();
    }

    /** A bind failure, with the process that holds the address when there is one. */
    static String explain(ListenerBindException e) {
        if (e.addressInUse()) {
            return "cannot bind listener " + e.listener() + ": " + PortHolder.describe(e.bind().host(), e.bind().port());
        }
        return e.getMessage();
    }

    public GaleraLb lb() {
        return lb;
    }

    /**
     * Reads the configuration file again and applies it. An invalid file, or a listener that
     * cannot bind, changes nothing.
     */
    /** The sha256 of the file the running configuration was loaded from. */
    public synchronized String loadedSha256() {
        return sha256;
    }

    public synchronized ReloadOutcome reload() {
        return reload(false);
    }

    /** As {@link #reload()}; {@code force} applies new health settings that fail on every server (see {@link GaleraLb#reload}). */
    public synchronized ReloadOutcome reload(boolean force) {
        systemd.send("RELOADING=1", SystemdNotify.monotonicUsec(), "STATUS=reloading " + configFile);
        ReloadOutcome outcome = reloadNow(force);
        systemd.send("READY=1", "STATUS=" + statusLine());
        return outcome;
    }

    /**
     * Tells {@code notify} that this instance is ready (its listeners bound, after the first
     * verdicts), and every reload and stop from now on.
     */
    public void notifySystemd(SystemdNotify notify) {
        this.systemd = notify;
        notify.send("READY=1", "STATUS=" + statusLine(), "MAINPID=" + pid);
    }

    /** One line for systemctl status: {@code generation 2; 42 session(s); 5/6 server(s) UP}. */
    String statusLine() {
        int sessions = 0;
        int servers = 0;
        int up = 0;
        for (Listener l : lb.listeners()) {
            sessions += l.activeSessions();
            for (Server s : l.pool().servers()) {
                servers++;
                up += s.isUp() ? 1 : 0;
            }
        }
        return "generation " + generation() + "; " + sessions + " session(s); " + up + "/" + servers + " server(s) UP";
    }

    private ReloadOutcome reloadNow(boolean force) {
        long t0 = System.nanoTime();
        Loaded loaded;
        try {
            loaded = load(configFile);
        } catch (ConfigException | IOException e) {
            return refused(describe(e, configFile), true);
        }
        GaleraLbConfig next = loaded.config();
        String sha = loaded.sha256();
        // The CLI finds this process through its lock file and reaches it at its admin address:
        // neither moves while it runs, and a reload that would move them is not half-applied.
        if (!next.adminBind().equals(adminBind)) {
            return refused("admin.bind changed from " + adminBind + " to " + next.adminBind() + ", which takes a "
                    + "restart; restart galera-lb, or put admin.bind back to reload the rest");
        }
        if (!next.lockFile().toAbsolutePath().equals(lockFile.toAbsolutePath())) {
            return refused("lock-file changed from " + lockFile + " to " + next.lockFile() + ", which takes a "
                    + "restart; restart galera-lb, or put lock-file back to reload the rest");
        }
        ConfigDiff diff;
        try {
            diff = lb.reload(next, force);
        } catch (ListenerBindException e) {
            return refused(explain(e));
        } catch (ReloadRefusedException e) {
            return refused(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return refused("interrupted");
        }
        generation++;
        this.sha256 = sha;
        adminToken = next.adminToken().map(Secret::value).orElse(generatedToken);
        loadedAt = Instant.now();
        writeLock();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String message = "generation " + generation + " applied in " + ms + " ms: " + diff.summary();
        List<String> atNextStart = diff.settingsChanged().stream().filter(AT_NEXT_START::contains).toList();
        if (!atNextStart.isEmpty()) {
            message += " (" + String.join(", ", atNextStart) + ": take effect at the next start)";
        }
        log.info("reload: {}", message);
        lb.metrics().reload(true);
        return new ReloadOutcome(true, false, generation, message);
    }

    private synchronized long generation() {
        return generation;
    }

    /**
     * {@code GET /stats}: one CSV row per listener (svname FRONTEND) and server, with HAProxy's
     * column names where the meaning is the same.
     */
    public String stats() {
        StringBuilder csv = new StringBuilder("# pxname,svname,scur,smax,stot,bin,bout,econ,dreq,status,weight,"
                + "check_status,check_duration,lastchg,idle_closed_by_server\n");
        long now = Instant.now().getEpochSecond();
        for (StatusReport.ListenerStatus l : status().listeners()) {
            long stot = 0;
            long bin = 0;
            long bout = 0;
            for (StatusReport.ServerStatus srv : l.servers()) {
                stot += srv.totalSessions();
                bin += srv.bytesIn();
                bout += srv.bytesOut();
                csv.append(row(l.name(), srv.name(), srv.sessions(), srv.maxSessions(), srv.totalSessions(),
                        srv.bytesIn(), srv.bytesOut(), srv.connectFailures(), "", srv.state(), srv.weight(), srv.reason(),
                        srv.checkDurationMs(), srv.lastChange() == null ? ""
                                : now - Instant.parse(srv.lastChange()).getEpochSecond(),
                        srv.idleClosedByServer()));
            }
            long refused = l.refusedNoServer() + l.refusedMaxConnections();
            csv.append(row(l.name(), "FRONTEND", l.sessions(), "", stot, bin, bout, "", refused, "OPEN", "",
                    "", "", "", ""));
        }
        return csv.toString();
    }

    private static String row(Object... fields) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            String f = fields[i] == null ? "" : String.valueOf(fields[i]);
            if (f.contains(",") || f.contains("\"")) {
                f = "\"" + f.replace("\"", "\"\"") + "\"";
            }
            sb.append(i == 0 ? "" : ",").append(f);
        }
        return sb.append('\n').toString();
    }

    /** {@code GET /metrics}: Prometheus text, or OpenMetrics when {@code contentType} is its. */
    public String scrape(String contentType) {
        lb.refreshMetrics();
        return registry.scrape(contentType);
    }

    private ReloadOutcome refused(String why) {
        return refused(why, false);
    }

    private ReloadOutcome refused(String why, boolean invalidConfig) {
        lb.metrics().reload(false);
        String message = "reload refused, generation " + generation + " keeps running: " + why;
        log.error("{}", message);
        return new ReloadOutcome(false, invalidConfig, generation, message);
    }

    private void writeLock() {
        try {
            lock.update(holder());
        } catch (IOException e) {
            log.warn("cannot update lock file: {}", e.getMessage());
        }
    }

    /** 32 random bytes, hex: the admin token when the configuration names no token file. */
    private static String newToken() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Whether an Authorization header carries the admin token; constant time. */
    public boolean authorized(String authorization) {
        byte[] expected = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
        byte[] given = String.valueOf(authorization).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given);
    }

    private synchronized Map<String, Object> holder() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("pid", pid);
        h.put("started", started.toString());
        h.put("config", configFile.toString());
        h.put("generation", generation);
        h.put("admin", adminBind.toString());
        if (lb.config().adminToken().isEmpty()) {
            // The lock file is readable by this user only: whoever may signal the process may use the API.
            h.put("token", adminToken);
        } else {
            // Where the token is, for a CLI that cannot read it from a configuration file being edited.
            h.put("token-file", lb.config().adminToken().get().source().replaceFirst("^file ", ""));
        }
        return h;
    }

    /** The writer of a {@code balance: first} listener, in {@code GET /status}. */
    private static StatusReport.WriterStatus writerStatus(WriterElection.State w) {
        return new StatusReport.WriterStatus(w.writer().orElse(null),
                w.writer().isPresent() ? null : w.noWriterReason(), w.since().toString(), w.reason(), w.changes(),
                w.checked().toString(), w.lease().map(l -> new StatusReport.LeaseStatus(l.writer(), l.holder(),
                        l.epoch(), l.changedAt().toString(), l.reason())).orElse(null), w.leaseError().orElse(null));
    }

    /** Whether the file on disk differs from the loaded one; empty when it cannot be read. */
    private Optional<Boolean> reloadPending() {
        try {
            return Optional.of(!sha256(configFile).equals(sha256));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The process, its configuration, and every listener and server: {@code GET /status}. */
    public synchronized StatusReport status() {
        List<StatusReport.ListenerStatus> listeners = new ArrayList<>();
        for (Listener l : lb.listeners()) {
            Map<String, ServerHealth> health = lb.health(l.name()).snapshot();
            List<StatusReport.ServerStatus> servers = new ArrayList<>();
            for (Server srv : l.pool().servers()) {
                ServerHealth h = health.get(srv.name());
                servers.add(new StatusReport.ServerStatus(srv.name(), srv.config().address().toString(),
                        AddressWatch.shown(srv.address()) + ":" + srv.address().getPort(),
                        srv.addressProblem().isEmpty() ? null : srv.addressProblem(), srv.config().weight(),
                        srv.weightShare(), srv.state(), srv.isUp() ? "UP" : "DOWN",
                        h != null && h.lastResult() != null ? h.lastResult().reason() : srv.downReason(),
                        h != null && h.lastChange() != null ? h.lastChange().toString() : null,
                        srv.activeSessions(), srv.totalSessions(), srv.maxSessions(), srv.bytesFromClients(),
                        srv.bytesToClients(), srv.connectFailures(), srv.hostBlocked(), srv.idleClosedByServer(),
                        srv.clientAborts(), srv.serverAborts(), srv.downtime().toSeconds(),
                        h != null && h.lastDuration() != null ? h.lastDuration().toMillis() : null));
            }
            listeners.add(new StatusReport.ListenerStatus(l.name(), l.config().bind().toString(),
                    l.config().balance().yamlName(), l.activeSessions(), l.config().maxConnections(),
                    l.refusedNoServer(), l.refusedMaxConnections(), l.refusedNoSocket(), l.closedByFinTimeout(),
                    lb.writerState(l.name()).map(Instance::writerStatus).orElse(null), servers));
        }
        return new StatusReport(pid, started.toString(), Main.version(), configFile.toString(), sha256, generation,
                loadedAt.toString(), reloadPending().orElse(null), lb.transport().name().toLowerCase(Locale.ROOT),
                lb.ioThreads(), Durations.format(lb.busyPoll()), listeners);
    }

    public void shutdown() {
        systemd.send("STOPPING=1", "STATUS=stopping: sessions have " + Durations.format(lb.config().shutdownGrace())
                + " to finish");
        if (admin != null) {
            admin.close();
        }
        lb.shutdown(lb.config().shutdownGrace());
        closeQuietly(lock);
    }

    @Override
    public void close() {
        shutdown();
    }

    /** The SHA-256 of a configuration file: a regular file of at most the loader's size limit. */
    public static String sha256(Path file) throws IOException {
        byte[] content = TrustedFiles.read(file, TrustedFiles.MAX_CONFIG_BYTES, false, "configuration file");
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void closeQuietly(InstanceLock lock) {
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("cannot release lock: {}", e.getMessage());
        }
    }
}
