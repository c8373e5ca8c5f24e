package io.galeralb.core.balance;

import io.galeralb.core.Server;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Weighted round robin. The order is computed once per pool with nginx's smooth weighted
 * algorithm, so weights 5:1:1 give a a b a c a a, not a a a a a b c; picking is then one
 * atomic increment (and a random draw for a server in slow start).
 */
public final class RoundRobinBalancer implements Balancer {

    private final int[] order;
    private final AtomicLong next = new AtomicLong();

    public RoundRobinBalancer(List<Server> servers) {
        int total = servers.stream().mapToInt(Server::weight).sum();
        int[] current = new int[servers.size()];
        List<Integer> seq = new ArrayList<>(total);
        for (int step = 0; step < total; step++) {
            int best = 0;
            for (int i = 0; i < servers.size(); i++) {
                current[i] += servers.get(i).weight();
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            seq.add(best);
        }
        order = seq.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The next eligible server in the order. A server in slow start takes its turn with the
     * chance of its weight's share so far, and is taken anyway when no other server can be.
     */
    @Override
    public Server acquire(List<Server> servers, Predicate<Server> eligible) {
        long start = next.getAndIncrement();
        Server passedOver = null;
        for (int i = 0; i < order.length; i++) {
            Server s = servers.get(order[(int) ((start + i) % order.length)]);
            if (eligible.test(s)) {
                double share = s.weightShare();
                if (share < 1 && ThreadLocalRandom.current().nextDouble() >= share) {
                    if (passedOver == null) {
                        passedOver = s;
                    }
                    continue;
                }
                s.acquire();
                return s;
            }
        }
        if (passedOver != null) {
            passedOver.acquire();
        }
        return passedOver;
    }
}
