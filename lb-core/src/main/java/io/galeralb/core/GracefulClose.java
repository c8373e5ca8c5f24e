package io.galeralb.core;

import io.netty.channel.Channel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes sessions at their transaction boundaries, as the MySQL protocol observer sees them
 * (see {@link Session#closeAtBoundary}): right after the answer that ends a transaction, or once
 * a session between autocommit statements has been quiet for a second; its client's pool opens
 * a fresh connection on its next use. At the deadline, if there is one, what is left is closed:
 * cut mid-transaction, or not followed (opaque: TLS, compression) and closed as every session
 * was before.
 */
public final class GracefulClose {

    /**
     * How the sessions ended: closed by galera-lb at a boundary, ended otherwise meanwhile (by
     * their clients, their servers, or another close), cut mid-transaction at the deadline, and
     * not followed (closed at the deadline; without one, left open).
     */
    public record Outcome(int atBoundary, int otherwise, int cut, int opaque) {

        public String describe() {
            return atBoundary + " at a transaction boundary, " + otherwise + " ended otherwise, " + cut
                    + " cut mid-transaction, " + opaque + " not followed (TLS, compression)";
        }
    }

    /** Right after every session was asked: closed at once, waiting for their boundary, not followed. */
    public record FirstRound(int closedNow, int atNextBoundary, int notFollowed) {
    }

    /** A close under way: its first round (known at once), and its outcome (once every session has closed). */
    public record Progress(CompletableFuture<FirstRound> firstRound, CompletableFuture<Outcome> outcome) {
    }

    private final SessionEnd why;
    private final boolean hasDeadline;
    private final AtomicInteger atBoundary = new AtomicInteger();
    private final AtomicInteger otherwise = new AtomicInteger();
    private final AtomicInteger cut = new AtomicInteger();
    private final AtomicInteger opaque = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger notFollowed = new AtomicInteger();
    private final AtomicInteger left;
    private final AtomicInteger unasked;
    private final CompletableFuture<Outcome> done = new CompletableFuture<>();
    private final CompletableFuture<FirstRound> asked = new CompletableFuture<>();

    private GracefulClose(SessionEnd why, boolean hasDeadline, int sessions) {
        this.why = why;
        this.hasDeadline = hasDeadline;
        this.left = new AtomicInteger(sessions);
        this.unasked = new AtomicInteger(sessions);
    }

    /**
     * Closes {@code clients}' sessions for {@code why} at their boundaries, and at
     * {@code deadline} whatever their state (zero: at once). Completes when every one has closed.
     */
    public static Progress within(Collection<? extends Channel> clients, SessionEnd why, Duration deadline) {
        List<Channel> all = List.copyOf(clients);
        GracefulClose c = new GracefulClose(why, true, all.size());
        // Asked first, cut after: on each channel's own loop, in that order.
        c.start(all);
        ScheduledFuture<?> timer = GlobalEventExecutor.INSTANCE.schedule(() -> all.forEach(c::cutNow),
                deadline.toNanos(), TimeUnit.NANOSECONDS);
        c.done.whenComplete((o, e) -> timer.cancel(false));
        return new Progress(c.asked, c.done);
    }

    /**
     * Closes {@code clients}' sessions for {@code why} at their boundaries with no deadline: one
     * in a transaction closes whenever it ends it; one not followed stays open. Answers once every
     * session has been asked.
     */
    public static CompletableFuture<FirstRound> whenIdle(Collection<? extends Channel> clients, SessionEnd why) {
        List<Channel> all = List.copyOf(clients);
        GracefulClose c = new GracefulClose(why, false, all.size());
        c.start(all);
        return c.asked;
    }

    private void start(List<Channel> all) {
        if (all.isEmpty()) {
            asked.complete(new FirstRound(0, 0, 0));
            done.complete(new Outcome(0, 0, 0, 0));
            return;
        }
        for (Channel ch : all) {
            ch.eventLoop().execute(() -> {
                begin(ch);
                if (unasked.decrementAndGet() == 0) {
                    asked.complete(new FirstRound(atBoundary.get(), waiting.get(), notFollowed.get()));
                }
            });
        }
    }

    private void begin(Channel ch) {
        Session s = sessionOf(ch);
        if (s == null) {
            counted(otherwise);
            return;
        }
        switch (s.closeAtBoundary(why, () -> counted(atBoundary))) {
            case ENDED -> counted(otherwise);
            case NOW -> counted(atBoundary);
            case AT_BOUNDARY -> {
                waiting.incrementAndGet();
                ch.closeFuture().addListener(f -> {
                    if (s.closingAtBoundary()) {
                        counted(otherwise); // closed while a boundary was awaited: not by galera-lb
                    }
                });
            }
            case OPAQUE -> {
                notFollowed.incrementAndGet();
                if (hasDeadline) {
                    ch.closeFuture().addListener(f -> {
                        if (ch.attr(SessionEnd.FORCED).get() != why) {
                            counted(otherwise);
                        }
                    });
                } else {
                    counted(opaque);
                }
            }
        }
    }

    /** The deadline: what is still open closes now, on its own loop. */
    private void cutNow(Channel ch) {
        ch.eventLoop().execute(() -> {
            Session s = sessionOf(ch);
            if (s == null || !ch.isActive() || ch.attr(SessionEnd.FORCED).get() != null) {
                return; // ended, or closing already (at its boundary, or for another reason)
            }
            boolean followed = s.opaque() == MysqlObserver.Opaque.NONE;
            boolean midway = s.midTransaction();
            s.cancelCloseAtBoundary();
            s.closeFor(why);
            counted(!followed ? opaque : midway ? cut : atBoundary);
        });
    }

    private void counted(AtomicInteger which) {
        which.incrementAndGet();
        if (left.decrementAndGet() == 0) {
            done.complete(new Outcome(atBoundary.get(), otherwise.get(), cut.get(), opaque.get()));
        }
    }

    private static Session sessionOf(Channel client) {
        ClientSideHandler h = client.pipeline().get(ClientSideHandler.class);
        return h == null ? null : h.session;
    }
}
