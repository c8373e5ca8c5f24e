package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TransportTest {

    @Test
    void everySocketGaleraLbMakesHasNagleOffWithoutAskingAgain() throws Exception {
        // Listener relies on Netty's default (one setsockopt per socket saved): requests of a few
        // bytes must never wait for Nagle's algorithm, on either transport.
        List<Transport> transports = new ArrayList<>(List.of(Transport.NIO));
        if (Epoll.isAvailable()) {
            transports.add(Transport.EPOLL);
        }
        for (Transport t : transports) {
            SocketChannel ch = t.channelClass().getDeclaredConstructor().newInstance();
            try {
                assertThat(ch.config().isTcpNoDelay()).as(t.name()).isTrue();
            } finally {
                ch.unsafe().closeForcibly();
            }
        }
    }
}
