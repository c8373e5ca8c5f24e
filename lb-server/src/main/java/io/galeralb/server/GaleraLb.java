package io.galeralb.server;

import io.galeralb.config.Balance;
import io.galeralb.config.ConfigDiff;
import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.OnServerDown;
import io.galeralb.config.ServerConfig;
import io.galeralb.core.AdminState;
import io.galeralb.core.GracefulClose;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Proxy;
import io.galeralb.core.Server;
import io.galeralb.core.ServerPool;
import io.galeralb.core.SessionEnd;
import io.galeralb.core.io.OpenFiles;
import io.galeralb.core.io.Transport;
import io.galeralb.health.CheckResult;
import io.galeralb.health.ListenerHealth;
import io.galeralb.health.ServerHealth;
import io.galeralb.health.Transition;
import io.galeralb.server.admin.Metrics;
import io.galeralb.server.process.ReloadRefusedException;
import io.galeralb.server.writer.WriterElection;
import io.galeralb.server.writer.WriterElections;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running galera-lb: the proxy, its listeners and their health checks, wired from one
 * configuration, and changed in place by {@link #reload}.
 */
public final class GaleraLb implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GaleraLb.class);
    private static final String NOT_CHECKED = "not checked yet";
    /**
     * Descriptors the process keeps besides its sessions' (JVM, health checks, admin API, logs),
     * with room to spare: about 60 are open once galera-lb has started.
     */
    private static final int OPEN_FILES_BESIDES_SESSIONS = 200;

    /** One listener and its health checks. */
    private record Served(Listener listener, ListenerHealth health) {
    }

    private final Proxy proxy;
    private final Metrics metrics;
    /** Live DNS, made when a listener first asks for it (resolve-interval); null until then. */
    private AddressWatch addressWatch;
    /** Rebalancing, started when a listener first asks for it (rebalance: on); null until then. */
    private Rebalancer rebalancer;
    private volatile GaleraLbConfig config;
    /** Guarded by this. */
    private final Map<String, Served> served = new LinkedHashMap<>();
    /** Operator states by listener and server; guarded by this; re-applied after every reload. */
    private final Map<String, Map<String, AdminState>> adminStates = new LinkedHashMap<>();
    /** Writer elections of the balance: first listeners; read by health threads, changed under this. */
    private final WriterElections elections;
    private boolean stopped;

    private GaleraLb(GaleraLbConfig config, Proxy proxy, MeterRegistry registry) {
        this.config = config;
        this.proxy = proxy;
        this.metrics = new Metrics(registry, proxy);
        this.elections = new WriterElections(() -> holderName(this.config));
    }

    /** {@code host/pid 1234 (admin 127.0.0.1:9000)}: enough for an operator to find the instance. */
    private static String holderName(GaleraLbConfig config) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return host + "/pid " + ProcessHandle.current().pid() + " (admin " + config.adminBind() + ")";
    }

    /**
     * Checks every server, then binds every listener. A listener accepts only once each of its
     * servers has had its first verdict (or the time for one has passed), so no session goes to
     * a node that was never checked. If any listener cannot bind, nothing keeps running and the
     * error is thrown: galera-lb never runs with part of its listeners.
     */
    public static GaleraLb start(GaleraLbConfig config) throws ListenerBindException, InterruptedException {
        return start(config, new SimpleMeterRegistry());
    }

    /** As {@link #start(GaleraLbConfig)}, with its meters on {@code registry}. */
    public static GaleraLb start(GaleraLbConfig config, MeterRegistry registry)
            throws ListenerBindException, InterruptedException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(registry, "registry");
        GaleraLb lb = new GaleraLb(config,
                Proxy.start(config.ioThreads().orElse(Runtime.getRuntime().availableProcessors()), config.busyPoll()),
                registry);
        try {
            synchronized (lb) {
                lb.served.putAll(lb.open(new ArrayList<>(config.listeners().values()), Map.of()));
                lb.startBackgroundWork();
            }
        } catch (ListenerBindException | InterruptedException | RuntimeException e) {
            lb.proxy.close();
            throw e;
        }
        log.info("{} listener(s) open, from {}, transport {}, {} I/O thread(s), busy-poll {}", config.listeners().size(),
                config.source(), lb.proxy.transport().name().toLowerCase(Locale.ROOT), lb.proxy.ioThreads(),
                Durations.format(config.busyPoll()));
        warnIfOpenFilesTooFew(config);
        return lb;
    }

    /**
     * Warns when the open-files limit is below what the listeners' max-connections may need (two
     * descriptors per session: the client's and the server's), as HAProxy does for its maxconn:
     * otherwise clients find out one by one, past the limit, with "too many open files".
     */
    private static void warnIfOpenFilesTooFew(GaleraLbConfig config) {
        long sessions = config.listeners().values().stream().mapToLong(ListenerConfig::maxConnections).sum();
        long needed = 2 * sessions + OPEN_FILES_BESIDES_SESSIONS;
        OpenFiles.processLimit().ifPresent(limit -> {
            if (limit < needed) {
                log.warn("the open-files limit of this process is {}, below the {} that max-connections {} "
                        + "(all listeners) may need: 2 per session and {} besides; past about {} sessions clients "
                        + "get \"too many open files\". Raise LimitNOFILE (systemd) or ulimit -n, or lower "
                        + "max-connections", limit, needed, sessions, OPEN_FILES_BESIDES_SESSIONS,
                        Math.max(0, (limit - OPEN_FILES_BESIDES_SESSIONS) / 2));
            }
        });
    }

    /**
     * Prepares, checks and binds listeners, all or nothing (if one cannot bind, those opened here
     * are closed again and the error is thrown); those named in {@code handovers} take over the
     * socket of the listener given there instead of binding (which cannot fail, so it comes last).
     */
    private Map<String, Served> open(List<ListenerConfig> configs, Map<String, Listener> handovers)
            throws ListenerBindException, InterruptedException {
        Map<String, Served> opened = new LinkedHashMap<>();
        try {
            for (ListenerConfig lc : configs) {
                Listener listener = proxy.prepare(lc);
                // Nothing is sent to a server before its first check says it may serve.
                listener.pool().servers().forEach(s -> s.markDown(NOT_CHECKED));
                listener.observer(metrics.sessionObserver(lc.name()));
                if (lc.health().isEmpty()) {
                    log.warn("listener {} has no health section: its servers are checked by TCP connect only, "
                            + "which cannot see Galera state (add health: {{type: galera, user: ...}})", lc.name());
                }
                TimeoutAudit audit = new TimeoutAudit(lc.name(), listener::config);
                ListenerHealth health = new ListenerHealth(lc.name(), lc.effectiveHealth(), lc.servers().values(),
                        t -> apply(listener, t), (server, result, nanos) -> {
                            metrics.checked(lc.name(), server, result, nanos);
                            audit.observe(server, result.timeouts());
                            result.timeouts().ifPresent(nt -> listener.pool().find(server)
                                    .ifPresent(s -> s.serverIdleTimeouts(nt.waitTimeout(), nt.interactiveTimeout())));
                        });
                opened.put(lc.name(), new Served(listener, health));
                health.start();
            }
            for (Served s : opened.values()) {
                ListenerHealth h = s.health();
                if (!h.awaitFirstVerdicts(h.firstVerdictBound())) {
                    for (String name : h.serversWithoutVerdict()) {
                        log.warn("{}/{}: no verdict within {}; DOWN until its first check completes", s.listener().name(),
                                name, Durations.format(h.firstVerdictBound()));
                    }
                }
            }
            for (Served s : opened.values()) {
                if (s.listener().config().balance() == Balance.FIRST) {
                    // The writer is chosen before the first client arrives.
                    elections.start(s.listener());
                }
            }
            for (Served s : opened.values()) {
                if (!handovers.containsKey(s.listener().name())) {
                    s.listener().bind();
                    logListener(s.listener());
                }
            }
            handovers.forEach((name, old) -> {
                opened.get(name).listener().takeOver(old);
                log.info("listener {} takes over the socket of listener {} on {}", name, old.name(), old.config().bind());
                logListener(opened.get(name).listener());
            });
            return opened;
        } catch (ListenerBindException | InterruptedException | RuntimeException e) {
            for (Served s : opened.values()) {
                s.health().close();
                s.listener().stopAccepting();
                elections.stop(s.listener().name());
            }
            throw e;
        }
    }

    private static void logListener(Listener listener) {
        ListenerConfig lc = listener.config();
        HealthConfig hc = lc.effectiveHealth();
        log.info("listener {} on {}:{} ({}, max-connections {}, connect {}, client-idle {}, server-idle {}, "
                        + "{} check every {}, on-server-down {})",
                lc.name(), listener.localAddress().getHostString(), listener.localAddress().getPort(),
                lc.balance().yamlName(), lc.maxConnections(), Durations.format(lc.timeouts().connect()),
                lc.timeouts().clientIdle(), lc.timeouts().serverIdle(),
                hc.type().yamlName(), Durations.format(hc.interval()), lc.onServerDown().yamlName());
        for (Server s : listener.pool().servers()) {
            log.info("listener {} server {} at {} {}: {}", lc.name(), s.name(), s.config().address(),
                    lc.balance() == Balance.FIRST ? "priority " + s.priority() : "weight " + s.config().weight(),
                    s.isUp() ? "UP" : "DOWN, " + s.downReason());
        }
    }

    /**
     * Applies a health transition to the proxy's server; closes its sessions if the listener says
     * so. A server that stays DOWN for a new reason only takes the new reason.
     */
    private void apply(Listener listener, Transition t) {
        Optional<Server> found = listener.pool().find(t.server());
        if (!t.changesState()) {
            found.ifPresent(s -> s.markDown(t.reason() + "; " + t.evidence()));
            return;
        }
        metrics.transition(t);
        if (found.isEmpty()) {
            return;
        }
        Server server = found.get();
        if (t.up()) {
            server.markUp();
            elections.poke(listener.name());
            return;
        }
        server.markDown(t.reason() + "; " + t.evidence());
        if (elections.of(listener.name()).isPresent()) {
            if (listener.pool().writer().filter(w -> w == server).isPresent()) {
                // Sessions arriving while the next writer is chosen wait for it.
                listener.pool().holdNewSessions(true);
            }
            elections.poke(listener.name());
        }
        if (t.donor()) {
            log.info("{}/{}: takes no new sessions while it donates; its {} session(s) go on", listener.name(),
                    server.name(), server.activeSessions());
        } else if (listener.config().onServerDown() == OnServerDown.SHUTDOWN_SESSIONS) {
            int closed = server.closeSessions(SessionEnd.SERVER_DOWN);
            if (closed > 0) {
                log.info("{}/{}: closed {} session(s) (on-server-down: shutdown-sessions)", listener.name(),
                        server.name(), closed);
            }
        }
    }

    /**
     * Applies a new, fully validated configuration. New listeners are checked and bound first;
     * if any cannot bind, nothing changes and the error is thrown. Then listeners that stay take
     * their new settings (servers that stay keep their state, counters and sessions; new servers
     * are DOWN until their first check passes), and removed listeners and servers stop taking
     * sessions; their sessions are closed after drain-timeout.
     *
     * <p>New health settings of a listener that stays are first tried on its servers that are UP:
     * when none of them passes with the new settings (a wrong password, a user without rights),
     * the reload is refused unless {@code force}, rather than take every server out.
     *
     * @return what changed
     */
    public synchronized ConfigDiff reload(GaleraLbConfig next, boolean force)
            throws ListenerBindException, ReloadRefusedException, InterruptedException {
        Objects.requireNonNull(next, "next");
        if (stopped) {
            throw new IllegalStateException("galera-lb is stopping");
        }
        ConfigDiff diff = ConfigDiff.between(config, next);
        if (!force) {
            tryNewHealthSettings(diff, next);
        }
        List<ListenerConfig> toOpen = diff.listenersAdded().stream().map(n -> next.listeners().get(n)).toList();
        // A listener renamed on the same address takes over the old one's socket: binding it anew
        // would find the port held by galera-lb itself.
        Map<String, Listener> handovers = new LinkedHashMap<>();
        for (ListenerConfig added : toOpen) {
            diff.listenersRemoved().stream().map(served::get)
                    .filter(old -> old.listener().config().bind().equals(added.bind())).findFirst()
                    .ifPresent(old -> handovers.put(added.name(), old.listener()));
        }
        Map<String, Served> opened = open(toOpen, handovers); // all or nothing; nothing else changed yet

        for (String name : diff.listenersRemoved()) {
            Served gone = served.remove(name);
            elections.stop(name);
            gone.health().close();
            gone.listener().stopAccepting();
            closedByReload(gone.listener().closeAtBoundaries(SessionEnd.RELOAD_REMOVED, next.drainTimeout()),
                    "listener " + name);
        }
        diff.listenersChanged().forEach((name, change) -> {
            Served s = served.get(name);
            ListenerConfig lc = next.listeners().get(name);
            List<Server> gone = s.listener().update(lc, NOT_CHECKED);
            s.health().update(lc.effectiveHealth(), lc.servers().values());
            for (Server g : gone) {
                closedByReload(g.closeAtBoundaries(SessionEnd.RELOAD_REMOVED, next.drainTimeout()),
                        "server " + name + "/" + g.name());
            }
        });
        served.putAll(opened);
        proxy.busyPoll(next.busyPoll());
        config = next;
        warnIfOpenFilesTooFew(next);
        reapplyAdminStates();
        elections.sync(listeners());
        startBackgroundWork();
        return diff;
    }

    /**
     * Starts what runs beside the proxy once a listener asks for it: live DNS (resolve-interval)
     * and rebalancing (rebalance: on, one step a second).
     */
    private void startBackgroundWork() {
        watchAddresses();
        if (rebalancer == null && served.values().stream().anyMatch(s -> s.listener().config().rebalance())) {
            rebalancer = new Rebalancer(this::rebalancedListeners);
        }
    }

    private synchronized List<Listener> rebalancedListeners() {
        return served.values().stream().map(Served::listener).filter(l -> l.config().rebalance()).toList();
    }

    /** Hands what is served now to live DNS, starting it when a listener has a resolve-interval. */
    private void watchAddresses() {
        boolean wanted = served.values().stream().anyMatch(s -> !s.listener().config().resolveInterval().isZero());
        if (addressWatch == null && !wanted) {
            return;
        }
        if (addressWatch == null) {
            addressWatch = new AddressWatch();
        }
        addressWatch.update(served.values().stream().map(s -> new AddressWatch.Watched(s.listener(), s.health()))
                .toList(), config.nameservers());
    }

    private void tryNewHealthSettings(ConfigDiff diff, GaleraLbConfig next)
            throws ReloadRefusedException, InterruptedException {
        for (Map.Entry<String, ConfigDiff.ListenerChange> e : diff.listenersChanged().entrySet()) {
            if (!e.getValue().healthChanged()) {
                continue;
            }
            Listener running = served.get(e.getKey()).listener();
            ListenerConfig lc = next.listeners().get(e.getKey());
            List<ServerConfig> upNow = lc.servers().values().stream()
                    .filter(sc -> running.pool().find(sc.name()).map(Server::isUp).orElse(false)).toList();
            if (upNow.isEmpty()) {
                continue; // nothing serves now that the new settings could take out
            }
            Map<String, CheckResult> trial = ListenerHealth.trial(lc.effectiveHealth(), upNow);
            if (trial.values().stream().allMatch(r -> r.kind() == CheckResult.Kind.FAIL)) {
                StringBuilder why = new StringBuilder();
                trial.forEach((server, r) -> why.append(why.length() == 0 ? "" : "; ").append(server).append(": ")
                        .append(r.reason()));
                throw new ReloadRefusedException("the new health settings of listener " + e.getKey() + " fail on every "
                        + "server that is UP with the running ones (" + why + "); fix them, or reload with --force to "
                        + "apply them anyway");
            }
        }
    }

    /**
     * What a state change does to the server's open sessions: keep them ({@code keep}), close
     * those that are idle at their transaction boundaries ({@code closeIdle}, for DRAIN), and for
     * MAINT how long sessions inside a transaction have to end it ({@code grace}; zero: none).
     */
    public record OpenSessions(boolean keep, boolean closeIdle, Duration grace) {
        /** Today's rule: DRAIN keeps them, MAINT closes them (at once; idle ones at their boundary). */
        static final OpenSessions DEFAULT = new OpenSessions(false, false, Duration.ZERO);
        static final OpenSessions KEEP = new OpenSessions(true, false, Duration.ZERO);
    }

    /**
     * Sets an operator's state on a server: READY, DRAIN (no new sessions) or MAINT (no sessions;
     * its open sessions are closed unless kept). Survives reloads.
     *
     * @return what happened to its open sessions, for the operator; empty when nothing
     * @throws IllegalArgumentException for an unknown listener or server
     */
    public synchronized String adminState(String listener, String server, AdminState state, OpenSessions open) {
        Server s = server(listener(listener), server);
        s.adminState(state);
        adminStates.computeIfAbsent(listener, k -> new LinkedHashMap<>()).put(server, state);
        log.info("{}/{}: {} set by an operator", listener, server, state);
        elections.poke(listener);
        String where = listener + "/" + server;
        if (state == AdminState.MAINT && !open.keep()) {
            GracefulClose.Progress p = s.closeAtBoundaries(SessionEnd.MAINT, open.grace());
            p.outcome().thenAccept(o -> log.info("{}: sessions closed (maint): {}", where, o.describe()));
            return firstRound(p.firstRound(), open.grace().isZero() ? "closed now"
                    : "close at their next transaction boundary, or in " + Durations.format(open.grace()));
        }
        if (state == AdminState.DRAIN && open.closeIdle()) {
            CompletableFuture<GracefulClose.FirstRound> r = s.closeWhenIdle(SessionEnd.DRAIN);
            return firstRound(r, "close at their next transaction boundary");
        }
        return "";
    }

    /** As {@link #adminState(String, String, AdminState, OpenSessions)}, keeping or closing open sessions at once. */
    public void adminState(String listener, String server, AdminState state, boolean keepSessions) {
        adminState(listener, server, state, keepSessions ? OpenSessions.KEEP : OpenSessions.DEFAULT);
    }

    private static String firstRound(CompletableFuture<GracefulClose.FirstRound> round, String others) {
        try {
            GracefulClose.FirstRound r = round.get(10, TimeUnit.SECONDS);
            return r.closedNow() + " session(s) closed at once, " + r.atNextBoundary() + " " + others + ", "
                    + r.notFollowed() + " not followed (TLS, compression)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "sessions are being closed";
        } catch (ExecutionException | TimeoutException e) {
            return "sessions are being closed";
        }
    }

    private void reapplyAdminStates() {
        adminStates.forEach((listener, states) -> {
            Served s = served.get(listener);
            if (s != null) {
                states.forEach((name, state) -> s.listener().pool().find(name).ifPresent(srv -> srv.adminState(state)));
            }
        });
    }

    /**
     * The sessions of what a reload removed close at their transaction boundaries, and when
     * drain-timeout is over whatever their state: one line says how they ended.
     */
    private static void closedByReload(GracefulClose.Progress p, String what) {
        p.outcome().thenAccept(o -> log.info("{} removed by reload: its sessions closed: {}", what, o.describe()));
    }

    /**
     * Moves the writer of a {@code balance: first} listener to {@code server} (see
     * {@link WriterElection#switchover}); each step is reported to {@code report} as it happens.
     *
     * @return completes with true when {@code server} is the writer
     * @throws IllegalArgumentException for an unknown listener or server, or a listener that does not balance first
     * @throws IllegalStateException    when {@code server} cannot take sessions (DOWN, DRAIN or MAINT)
     */
    public CompletableFuture<Boolean> switchover(String listener, String server, Duration timeout,
                                                 Consumer<String> report) {
        WriterElection election;
        synchronized (this) {
            Listener l = listener(listener);
            election = elections.of(listener).orElse(null);
            if (election == null) {
                throw new IllegalArgumentException("listener " + listener + " balances " + l.config().balance().yamlName()
                        + "; switchover needs balance: first");
            }
            Server target = server(l, server);
            if (!target.takesSessions()) {
                throw new IllegalStateException("switchover refused: " + server + " is " + target.unavailableReason()
                        + "; the new writer must be UP and READY");
            }
        }
        log.info("{}: switchover to {} asked for (timeout {})", listener, server, Durations.format(timeout));
        Consumer<String> logged = step -> {
            log.info("{}: switchover: {}", listener, step);
            report.accept(step);
        };
        return election.switchover(server, timeout, logged, s -> adminState(listener, s, AdminState.DRAIN, OpenSessions.KEEP));
    }

    /** The writer election of a {@code balance: first} listener, for status and metrics. */
    public Optional<WriterElection.State> writerState(String listener) {
        return elections.of(listener).map(WriterElection::state);
    }

    public GaleraLbConfig config() {
        return config;
    }

    /** Completes once every I/O thread has run a task given to it now (see {@link Proxy#ioThreadsTurning}). */
    public CompletableFuture<Void> ioThreadsTurning() {
        return proxy.ioThreadsTurning();
    }

    /**
     * Why galera-lb cannot serve every listener now, one sentence per listener that cannot: a
     * listener can when a server may take its new sessions (for {@code balance: first}, the
     * writer). Empty: ready.
     */
    public synchronized List<String> notReady() {
        List<String> why = new ArrayList<>();
        for (Served s : served.values()) {
            ServerPool pool = s.listener().pool();
            boolean serves = s.listener().config().balance() == Balance.FIRST
                    ? pool.writer().filter(Server::takesSessions).isPresent()
                    : pool.servers().stream().anyMatch(Server::takesSessions);
            if (!serves) {
                why.add("listener " + s.listener().name() + ": no server can take sessions ("
                        + pool.reasons(Set.of()) + ")");
            }
        }
        return why;
    }

    /** The socket transport the proxy runs on. */
    public Transport transport() {
        return proxy.transport();
    }

    /** How long the I/O threads busy poll after I/O: set at start and by every reload. */
    public Duration busyPoll() {
        return proxy.busyPoll();
    }

    /** The I/O threads the proxy runs on: set at start, kept through reloads. */
    public int ioThreads() {
        return proxy.ioThreads();
    }

    public Metrics metrics() {
        return metrics;
    }

    /** Brings the per-server meters in line with the servers running now (before a scrape). */
    public synchronized void refreshMetrics() {
        Map<String, Map<String, ServerHealth>> health = new LinkedHashMap<>();
        served.forEach((name, s) -> health.put(name, s.health().snapshot()));
        metrics.sync(listeners(), health, elections.states());
    }

    public synchronized Listener listener(String name) {
        return served(name).listener();
    }

    /** Whether a server may take new sessions now, and why, in one line: {@code GET /health/L/S}. */
    public record Availability(boolean available, String reason) {
    }

    /**
     * Percona clustercheck's question asked of galera-lb's verdict: may {@code server} of
     * {@code listener} take new sessions now? For {@code balance: first}, only the writer may.
     *
     * @throws IllegalArgumentException for an unknown listener or server
     */
    public synchronized Availability availability(String listener, String server) {
        Server s = server(listener(listener), server);
        ServerHealth h = health(listener).snapshot().get(server);
        String check = h != null && h.lastResult() != null ? h.lastResult().reason() : s.unavailableReason();
        Optional<WriterElection.State> writer = writerState(listener);
        if (writer.isPresent()) {
            Optional<String> current = writer.get().writer();
            if (current.filter(server::equals).isPresent()) {
                return new Availability(true, server + " is the writer of " + listener + ": " + check);
            }
            return new Availability(false, server + " is not the writer of " + listener + " ("
                    + current.map(w -> w + " is").orElse("there is none: " + writer.get().noWriterReason())
                    + "); " + s.state() + ": " + check);
        }
        return new Availability(s.takesSessions(), listener + "/" + server + " " + s.state() + ": "
                + (s.takesSessions() || s.adminState() == AdminState.READY ? check : s.unavailableReason()));
    }

    /** The health of one listener's servers. */
    public synchronized ListenerHealth health(String listener) {
        return served(listener).health();
    }

    private Served served(String listener) {
        Served s = served.get(listener);
        if (s == null) {
            throw new IllegalArgumentException("no listener " + listener + " (listeners: "
                    + String.join(", ", served.keySet()) + ")");
        }
        return s;
    }

    private static Server server(Listener l, String name) {
        return l.pool().find(name).orElseThrow(() -> new IllegalArgumentException(
                "listener " + l.name() + " has no server " + name + " (servers: " + l.pool().names() + ")"));
    }

    /** Listeners in configuration order. */
    public synchronized List<Listener> listeners() {
        return served.values().stream().map(Served::listener).toList();
    }

    /**
     * Stops accepting, lets sessions finish for up to {@code grace}, then closes the rest and
     * stops the event loops.
     */
    public synchronized void shutdown(Duration grace) {
        if (stopped) {
            return;
        }
        stopped = true;
        if (addressWatch != null) {
            addressWatch.close();
        }
        if (rebalancer != null) {
            rebalancer.close();
        }
        elections.close();
        int open = 0;
        for (Served s : served.values()) {
            s.health().close();
            open += s.listener().activeSessions();
            s.listener().stopAccepting();
        }
        if (open > 0) {
            log.info("stopped accepting; {} open session(s) close at their transaction boundaries, within {}", open,
                    Durations.format(grace));
        } else {
            log.info("stopped accepting; no session is open");
        }
        List<CompletableFuture<GracefulClose.Outcome>> closing = served.values().stream()
                .map(s -> s.listener().closeAtBoundaries(SessionEnd.SHUTDOWN, grace).outcome()).toList();
        try {
            // The deadline closes what is left; the margin lets those closes complete.
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .get(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
            GracefulClose.Outcome total = closing.stream().map(CompletableFuture::join).reduce(
                    new GracefulClose.Outcome(0, 0, 0, 0), (a, b) -> new GracefulClose.Outcome(a.atBoundary()
                            + b.atBoundary(), a.otherwise() + b.otherwise(), a.cut() + b.cut(), a.opaque() + b.opaque()));
            if (open > 0) {
                log.info("sessions closed: {}", total.describe());
            }
        } catch (TimeoutException e) {
            log.warn("sessions still closing after shutdown-grace {}: closing the rest now", Durations.format(grace));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        served.values().forEach(s -> s.listener().closeSessions(SessionEnd.SHUTDOWN));
        proxy.close();
        log.info("galera-lb stopped");
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
