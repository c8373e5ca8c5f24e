package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Server;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Slow start against the real cluster: pooled sessions sit on the two nodes that stayed; the
 * third comes back, and new sessions arrive at a steady pace while its weight grows.
 */
@ExtendWith(GaleraClusterExtension.class)
class SlowStartClusterTest {

    private static final int POOLED = 30;
    private static final Duration PACE = Duration.ofMillis(150);
    private static final Duration WINDOW = Duration.ofSeconds(6);

    private final List<Connection> open = new CopyOnWriteArrayList<>();
    private GaleraLb lb;
    private String url;

    @AfterEach
    void stop() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
        if (lb != null) {
            lb.close();
        }
    }

    /** Where each new session went after node2 came back: its node and when (ms after UP). */
    private record Landing(long millis, String node) {
    }

    private List<Landing> newSessionsAfterNode2Returns(String slowstart) throws Exception {
        int port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.parse(TestConfigs.clusterYaml(port, "    slowstart: " + slowstart + "\n")));
        url = TestConfigs.appUrl(port);
        Server node2 = lb.listener("app-cluster").pool().server("node2");
        await().atMost(Duration.ofSeconds(30)).until(node2::takesSessions);

        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
        await().atMost(Duration.ofSeconds(30)).until(() -> !node2.isUp());
        for (int i = 0; i < POOLED; i++) {
            Connection c = DriverManager.getConnection(url);
            assertThat(GaleraCluster.nodeOf(c)).isNotEqualTo("node2");
            open.add(c);
        }
        GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=OFF");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(node2::takesSessions);
        long up = System.nanoTime();

        List<Landing> landings = new CopyOnWriteArrayList<>();
        ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor();
        try {
            pace.scheduleAtFixedRate(() -> {
                try {
                    Connection c = DriverManager.getConnection(url);
                    open.add(c);
                    landings.add(new Landing((System.nanoTime() - up) / 1_000_000, GaleraCluster.nodeOf(c)));
                } catch (SQLException e) {
                    landings.add(new Landing((System.nanoTime() - up) / 1_000_000, "failed: " + e.getMessage()));
                }
            }, 0, PACE.toMillis(), TimeUnit.MILLISECONDS);
            await().atMost(WINDOW.plusSeconds(30)).until(() -> !landings.isEmpty()
                    && landings.get(landings.size() - 1).millis() > WINDOW.plusSeconds(1).toMillis());
        } finally {
            pace.shutdownNow();
            pace.awaitTermination(10, TimeUnit.SECONDS);
        }
        System.out.println("== slowstart " + slowstart + ": share of new sessions on node2, by second after it came back");
        for (int second = 0; second <= WINDOW.toSeconds(); second++) {
            int s = second;
            List<Landing> in = landings.stream().filter(l -> l.millis() / 1000 == s).toList();
            long toNode2 = in.stream().filter(l -> l.node().equals("node2")).count();
            System.out.printf("   second %d: %d of %d%n", second, toNode2, in.size());
        }
        assertThat(landings).extracting(Landing::node).allMatch(n -> n.startsWith("node"));
        return new ArrayList<>(landings);
    }

    @Test
    void aReturningNodeTakesAGrowingShareOfNewSessionsNotAllOfThem() throws Exception {
        List<Landing> landings = newSessionsAfterNode2Returns("6s");
        // In the first second its weight is under 1/6 of the whole: with 15 sessions on each other
        // node, leastconn gives it a new one while its own + 1 < share * 16: 2 (3 with a late clock).
        List<String> firstSecond = landings.stream().filter(l -> l.millis() < 1000).map(Landing::node).toList();
        assertThat(firstSecond).hasSizeGreaterThan(3).filteredOn("node2"::equals).hasSizeLessThanOrEqualTo(3);
        assertThat(landings).as("by the end of the window it takes its part")
                .anyMatch(l -> l.node().equals("node2"));
    }

    @Test
    void withoutSlowStartAReturningNodeTakesEveryNewSessionUntilItCatchesUp() throws Exception {
        List<Landing> landings = newSessionsAfterNode2Returns("0s");
        assertThat(landings.subList(0, 8)).extracting(Landing::node).containsOnly("node2");
    }
}
