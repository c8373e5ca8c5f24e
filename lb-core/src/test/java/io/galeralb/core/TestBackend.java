package io.galeralb.core;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A plain blocking TCP server on loopback that runs {@code conversation} for every connection
 * on its own thread: the simplest possible real peer for the relay.
 */
final class TestBackend implements AutoCloseable {

    interface Conversation {
        void run(Socket s) throws Exception;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final List<Socket> accepted = new CopyOnWriteArrayList<>();

    /** Echoes every byte until the client ends its side. */
    static TestBackend echo() throws IOException {
        return new TestBackend(s -> s.getInputStream().transferTo(s.getOutputStream()));
    }

    TestBackend(Conversation conversation) throws IOException {
        this(conversation, 0);
    }

    TestBackend(Conversation conversation, int receiveBuffer) throws IOException {
        server = new ServerSocket();
        if (receiveBuffer > 0) {
            server.setReceiveBufferSize(receiveBuffer); // inherited by accepted sockets
        }
        server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        threads.submit(() -> {
            while (!server.isClosed()) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return;
                }
                accepted.add(s);
                threads.submit(() -> {
                    try (s) {
                        conversation.run(s);
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
            }
        });
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
        threads.shutdownNow();
    }
}
