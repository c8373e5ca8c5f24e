package io.galeralb.server.writer;

import io.galeralb.config.Durations;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.WriterLeaseConfig;
import io.galeralb.core.GracefulClose;
import io.galeralb.core.Listener;
import io.galeralb.core.Server;
import io.galeralb.core.ServerPool;
import io.galeralb.core.SessionEnd;
import io.galeralb.server.writer.LeaseStore.Lease;
import io.galeralb.server.writer.WriterDecision.Cause;
import io.galeralb.server.writer.WriterDecision.Follow;
import io.galeralb.server.writer.WriterDecision.NoWriter;
import io.galeralb.server.writer.WriterDecision.Outcome;
import io.galeralb.server.writer.WriterDecision.Record;
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
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the writer of one {@code balance: first} listener and sets it on the listener's pool.
 *
 * <p>The rule is {@link WriterDecision}'s, over the UP and READY servers by priority (then name).
 * Without {@code writer-lease} the record is the pool's writer; with it, the {@link LeaseStore}
 * shared by every instance, changed only by compare-and-set; when the lease cannot be read the
 * listener keeps no writer rather than guess.
 *
 * <p>Every step runs on this election's own thread (JDBC blocks): at once after a health
 * transition, an operator's state change or a reload, and every health interval otherwise,
 * which is how a change made by another instance is followed.
 */
public final class WriterElection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WriterElection.class);
    private static final Comparator<Server> PREFERENCE =
            Comparator.comparingInt(Server::priority).thenComparing(Server::name);
    /** A lease reason that starts so was set by a switchover: failback leaves it alone. */
    static final String SWITCHOVER = "switchover";
    /**
     * Changes of the lease one step may try. A change can lose without the winner being visible to
     * the read right after it (a first insert aborted as a deadlock while no row is visible yet),
     * so after the last loss the lease is read once more and followed if it names a server that
     * can take sessions: no writer only when it does not.
     */
    private static final int MAX_LEASE_CHANGES = 2;

    /** What status and metrics show; {@code checked} is when the last election round ended. */
    public record State(Optional<String> writer, String noWriterReason, Instant since, String reason, long changes,
                        Optional<Lease> lease, Optional<String> leaseError, Instant checked) {

        static State initial() {
            return new State(Optional.empty(), "no writer chosen yet", Instant.now(), "", 0, Optional.empty(),
                    Optional.empty(), Instant.EPOCH);
        }

        /** {@code writer} became the writer now, for {@code why}. */
        State withWriter(String writer, String why, long changes) {
            return new State(Optional.of(writer), "", Instant.now(), why, changes, lease, leaseError, checked);
        }

        /** No writer, for {@code why}; {@code since} and the reason move only when that is news. */
        State withoutWriter(String why, boolean news, long changes) {
            return new State(Optional.empty(), why, news ? Instant.now() : since, news ? why : reason, changes,
                    lease, leaseError, checked);
        }

        State withChanges(long changes) {
            return new State(writer, noWriterReason, since, reason, changes, lease, leaseError, checked);
        }

        State withLease(Optional<Lease> lease, Optional<String> leaseError) {
            return new State(writer, noWriterReason, since, reason, changes, lease, leaseError, checked);
        }

        State checkedNow() {
            return new State(writer, noWriterReason, since, reason, changes, lease, leaseError, Instant.now());
        }
    }

    private final String name;
    private final Supplier<ListenerConfig> config;
    private final Supplier<ServerPool> pools;
    private final String holder;
    private final LeaseStore.Opener leases;
    private final ScheduledExecutorService thread;
    private final AtomicBoolean stepQueued = new AtomicBoolean();
    private final AtomicLong changes = new AtomicLong();
    /** Replaced on this election's thread; aborted from the one that closes it. */
    private volatile LeaseStore lease;
    private WriterLeaseConfig leaseConfig;
    /** The writer a switchover on this instance chose; failback leaves it alone. */
    private Server switchedTo;
    /**
     * The server this instance last sent writer sessions to (it may still hold some while the
     * lease is unreadable); they are closed when another server becomes the writer.
     */
    private Server lastWriter;
    private volatile State state;

    /** The election of {@code listener}, with its lease (if it has one) in the cluster. */
    public static WriterElection of(Listener listener, String holder) {
        return new WriterElection(listener.name(), listener::config, listener::pool, holder, JdbcLeaseStore::new);
    }

    /**
     * @param config the listener's configuration as of now (reloads change it)
     * @param pools  the listener's pool as of now (reloads replace it)
     * @param holder this instance, as the lease records its changes
     * @param leases opens the lease when the configuration names one
     */
    WriterElection(String name, Supplier<ListenerConfig> config, Supplier<ServerPool> pools, String holder,
                   LeaseStore.Opener leases) {
        this.name = Objects.requireNonNull(name, "name");
        this.config = Objects.requireNonNull(config, "config");
        this.pools = Objects.requireNonNull(pools, "pools");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.leases = Objects.requireNonNull(leases, "leases");
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "writer-" + name);
            t.setDaemon(true);
            return t;
        });
        this.state = State.initial();
    }

    /** Runs the first step now and one every health interval. */
    public void start() {
        thread.execute(this::runStep);
        scheduleNext();
    }

    private void scheduleNext() {
        Duration every = config.get().effectiveHealth().interval();
        thread.schedule(() -> {
            runStep();
            scheduleNext();
        }, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Asks for a step as soon as possible (coalesced with one already asked for). */
    public void poke() {
        if (stepQueued.compareAndSet(false, true)) {
            thread.execute(() -> {
                stepQueued.set(false);
                runStep();
            });
        }
    }

    /** Runs a step now and waits for it (tests, start-up). */
    public void stepNow() throws InterruptedException {
        try {
            CompletableFuture.runAsync(this::runStep, thread).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("writer election of " + name + " did not complete", e);
        }
    }

    public State state() {
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
        ListenerConfig config = this.config.get();
        ServerPool pool = pools.get();
        syncLease(config);
        if (lease == null) {
            Optional<Server> current = pool.writer();
            boolean bySwitchover = current.isPresent() && switchedTo == current.get();
            Outcome o = WriterDecision.decide(names(usable(pool)), current.map(Server::name), bySwitchover,
                    config.failback(), false);
            if (o instanceof NoWriter) {
                noWriter(pool, noneUsable(pool), true);
            } else if (o instanceof Record r) {
                Server best = pool.find(r.server()).orElseThrow();
                follow(pool, best, r.cause() == Cause.FAILBACK
                        ? "failback: " + best.name() + " has priority " + best.priority() + ", " + current.get().name()
                                + " has " + current.get().priority()
                        : current.map(w -> w.name() + " is " + w.unavailableReason())
                                .orElse("first choice among UP servers by priority"));
            } // Follow: the writer stays
            return;
        }
        List<ServerConfig> via = via(pool);
        try {
            Optional<Lease> recorded = lease.read(via);
            for (int attempt = 0; ; attempt++) {
                // One look per attempt, after the read, at which servers take sessions: a server
                // that went DOWN during the read must not be both the best candidate and unusable
                // as the recorded writer (that would record the same writer under a new epoch).
                Optional<Lease> seen = recorded;
                Outcome o = WriterDecision.decide(names(usable(pool)), seen.map(Lease::writer),
                        seen.map(l -> l.reason().startsWith(SWITCHOVER)).orElse(false), config.failback(),
                        attempt == MAX_LEASE_CHANGES);
                if (o instanceof Follow f) {
                    follow(pool, pool.find(f.server()).orElseThrow(), seen.get(), "recorded in the writer lease by "
                            + seen.get().holder() + ": " + seen.get().reason());
                    return;
                }
                if (o instanceof NoWriter n) {
                    noWriter(pool, switch (n.cause()) {
                        case RECORDED_UNUSABLE -> "the writer lease names " + seen.get().writer()
                                + ", which cannot take sessions here";
                        case CHANGES_LOST -> "the writer lease names no writer after " + MAX_LEASE_CHANGES
                                + " attempts to record one lost to other changes";
                        default -> noneUsable(pool);
                    }, true);
                    return;
                }
                Record r = (Record) o;
                Server best = pool.find(r.server()).orElseThrow();
                String why = switch (r.cause()) {
                    case FAILBACK -> "failback: " + best.name() + " has priority " + best.priority();
                    case FIRST_CHOICE -> "first choice among UP servers by priority";
                    default -> pool.find(seen.get().writer())
                            .map(w -> w.name() + " is " + w.unavailableReason() + " here")
                            .orElse("the lease names " + seen.get().writer() + ", not a server of this listener");
                };
                long epoch = seen.map(Lease::epoch).orElse(0L);
                if (lease.compareAndSet(via, epoch, best.name(), why)) {
                    follow(pool, best, lease.read(via).orElse(null), why + " (writer lease epoch " + (epoch + 1) + ")");
                    return;
                }
                log.info("{}: another instance changed the writer lease first; reading it again", name);
                recorded = lease.read(via);
            }
        } catch (LeaseStore.UnavailableException e) {
            if (thread.isShutdown()) {
                return; // closing: the lease was aborted under this step
            }
            state = state.withChanges(changes.get()).withLease(Optional.empty(), Optional.of(e.getMessage()));
            // Nothing says the writer changed: its open sessions go on, new ones are refused until
            // the lease can be read again.
            noWriter(pool, e.getMessage(), false);
        }
    }

    private static String noneUsable(ServerPool pool) {
        return "no server is UP and READY (" + pool.reasons(Set.of()) + ")";
    }

    /** The servers the lease is read through: the UP ones, best first. */
    private static List<ServerConfig> via(ServerPool pool) {
        return pool.servers().stream().filter(Server::isUp).sorted(PREFERENCE).map(Server::config).toList();
    }

    private static List<String> names(List<Server> servers) {
        return servers.stream().map(Server::name).toList();
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
            lease = leases.open(name, wanted, config.effectiveHealth(), holder);
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
            state = state.withChanges(changes.get()).withLease(leaseNow, Optional.empty());
            return;
        }
        if (switchedTo != null && switchedTo != writer) {
            switchedTo = null;
        }
        changes.incrementAndGet();
        state = state.withWriter(writer.name(), reason, changes.get()).withLease(leaseNow, Optional.empty());
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
        state = state.withoutWriter(reason, changed, changes.get()).withLease(Optional.empty(), state.leaseError());
    }

    /**
     * Moves the writer to {@code target}: new sessions wait for the new writer; the current
     * writer is set to DRAIN (it stays so until an operator sets it ready); its sessions have up
     * to {@code timeout} to finish and the rest are closed; the new writer is recorded (in the
     * lease, if enabled) and takes sessions. Each step is reported to {@code report}.
     *
     * @param drain sets an operator state on a server of this listener (so it is logged and survives reloads)
     */
    public CompletableFuture<Boolean> switchover(String target, Duration timeout, Consumer<String> report,
                                          Drainer drain) {
        return CompletableFuture.supplyAsync(() -> runSwitchover(target, timeout, report, drain), thread);
    }

    /** Sets DRAIN on a server the way an operator does (logged, kept over reloads). */
    public interface Drainer {
        void drain(String server);
    }

    private boolean runSwitchover(String targetName, Duration timeout, Consumer<String> report, Drainer drain) {
        ServerPool pool = pools.get();
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
                    + Durations.format(config.get().timeouts().connect()) + ")");
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
                List<ServerConfig> via = via(pool);
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
        } catch (LeaseStore.UnavailableException e) {
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
        LeaseStore inFlight = lease;
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
