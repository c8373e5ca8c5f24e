package io.galeralb.core.balance;

import io.galeralb.core.Server;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * HAProxy's leastconn: the server with the lowest {@code (active + 1) / weight}, where weight is
 * the effective one (it grows during a slow start) and active
 * counts sessions from the moment they are picked, so that a burst of connects spreads out
 * before any of them completes. Ties are broken at random (as Envoy does) so the first server
 * in the file is not always the first to fill.
 *
 * <p>The choice and the count are one step: the chosen server is acquired only if its count
 * is still the one the choice saw (a compare-and-set), so two event loops accepting at the
 * same instant cannot both take the same least-loaded server; the loser chooses again.
 */
public final class LeastConnBalancer implements Balancer {

    /** After this many lost races in a row (a storm of accepts), the choice is taken regardless. */
    private static final int MAX_ATTEMPTS = 16;

    @Override
    public Server acquire(List<Server> servers, Predicate<Server> eligible) {
        for (int attempt = 1; ; attempt++) {
            Server best = null;
            int bestSeen = 0;
            long bestWeight = 1;
            int ties = 0;
            for (Server s : servers) {
                if (!eligible.test(s)) {
                    continue;
                }
                int seen = s.activeSessions();
                long weight = s.effectiveWeight();
                // Compare (seen+1)/weight with (bestSeen+1)/bestWeight without division.
                long cmp = best == null ? -1 : (seen + 1L) * bestWeight - (bestSeen + 1L) * weight;
                if (cmp < 0) {
                    best = s;
                    bestSeen = seen;
                    bestWeight = weight;
                    ties = 1;
                } else if (cmp == 0 && ThreadLocalRandom.current().nextInt(++ties) == 0) {
                    // Reservoir sampling: each of the tied servers ends up chosen with equal chance.
                    best = s;
                    bestSeen = seen;
                    bestWeight = weight;
                }
            }
            if (best == null) {
                return null;
            }
            if (best.tryAcquire(bestSeen)) {
                return best;
            }
            if (attempt == MAX_ATTEMPTS) {
                best.acquire();
                return best;
            }
        }
    }
}
