package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.config.Balance;
import io.galeralb.config.HostPort;
import io.galeralb.config.SendProxy;
import io.galeralb.config.ServerConfig;
import io.galeralb.core.balance.LeastConnBalancer;
import io.galeralb.core.balance.RoundRobinBalancer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BalancerTest {

    private static ServerPool pool(Balance balance, int... weights) {
        List<ServerConfig> configs = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            configs.add(new ServerConfig("s" + (i + 1), new HostPort("127.0.0.1", 10000 + i), weights[i]));
        }
        return new ServerPool(configs, balance);
    }

    /** Three servers of weight 1, the first with a slow start of {@code slowstart}, all checked UP once. */
    private static List<Server> withSlowStart(Balance balance, Duration slowstart) {
        List<ServerConfig> configs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            configs.add(new ServerConfig("s" + (i + 1), new HostPort("127.0.0.1", 10000 + i), 1,
                    ServerConfig.DEFAULT_PRIORITY, Optional.empty(), SendProxy.OFF, i == 0 ? slowstart : Duration.ZERO));
        }
        List<Server> servers = new ServerPool(configs, balance).servers();
        servers.forEach(Server::markUp);
        return servers;
    }

    private static Map<String, Integer> pickHeld(ServerPool pool, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(pool.pick(Set.of()).name(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void leastconnChoosesAgainWhenAnotherEventLoopTookTheServerMeanwhile() {
        // s1 is the least loaded when the scan passes it; before the scan ends another event
        // loop takes two sessions to s1. The pick must not pile a third onto s1 but go to s2.
        List<Server> servers = pool(Balance.LEASTCONN, 1, 1, 1).servers();
        Server s1 = servers.get(0);
        Server s2 = servers.get(1);
        Server s3 = servers.get(2);
        s2.acquire();
        s3.acquire();
        s3.acquire();
        s3.acquire();
        boolean[] raced = {false};
        Server picked = new LeastConnBalancer().acquire(servers, candidate -> {
            if (candidate == s3 && !raced[0]) {
                raced[0] = true;
                s1.acquire();
                s1.acquire();
            }
            return true;
        });
        assertThat(picked).isSameAs(s2);
        assertThat(servers).extracting(Server::activeSessions).containsExactly(2, 2, 3);
    }

    @Test
    void leastconnSpreadsHeldSessionsEvenly() {
        assertThat(pickHeld(pool(Balance.LEASTCONN, 1, 1, 1), 60)).containsOnly(
                Map.entry("s1", 20), Map.entry("s2", 20), Map.entry("s3", 20));
    }

    @Test
    void leastconnFollowsWeights() {
        assertThat(pickHeld(pool(Balance.LEASTCONN, 1, 2), 60)).containsOnly(Map.entry("s1", 20), Map.entry("s2", 40));
    }

    @Test
    void leastconnCountsASessionFromTheMomentItIsPicked() {
        ServerPool p = pool(Balance.LEASTCONN, 1, 1);
        Server first = p.pick(Set.of());
        Server second = p.pick(Set.of());
        assertThat(second).isNotSameAs(first);
        assertThat(first.activeSessions()).isEqualTo(1);
        first.release();
        assertThat(p.pick(Set.of())).isSameAs(first);
    }

    @Test
    void leastconnBreaksTiesAtRandom() {
        ServerPool p = pool(Balance.LEASTCONN, 1, 1, 1);
        Set<String> firstChoices = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            Server s = p.pick(Set.of());
            firstChoices.add(s.name());
            s.release();
        }
        assertThat(firstChoices).containsExactlyInAnyOrder("s1", "s2", "s3");
    }

    @Test
    void triedServersAreSkippedAndNullMeansNoneLeft() {
        ServerPool p = pool(Balance.LEASTCONN, 1, 1);
        Server a = p.pick(Set.of());
        Server b = p.pick(Set.of(a));
        assertThat(b).isNotSameAs(a);
        assertThat(p.pick(Set.of(a, b))).isNull();
    }

    @Test
    void roundRobinIsSmoothAndWeighted() {
        ServerPool p = pool(Balance.ROUNDROBIN, 5, 1, 1);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            order.append(p.pick(Set.of()).name().charAt(1));
        }
        assertThat(order.toString()).isEqualTo("11213111121311");
    }

    @Test
    void roundRobinSkipsTriedServers() {
        ServerPool p = pool(Balance.ROUNDROBIN, 1, 1, 1);
        Server s1 = p.servers().get(0);
        for (int i = 0; i < 6; i++) {
            assertThat(p.pick(Set.of(s1))).isNotSameAs(s1);
        }
    }

    @Test
    void aSlowStartWeightGrowsLinearlyFromOneTo256thsOfTheWeightOverItsWindow() {
        Server s = withSlowStart(Balance.LEASTCONN, Duration.ofHours(1)).get(0);
        assertThat(s.effectiveWeight()).as("not at the first check").isEqualTo(256);
        s.markDown("test");
        s.markUp();
        long began = System.nanoTime();
        assertThat(s.effectiveWeight()).isLessThan(256).isPositive();
        long hour = Duration.ofHours(1).toNanos();
        assertThat(s.weightAt(began + hour / 4, 256)).isBetween(63L, 64L);
        assertThat(s.weightAt(began + hour / 2, 256)).isBetween(127L, 128L);
        assertThat(s.weightAt(began + hour, 256)).isEqualTo(256);
        assertThat(s.effectiveWeight()).as("the window has passed: ended").isEqualTo(256);
        assertThat(s.weightShare()).isEqualTo(1.0);

        s.adminState(AdminState.MAINT);
        s.adminState(AdminState.READY);
        assertThat(s.effectiveWeight()).as("out of MAINT: a slow start again").isLessThan(256);
    }

    @Test
    void leastconnGivesAServerInSlowStartItsShareOfSessionsNotAllOfThem() {
        List<Server> servers = withSlowStart(Balance.LEASTCONN, Duration.ofHours(1));
        Server back = servers.get(0);
        back.markDown("test");
        for (int i = 0; i < 20; i++) {
            servers.get(1).acquire();
            servers.get(2).acquire();
        }
        back.markUp();
        long began = System.nanoTime();
        // At a quarter of the window: it takes sessions while (its + 1) < share * (theirs + 1).
        assertThat(back.weightAt(began + Duration.ofMinutes(15).toNanos(), 256)).isBetween(63L, 64L);
        Server picked = new LeastConnBalancer().acquire(servers, x -> true);
        assertThat(picked).as("at the start of the window, the others still win").isNotSameAs(back);

        List<Server> plain = withSlowStart(Balance.LEASTCONN, Duration.ZERO);
        plain.get(0).markDown("test");
        for (int i = 0; i < 20; i++) {
            plain.get(1).acquire();
            plain.get(2).acquire();
        }
        plain.get(0).markUp();
        for (int i = 0; i < 10; i++) {
            assertThat(new LeastConnBalancer().acquire(plain, x -> true)).as("without slow start, all of them")
                    .isSameAs(plain.get(0));
        }
    }

    @Test
    void roundRobinPassesOverAServerInSlowStartButTakesItWhenItIsTheOnlyOne() {
        List<Server> servers = withSlowStart(Balance.ROUNDROBIN, Duration.ofHours(1));
        Server back = servers.get(0);
        back.markDown("test");
        back.markUp();
        RoundRobinBalancer rr = new RoundRobinBalancer(servers);
        int toBack = 0;
        for (int i = 0; i < 300; i++) {
            Server s = rr.acquire(servers, x -> true);
            if (s == back) {
                toBack++;
            }
            s.release();
        }
        assertThat(toBack).as("a share near 0 of its third").isLessThan(10);
        assertThat(rr.acquire(servers, x -> x == back)).as("the only one left").isSameAs(back);
    }
}
