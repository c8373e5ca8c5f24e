package io.galeralb.benchmarks;

import io.galeralb.core.Listener;
import io.galeralb.core.Proxy;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** The cost of a new session: accept, pick, connect to the server, first byte back, close. */
@State(Scope.Benchmark)
public class SessionSetupBenchmark extends AbstractBenchmark {

    @Param({"direct", "galera-lb"})
    public String path;

    private Proxy proxy;
    private ServerSocket backend;
    private int port;

    @Setup(Level.Trial)
    public void start() throws IOException {
        proxy = Proxy.start(Math.max(1, Runtime.getRuntime().availableProcessors()));
        backend = Loopback.backend(Loopback.Backend.GREETING, 0, 0);
        if (path.equals("direct")) {
            port = backend.getLocalPort();
        } else {
            Listener l = Loopback.proxy(proxy, backend.getLocalPort());
            port = l.localAddress().getPort();
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        backend.close();
        proxy.close();
    }

    @Benchmark
    public int connectAndGreet() throws IOException {
        try (Socket s = Loopback.connect(port)) {
            return s.getInputStream().read();
        }
    }
}
