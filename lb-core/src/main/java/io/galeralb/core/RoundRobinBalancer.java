package io.galeralb.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Weighted round robin. The order is computed once per pool with nginx's smooth weighted
 * algorithm, so weights 5:1:1 give a a b a c a a, not a a a a a b c; picking is then one
 * atomic increment.
 */
final class RoundRobinBalancer implements Balancer {

    private final int[] order;
    private final AtomicLong next = new AtomicLong();

    RoundRobinBalancer(List<Server> servers) {
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

    @Override
    public Server acquire(List<Server> servers, Predicate<Server> eligible) {
        long start = next.getAndIncrement();
        for (int i = 0; i < order.length; i++) {
            Server s = servers.get(order[(int) ((start + i) % order.length)]);
            if (eligible.test(s)) {
                s.acquire();
                return s;
            }
        }
        return null;
    }
}
