package io.galeralb.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.config.DonorPolicy;
import io.galeralb.config.HealthCheckType;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.Secret;
import io.galeralb.config.ServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * ListenerHealth with a plain TCP check against real loopback sockets: a port whose accept
 * queue is full (its connects time out), then the same port closed (its connects are refused).
 */
class ListenerHealthTest {

    private static final Duration INTERVAL = Duration.ofMillis(100);
    private static final Duration TIMEOUT = Duration.ofMillis(200);
    private static final int FALL = 2;
    private static final String TIMED_OUT = "TCP connect timed out after 200ms";

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();
    /** What every check found, in order. */
    private final List<String> findings = new CopyOnWriteArrayList<>();

    @Test
    void aServerThatStaysDownForAnotherReasonTakesItOnceItHasHeldForFallChecks() throws Exception {
        ServerSocket port = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        List<Socket> queued = fillAcceptQueue(port);
        try (ListenerHealth health = start(port.getLocalPort(), FALL)) {
            assertThat(transitions).singleElement().satisfies(t -> {
                assertThat(t.up()).isFalse();
                assertThat(t.changesState()).isTrue();
                assertThat(t.reason()).isEqualTo(TIMED_OUT);
            });

            for (Socket s : queued) {
                s.close();
            }
            port.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> transitions.size() == 2);
            Transition t = transitions.get(1);
            assertThat(t.up()).isFalse();
            assertThat(t.changesState()).isFalse();
            assertThat(t.was()).hasValue(TIMED_OUT);
            assertThat(t).hasToString("app/s1 still DOWN: connection refused; 2/2 checks failed (was: " + TIMED_OUT + ")");

            // The same finding again is no news.
            int seen = findings.size();
            await().atMost(Duration.ofSeconds(10)).until(() -> findings.size() >= seen + 4);
            assertThat(transitions).hasSize(2);
            assertThat(health.snapshot().get("s1").up()).isFalse();
        }
    }

    @Test
    void aNewFindingThatDoesNotHoldForFallChecksInARowChangesNothing() throws Exception {
        int closed;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort();
        }
        int fall = 3;
        try (ListenerHealth health = start(closed, fall)) {
            assertThat(transitions).singleElement().satisfies(t -> assertThat(t.reason()).isEqualTo("connection refused"));
            // Timed-out checks between refused ones: as many as `fall` in all, but never `fall` in
            // a row (at most the one seen and one in flight before the port refuses again).
            for (int round = 0; round < 3; round++) {
                try (ServerSocket port = new ServerSocket()) {
                    port.setReuseAddress(true);
                    port.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), closed), 1);
                    List<Socket> queued = fillAcceptQueue(port);
                    awaitNext(TIMED_OUT);
                    for (Socket s : queued) {
                        s.close();
                    }
                }
                awaitNext("connection refused");
            }
            assertThat(findings).filteredOn(TIMED_OUT::equals).hasSizeGreaterThanOrEqualTo(3);
            assertThat(transitions).hasSize(1);
            assertThat(health.snapshot().get("s1").up()).isFalse();
        }
    }

    /** Waits for a check that finds {@code finding}, after those seen so far. */
    private void awaitNext(String finding) {
        int seen = findings.size();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            // A copy: a sublist of the live list fails when the checker adds to it meanwhile.
            List<String> now = List.copyOf(findings);
            return now.subList(seen, now.size()).contains(finding);
        });
    }

    /** A check that passes once, then throws forever, as a check with a bug would. */
    private static final class FailingCheck implements HealthCheck {
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public void connectTo(InetSocketAddress address) {
        }

        @Override
        public CheckResult run() {
            if (runs.incrementAndGet() == 1) {
                return CheckResult.pass(CheckResult.Cause.ANSWERED, "fine");
            }
            throw new IllegalStateException("boom");
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aCheckThatThrowsTakesItsServerDownWithTheReasonAndKeepsBeingScheduled() throws Exception {
        FailingCheck check = new FailingCheck();
        ServerConfig server = new ServerConfig("s1", new HostPort("127.0.0.1", 1), 1, 0);
        try (ListenerHealth health = new ListenerHealth("app", tcpConfig(FALL), List.of(server), transitions::add,
                (name, result, nanos) -> findings.add(result.reason()), (c, s) -> check)) {
            health.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> transitions.size() == 2);
            assertThat(transitions.get(0).up()).isTrue();
            assertThat(transitions.get(1).up()).isFalse();
            assertThat(transitions.get(1).reason()).isEqualTo("the check failed: java.lang.IllegalStateException: boom");
            int runs = check.runs.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> check.runs.get() > runs + 2);
        }
    }

    @Test
    void anObserverThatThrowsDoesNotStopTheChecks() throws Exception {
        ServerSocket port = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerConfig server = new ServerConfig("s1", new HostPort("127.0.0.1", port.getLocalPort()), 1, 0);
        AtomicInteger observed = new AtomicInteger();
        try (port; ListenerHealth health = new ListenerHealth("app", tcpConfig(FALL), List.of(server), transitions::add,
                (name, result, nanos) -> {
                    observed.incrementAndGet();
                    throw new IllegalStateException("observer bug");
                })) {
            health.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> observed.get() >= 5);
            assertThat(transitions).singleElement().satisfies(t -> assertThat(t.up()).isTrue());
        }
    }

    private static HealthConfig tcpConfig(int fall) {
        return new HealthConfig(HealthCheckType.TCP, Optional.empty(), Secret.NONE, INTERVAL, INTERVAL,
                TIMEOUT, 2, fall, DonorPolicy.LAST_NODE, false, OptionalInt.empty());
    }

    private ListenerHealth start(int port, int fall) throws InterruptedException {
        ServerConfig server = new ServerConfig("s1", new HostPort("127.0.0.1", port), 1, 0);
        ListenerHealth health = new ListenerHealth("app", tcpConfig(fall), List.of(server), transitions::add,
                (name, result, nanos) -> findings.add(result.reason()));
        health.start();
        assertThat(health.awaitFirstVerdicts(Duration.ofSeconds(5))).isTrue();
        return health;
    }

    /**
     * Connections the listening socket never accepts, until its accept queue is full: the kernel
     * then drops the next SYN, and that connect times out.
     */
    private static List<Socket> fillAcceptQueue(ServerSocket port) {
        List<Socket> queued = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Socket s = new Socket();
            try {
                s.connect(port.getLocalSocketAddress(), 100);
                queued.add(s);
            } catch (IOException full) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // nothing was opened
                }
                break;
            }
        }
        assertThat(queued).as("connections queued before the accept queue was full").isNotEmpty();
        return queued;
    }
}
