package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.io.Transport;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class TransportTest {

    /** NIO, and epoll where it loads. */
    static List<Transport> transportsHere() {
        List<Transport> transports = new ArrayList<>(List.of(Transport.NIO));
        if (Epoll.isAvailable()) {
            transports.add(Transport.EPOLL);
        }
        return transports;
    }

    @Test
    void everySocketGaleraLbMakesHasNagleOffWithoutAskingAgain() throws Exception {
        // Listener relies on Netty's default (one setsockopt per socket saved): requests of a few
        // bytes must never wait for Nagle's algorithm, on either transport.
        for (Transport t : transportsHere()) {
            for (SocketProtocolFamily family : new SocketProtocolFamily[] {null, SocketProtocolFamily.INET}) {
                SocketChannel ch = t.newChannel(family);
                try {
                    assertThat(ch.config().isTcpNoDelay()).as(t + " " + family).isTrue();
                } finally {
                    ch.unsafe().closeForcibly();
                }
            }
        }
    }

    @Test
    void anAddressGetsASocketOfItsOwnFamilyAndAHostNameNotYetResolvedADualStackOne() {
        assertThat(Transport.familyOf(new InetSocketAddress("127.0.0.1", 3306))).isEqualTo(SocketProtocolFamily.INET);
        assertThat(Transport.familyOf(new InetSocketAddress("::1", 3306))).isEqualTo(SocketProtocolFamily.INET6);
        assertThat(Transport.familyOf(InetSocketAddress.createUnresolved("db1.example", 3306))).isNull();
    }

    @Test
    void anIpv4ListenerAndItsServerConnectionsUseIpv4SocketsNotMappedIpv6Ones() throws Exception {
        // The kernel lists IPv4 sockets in /proc/net/tcp and IPv6 ones (mapped 127.0.0.1 too) in
        // /proc/net/tcp6: both the listening socket and galera-lb's connection to the server
        // must be in the first.
        try (TestBackend backend = new TestBackend(s -> s.getInputStream().readAllBytes());
             ProxyHarness proxy = ProxyHarness.builder().server("b", backend.port()).start();
             Socket client = proxy.connect()) {
            client.getOutputStream().write(1);
            await().until(() -> proxy.listener.pool().server("b").activeSessions() == 1);
            int listening = proxy.address().getPort();
            assertThat(localPorts("/proc/net/tcp")).contains(listening);
            assertThat(localPorts("/proc/net/tcp6")).doesNotContain(listening);
            await().until(() -> remotePorts("/proc/net/tcp").contains(backend.port()));
        }
    }

    private static List<Integer> localPorts(String table) throws IOException {
        return ports(table, 1);
    }

    private static List<Integer> remotePorts(String table) throws IOException {
        return ports(table, 2);
    }

    /** The ports in column {@code column} ("address:port" in hex) of a /proc/net/tcp table. */
    private static List<Integer> ports(String table, int column) throws IOException {
        List<Integer> ports = new ArrayList<>();
        // Not Files.readAllLines: /proc files report a size that does not match their content.
        try (InputStream in = Files.newInputStream(Path.of(table))) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n");
            for (int i = 1; i < lines.length; i++) {
                String[] fields = lines[i].trim().split("\\s+");
                if (fields.length > column) {
                    String address = fields[column];
                    ports.add(Integer.parseInt(address.substring(address.indexOf(':') + 1).toUpperCase(Locale.ROOT), 16));
                }
            }
        }
        return ports;
    }
}
