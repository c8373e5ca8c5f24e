package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.config.SendProxy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The PROXY protocol both ways over real loopback sockets: the header servers get, and the one galera-lb accepts. */
class ProxyProtocolTest {

    /** A header as a load balancer in front sends it, made by Netty's encoder. */
    private static byte[] header(HAProxyProtocolVersion version, String src, int srcPort, String dst, int dstPort) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(new HAProxyMessage(version, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4, src, dst,
                srcPort, dstPort));
        ByteBuf b = ch.readOutbound();
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
            ch.finishAndReleaseAll();
        }
    }

    /** What the echoing server received first: decoded by Netty's decoder. */
    private static HAProxyMessage decode(byte[] bytes) {
        EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
        ch.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(bytes));
        HAProxyMessage m = ch.readInbound();
        ch.finishAndReleaseAll();
        return m;
    }

    /** Closed by galera-lb: an end of stream, or a reset when bytes it never read were waiting. */
    private static void assertClosed(Socket s) {
        try {
            assertThat(s.getInputStream().read()).as("closed").isEqualTo(-1);
        } catch (java.net.SocketException e) {
            assertThat(e.getMessage()).isEqualTo("Connection reset");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws Exception {
        byte[] b = in.readNBytes(n);
        assertThat(b).hasSize(n);
        return b;
    }

    @Test
    void eachServerConnectionStartsWithTheClientsAddressesInTheConfiguredVersion() throws Exception {
        try (TestBackend echo = TestBackend.echo()) {
            for (SendProxy version : new SendProxy[] {SendProxy.V1, SendProxy.V2}) {
                try (ProxyHarness proxy = ProxyHarness.builder().server("s", echo.port(), version).start();
                     Socket client = proxy.connect()) {
                    OutputStream out = client.getOutputStream();
                    out.write("ping".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    int headerLength = version == SendProxy.V1
                            ? ("PROXY TCP4 127.0.0.1 127.0.0.1 " + client.getLocalPort() + " " + proxy.address().getPort()
                                    + "\r\n").length()
                            : 16 + 12;
                    byte[] got = readExactly(client.getInputStream(), headerLength + 4);
                    HAProxyMessage m = decode(Arrays.copyOf(got, headerLength));
                    try {
                        assertThat(m.protocolVersion().name()).isEqualTo(version.name());
                        assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
                        assertThat(m.sourceAddress() + ":" + m.sourcePort()).isEqualTo("127.0.0.1:" + client.getLocalPort());
                        assertThat(m.destinationAddress() + ":" + m.destinationPort())
                                .isEqualTo("127.0.0.1:" + proxy.address().getPort());
                    } finally {
                        m.release();
                    }
                    assertThat(new String(got, headerLength, 4, StandardCharsets.US_ASCII)).isEqualTo("ping");
                }
            }
        }
    }

    @Test
    void aRetryToTheNextServerStartsWithItsOwnHeader() throws Exception {
        try (TestBackend echo = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("refusing", ProxyHarness.closedPort(), SendProxy.V1)
                     .server("s", echo.port(), SendProxy.V1).start()) {
            // Ties go either way at random: 20 clients meet the refusing server first with odds of 1 - 2^-20.
            for (int i = 0; i < 20; i++) {
                try (Socket client = proxy.connect()) {
                    client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                    String expected = "PROXY TCP4 127.0.0.1 127.0.0.1 " + client.getLocalPort() + " "
                            + proxy.address().getPort() + "\r\nping";
                    assertThat(new String(readExactly(client.getInputStream(), expected.length()),
                            StandardCharsets.US_ASCII)).as("one header, on the connection that succeeded").isEqualTo(expected);
                }
            }
            assertThat(proxy.listener.pool().server("refusing").connectFailures()).isPositive();
        }
    }

    @Test
    void aTrustedBalancersHeaderNamesTheClientPassedOnToTheServer() throws Exception {
        try (TestBackend echo = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("s", echo.port(), SendProxy.V1)
                     .acceptProxy("10.0.0.0/8", "127.0.0.0/8").start();
             Socket client = proxy.connect()) {
            byte[] h = header(HAProxyProtocolVersion.V2, "203.0.113.9", 4444, "198.51.100.1", 3306);
            client.setTcpNoDelay(true);
            OutputStream out = client.getOutputStream();
            // In two pieces: the reader asks for more until the header is whole.
            out.write(h, 0, 10);
            out.flush();
            Thread.onSpinWait();
            out.write(h, 10, h.length - 10);
            out.write("ping".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String expected = "PROXY TCP4 203.0.113.9 198.51.100.1 4444 3306\r\nping";
            assertThat(new String(readExactly(client.getInputStream(), expected.length()), StandardCharsets.US_ASCII))
                    .isEqualTo(expected);
            assertThat(proxy.listener.refusedProxyHeader() + proxy.listener.refusedProxyUntrusted()).isZero();
        }
    }

    @Test
    void aClientOutsideTheTrustedNetworksIsClosedBeforeAnyServerIsAsked() throws Exception {
        try (TestBackend echo = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("s", echo.port(), SendProxy.OFF)
                     .acceptProxy("10.0.0.0/8").start();
             Socket client = proxy.connect()) {
            client.getOutputStream().write(header(HAProxyProtocolVersion.V1, "203.0.113.9", 4444, "198.51.100.1", 3306));
            assertClosed(client);
            assertThat(proxy.listener.refusedProxyUntrusted()).isEqualTo(1);
            assertThat(echo.accepted).isEmpty();
        }
    }

    @Test
    void aGarbledHeaderOrNoneAtAllIsRefusedAndCounted() throws Exception {
        try (TestBackend echo = TestBackend.echo();
             ProxyHarness proxy = ProxyHarness.builder().server("s", echo.port(), SendProxy.OFF)
                     .acceptProxy("127.0.0.1").start()) {
            try (Socket garbled = proxy.connect()) {
                garbled.getOutputStream().write("PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n".getBytes(StandardCharsets.US_ASCII));
                assertClosed(garbled);
            }
            try (Socket mysqlClient = proxy.connect()) {
                // A MySQL client waits for the server to speak: no header ever comes.
                assertClosed(mysqlClient);
            }
            try (Socket tooLong = proxy.connect()) {
                byte[] junk = new byte[200];
                Arrays.fill(junk, (byte) 'x');
                tooLong.getOutputStream().write(junk);
                assertClosed(tooLong);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.listener.refusedProxyHeader() == 3);
            assertThat(echo.accepted).isEmpty();
        }
    }

    @Test
    void anIpv4ClientOnAnIpv6AddressIsWrittenIpv4MappedInATcp6Header() throws Exception {
        HAProxyMessage m = ProxyHeaders.of(SendProxy.V2, new InetSocketAddress("192.0.2.1", 5000),
                new InetSocketAddress("::1", 3307));
        try {
            assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(m.sourceAddress()).isEqualTo("::ffff:192.0.2.1");
        } finally {
            m.release();
        }
    }
}
