package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.config.Balance;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code balance: first} in the proxy: the writer takes every session; without one, sessions wait or are told why. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WriterPoolTest {

    private static TestBackend greeter(String name) throws Exception {
        return new TestBackend(s -> {
            s.getOutputStream().write(name.getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readAllBytes();
        });
    }

    private static ProxyHarness first(TestBackend a, int bPort) throws Exception {
        return ProxyHarness.builder().balance(Balance.FIRST).server("a", a.port()).server("b", bPort)
                .timeouts(Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofHours(1)).start();
    }

    @Test
    void everySessionGoesToTheWriterOnly() throws Exception {
        try (TestBackend a = greeter("a"); TestBackend b = greeter("b"); ProxyHarness proxy = first(a, b.port())) {
            ServerPool pool = proxy.listener.pool();
            pool.writer(pool.server("b"));
            for (int i = 0; i < 6; i++) {
                try (Socket c = proxy.connect()) {
                    assertThat(c.getInputStream().read()).isEqualTo('b');
                }
            }
        }
    }

    @Test
    void aWriterThatRefusesIsNotReplacedByAnotherServer() throws Exception {
        try (TestBackend a = greeter("a"); ProxyHarness proxy = first(a, ProxyHarness.closedPort())) {
            ServerPool pool = proxy.listener.pool();
            pool.writer(pool.server("b"));
            try (Socket c = proxy.connect()) {
                assertThat(MysqlErr.read(c.getInputStream()).message())
                        .isEqualTo("galera-lb: no writer available for listener test (b: connection refused)");
            }
        }
    }

    @Test
    void withoutAWriterTheClientIsToldWhy() throws Exception {
        try (TestBackend a = greeter("a"); ProxyHarness proxy = first(a, ProxyHarness.closedPort())) {
            proxy.listener.pool().noWriter("writer lease unreadable (a: Access denied)");
            try (Socket c = proxy.connect()) {
                assertThat(MysqlErr.read(c.getInputStream()).message()).isEqualTo("galera-lb: no writer available for "
                        + "listener test (no writer: writer lease unreadable (a: Access denied))");
            }
        }
    }

    @Test
    void whileNewSessionsAreHeldTheyWaitForTheNextWriter() throws Exception {
        try (TestBackend a = greeter("a"); TestBackend b = greeter("b"); ProxyHarness proxy = first(a, b.port())) {
            ServerPool pool = proxy.listener.pool();
            pool.holdNewSessions(true);
            try (Socket c = proxy.connect()) {
                CompletableFuture<Integer> greeting = CompletableFuture.supplyAsync(() -> {
                    try {
                        return c.getInputStream().read();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                // Held, not refused: no greeting and no error for as long as the hold lasts.
                await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !greeting.isDone());
                pool.writer(pool.server("a"));
                pool.holdNewSessions(false);
                assertThat(greeting.get(10, TimeUnit.SECONDS)).isEqualTo((int) 'a');
            }
        }
    }
}
