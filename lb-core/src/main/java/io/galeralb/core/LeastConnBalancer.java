package io.galeralb.core;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * HAProxy's leastconn: the server with the lowest {@code (active + 1) / weight}, where active
 * counts sessions from the moment they are picked, so that a burst of connects spreads out
 * before any of them completes. Ties are broken at random (as Envoy does) so the first server
 * in the file is not always the first to fill.
 */
final class LeastConnBalancer implements Balancer {

    @Override
    public Server choose(List<Server> servers, Predicate<Server> eligible) {
        Server best = null;
        long bestActive = 0;
        long bestWeight = 1;
        int ties = 0;
        for (Server s : servers) {
            if (!eligible.test(s)) {
                continue;
            }
            long active = s.activeSessions() + 1L;
            long weight = s.weight();
            if (best == null) {
                best = s;
                bestActive = active;
                bestWeight = weight;
                ties = 1;
                continue;
            }
            // Compare active/weight with active'/weight' without division.
            long cmp = active * bestWeight - bestActive * weight;
            if (cmp < 0) {
                best = s;
                bestActive = active;
                bestWeight = weight;
                ties = 1;
            } else if (cmp == 0 && ThreadLocalRandom.current().nextInt(++ties) == 0) {
                // Reservoir sampling: each of the tied servers ends up chosen with equal chance.
                best = s;
                bestActive = active;
                bestWeight = weight;
            }
        }
        return best;
    }
}
