package io.galeralb.core;

import io.galeralb.benchmarks.AbstractBenchmark;
import io.galeralb.config.Balance;
import io.galeralb.config.HostPort;
import io.galeralb.config.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Picking a server under contention, as many event loops do at once: pick (which counts the
 * session) and release. In lb-core's package because the pool's pick is not public API.
 */
@State(Scope.Benchmark)
@Threads(4)
public class PickBenchmark extends AbstractBenchmark {

    @Param({"LEASTCONN", "ROUNDROBIN"})
    public Balance balance;

    @Param({"3", "16"})
    public int servers;

    private ServerPool pool;

    @Setup
    public void setUp() {
        List<ServerConfig> configs = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
            configs.add(new ServerConfig("s" + i, new HostPort("127.0.0.1", 10_000 + i), 1 + i % 3));
        }
        pool = new ServerPool(configs, balance);
    }

    @Benchmark
    public Server pickAndRelease() {
        Server s = pool.pick(Set.of());
        s.release();
        return s;
    }
}
