package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.io.BusyPoll;
import io.galeralb.core.io.Transport;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Busy polling ({@link BusyPoll}) over real loopback sockets, with whether the CPU has room
 * given by the test: an I/O thread polls after its I/O, never while the CPU is taken, never
 * once the window is zero, and sleeps again once the window after its last I/O is over.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BusyPollTest {

    private static final Duration WINDOW = Duration.ofMillis(20);

    /** Waits until the threads have stopped polling: the idle-poll time no longer grows. */
    private static void awaitAsleep(BusyPoll busyPoll) {
        AtomicLong last = new AtomicLong(-1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> last.getAndSet(busyPoll.idlePollNanos()) == busyPoll.idlePollNanos());
    }

    @ParameterizedTest
    @MethodSource("io.galeralb.core.TransportTest#transportsHere")
    void aThreadPollsAfterItsIoAndSleepsOnceTheWindowIsOver(Transport transport) throws Exception {
        try (BusyPoll busyPoll = BusyPoll.of(WINDOW, () -> true);
             TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).transport(transport)
                     .busyPoll(busyPoll).start();
             Socket client = proxy.connect()) {
            for (int i = 0; i < 100; i++) {
                ByteStreams.roundTrip(client, 1000, i);
            }
            await().until(() -> busyPoll.idlePollNanos() > 0);
            awaitAsleep(busyPoll);

            long asleep = busyPoll.idlePollNanos();
            ByteStreams.roundTrip(client, 1000, 100);
            await().until(() -> busyPoll.idlePollNanos() > asleep);
            awaitAsleep(busyPoll);
            assertThat(backend.failures).isEmpty();
        }
    }

    @Test
    void noThreadPollsWhileTheCpuHasNoRoom() throws Exception {
        try (BusyPoll busyPoll = BusyPoll.of(WINDOW, () -> false);
             TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).busyPoll(busyPoll).start();
             Socket client = proxy.connect()) {
            for (int i = 0; i < 200; i++) {
                ByteStreams.roundTrip(client, 1000, i);
            }
            assertThat(busyPoll.idlePollNanos()).isZero();
        }
    }

    @Test
    void aWindowOfZeroStopsPollingWhileRunning() throws Exception {
        try (BusyPoll busyPoll = BusyPoll.of(WINDOW, () -> true);
             TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).busyPoll(busyPoll).start();
             Socket client = proxy.connect()) {
            ByteStreams.roundTrip(client, 1000, 0);
            await().until(() -> busyPoll.idlePollNanos() > 0);

            busyPoll.window(Duration.ZERO);
            awaitAsleep(busyPoll);
            long before = busyPoll.idlePollNanos();
            for (int i = 0; i < 200; i++) {
                ByteStreams.roundTrip(client, 1000, i);
            }
            assertThat(busyPoll.idlePollNanos()).isEqualTo(before);
        }
    }
}
