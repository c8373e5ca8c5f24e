package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.config.Balance;
import io.galeralb.core.io.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The relay over real loopback sockets: a blocking test server behind a real listener. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RelayTest {

    private static final long HUNDRED_MB = 100L * 1024 * 1024;

    /** Counts what passes through to {@code out}. */
    private static final class CountingOutputStream extends OutputStream {
        private final OutputStream out;
        private final AtomicLong written;

        CountingOutputStream(OutputStream out, AtomicLong written) {
            this.out = out;
            this.written = written;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            written.incrementAndGet();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            written.addAndGet(len);
        }
    }

    /** Waits until a writer has written something and then made no progress between two polls. */
    private static void awaitStall(AtomicLong written) {
        long[] last = {-1};
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300)).until(() -> {
            long now = written.get();
            boolean stalled = now > 0 && now == last[0];
            last[0] = now;
            return stalled;
        });
    }

    @Test
    void hundredMegabytesEachWayArriveByteExact() throws Exception {
        List<String> backendSide = new ArrayList<>();
        AtomicLong backendReceived = new AtomicLong();
        try (TestBackend backend = new TestBackend(s -> {
            CompletableFuture<String> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    String digest = ByteStreams.send(s.getOutputStream(), 2, HUNDRED_MB);
                    s.shutdownOutput();
                    return digest;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String got = ByteStreams.receive(s.getInputStream(), backendReceived);
            backendSide.add(got);
            backendSide.add(sent.join());
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = proxy.connect()) {

            AtomicLong clientReceived = new AtomicLong();
            CompletableFuture<String> clientGot = CompletableFuture.supplyAsync(() -> {
                try {
                    return ByteStreams.receive(client.getInputStream(), clientReceived);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String clientSent = ByteStreams.send(client.getOutputStream(), 1, HUNDRED_MB);
            client.shutdownOutput();
            String received = clientGot.get(2, TimeUnit.MINUTES);

            await().atMost(Duration.ofMinutes(1)).until(() -> backendSide.size() == 2);
            assertThat(backend.failures).isEmpty();
            assertThat(backendReceived.get()).isEqualTo(HUNDRED_MB);
            assertThat(backendSide.get(0)).as("client -> server bytes").isEqualTo(clientSent);
            assertThat(clientReceived.get()).isEqualTo(HUNDRED_MB);
            assertThat(received).as("server -> client bytes").isEqualTo(backendSide.get(1));
        }
    }

    @Test
    void aSlowClientStopsTheServerInsteadOfFillingTheProxy() throws Exception {
        long total = 256L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        CompletableFuture<String> sentDigest = new CompletableFuture<>();
        try (TestBackend backend = new TestBackend(s -> {
            s.setSendBufferSize(64 * 1024);
            sentDigest.complete(ByteStreams.send(new CountingOutputStream(s.getOutputStream(), written), 3, total));
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = new Socket()) {
            client.setReceiveBufferSize(64 * 1024);
            client.connect(proxy.address(), 5000);

            // The client reads nothing: the server must come to a stop once the proxy's buffer
            // (the write-buffer high water mark) and the kernel's socket buffers are full.
            awaitStall(written);
            long inFlight = written.get();
            long bound = kernelBufferBound() + 4L * 1024 * 1024;
            assertThat(inFlight).as("bytes held between server and client while the client does not read")
                    .isLessThan(bound)
                    .isLessThan(total / 4);

            AtomicLong received = new AtomicLong();
            String digest = ByteStreams.receive(client.getInputStream(), received);
            assertThat(received.get()).isEqualTo(total);
            assertThat(digest).isEqualTo(sentDigest.get(1, TimeUnit.MINUTES));
        }
    }

    /** The most the kernel may buffer for the proxy's two sockets (send side to the client, receive side from the server). */
    private static long kernelBufferBound() throws IOException {
        return maxOf("/proc/sys/net/ipv4/tcp_rmem") + maxOf("/proc/sys/net/ipv4/tcp_wmem");
    }

    private static long maxOf(String sysctl) throws IOException {
        // Not Files.readString: /proc files report a size that does not match their content.
        try (InputStream in = Files.newInputStream(Path.of(sysctl))) {
            String[] fields = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+");
            return Long.parseLong(fields[2]);
        }
    }

    /**
     * The server ends its side first (answer, then FIN) and only then reads what its client
     * uploads; the proxy must wait for room on the server connection however long that takes.
     * (Netty 4.2.18's epoll channel drops a half-closed socket from epoll, and then could not
     * wait for room: the session died with the upload half sent.)
     */
    @Test
    void aServerThatHasEndedItsSideStillReceivesAnUploadLargerThanItsBuffers() throws Exception {
        long total = 32L * 1024 * 1024;
        CompletableFuture<Void> startReading = new CompletableFuture<>();
        AtomicLong backendReceived = new AtomicLong();
        CompletableFuture<String> backendDigest = new CompletableFuture<>();
        try (TestBackend backend = new TestBackend(s -> {
            s.getOutputStream().write("done".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            startReading.get(2, TimeUnit.MINUTES);
            backendDigest.complete(ByteStreams.receive(s.getInputStream(), backendReceived));
        }, 16 * 1024);
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = proxy.connect()) {
            assertThat(client.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("done");

            AtomicLong written = new AtomicLong();
            CompletableFuture<String> sent = CompletableFuture.supplyAsync(() -> {
                try {
                    String digest = ByteStreams.send(new CountingOutputStream(client.getOutputStream(), written), 4, total);
                    client.shutdownOutput();
                    return digest;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // The server reads nothing until the upload has come to a stop: every buffer on the
            // way is full, and the proxy has had to wait for room on the server connection.
            awaitStall(written);
            startReading.complete(null);

            assertThat(backendDigest.get(2, TimeUnit.MINUTES)).as("client -> server bytes").isEqualTo(sent.get(1, TimeUnit.MINUTES));
            assertThat(backendReceived.get()).isEqualTo(total);
            assertThat(backend.failures).isEmpty();
        }
    }

    /** The mirror case: a client that half-closes after its request and reads a large answer slowly. */
    @Test
    void aClientThatHasEndedItsSideStillReceivesAnAnswerLargerThanItsBuffers() throws Exception {
        long total = 32L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        CompletableFuture<String> sentDigest = new CompletableFuture<>();
        try (TestBackend backend = new TestBackend(s -> {
            s.getInputStream().readAllBytes(); // the request, up to the client's FIN
            sentDigest.complete(ByteStreams.send(new CountingOutputStream(s.getOutputStream(), written), 5, total));
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = new Socket()) {
            client.setReceiveBufferSize(16 * 1024);
            client.connect(proxy.address(), 5000);
            client.getOutputStream().write("GET /large".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            // The client reads nothing until the answer has come to a stop: the proxy has had to
            // wait for room on the half-closed client connection.
            awaitStall(written);

            AtomicLong received = new AtomicLong();
            String digest = ByteStreams.receive(client.getInputStream(), received);
            assertThat(received.get()).isEqualTo(total);
            assertThat(digest).isEqualTo(sentDigest.get(1, TimeUnit.MINUTES));
        }
    }

    @Test
    void whatAClientSendsBeforeItsServerIsConnectedIsHeldAndArrivesInOrder() throws Exception {
        // The first server does not accept: for 300 ms the client writes 1 MiB into a session
        // with no server yet. galera-lb holds what it has read (and stops reading at the water
        // mark); all of it reaches the live server, in order, once it is connected.
        byte[] payload = new byte[1024 * 1024];
        new Random(7).nextBytes(payload);
        try (Blackhole blackhole = fullBacklog();
             TestBackend backend = new TestBackend(s -> {
                 byte[] all = s.getInputStream().readAllBytes();
                 s.getOutputStream().write((all.length + " " + Arrays.hashCode(all))
                         .getBytes(StandardCharsets.US_ASCII));
             });
             ProxyHarness proxy = ProxyHarness.builder()
                     .timeouts(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofHours(1))
                     .server("blackhole", blackhole.port())
                     .server("live", backend.port())
                     .balance(Balance.ROUNDROBIN)
                     .start();
             Socket client = proxy.connect()) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    client.getOutputStream().write(payload);
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            sent.get(30, TimeUnit.SECONDS);
            assertThat(answer).isEqualTo(payload.length + " " + Arrays.hashCode(payload));
        }
    }

    @Test
    void halfCloseFromTheClientReachesTheServerAndTheAnswerStillComesBack() throws Exception {
        try (TestBackend backend = new TestBackend(s -> {
            byte[] all = s.getInputStream().readAllBytes(); // returns only at the client's FIN
            s.getOutputStream().write(("got " + all.length + " bytes").getBytes(StandardCharsets.US_ASCII));
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = proxy.connect()) {
            client.getOutputStream().write(new byte[1000]);
            client.shutdownOutput();
            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).isEqualTo("got 1000 bytes");
            await().until(() -> proxy.listener.activeSessions() == 0);
            assertThat(proxy.listener.pool().server("b").idleClosedByServer())
                    .as("the client ended its side first: the server did not close an idle session").isZero();
        }
    }

    @Test
    void aRefusingServerIsSkippedForTheNextOne() throws Exception {
        try (TestBackend backend = new TestBackend(s -> s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII)));
             ProxyHarness proxy = ProxyHarness.builder()
                     .server("dead", ProxyHarness.closedPort())
                     .server("live", backend.port())
                     .start()) {
            for (int i = 0; i < 10; i++) {
                try (Socket client = proxy.connect()) {
                    assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                            .isEqualTo("hello");
                }
            }
            await().until(() -> proxy.listener.pool().servers().stream().allMatch(s -> s.activeSessions() == 0));
        }
    }

    @Test
    void whenNoServerCanBeReachedTheClientGetsAMysqlErrorNamingEachReason() throws Exception {
        try (ProxyHarness proxy = ProxyHarness.builder()
                .server("db-node-1", ProxyHarness.closedPort())
                .server("db-node-2", ProxyHarness.closedPort())
                .start();
             Socket client = proxy.connect()) {
            MysqlErr err = MysqlErr.read(client.getInputStream());
            assertThat(err.code()).isEqualTo(1105);
            assertThat(err.message())
                    .startsWith("galera-lb: no available server for listener test (")
                    .contains("db-node-1: connection refused")
                    .contains("db-node-2: connection refused");
        }
    }

    @Test
    void aServerThatDoesNotAcceptTimesOutAndTheNextOneIsTried() throws Exception {
        try (Blackhole blackhole = fullBacklog();
             TestBackend backend = new TestBackend(s -> s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII)));
             ProxyHarness proxy = ProxyHarness.builder()
                     .timeouts(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofHours(1))
                     .server("blackhole", blackhole.port())
                     .server("live", backend.port())
                     .start()) {
            for (int i = 0; i < 4; i++) {
                try (Socket client = proxy.connect()) {
                    assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                            .isEqualTo("hello");
                }
            }
        }
    }

    @Test
    void aConnectTimeoutIsNamedInTheError() throws Exception {
        try (Blackhole blackhole = fullBacklog();
             ProxyHarness proxy = ProxyHarness.builder()
                     .timeouts(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofHours(1))
                     .server("blackhole", blackhole.port())
                     .start();
             Socket client = proxy.connect()) {
            MysqlErr err = MysqlErr.read(client.getInputStream());
            assertThat(err.message()).contains("blackhole: connect timed out after 300ms");
        }
    }

    /**
     * A listening socket whose accept queue is full: Linux drops further SYNs, so a connect to
     * it neither succeeds nor is refused, like a server that is up but overwhelmed.
     */
    private record Blackhole(ServerSocket socket, List<Socket> fillers) implements AutoCloseable {
        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            for (Socket f : fillers) {
                f.close();
            }
            socket.close();
        }
    }

    private static Blackhole fullBacklog() throws IOException {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        List<Socket> fillers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Socket f = new Socket();
            try {
                f.connect(s.getLocalSocketAddress(), 200);
                fillers.add(f);
            } catch (SocketTimeoutException e) {
                f.close();
                break;
            }
        }
        boolean dropped = false;
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()), 300);
        } catch (SocketTimeoutException e) {
            dropped = true;
        }
        assertThat(dropped).as("a full accept queue drops new connects on this kernel").isTrue();
        return new Blackhole(s, fillers);
    }

    @Test
    void serverIdleClosesASessionWhoseServerNeverAnswers() throws Exception {
        try (TestBackend backend = new TestBackend(s -> s.getInputStream().readAllBytes());
             ProxyHarness proxy = ProxyHarness.builder()
                     .timeouts(Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofSeconds(1))
                     .server("mute", backend.port())
                     .start();
             Socket client = proxy.connect()) {
            assertThat(client.getInputStream().read()).as("closed by galera-lb, not by the read timeout").isEqualTo(-1);
            await().until(() -> proxy.listener.activeSessions() == 0);
        }
    }

    @Test
    void clientIdleClosesASessionWhoseClientStaysSilent() throws Exception {
        try (TestBackend backend = new TestBackend(s -> {
            s.getOutputStream().write("greeting".getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readAllBytes();
        });
             ProxyHarness proxy = ProxyHarness.builder()
                     .timeouts(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofHours(1))
                     .server("b", backend.port())
                     .start();
             Socket client = proxy.connect()) {
            byte[] greeting = client.getInputStream().readNBytes(8);
            assertThat(new String(greeting, StandardCharsets.US_ASCII)).isEqualTo("greeting");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
            await().until(() -> backend.failures.isEmpty() && proxy.listener.activeSessions() == 0);
        }
    }

    @Test
    void clientsThatNeverCloseAfterTheServerHasClosedHoldTheirSlotsForFinTimeoutOnly() throws Exception {
        // As MariaDB does with a garbage packet: an error, then its end of the stream. The clients
        // read it all and keep their sockets open, as a flood of them would to lock real clients out.
        try (TestBackend backend = new TestBackend(s -> s.getOutputStream().write("ERR".getBytes(StandardCharsets.US_ASCII)));
             ProxyHarness proxy = ProxyHarness.builder().maxConnections(20).finTimeout(Duration.ofSeconds(1))
                     .server("b", backend.port()).start()) {
            List<Socket> holders = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    Socket c = proxy.connect();
                    holders.add(c);
                    assertThat(c.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("ERR");
                }
                await().until(() -> proxy.listener.activeSessions() == 0);
                assertThat(proxy.listener.closedByFinTimeout()).isEqualTo(20);
                try (Socket real = proxy.connect()) {
                    assertThat(real.getInputStream().readAllBytes()).as("a slot is free again")
                            .asString(StandardCharsets.US_ASCII).isEqualTo("ERR");
                }
            } finally {
                for (Socket c : holders) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aServerThatNeverClosesAfterItsClientHasClosedIsCutAfterFinTimeout() throws Exception {
        CountDownLatch testOver = new CountDownLatch(1);
        try (TestBackend backend = new TestBackend(s -> {
            s.getInputStream().readAllBytes();
            testOver.await(); // never answers, never closes while the test runs
        });
             ProxyHarness proxy = ProxyHarness.builder().finTimeout(Duration.ofSeconds(1)).server("b", backend.port())
                     .start();
             Socket client = proxy.connect()) {
            client.getOutputStream().write(1);
            client.shutdownOutput();
            assertThat(client.getInputStream().read()).as("closed by galera-lb, not by the read timeout").isEqualTo(-1);
            await().until(() -> proxy.listener.activeSessions() == 0);
            assertThat(proxy.listener.closedByFinTimeout()).isEqualTo(1);
        } finally {
            testOver.countDown();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aListenerBindsAgainWhileItsClosedSessionsAreInTimeWait(Transport transport) throws Exception {
        int port;
        try (TestBackend backend = new TestBackend(s -> s.getOutputStream().write('!'));
             ProxyHarness proxy = ProxyHarness.builder().transport(transport).server("b", backend.port()).start()) {
            port = proxy.address().getPort();
            for (int i = 0; i < 20; i++) {
                try (Socket c = proxy.connect()) {
                    // galera-lb closes first (its server did): its end of each session, on the
                    // listener's port, waits in TIME_WAIT.
                    assertThat(c.getInputStream().readAllBytes()).containsExactly('!');
                }
            }
            await().until(() -> proxy.listener.activeSessions() == 0);
        }
        try (TestBackend backend = new TestBackend(s -> s.getOutputStream().write('?'));
             ProxyHarness again = ProxyHarness.builder().transport(transport).port(port).server("b", backend.port())
                     .start();
             Socket c = again.connect()) {
            assertThat(c.getInputStream().readAllBytes()).containsExactly('?');
        }
    }

    @Test
    void maxConnectionsAnswersTooManyConnections() throws Exception {
        try (TestBackend backend = new TestBackend(s -> {
            s.getOutputStream().write('!');
            s.getInputStream().readAllBytes();
        });
             ProxyHarness proxy = ProxyHarness.builder().maxConnections(2).server("b", backend.port()).start();
             Socket a = proxy.connect();
             Socket b = proxy.connect()) {
            assertThat(a.getInputStream().read()).isEqualTo('!');
            assertThat(b.getInputStream().read()).isEqualTo('!');
            try (Socket c = proxy.connect()) {
                MysqlErr err = MysqlErr.read(c.getInputStream());
                assertThat(err.code()).isEqualTo(1040);
                assertThat(err.message()).contains("too many connections to listener test (max-connections 2)");
            }
            a.close();
            await().until(() -> proxy.listener.activeSessions() == 1);
            try (Socket d = proxy.connect()) {
                assertThat(d.getInputStream().read()).isEqualTo('!');
            }
        }
    }

    @Test
    void closingTheClientClosesTheServerSideAndReleasesTheServer() throws Exception {
        CompletableFuture<Integer> backendSaw = new CompletableFuture<>();
        try (TestBackend backend = new TestBackend(s -> {
            s.getOutputStream().write('!');
            backendSaw.complete(s.getInputStream().read());
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start()) {
            Socket client = proxy.connect();
            assertThat(client.getInputStream().read()).isEqualTo('!');
            Server server = proxy.listener.pool().servers().get(0);
            assertThat(server.activeSessions()).isEqualTo(1);
            client.close();
            assertThat(backendSaw.get(30, TimeUnit.SECONDS)).isEqualTo(-1);
            await().until(() -> server.activeSessions() == 0 && proxy.listener.activeSessions() == 0);
            assertThat(server.totalSessions()).isEqualTo(1);
        }
    }

    @Test
    void closingTheServerClosesTheClientAfterDeliveringEverything() throws Exception {
        byte[] payload = new byte[300_000];
        Arrays.fill(payload, (byte) 7);
        try (TestBackend backend = new TestBackend(s -> s.getOutputStream().write(payload));
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = proxy.connect()) {
            assertThat(client.getInputStream().readAllBytes()).isEqualTo(payload);
        }
    }

    @Test
    void aResetFromEitherSideIsCountedAsThatSidesAbortOncePerSession() throws Exception {
        CompletableFuture<Void> clientGone = new CompletableFuture<>();
        try (TestBackend backend = new TestBackend(s -> {
            s.getOutputStream().write('!');
            if (s.getInputStream().read() == 'R') {
                s.setSoLinger(true, 0); // the server resets its connection
                s.close();
            } else {
                clientGone.complete(null);
            }
        });
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start()) {
            Server server = proxy.listener.pool().servers().get(0);
            try (Socket client = proxy.connect()) {
                assertThat(client.getInputStream().read()).isEqualTo('!');
                client.getOutputStream().write('R');
                await().until(() -> server.serverAborts() == 1);
            }
            Socket client = proxy.connect();
            assertThat(client.getInputStream().read()).isEqualTo('!');
            client.setSoLinger(true, 0); // the client resets its connection
            client.close();
            clientGone.get(30, TimeUnit.SECONDS);
            await().until(() -> server.clientAborts() == 1 && proxy.listener.activeSessions() == 0);
            assertThat(server.serverAborts()).as("once per session").isEqualTo(1);
        }
    }
}
