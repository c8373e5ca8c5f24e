package io.galeralb.benchmarks;

import io.galeralb.core.Listener;
import io.galeralb.core.Proxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The forwarding path over real loopback sockets, through galera-lb against the same peer
 * directly: one-way throughput by message size, and a request/response the size of a point
 * select and its result.
 */
@State(Scope.Benchmark)
public class RelayBenchmark extends AbstractBenchmark {

    @Param({"direct", "galera-lb"})
    public String path;

    @Param({"16", "1024", "65536"})
    public int size;

    private Proxy proxy;
    private ServerSocket sink;
    private ServerSocket pingPong;
    private Socket toSink;
    private Socket toPingPong;
    private OutputStream sinkOut;
    private OutputStream pingOut;
    private InputStream pingIn;
    private byte[] message;
    private byte[] request;
    private byte[] response;

    @Setup(Level.Trial)
    public void start() throws IOException {
        proxy = Proxy.start(Math.max(1, Runtime.getRuntime().availableProcessors()));
        sink = Loopback.backend(Loopback.Backend.DISCARD, 0, 0);
        pingPong = Loopback.backend(Loopback.Backend.PING_PONG, 40, 100);
        toSink = Loopback.connect(port(sink));
        toPingPong = Loopback.connect(port(pingPong));
        sinkOut = toSink.getOutputStream();
        pingOut = toPingPong.getOutputStream();
        pingIn = toPingPong.getInputStream();
        message = new byte[size];
        request = new byte[40];
        response = new byte[100];
    }

    private int port(ServerSocket backend) {
        if (path.equals("direct")) {
            return backend.getLocalPort();
        }
        Listener l = Loopback.proxy(proxy, backend.getLocalPort());
        return l.localAddress().getPort();
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        toSink.close();
        toPingPong.close();
        sink.close();
        pingPong.close();
        proxy.close();
    }

    /** Messages of {@code size} bytes per second, one way (bytes/s = score × size). */
    @Benchmark
    public void throughput() throws IOException {
        sinkOut.write(message);
    }

    /** Round trips per second: 40 bytes out, 100 bytes back, as a point select. Only meaningful for one size. */
    @Benchmark
    public int pingPong() throws IOException {
        pingOut.write(request);
        return pingIn.readNBytes(response, 0, response.length);
    }
}
