package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code galera-lb run} under systemd's notification protocol, read from a real Unix datagram socket. */
@ExtendWith(GaleraClusterExtension.class)
class SystemdNotifyTest {

    @TempDir
    Path dir;

    /** What systemd would have received, each datagram with whether the listener accepted when it came. */
    private record Note(String text, boolean listenerAccepted) {
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int indexOf(List<Note> notes, String line, int from) {
        for (int i = from; i < notes.size(); i++) {
            if (notes.get(i).text().lines().anyMatch(line::equals)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void readyOnlyOnceListeningThenReloadingAndReadyOnSighupWatchdogPingsAndStoppingOnSigterm() throws Exception {
        int port = TestConfigs.freePort();
        Path config = dir.resolve("lb.yaml");
        Files.writeString(config, TestConfigs.instanceYaml(port, TestConfigs.freePort(), dir.resolve("lb.lock")));
        Path socket = dir.resolve("notify.sock");
        List<Note> notes = new CopyOnWriteArrayList<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EpollDomainDatagramChannel systemd = new EpollDomainDatagramChannel();
        systemd.pipeline().addLast(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                ByteBuf b = p.content();
                String text = b.toString(StandardCharsets.UTF_8);
                notes.add(new Note(text, text.lines().anyMatch("READY=1"::equals) && accepts(port)));
            }
        });
        try {
            group.register(systemd).sync();
            systemd.bind(new DomainSocketAddress(socket.toString())).sync();
            try (GaleraLbProcess lb = GaleraLbProcess.startWithEnvironment(Map.of("NOTIFY_SOCKET", socket.toString(),
                    "WATCHDOG_USEC", "400000"), "run", "--config", config.toString())) {
                await().atMost(Duration.ofSeconds(60)).until(() -> indexOf(notes, "READY=1", 0) >= 0);
                Note ready = notes.get(indexOf(notes, "READY=1", 0));
                assertThat(ready.listenerAccepted()).as("the listener accepts when READY=1 arrives").isTrue();
                assertThat(ready.text()).contains("STATUS=generation 1; 0 session(s); 3/3 server(s) UP");
                assertThat(lb.hasOutput("galera-lb started")).isTrue();

                await().until(() -> indexOf(notes, "WATCHDOG=1", 0) >= 0);
                assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(lb.pid())).start().waitFor()).isZero();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    int reloading = indexOf(notes, "RELOADING=1", 0);
                    return reloading >= 0 && indexOf(notes, "READY=1", reloading) > reloading;
                });
                Note reloading = notes.get(indexOf(notes, "RELOADING=1", 0));
                assertThat(reloading.text()).containsPattern("MONOTONIC_USEC=\\d+");
                assertThat(notes.get(indexOf(notes, "READY=1", indexOf(notes, "RELOADING=1", 0))).text())
                        .contains("STATUS=generation 2");

                lb.terminate();
                assertThat(lb.waitForExit()).isZero();
                assertThat(indexOf(notes, "STOPPING=1", 0)).as("STOPPING=1 on SIGTERM").isGreaterThan(0);
            }
        } finally {
            systemd.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
