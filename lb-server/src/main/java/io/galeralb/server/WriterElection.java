package io.galeralb.server;

import io.galeralb.config.Durations;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.WriterLeaseConfig;
import io.galeralb.core.Listener;
import io.galeralb.core.GracefulClose;
import io.galeralb.core.Server;
import io.galeralb.core.ServerPool;
import io.galeralb.core.SessionEnd;
import io.galeralb.health.WriterLease;
import io.galeralb.health.WriterLease.Lease;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the writer of one {@code balance: first} listener and sets it on the listener's pool.
 *
 * <p>Rules: the writer is the UP and READY server with the lowest priority (then name); it stays
 * the writer while it is UP and READY, even when a server of better priority comes back, unless
 * {@code failback: true}. With {@code writer-lease}, the writer is the one recorded in the
 * cluster ({@link WriterLease}); this instance changes the record only by compare-and-set, and
 * only when the recorded writer cannot take sessions here (or to fail back); when the record
 * cannot be read it keeps no writer rather than guess.
 *
 * <p>Every step runs on this election's own thread (JDBC blocks): at once after a health
 * transition, an operator's state change or a reload, and every health interval otherwise,
 * which is how a change made by another instance is followed.
 */
final class WriterElection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WriterElection.class);
    private static final Comparator<Server> PREFERENCE =
            Comparator.comparingInt(Server::priority).thenComparing(Server::name);
    /** A lease reason that starts so was set by a switchover: failback leaves it alone. */
    static final String SWITCHOVER = "switchover";
    /**
     * Changes of the lease one step may try. A change can lose without the winner being visible to
     * the read right after it (seen with two instances starting at the same moment on a new lease
     * table: the first insert aborted as a deadlock, the read after it still found no row, the
     * second insert found the row), so after the last loss the lease is read once more and
     * followed if it names a server that can take sessions: no writer only when it does not.
     */
    private static final int MAX_LEASE_CHANGES = 2;

    /** What status and metrics show; {@code checked} is when the last election round ended. */
    record State(Optional<String> writer, String noWriterReason, Instant since, String reason, long changes,
                 Optional<Lease> lease, Optional<String> leaseError, Instant checked) {

        State checkedNow() {
            return new State(writer, noWriterReason, since, reason, changes, lease, leaseError, Instant.now());
        }
    }

    private final String name;
    private final Listener listener;
    private final String holder;
    private final ScheduledExecutorService thread;
    private final AtomicBoolean stepQueued = new AtomicBoolean();
    private final AtomicLong changes = new AtomicLong();
    /** Replaced on this election's thread; aborted from the one that closes it. */
    private volatile WriterLease lease;
    private WriterLeaseConfig leaseConfig;
    /** The writer a switchover on this instance chose; failback leaves it alone. */
    private Server switchedTo;
    /**
     * The server this instance last sent writer sessions to (it may still hold some while the
     * lease is unreadable); they are closed when another server becomes the writer.
     */
    private Server lastWriter;
    private volatile State state;

    WriterElection(Listener listener, String holder) {
        this.name = listener.name();
        this.listener = Objects.requireNonNull(listener, "listener");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "writer-" + name);
            t.setDaemon(true);
            return t;
        });
        this.state = new State(Optional.empty(), "no writer chosen yet", Instant.now(), "", 0, Optional.empty(),
                Optional.empty(), Instant.EPOCH);
    }

    /** Runs the first step now and one every health interval. */
    void start() {
        thread.execute(this::runStep);
        scheduleNext();
    }

    private void scheduleNext() {
        Duration every = listener.config().effectiveHealth().interval();
        thread.schedule(() -> {
            runStep();
            scheduleNext();
        }, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Asks for a step as soon as possible (coalesced with one already asked for). */
    void poke() {
        if (stepQueued.compareAndSet(false, true)) {
            thread.execute(() -> {
                stepQueued.set(false);
                runStep();
            });
        }
    }

    /** Runs a step now and waits for it (tests, start-up). */
    void stepNow() throws InterruptedException {
        try {
            CompletableFuture.runAsync(this::runStep, thread).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("writer election of " + name + " did not complete", e);
        }
    }

    State state() {
        return state;
    }

    private void runStep() {
        try {
            step();
        } catch (RuntimeException e) {
            log.error("{}: writer election failed", name, e);
        }
        state = state.checkedNow();
    }

    private void step() {
        ListenerConfig config = listener.config();
        ServerPool pool = listener.pool();
        syncLease(config);
        Optional<Server> current = pool.writer();
        if (lease == null) {
            List<Server> usable = usable(pool);
            Optional<Server> best = usable.stream().findFirst();
            if (current.isPresent() && usable.contains(current.get())) {
                Server w = current.get();
                if (config.failback() && best.isPresent() && better(best.get(), w) && switchedTo != w) {
                    follow(pool, best.get(), "failback: " + best.get().name() + " has priority "
                            + best.get().priority() + ", " + w.name() + " has " + w.priority());
                }
                return;
            }
            if (best.isEmpty()) {
                noWriter(pool, "no server is UP and READY (" + pool.reasons(Set.of()) + ")", true);
            } else {
                follow(pool, best.get(), current.map(w -> w.name() + " is " + w.unavailableReason())
                        .orElse("first choice among UP servers by priority"));
            }
            return;
        }
        List<ServerConfig> via = pool.servers().stream().filter(Server::isUp).sorted(PREFERENCE)
                .map(Server::config).toList();
        try {
            Optional<Lease> recorded = lease.read(via);
            for (int attempt = 0; ; attempt++) {
                // One look per attempt, after the read, at which servers take sessions: a server
                // that went DOWN during the read must not be both the best candidate (an earlier
                // look) and unusable as the recorded writer (a later one); that wrote the same
                // writer into the lease again under a new epoch (seen once in CI).
                List<Server> usable = usable(pool);
                Optional<Server> named = recorded.flatMap(l -> pool.find(l.writer()));
                Optional<Server> best = usable.stream().findFirst();
                boolean recordedUsable = named.isPresent() && usable.contains(named.get());
                boolean failback = recordedUsable && config.failback() && best.isPresent()
                        && better(best.get(), named.get()) && !recorded.get().reason().startsWith(SWITCHOVER);
                // What the lease names after this instance's last change lost is followed all the
                // same if it can take sessions: a failback can wait for the next step.
                boolean lastLook = attempt == MAX_LEASE_CHANGES;
                if (recordedUsable && (!failback || lastLook)) {
                    follow(pool, named.get(), recorded.get(), "recorded in the writer lease by " + recorded.get().holder()
                            + ": " + recorded.get().reason());
                    return;
                }
                if (best.isEmpty()) {
                    noWriter(pool, "no server is UP and READY (" + pool.reasons(Set.of()) + ")", true);
                    return;
                }
                if (lastLook) {
                    noWriter(pool, recorded.map(l -> "the writer lease names " + l.writer()
                                    + ", which cannot take sessions here").orElse("the writer lease names no writer after "
                                    + MAX_LEASE_CHANGES + " attempts to record one lost to other changes"), true);
                    return;
                }
                String why = failback ? "failback: " + best.get().name() + " has priority " + best.get().priority()
                        : recorded.isEmpty() ? "first choice among UP servers by priority"
                        : named.map(w -> w.name() + " is " + w.unavailableReason() + " here")
                                .orElse("the lease names " + recorded.get().writer() + ", not a server of this listener");
                long epoch = recorded.map(Lease::epoch).orElse(0L);
                if (lease.compareAndSet(via, epoch, best.get().name(), why)) {
                    Optional<Lease> now = lease.read(via);
                    follow(pool, best.get(), now.orElse(null), why + " (writer lease epoch " + (epoch + 1) + ")");
                    return;
                }
                log.info("{}: another instance changed the writer lease first; reading it again", name);
                recorded = lease.read(via);
            }
        } catch (WriterLease.UnavailableException e) {
            if (thread.isShutdown()) {
                return; // closing: the lease was aborted under this step
            }
            state = new State(state.writer(), state.noWriterReason(), state.since(), state.reason(), changes.get(),
                    Optional.empty(), Optional.of(e.getMessage()), state.checked());
            // Nothing says the writer changed: its open sessions go on, new ones are refused until
            // the lease can be read again.
            noWriter(pool, e.getMessage(), false);
        }
    }

    /** Opens, replaces or closes the lease when the listener's writer-lease setting changes. */
    private void syncLease(ListenerConfig config) {
        WriterLeaseConfig wanted = config.writerLease().orElse(null);
        if (Objects.equals(wanted, leaseConfig) && (wanted == null || lease != null)) {
            return;
        }
        if (lease != null) {
            lease.close();
            lease = null;
        }
        leaseConfig = wanted;
        if (wanted != null) {
            lease = new WriterLease(name, wanted, config.effectiveHealth(), holder);
            log.info("{}: writer lease in {} (as {})", name, wanted.qualifiedTable(), holder);
        }
    }

    /**
     * The servers that take sessions, best first. Each step decides from one such look: health
     * threads change servers meanwhile, and two looks may disagree.
     */
    private static List<Server> usable(ServerPool pool) {
        return pool.servers().stream().filter(Server::takesSessions).sorted(PREFERENCE).toList();
    }

    private static boolean better(Server a, Server b) {
        return PREFERENCE.compare(a, b) < 0;
    }

    private void follow(ServerPool pool, Server writer, String reason) {
        follow(pool, writer, null, reason);
    }

    /** Makes {@code writer} the writer; if that is a change, logs it and closes the previous writer's sessions. */
    private void follow(ServerPool pool, Server writer, Lease recorded, String reason) {
        boolean hadWriter = pool.writer().isPresent();
        Optional<Lease> leaseNow = Optional.ofNullable(recorded);
        pool.writer(writer);
        pool.holdNewSessions(false);
        Server previous = lastWriter;
        lastWriter = writer;
        if (previous == writer && hadWriter) {
            state = new State(state.writer(), "", state.since(), state.reason(), changes.get(), leaseNow, Optional.empty(),
                    state.checked());
            return;
        }
        if (switchedTo != null && switchedTo != writer) {
            switchedTo = null;
        }
        changes.incrementAndGet();
        state = new State(Optional.of(writer.name()), "", Instant.now(), reason, changes.get(), leaseNow, Optional.empty(),
                state.checked());
        if (previous == null || previous == writer) {
            log.info("{}: writer is {} ({})", name, writer.name(), reason);
            return;
        }
        int closed = previous.closeSessions(SessionEnd.SWITCHOVER);
        log.info("{}: writer {} -> {} ({}); {} session(s) on {} closed", name, previous.name(), writer.name(), reason,
                closed, previous.name());
    }

    /**
     * Leaves the listener without a writer: new sessions are refused with {@code reason}. The
     * previous writer's sessions are closed when {@code closeSessions} (it cannot take sessions,
     * or the lease names another); they go on when only the lease cannot be read.
     */
    private void noWriter(ServerPool pool, String reason, boolean closeSessions) {
        boolean hadWriter = pool.writer().isPresent();
        pool.noWriter(reason);
        pool.holdNewSessions(false);
        boolean changed = hadWriter || !reason.equals(state.noWriterReason());
        Server previous = lastWriter;
        if (hadWriter) {
            changes.incrementAndGet();
        }
        if (closeSessions && previous != null) {
            lastWriter = null;
            int closed = previous.closeSessions(SessionEnd.SERVER_DOWN);
            log.warn("{}: no writer ({} session(s) on {} closed): {}", name, closed, previous.name(), reason);
        } else if (hadWriter && previous != null) {
            log.warn("{}: no writer for new sessions; the {} session(s) open on {} go on: {}", name,
                    previous.activeSessions(), previous.name(), reason);
        } else if (changed) {
            log.warn("{}: no writer: {}", name, reason);
        }
        State s = state;
        state = new State(Optional.empty(), reason, changed ? Instant.now() : s.since(), changed ? reason : s.reason(),
                changes.get(), Optional.empty(), s.leaseError(), s.checked());
    }

    /**
     * Moves the writer to {@code target}: new sessions wait for the new writer; the current
     * writer is set to DRAIN (it stays so until an operator sets it ready); its sessions have up
     * to {@code timeout} to finish and the rest are closed; the new writer is recorded (in the
     * lease, if enabled) and takes sessions. Each step is reported to {@code report}.
     *
     * @param drain sets an operator state on a server of this listener (so it is logged and survives reloads)
     */
    CompletableFuture<Boolean> switchover(String target, Duration timeout, Consumer<String> report,
                                          Drainer drain) {
        return CompletableFuture.supplyAsync(() -> runSwitchover(target, timeout, report, drain), thread);
    }

    /** Sets DRAIN on a server through {@link GaleraLb#adminState}. */
    interface Drainer {
        void drain(String server);
    }

    private boolean runSwitchover(String targetName, Duration timeout, Consumer<String> report, Drainer drain) {
        ServerPool pool = listener.pool();
        Optional<Server> target = pool.find(targetName);
        if (target.isEmpty()) {
            report.accept("refused: listener " + name + " has no server " + targetName + " (servers: "
                    + pool.names() + ")");
            return false;
        }
        Server to = target.get();
        if (!to.takesSessions()) {
            report.accept("refused: " + to.name() + " is " + to.unavailableReason()
                    + "; the new writer must be UP and READY");
            return false;
        }
        Optional<Server> from = pool.writer();
        if (from.isPresent() && from.get() == to) {
            report.accept(to.name() + " is already the writer of " + name + "; nothing to do");
            return true;
        }
        long started = System.nanoTime();
        pool.holdNewSessions(true);
        try {
            report.accept("new sessions wait for the new writer (each up to connect timeout "
                    + Durations.format(listener.config().timeouts().connect()) + ")");
            if (from.isPresent()) {
                Server old = from.get();
                drain.drain(old.name());
                report.accept(old.name() + " set to DRAIN; its " + old.activeSessions() + " session(s) close at their "
                        + "transaction boundaries, within " + Durations.format(timeout));
                GracefulClose.Outcome o = old.closeAtBoundaries(SessionEnd.SWITCHOVER, timeout).outcome()
                        .get(timeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
                report.accept("sessions of " + old.name() + " closed after "
                        + Durations.format(Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)))
                        + ": " + o.describe());
            }
            if (!to.takesSessions()) {
                report.accept("failed: " + to.name() + " became " + to.unavailableReason() + " meanwhile; the writer "
                        + "is chosen again by the usual rules");
                poke();
                return false;
            }
            String reason = SWITCHOVER + " from " + from.map(Server::name).orElse("no writer") + " by " + holder;
            if (lease != null) {
                List<ServerConfig> via = pool.servers().stream().filter(Server::isUp).sorted(PREFERENCE)
                        .map(Server::config).toList();
                Optional<Lease> recorded = lease.read(via);
                long epoch = recorded.map(Lease::epoch).orElse(0L);
                if (!lease.compareAndSet(via, epoch, to.name(), reason)) {
                    Optional<Lease> now = lease.read(via);
                    report.accept("failed: another instance changed the writer lease meanwhile (now "
                            + now.map(l -> l.writer() + ", epoch " + l.epoch() + ", by " + l.holder()).orElse("empty")
                            + "); following it");
                    step();
                    return false;
                }
                recorded = lease.read(via);
                report.accept("writer lease: " + to.name() + " recorded (epoch " + recorded.map(Lease::epoch).orElse(0L)
                        + ")");
                switchedTo = to;
                follow(pool, to, recorded.orElse(null), reason);
            } else {
                switchedTo = to;
                follow(pool, to, reason);
            }
            report.accept(to.name() + " is the writer of " + name + " (switchover took "
                    + Durations.format(Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)))
                    + ")" + from.map(f -> "; " + f.name() + " stays in DRAIN until: galera-lb ready " + name + " "
                    + f.name()).orElse(""));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            report.accept("failed: interrupted");
            return false;
        } catch (ExecutionException | TimeoutException e) {
            report.accept("failed: the old writer's sessions did not close: " + e);
            poke();
            return false;
        } catch (WriterLease.UnavailableException e) {
            report.accept("failed: " + e.getMessage() + "; the writer is chosen again by the usual rules");
            step();
            return false;
        } finally {
            pool.holdNewSessions(false);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        WriterLease inFlight = lease;
        if (inFlight != null) {
            inFlight.abort(); // a lease query to a node that stopped answering would hold the stop
        }
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (lease != null) {
            lease.close();
        }
    }
}
