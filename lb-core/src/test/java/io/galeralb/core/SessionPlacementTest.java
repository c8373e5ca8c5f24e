package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.io.IoLoops;
import io.galeralb.core.io.Transport;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Which I/O thread a session lives on ({@link IoLoops}), over real loopback sockets with two
 * loops: a session starts on the loop that accepted it, a session that lasts moves to the loop
 * with fewer sessions (both channels, with bytes in flight), a saturated loop passes new
 * sessions on. Where a session lives is read from Netty's own count of the channels registered
 * on each loop. Moves are tried on both transports (Netty re-registers a channel differently
 * with each).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SessionPlacementTest {

    private static final Duration NEVER = Duration.ofHours(1);

    /** Opens {@code n} clients, each shown to reach the server by a round trip, into {@code clients}. */
    private static void openClients(ProxyHarness proxy, List<Socket> clients, int n, long seed) throws IOException {
        for (int i = 0; i < n; i++) {
            Socket c = proxy.connect();
            clients.add(c);
            ByteStreams.roundTrip(c, 1000, seed + i);
        }
    }

    private static void closeAll(List<Socket> clients) throws IOException {
        for (Socket c : clients) {
            c.close();
        }
    }

    /** The loop the listening socket is on: the only one with a channel before any client connects. */
    private static int listeningLoop(IoLoops loops) {
        return loops.channels(0) == 1 ? 0 : 1;
    }

    @Test
    void newSessionsStayOnTheLoopThatAcceptedThem() throws Exception {
        try (TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).settle(NEVER).start()) {
            IoLoops loops = proxy.listener.loops();
            int home = listeningLoop(loops);
            List<Socket> clients = new ArrayList<>();
            try {
                openClients(proxy, clients, 6, 0);
                assertThat(loops.sessions(home)).isEqualTo(6);
                assertThat(loops.channels(home)).as("listening socket and 6 x 2 session channels").isEqualTo(13);
                assertThat(loops.channels(1 - home)).isZero();
            } finally {
                closeAll(clients);
            }
            await().until(() -> proxy.listener.activeSessions() == 0 && loops.channels(home) == 1);
            assertThat(loops.sessions(home)).isZero();
        }
    }

    @Test
    void sessionsThatLastMoveToTheLessLoadedLoopAndKeepRelaying() throws Exception {
        try (TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port())
                     .settle(Duration.ofMillis(100)).start()) {
            IoLoops loops = proxy.listener.loops();
            int home = listeningLoop(loops);
            List<Socket> clients = new ArrayList<>();
            try {
                openClients(proxy, clients, 6, 0);
                await().until(() -> loops.channels(1 - home) == 6);
                assertThat(loops.channels(home)).isEqualTo(7);
                assertThat(loops.sessions(home)).isEqualTo(3);
                assertThat(loops.sessions(1 - home)).isEqualTo(3);
                for (int i = 0; i < clients.size(); i++) {
                    ByteStreams.roundTrip(clients.get(i), 200_000, 100 + i);
                }
            } finally {
                closeAll(clients);
            }
            await().until(() -> proxy.listener.activeSessions() == 0
                    && loops.channels(home) == 1 && loops.channels(1 - home) == 0);
            assertThat(loops.sessions(0) + loops.sessions(1)).isZero();
            assertThat(backend.failures).isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("io.galeralb.core.TransportTest#transportsHere")
    void aSessionMovedWhileStreamingBothWaysArrivesByteExact(Transport transport) throws Exception {
        long total = 24L * 1024 * 1024;
        long pauseAt = 1024 * 1024;
        // Every reader, both ends of both sessions, stops after 1 MiB until one session has
        // moved: the move finds both directions held back by a reader that does not read and
        // the writers' bytes queued on the way; the readers then take the rest. Writers end
        // their stream (FIN) only after the move: socket buffers can grow to hold a whole stream
        // (tcp_rmem allows 32 MiB here), and a session whose client or server has already ended
        // its side does not move (one in 13 runs under load ended that way).
        CountDownLatch moved = new CountDownLatch(1);
        List<String> backendReceived = new CopyOnWriteArrayList<>();
        List<AtomicLong> uploaded = new CopyOnWriteArrayList<>();
        try (TestBackend backend = new TestBackend(s -> {
            CompletableFuture<String> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    String digest = ByteStreams.send(s.getOutputStream(), s.getPort(), total);
                    moved.await();
                    s.shutdownOutput();
                    return digest;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            AtomicLong received = new AtomicLong();
            uploaded.add(received);
            String got = ByteStreams.receive(s.getInputStream(), received, pauseAt, moved);
            backendReceived.add(got + " " + sent.join());
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).transport(transport)
                     .settle(Duration.ofMillis(500)).start()) {
            IoLoops loops = proxy.listener.loops();
            int home = listeningLoop(loops);
            Socket first = proxy.connect();
            Socket second = proxy.connect();
            ExecutorService threads = Executors.newCachedThreadPool();
            try {
                List<AtomicLong> downloaded = List.of(new AtomicLong(), new AtomicLong());
                List<Socket> clients = List.of(first, second);
                List<CompletableFuture<String>> downloads = new ArrayList<>();
                List<CompletableFuture<String>> uploads = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Socket c = clients.get(i);
                    AtomicLong count = downloaded.get(i);
                    long seed = 1000 + i;
                    downloads.add(CompletableFuture.supplyAsync(() -> call(() -> ByteStreams.receive(c.getInputStream(), count, pauseAt, moved)), threads));
                    uploads.add(CompletableFuture.supplyAsync(() -> call(() -> {
                        String digest = ByteStreams.send(c.getOutputStream(), seed, total);
                        moved.await();
                        c.shutdownOutput();
                        return digest;
                    }), threads));
                }
                try {
                    await().until(() -> loops.channels(1 - home) == 2);
                } catch (ConditionTimeoutException e) {
                    throw new AssertionError("no session moved: accepting loop " + home + "; sessions per loop "
                            + loops.sessions(0) + "/" + loops.sessions(1) + ", channels " + loops.channels(0) + "/"
                            + loops.channels(1) + ", moves " + loops.moves() + "; downloaded " + downloaded
                            + ", uploaded " + uploaded, e);
                }
                assertThat(downloaded).as("both downloads held at 1 MiB when one session moved")
                        .allSatisfy(d -> assertThat(d.get()).isEqualTo(pauseAt));
                assertThat(uploaded).as("both uploads held at 1 MiB when one session moved").hasSize(2)
                        .allSatisfy(u -> assertThat(u.get()).isEqualTo(pauseAt));
                moved.countDown();

                await().atMost(Duration.ofMinutes(2)).until(() -> backendReceived.size() == 2);
                for (int i = 0; i < 2; i++) {
                    String upload = uploads.get(i).get(2, TimeUnit.MINUTES);
                    String download = downloads.get(i).get(2, TimeUnit.MINUTES);
                    assertThat(downloaded.get(i).get()).isEqualTo(total);
                    // Each upload is a different stream: the server connection that received it
                    // must have sent what this client received.
                    assertThat(backendReceived).as("what each server connection received, and sent")
                            .contains(upload + " " + download);
                }
            } finally {
                moved.countDown();
                threads.shutdownNow();
                first.close();
                second.close();
            }
            assertThat(backend.failures).isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("io.galeralb.core.TransportTest#transportsHere")
    void sessionsClosingWhileTheyMoveAreAllCountedOut(Transport transport) throws Exception {
        try (TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).transport(transport)
                     .settle(Duration.ofMillis(2)).start()) {
            IoLoops loops = proxy.listener.loops();
            int home = listeningLoop(loops);
            ExecutorService threads = Executors.newFixedThreadPool(16);
            try {
                List<CompletableFuture<Void>> clients = new ArrayList<>();
                for (int i = 0; i < 400; i++) {
                    long seed = i;
                    clients.add(CompletableFuture.runAsync(() -> call(() -> {
                        Random r = new Random(seed);
                        try (Socket c = proxy.connect()) {
                            for (int q = r.nextInt(8); q >= 0; q--) {
                                ByteStreams.roundTrip(c, 1 + r.nextInt(20_000), r.nextLong());
                            }
                            if (r.nextBoolean()) {
                                // Leave with a request in flight.
                                c.getOutputStream().write(new byte[1 + r.nextInt(5000)]);
                            }
                        }
                        return null;
                    }), threads));
                }
                CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
            } finally {
                threads.shutdownNow();
            }
            assertThat(loops.moves()).as("sessions moved while clients came and went").isPositive();
            await().until(() -> proxy.listener.activeSessions() == 0
                    && loops.channels(home) == 1 && loops.channels(1 - home) == 0);
            assertThat(loops.sessions(0)).isZero();
            assertThat(loops.sessions(1)).isZero();
            assertThat(proxy.listener.pool().servers().get(0).activeSessions()).isZero();
        }
    }

    @Test
    void aSaturatedLoopPassesNewSessionsOn() throws Exception {
        try (TestBackend backend = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).settle(NEVER).start()) {
            IoLoops loops = proxy.listener.loops();
            int home = listeningLoop(loops);
            AtomicBoolean busy = new AtomicBoolean(true);
            spin(loops.loop(home), busy);
            List<Socket> clients = new ArrayList<>();
            try {
                await().until(() -> loops.saturated(home));
                openClients(proxy, clients, 6, 0);
                assertThat(loops.sessions(1 - home)).as("sessions passed to the other loop").isPositive();
                assertThat(loops.channels(1 - home)).isEqualTo(2 * loops.sessions(1 - home));

                busy.set(false);
                await().until(() -> !loops.saturated(home));
                int elsewhere = loops.channels(1 - home);
                openClients(proxy, clients, 4, 10);
                assertThat(loops.channels(1 - home)).as("accepted where it was accepted again").isEqualTo(elsewhere);
            } finally {
                busy.set(false);
                closeAll(clients);
            }
            await().until(() -> proxy.listener.activeSessions() == 0);
        }
    }

    /** Keeps {@code loop} busy in 20 ms slices, letting it do its I/O between them, while {@code busy}. */
    private static void spin(EventLoop loop, AtomicBoolean busy) {
        loop.execute(() -> {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            if (busy.get()) {
                spin(loop, busy);
            }
        });
    }

    private interface IoCall<T> {
        T call() throws Exception;
    }

    private static <T> T call(IoCall<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
