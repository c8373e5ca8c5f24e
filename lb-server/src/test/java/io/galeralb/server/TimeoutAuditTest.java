package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.config.IdleTimeout;
import io.galeralb.health.CheckResult.NodeTimeouts;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimeoutAuditTest {

    private static NodeTimeouts waitTimeout(long seconds) {
        return new NodeTimeouts(Duration.ofSeconds(seconds), Duration.ofSeconds(28800));
    }

    @Test
    void theOutagesValuesAreReported() {
        // The outage: wait_timeout 10 s on two nodes, 28800 s on the third, 60 s in the proxy.
        assertThat(TimeoutAudit.findings(IdleTimeout.of(Duration.ofSeconds(60)),
                Map.of("db-node-1", waitTimeout(10), "db-node-2", waitTimeout(10), "db-node-3", waitTimeout(28800))))
                .containsExactlyInAnyOrder(
                        "nodes disagree on wait_timeout: db-node-1,db-node-2=10s db-node-3=28800s; pooled connections "
                                + "on db-node-1,db-node-2 will see \"server has gone away\" after 10 s idle",
                        "client-idle 1m is shorter than wait_timeout 28800s of db-node-3: galera-lb, not MySQL, closes "
                                + "idle sessions there, and pooled connections will see \"server has gone away\" after "
                                + "60 s idle (client-idle: auto follows the server)");
    }

    @Test
    void consistentNodesWithAutoOrALongerIdleAreFine() {
        Map<String, NodeTimeouts> same = Map.of("a", waitTimeout(28800), "b", waitTimeout(28800));
        assertThat(TimeoutAudit.findings(IdleTimeout.AUTO, same)).isEmpty();
        assertThat(TimeoutAudit.findings(IdleTimeout.of(Duration.ofHours(8)), same)).isEmpty();
    }
}
