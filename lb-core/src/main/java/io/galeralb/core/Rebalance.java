package io.galeralb.core;

import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code rebalance: on}: pooled sessions stay where they were placed, so a server that comes back
 * gets none of them. Once a step, when a server that may take sessions (UP, READY, past its slow
 * start) holds clearly fewer than its share (under 90% of it), up to {@code rate} sessions of the
 * busiest server that are between commands, outside a transaction and silent for a second are
 * closed; their pools reconnect, and leastconn places the new sessions on the emptier server.
 * Never a session inside a transaction, never one it does not follow.
 */
public final class Rebalance {

    /** A server is "clearly" below its share when it holds less than this part of it. */
    static final double BELOW = 0.9;

    private Rebalance() {
    }

    /** What one step did: how many sessions it closed, from which server, for which. */
    public record Step(int closed, String from, int fromSessions, String to, int toSessions) {
    }

    /**
     * One step on {@code pool}: closes at most {@code rate} idle sessions of its busiest server
     * when another holds clearly fewer than its share. {@code moving}: sessions earlier steps
     * closed that their pools have not opened again yet; they count as on their way to the
     * emptiest server, so that steps do not close more while pools are slow to reconnect.
     * Completes with what it did (null: nothing to do).
     */
    public static CompletableFuture<Step> step(ServerPool pool, int rate, int moving) {
        List<Server> eligible = new ArrayList<>();
        long sessions = 0;
        long weights = 0;
        for (Server s : pool.servers()) {
            if (s.takesSessions() && s.weightShare() >= 1) {
                eligible.add(s);
                sessions += s.activeSessions();
                weights += s.weight();
            }
        }
        if (eligible.size() < 2 || sessions == 0) {
            return CompletableFuture.completedFuture(null);
        }
        double perWeight = (double) (sessions + moving) / weights;
        Server emptiest = null;
        Server busiest = null;
        for (Server s : eligible) {
            double load = s.activeSessions() / (double) s.weight();
            if (emptiest == null || load < emptiest.activeSessions() / (double) emptiest.weight()) {
                emptiest = s;
            }
            if (busiest == null || load > busiest.activeSessions() / (double) busiest.weight()) {
                busiest = s;
            }
        }
        double share = perWeight * emptiest.weight();
        int missing = (int) Math.floor(share - emptiest.activeSessions()) - moving;
        if (emptiest.activeSessions() + moving >= BELOW * share || missing < 1 || busiest == emptiest) {
            return CompletableFuture.completedFuture(null);
        }
        int budget = Math.min(rate, missing);
        AtomicInteger left = new AtomicInteger(budget);
        AtomicInteger closed = new AtomicInteger();
        List<CompletableFuture<Void>> asked = new ArrayList<>();
        for (Channel ch : busiest.sessionChannels()) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            asked.add(f);
            ch.eventLoop().execute(() -> {
                ClientSideHandler h = ch.pipeline().get(ClientSideHandler.class);
                if (h != null && left.get() > 0 && h.session.atBoundary()
                        && h.session.silentFor() >= Session.QUIET_NANOS && left.getAndDecrement() > 0) {
                    h.session.closeFor(SessionEnd.REBALANCE);
                    closed.incrementAndGet();
                }
                f.complete(null);
            });
        }
        Server from = busiest;
        Server to = emptiest;
        int fromSessions = from.activeSessions();
        int toSessions = to.activeSessions();
        return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new))
                .thenApply(x -> new Step(closed.get(), from.name(), fromSessions, to.name(), toSessions));
    }
}
