package io.galeralb.health;

import io.galeralb.config.Durations;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health of the servers of one listener: one checker per server, each on its own thread
 * so that a node that hangs delays nobody else's checks; the donor policy, which needs to know
 * whether any other node is Synced; and the hysteresis that turns results into transitions.
 *
 * <p>Every transition is logged once, with reason and evidence, and passed to the sink (which
 * applies it to the proxy's server pool); so is a new reason that has come to hold a DOWN server
 * down (see {@link Transition#changesState()}). The sink is called on a checker thread, outside
 * any lock.
 */
public final class ListenerHealth implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ListenerHealth.class);

    private final String listener;
    private final Consumer<Transition> sink;
    private final CheckObserver results;
    private final BiFunction<HealthConfig, ServerConfig, HealthCheck> checkFactory;
    /** Guarded by this; replaced, never mutated, by {@link #update}. */
    private HealthConfig config;
    /** Guarded by this. */
    private final Map<String, Checker> checkers = new LinkedHashMap<>();
    private final CountDownLatch firstVerdicts;
    /**
     * Aborts a check that overran its deadline. The driver's own timeouts should always fire
     * first; this is the guarantee that no checker stays hung when they do not.
     */
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "health-watchdog");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param sink    receives each transition, once
     * @param results receives every check's result by server name (for what a check reads besides
     *                the verdict, such as the node's idle timeouts)
     */
    public ListenerHealth(String listener, HealthConfig config, Collection<ServerConfig> servers,
                          Consumer<Transition> sink, CheckObserver results) {
        this(listener, config, servers, sink, results, HealthCheck::create);
    }

    /** As the public constructor, with the checks made by {@code checks} (a test's own). */
    ListenerHealth(String listener, HealthConfig config, Collection<ServerConfig> servers, Consumer<Transition> sink,
                   CheckObserver results, BiFunction<HealthConfig, ServerConfig, HealthCheck> checks) {
        this.checkFactory = Objects.requireNonNull(checks, "checks");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.config = Objects.requireNonNull(config, "config");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.results = Objects.requireNonNull(results, "results");
        for (ServerConfig s : servers) {
            checkers.put(s.name(), new Checker(s, config, null));
        }
        this.firstVerdicts = new CountDownLatch(checkers.size());
    }

    public String listener() {
        return listener;
    }

    /** Starts every checker; the first checks run at once. */
    public synchronized void start() {
        checkers.values().forEach(c -> c.schedule(0));
    }

    /**
     * Applies a reload: servers that stay keep their state (and, if the check settings did not
     * change, their checker and connection); new servers are checked at once; removed servers'
     * checkers stop.
     */
    public synchronized void update(HealthConfig next, Collection<ServerConfig> servers) {
        boolean settingsChanged = !next.equals(config);
        config = next;
        Map<String, Checker> old = new LinkedHashMap<>(checkers);
        checkers.clear();
        for (ServerConfig s : servers) {
            Checker kept = old.remove(s.name());
            if (kept != null && !settingsChanged && kept.server.equals(s)) {
                checkers.put(s.name(), kept);
                continue;
            }
            boolean sameNode = kept != null && kept.server.address().equals(s.address());
            if (kept != null) {
                kept.close();
            }
            Checker fresh = new Checker(s, next, sameNode ? kept : null);
            checkers.put(s.name(), fresh);
            fresh.schedule(0);
        }
        old.values().forEach(Checker::close);
    }

    /**
     * Checks each server once with {@code config}, all at once, without touching any state: what
     * a reload asks before it swaps in new check settings. Blocks for about one check timeout
     * (twice, for a connect and a query, at most).
     *
     * @return each server's result, in the order given
     */
    public static Map<String, CheckResult> trial(HealthConfig config, Collection<ServerConfig> servers)
            throws InterruptedException {
        Map<String, CompletableFuture<CheckResult>> running = new LinkedHashMap<>();
        for (ServerConfig s : servers) {
            running.put(s.name(), CompletableFuture.supplyAsync(() -> {
                try (HealthCheck check = HealthCheck.create(config, s)) {
                    return check.run();
                } catch (RuntimeException e) {
                    return CheckResult.unreachable(CheckResult.Cause.CHECK_ERROR, "the check failed: " + e);
                }
            }, r -> {
                Thread t = new Thread(r, "health-trial-" + s.name());
                t.setDaemon(true);
                t.start();
            }));
        }
        Map<String, CheckResult> results = new LinkedHashMap<>();
        long deadline = System.nanoTime() + config.timeout().multipliedBy(2).plusSeconds(1).toNanos();
        for (Map.Entry<String, CompletableFuture<CheckResult>> e : running.entrySet()) {
            try {
                results.put(e.getKey(), e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException | TimeoutException x) {
                results.put(e.getKey(), CheckResult.unreachable(CheckResult.Cause.TIMEOUT, "no answer within "
                        + Durations.format(config.timeout().multipliedBy(2))));
            }
        }
        return results;
    }

    /**
     * Waits until every server has had its first verdict, for at most {@code max}.
     *
     * @return true if all have
     */
    public boolean awaitFirstVerdicts(Duration max) throws InterruptedException {
        return firstVerdicts.await(max.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The longest a first verdict can take: a connect and a query, each bounded by the timeout. */
    public synchronized Duration firstVerdictBound() {
        return config.timeout().multipliedBy(2).plusMillis(500);
    }

    /** {@code server}'s name now resolves to {@code address} (live DNS): its checks connect there. */
    public synchronized void connectTo(String server, InetSocketAddress address) {
        Checker c = checkers.get(server);
        if (c != null) {
            c.check.connectTo(address);
        }
    }

    public Map<String, ServerHealth> snapshot() {
        Map<String, ServerHealth> out = new LinkedHashMap<>();
        synchronized (this) {
            checkers.forEach((name, c) -> out.put(name, c.snapshot()));
        }
        return out;
    }

    @Override
    public synchronized void close() {
        checkers.values().forEach(Checker::close);
        watchdog.shutdownNow();
    }

    /** Records a result and returns the transition it causes, if any. Holds the lock only to count. */
    private synchronized Transition record(Checker c, CheckResult r, long tookNanos) {
        if (checkers.get(c.server.name()) != c) {
            return null; // replaced or removed by a reload while it was checking
        }
        HealthConfig config = c.config;
        c.checks++;
        c.lastDuration = Duration.ofNanos(tookNanos);
        c.lastCheckedNanos = System.nanoTime();
        if (r.kind() != CheckResult.Kind.FAIL && r.view().isPresent()) {
            Optional<String> disagreement = r.view().get().disagreement(viewsOfOthers(c));
            if (disagreement.isPresent()) {
                r = r.disputed(disagreement.get());
            }
        }
        c.last = r;
        boolean pass = GaleraVerdict.serves(r, config.availableWhenDonor(), anotherNodeSynced(c));
        if (pass) {
            c.passesInARow++;
            c.failuresInARow = 0;
        } else {
            c.failuresInARow++;
            c.passesInARow = 0;
        }
        boolean first = !c.hysteresis.isKnown();
        // A node taken out only for a donation, which it has now finished, serves again at once:
        // it said what it was doing, and rise is for nodes whose state is in doubt.
        boolean donationOver = pass && c.outForDonation && r.kind() == CheckResult.Kind.PASS;
        Hysteresis.Change change = donationOver ? c.hysteresis.resume() : c.hysteresis.observe(pass, r.definite());
        if (pass || r.kind() != CheckResult.Kind.DONOR) {
            c.outForDonation = false;
        }
        if (change == Hysteresis.Change.WENT_DOWN && r.kind() == CheckResult.Kind.DONOR) {
            c.outForDonation = true;
        }
        if (change != Hysteresis.Change.WENT_UP && change != Hysteresis.Change.WENT_DOWN) {
            if (pass || c.hysteresis.isUp()) {
                c.newReasonInARow = 0; // a pass breaks a run of the same new finding
                return null;
            }
            return newReasonWhileDown(c, r);
        }
        c.lastChange = Instant.now();
        String reason = describe(c, r, pass);
        c.downReason = pass ? null : reason;
        c.newReasonInARow = 0;
        String evidence;
        if (first) {
            evidence = "first check";
        } else if (donationOver) {
            evidence = "its donation is over";
        } else if (pass) {
            evidence = c.passesInARow + "/" + config.rise() + " checks passed";
        } else if (r.definite()) {
            evidence = "the node answered; taken out at once";
        } else {
            evidence = c.failuresInARow + "/" + config.fall() + " checks failed";
        }
        return new Transition(listener, c.server.name(), pass, reason, evidence, c.lastChange, Optional.empty(),
                r.kind() == CheckResult.Kind.DONOR);
    }

    /** The check's finding as a transition states it. */
    private static String describe(Checker c, CheckResult r, boolean pass) {
        if (r.kind() != CheckResult.Kind.DONOR) {
            return r.reason();
        }
        return r.reason() + (pass ? ", serving as donor" : ", not serving as donor") + " (available-when-donor: "
                + c.config.availableWhenDonor().yamlName() + ")";
    }

    /**
     * A server that stays DOWN may come to be held down by another cause: a node that left the
     * Primary component and was then stopped is refusing connections, not non-Primary. Once a
     * new finding has repeated for {@code fall} checks in a row it replaces the old one, so that
     * clients and status name what holds the server down now. Findings that differ from check to
     * check (a receive queue length) never replace it.
     */
    private Transition newReasonWhileDown(Checker c, CheckResult r) {
        String reason = describe(c, r, false);
        if (c.downReason == null || reason.equals(c.downReason)) {
            c.newReasonInARow = 0;
            return null;
        }
        c.newReasonInARow = reason.equals(c.newReason) ? c.newReasonInARow + 1 : 1;
        c.newReason = reason;
        if (c.newReasonInARow < c.config.fall()) {
            return null;
        }
        String was = c.downReason;
        c.downReason = reason;
        c.newReasonInARow = 0;
        return new Transition(listener, c.server.name(), false, reason,
                c.config.fall() + "/" + c.config.fall() + " checks failed", Instant.now(), Optional.of(was), false);
    }

    /**
     * The views of the other servers whose last check, recent enough to describe the cluster as
     * it is now, found them serving (Synced or donor, in the Primary component).
     */
    private Map<String, ClusterView> viewsOfOthers(Checker self) {
        Map<String, ClusterView> views = new LinkedHashMap<>();
        long now = System.nanoTime();
        for (Checker other : checkers.values()) {
            long fresh = other.config.interval().plus(other.config.timeout()).multipliedBy(2).toNanos();
            if (other != self && other.last != null && other.last.kind() != CheckResult.Kind.FAIL
                    && other.last.view().isPresent() && now - other.lastCheckedNanos <= fresh) {
                views.put(other.server.name(), other.last.view().get());
            }
        }
        return views;
    }

    private boolean anotherNodeSynced(Checker self) {
        for (Checker other : checkers.values()) {
            if (other != self && other.last != null && other.last.kind() == CheckResult.Kind.PASS) {
                return true;
            }
        }
        return false;
    }

    /** One server's checker: its check, its thread, its counters. Counters are guarded by the ListenerHealth lock. */
    private final class Checker {
        final ServerConfig server;
        final HealthConfig config;
        final HealthCheck check;
        final Hysteresis hysteresis;
        final ScheduledExecutorService thread;
        CheckResult last;
        /** DOWN because it donates (and for nothing else since): back at its first Synced check. */
        boolean outForDonation;
        /** When {@link #last} was recorded (System.nanoTime). */
        long lastCheckedNanos;
        long checks;
        int passesInARow;
        int failuresInARow;
        /** What the server is DOWN for, as last stated; null while UP or before the first verdict. */
        String downReason;
        /** A finding that differs from downReason, and how many checks in a row have found it. */
        String newReason;
        int newReasonInARow;
        Instant lastChange;
        Duration lastDuration;
        volatile boolean closed;
        /** The last unexpected exception logged, so that one that repeats every check is logged once. */
        String lastCrash;
        boolean crashedThisRun;

        /** {@code previous}: the checker this one replaces on a reload, whose state it carries on. */
        Checker(ServerConfig server, HealthConfig config, Checker previous) {
            this.server = server;
            this.config = config;
            this.check = checkFactory.apply(config, server);
            if (previous != null && previous.hysteresis.isKnown()) {
                hysteresis = Hysteresis.carrying(previous.hysteresis.isUp(), config.rise(), config.fall());
                last = previous.last;
                checks = previous.checks;
                lastChange = previous.lastChange;
                downReason = previous.downReason;
            } else {
                hysteresis = new Hysteresis(config.rise(), config.fall());
            }
            this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "health-" + listener + "-" + server.name());
                t.setDaemon(true);
                return t;
            });
        }

        void schedule(long delayMillis) {
            if (!closed) {
                thread.schedule(this::runOnce, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        /**
         * One check and its verdict. Whatever goes wrong in it (a check, an observer or the sink
         * that throws), the next check is scheduled: a server's state never freezes. A check
         * that throws counts as a failed check with the exception as its reason.
         */
        private void runOnce() {
            if (closed) {
                return;
            }
            crashedThisRun = false;
            try {
                checkAndRecord();
            } catch (RuntimeException e) {
                crashed("applying the check's verdict", e);
            } finally {
                if (!crashedThisRun) {
                    lastCrash = null; // the same error again, after a good run, is news again
                }
                schedule(nextDelayMillis());
            }
        }

        private void crashed(String what, RuntimeException e) {
            crashedThisRun = true;
            String key = what + e;
            if (!key.equals(lastCrash)) {
                lastCrash = key;
                log.error("{}/{}: unexpected error {} (logged once until it changes)", listener, server.name(), what, e);
            } else {
                log.debug("{}/{}: again: {}", listener, server.name(), e.toString());
            }
        }

        private void checkAndRecord() {
            // Well after the driver's own connect and query timeouts, which should always fire first.
            long deadline = config.timeout().multipliedBy(2).plusSeconds(1).toMillis();
            ScheduledFuture<?> guard = watchdog.schedule(check::abort, deadline, TimeUnit.MILLISECONDS);
            CheckResult r;
            long t0 = System.nanoTime();
            try {
                r = check.run();
            } catch (RuntimeException e) {
                crashed("in the check", e);
                r = CheckResult.unreachable(CheckResult.Cause.CHECK_ERROR, "the check failed: " + e);
            } finally {
                guard.cancel(false);
            }
            long took = System.nanoTime() - t0;
            if (closed) {
                return;
            }
            boolean first = checks == 0;
            Transition t = record(this, r, took);
            try {
                results.checked(server.name(), r, took);
            } catch (RuntimeException e) {
                // What reads the result besides the verdict must not keep the verdict from the pool.
                crashed("in what observes the check", e);
            }
            if (t != null) {
                if (t.up() || !t.changesState()) {
                    log.info("{}", t);
                } else {
                    log.warn("{}", t);
                }
                sink.accept(t);
            }
            if (first) {
                // Only once the sink has applied it: whoever waits for first verdicts then finds
                // the servers in their state.
                firstVerdicts.countDown();
            }
        }

        /** The interval, or the fast one while a transition is pending; with ±10% jitter so checks spread out. */
        private long nextDelayMillis() {
            boolean pending;
            synchronized (ListenerHealth.this) {
                pending = hysteresis.isPending();
            }
            long base = (pending ? config.fastInterval() : config.interval()).toMillis();
            long jitter = base / 10;
            return base + (jitter > 0 ? ThreadLocalRandom.current().nextLong(-jitter, jitter + 1) : 0);
        }

        ServerHealth snapshot() {
            return new ServerHealth(server.name(), hysteresis.isUp(), hysteresis.isKnown(), last, checks, lastChange,
                    lastDuration);
        }

        void close() {
            closed = true;
            thread.shutdownNow();
            check.close();
        }
    }

    /** Names of servers that have no verdict yet. */
    public List<String> serversWithoutVerdict() {
        List<String> out = new ArrayList<>();
        synchronized (this) {
            checkers.forEach((name, c) -> {
                if (!c.hysteresis.isKnown()) {
                    out.add(name);
                }
            });
        }
        return out;
    }
}
