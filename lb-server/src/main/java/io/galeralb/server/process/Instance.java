package io.galeralb.server.process;

import io.galeralb.config.ConfigDiff;
import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.TrustedFiles;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Server;
import io.galeralb.server.GaleraLb;
import io.galeralb.server.admin.AdminServer;
import io.galeralb.server.admin.AdminToken;
import io.galeralb.server.admin.StatusReport;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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
    private final AdminToken token;
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
        this.token = new AdminToken(lb.config().adminToken());
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

    /** The sha256 of the file the running configuration was loaded from. */
    public synchronized String loadedSha256() {
        return sha256;
    }

    /**
     * Reads the configuration file again and applies it. An invalid file, or a listener that
     * cannot bind, changes nothing.
     */
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
        token.configured(next.adminToken());
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

    private synchronized Map<String, Object> holder() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("pid", pid);
        h.put("started", started.toString());
        h.put("config", configFile.toString());
        h.put("generation", generation);
        h.put("admin", adminBind.toString());
        if (token.generated().isPresent()) {
            // The lock file is readable by this user only: whoever may signal the process may use the API.
            h.put("token", token.generated().get());
        } else {
            // Where the token is, for a CLI that cannot read it from a configuration file being edited.
            h.put("token-file", lb.config().adminToken().get().source().replaceFirst("^file ", ""));
        }
        return h;
    }

    /** Whether the file on disk differs from the loaded one; empty when it cannot be read. */
    private Optional<Boolean> reloadPending() {
        try {
            return Optional.of(!sha256(configFile).equals(sha256));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The process, its configuration, and every listener and server: {@code GET /status}. Waits for a reload. */
    public synchronized StatusReport status() {
        return StatusReport.of(new StatusReport.Process(pid, started, configFile, sha256, generation, loadedAt,
                reloadPending()), lb);
    }

    /** The admin API's token. */
    public AdminToken token() {
        return token;
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
