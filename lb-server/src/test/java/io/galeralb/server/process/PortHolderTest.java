package io.galeralb.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** What an operator is told when a port cannot be bound, from the kernel's own socket tables. */
class PortHolderTest {

    @Test
    void aListeningProcessIsNamedWithItsPid() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThat(PortHolder.describe("127.0.0.1", held.getLocalPort()))
                    .startsWith("127.0.0.1:" + held.getLocalPort() + " is in use by PID " + ProcessHandle.current().pid());
        }
    }

    @Test
    void aPortWithOnlyClosedConnectionsLeftSaysTimeWaitAndThatItDoesNotBlockGaleraLb() throws Exception {
        int port;
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            port = server.getLocalPort();
            for (int i = 0; i < 3; i++) {
                try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port);
                     Socket accepted = server.accept()) {
                    accepted.close(); // the side that closes first waits in TIME_WAIT, on this port
                    assertThat(client.getInputStream().read()).isEqualTo(-1);
                }
            }
        }
        assertThat(PortHolder.otherSockets(port)).containsEntry("TIME_WAIT", 3);
        assertThat(PortHolder.describe("127.0.0.1", port)).isEqualTo("127.0.0.1:" + port + " is in use, but no process "
                + "listens on it; the port still has 3 TIME_WAIT connection(s) (those in TIME_WAIT end by themselves "
                + "within a minute and do not block galera-lb, which binds with SO_REUSEADDR): look for a process "
                + "that bound the port without listening");
    }
}
