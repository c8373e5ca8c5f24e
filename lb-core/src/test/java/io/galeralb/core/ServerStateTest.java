package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** What the health checks do to a pool: down servers get no sessions, and can have theirs closed. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ServerStateTest {

    private static TestBackend greeter(String name) throws Exception {
        return new TestBackend(s -> {
            s.getOutputStream().write(name.getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readAllBytes();
        });
    }

    @Test
    void aDownServerReceivesNoNewSessions() throws Exception {
        try (TestBackend a = greeter("a"); TestBackend b = greeter("b");
             ProxyHarness proxy = ProxyHarness.builder().server("a", a.port()).server("b", b.port()).start()) {
            proxy.listener.pool().server("a").markDown("wsrep_local_state=2 (Donor/Desynced)");
            for (int i = 0; i < 10; i++) {
                try (Socket c = proxy.connect()) {
                    assertThat(c.getInputStream().read()).isEqualTo('b');
                }
            }
            proxy.listener.pool().server("a").markUp();
            assertThat(proxy.listener.pool().server("a").downReason()).isEmpty();
        }
    }

    @Test
    void whenEveryServerIsDownTheErrorNamesEachReason() throws Exception {
        try (TestBackend a = greeter("a");
             ProxyHarness proxy = ProxyHarness.builder().server("a", a.port()).server("b", ProxyHarness.closedPort()).start()) {
            proxy.listener.pool().server("a").markDown("wsrep_cluster_status=non-Primary");
            proxy.listener.pool().server("b").markDown("connection refused; 3/3 checks failed");
            try (Socket c = proxy.connect()) {
                MysqlErr err = MysqlErr.read(c.getInputStream());
                assertThat(err.message()).isEqualTo("galera-lb: no available server for listener test "
                        + "(a: DOWN (wsrep_cluster_status=non-Primary), b: DOWN (connection refused; 3/3 checks failed))");
            }
        }
    }

    @Test
    void closeSessionsEndsTheSessionsOfThatServerOnly() throws Exception {
        try (TestBackend a = greeter("a"); TestBackend b = greeter("b");
             ProxyHarness proxy = ProxyHarness.builder().server("a", a.port()).server("b", b.port()).start();
             Socket c1 = proxy.connect()) {
            // One after the other: the first session is counted before the second is balanced.
            int first = c1.getInputStream().read();
            Socket c2 = proxy.connect();
            int second = c2.getInputStream().read();
            assertThat(new int[] {first, second}).containsExactlyInAnyOrder('a', 'b');
            Socket onA = first == 'a' ? c1 : c2;
            Socket onB = first == 'a' ? c2 : c1;

            assertThat(proxy.listener.pool().server("a").closeSessions(SessionEnd.SERVER_DOWN)).isEqualTo(1);
            assertThat(onA.getInputStream().read()).isEqualTo(-1);
            onB.getOutputStream().write('x');
            await().until(() -> proxy.listener.activeSessions() == 1);
            assertThat(proxy.listener.pool().server("b").activeSessions()).isEqualTo(1);
            c2.close();
        }
    }

    @Test
    void drainedAndMaintainedServersTakeNoNewSessions() throws Exception {
        try (TestBackend a = greeter("a"); TestBackend b = greeter("b");
             ProxyHarness proxy = ProxyHarness.builder().server("a", a.port()).server("b", b.port()).start()) {
            Server sa = proxy.listener.pool().server("a");
            sa.adminState(AdminState.DRAIN);
            assertThat(sa.state()).isEqualTo("DRAIN");
            for (int i = 0; i < 6; i++) {
                try (Socket c = proxy.connect()) {
                    assertThat(c.getInputStream().read()).isEqualTo('b');
                }
            }
            proxy.listener.pool().server("b").adminState(AdminState.MAINT);
            try (Socket c = proxy.connect()) {
                assertThat(MysqlErr.read(c.getInputStream()).message())
                        .contains("a: DRAIN (set by an operator), b: MAINT (set by an operator)");
            }
            sa.adminState(AdminState.READY);
            try (Socket c = proxy.connect()) {
                assertThat(c.getInputStream().read()).isEqualTo('a');
            }
        }
    }
}
