package io.galeralb.server.admin;

import io.galeralb.core.Listener;
import io.galeralb.core.MysqlObserver;
import io.galeralb.core.Proxy;
import io.galeralb.core.Server;
import io.galeralb.core.SessionEnd;
import io.galeralb.core.SessionObserver;
import io.galeralb.health.CheckResult;
import io.galeralb.health.ServerHealth;
import io.galeralb.health.Transition;
import io.galeralb.server.Main;
import io.galeralb.server.writer.WriterElection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * galera-lb's meters, on a registry given to it (never the global one). Counters of the proxy
 * live in lb-core as plain adders and are read here when scraped, so the forwarding path pays
 * nothing for them; only a session's connect is timed (once per session).
 */
public final class Metrics {

    private final MeterRegistry registry;
    /** Meters of each server object, removed when a reload takes the server away. Guarded by this. */
    private final Map<Server, List<Meter>> serverMeters = new IdentityHashMap<>();
    private final Map<Listener, List<Meter>> listenerMeters = new IdentityHashMap<>();
    private final Map<Server, Timer> connectTimers = new ConcurrentHashMap<>();
    private final MultiGauge serverState;
    private final MultiGauge writer;
    /** Writer changes of each balance: first listener, read by its counter when scraped. */
    private final Map<String, Long> writerChanges = new ConcurrentHashMap<>();
    private final Map<String, Meter> writerChangeCounters = new HashMap<>();
    private final MultiGauge lastChange;
    private final MultiGauge wsrepLocalState;
    private final MultiGauge wsrepClusterSize;
    private final MultiGauge wsrepRecvQueue;
    private final MultiGauge wsrepFlowControlPaused;
    private final MultiGauge writerLeaseEpoch;
    /** A few buckets for check durations (a histogram per server, not Micrometer's 60-odd). */
    private static final Duration[] CHECK_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(25),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ofSeconds(5)};

    public Metrics(MeterRegistry registry, Proxy proxy) {
        this.registry = registry;
        // Micrometer's names that Prometheus's conventions reject (promtool check metrics): a unit
        // abbreviated, and a gauge ending in _count. Their values come back under standard names.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            Gauge.builder("galera.lb.netty.buffers.direct.used", p, x -> x.metric().usedDirectMemory())
                    .baseUnit("bytes").description("direct memory held by Netty's buffer allocator").register(registry);
            Gauge.builder("galera.lb.netty.buffers.heap.used", p, x -> x.metric().usedHeapMemory())
                    .baseUnit("bytes").description("heap memory held by Netty's buffer allocator").register(registry);
        }
        for (int i = 0; i < proxy.ioThreads(); i++) {
            int thread = i;
            Gauge.builder("galera.lb.io.thread.sessions", proxy, p -> p.sessionsOnIoThread(thread))
                    .tag("thread", String.valueOf(thread))
                    .description("sessions living on each I/O thread").register(registry);
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            // The names of Prometheus's own process collector.
            FunctionCounter.builder("process.cpu.seconds", os, o -> o.getProcessCpuTime() / 1e9)
                    .description("CPU time used by the process, user and system").register(registry);
            Gauge.builder("process.open.fds", os, o -> o.getOpenFileDescriptorCount())
                    .description("open file descriptors").register(registry);
            Gauge.builder("process.max.fds", os, o -> o.getMaxFileDescriptorCount())
                    .description("the process's limit on open file descriptors").register(registry);
        }
        Gauge.builder("system.cpus", Runtime.getRuntime(), r -> r.availableProcessors())
                .description("processors the JVM may use").register(registry);
        Gauge.builder("galera.lb.build.info", () -> 1).tags("version", Main.version(),
                        "java", System.getProperty("java.version"),
                        "transport", proxy.transport().name().toLowerCase(Locale.ROOT))
                .description("1, labelled with galera-lb's version, the Java version and the transport").register(registry);
        for (String result : new String[] {"applied", "refused"}) {
            reloadCounter(result);
        }
        FunctionCounter.builder("galera.lb.io.busy.poll.idle", proxy, Proxy::busyPollIdleSeconds).baseUnit("seconds")
                .description("time I/O threads spent busy polling without finding I/O (busy-poll)").register(registry);
        serverState = MultiGauge.builder("galera.lb.server.state")
                .description("1 for each server, labelled with its state and the cause of its last check's result")
                .register(registry);
        writer = MultiGauge.builder("galera.lb.writer")
                .description("balance: first listeners: 1 for the writer (0 with server=\"\" while there is none)")
                .register(registry);
        lastChange = MultiGauge.builder("galera.lb.server.last.change").baseUnit("seconds")
                .description("when each server last changed state (Unix time)").register(registry);
        wsrepLocalState = MultiGauge.builder("galera.lb.node.wsrep.local.state")
                .description("wsrep_local_state each node reported to its last Galera check (4 Synced, 2 Donor)")
                .register(registry);
        wsrepClusterSize = MultiGauge.builder("galera.lb.node.wsrep.cluster.size")
                .description("wsrep_cluster_size each node reported to its last Galera check").register(registry);
        wsrepRecvQueue = MultiGauge.builder("galera.lb.node.wsrep.local.recv.queue")
                .description("wsrep_local_recv_queue each node reported to its last Galera check").register(registry);
        wsrepFlowControlPaused = MultiGauge.builder("galera.lb.node.wsrep.flow.control.paused")
                .description("wsrep_flow_control_paused each node reported to its last Galera check")
                .register(registry);
        writerLeaseEpoch = MultiGauge.builder("galera.lb.writer.lease.epoch")
                .description("balance: first listeners with writer-lease: the epoch of the lease last read")
                .register(registry);
    }

    public void process(Supplier<Number> generation) {
        // Held strongly: a gauge only keeps a weak reference to what it reads, and nothing else
        // holds this supplier, so after a garbage collection the gauge read NaN.
        Gauge.builder("galera.lb.config.generation", generation, g -> g.get().doubleValue())
                .strongReference(true)
                .description("configuration generation running").register(registry);
    }

    public void reload(boolean ok) {
        reloadCounter(ok ? "applied" : "refused").increment();
    }

    private Counter reloadCounter(String result) {
        return Counter.builder("galera.lb.reloads").tag("result", result)
                .description("reloads, applied or refused").register(registry);
    }

    public SessionObserver sessionObserver(String listener) {
        return (server, nanos) -> connectTimers.computeIfAbsent(server, s -> Timer.builder("galera.lb.connect")
                        .tags("listener", listener, "server", s.name())
                        .description("time to connect a session to its server")
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofSeconds(10))
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void checked(String listener, String server, CheckResult result, long nanos) {
        Timer.builder("galera.lb.check").tags("listener", listener, "server", server,
                        "result", result.kind().name().toLowerCase(Locale.ROOT))
                .description("health check duration, by result")
                .serviceLevelObjectives(CHECK_BUCKETS)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
        if (result.kind() != CheckResult.Kind.PASS) {
            Counter.builder("galera.lb.check.failures").tags("listener", listener, "server", server,
                            "reason", result.cause().label())
                    .description("checks that did not pass, by cause").register(registry).increment();
        }
    }

    public void transition(Transition t) {
        Counter.builder("galera.lb.transitions").tags("listener", t.listener(), "server", t.server(),
                "to", t.up() ? "up" : "down").description("server state changes").register(registry).increment();
    }

    /** Registers the meters of servers and listeners that appeared, removes those of the gone. */
    public synchronized void sync(List<Listener> listeners, Map<String, Map<String, ServerHealth>> health,
                           Map<String, WriterElection.State> writers) {
        List<MultiGauge.Row<?>> writerRows = new ArrayList<>();
        List<MultiGauge.Row<?>> epochRows = new ArrayList<>();
        writers.forEach((listener, w) -> {
            writerRows.add(MultiGauge.Row.of(Tags.of("listener", listener, "server", w.writer().orElse("")),
                    w.writer().isPresent() ? 1 : 0));
            writerChanges.put(listener, w.changes());
            writerChangeCounters.computeIfAbsent(listener, name -> FunctionCounter.builder("galera.lb.writer.changes",
                            writerChanges, m -> m.getOrDefault(name, 0L)).tags("listener", name)
                    .description("balance: first listeners: times the writer changed since start").register(registry));
            w.lease().ifPresent(l -> epochRows.add(MultiGauge.Row.of(Tags.of("listener", listener), l.epoch())));
        });
        writer.register(writerRows, true);
        writerChangeCounters.keySet().removeIf(name -> {
            boolean gone = !writers.containsKey(name);
            if (gone) {
                registry.remove(writerChangeCounters.get(name));
                writerChanges.remove(name);
            }
            return gone;
        });
        writerLeaseEpoch.register(epochRows, true);
        Map<Server, Listener> present = new IdentityHashMap<>();
        for (Listener l : listeners) {
            l.pool().servers().forEach(s -> present.put(s, l));
            listenerMeters.computeIfAbsent(l, this::listenerMeters);
        }
        listenerMeters.keySet().removeIf(l -> {
            boolean gone = !listeners.contains(l);
            if (gone) {
                listenerMeters.get(l).forEach(registry::remove);
            }
            return gone;
        });
        present.forEach((s, l) -> serverMeters.computeIfAbsent(s, x -> serverMeters(l.name(), x)));
        serverMeters.keySet().removeIf(s -> {
            boolean gone = !present.containsKey(s);
            if (gone) {
                serverMeters.get(s).forEach(registry::remove);
                Timer t = connectTimers.remove(s);
                if (t != null) {
                    registry.remove(t);
                }
            }
            return gone;
        });
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        List<MultiGauge.Row<?>> changes = new ArrayList<>();
        List<MultiGauge.Row<?>> localState = new ArrayList<>();
        List<MultiGauge.Row<?>> clusterSize = new ArrayList<>();
        List<MultiGauge.Row<?>> recvQueue = new ArrayList<>();
        List<MultiGauge.Row<?>> flowControl = new ArrayList<>();
        present.forEach((s, l) -> {
            ServerHealth h = health.getOrDefault(l.name(), new HashMap<>()).get(s.name());
            Tags tags = Tags.of("listener", l.name(), "server", s.name());
            if (h != null && h.lastChange() != null) {
                changes.add(MultiGauge.Row.of(tags, h.lastChange().toEpochMilli() / 1000.0));
            }
            if (h != null && h.lastResult() != null) {
                h.lastResult().galera().ifPresent(g -> {
                    localState.add(MultiGauge.Row.of(tags, g.localState()));
                    clusterSize.add(MultiGauge.Row.of(tags, g.clusterSize()));
                    recvQueue.add(MultiGauge.Row.of(tags, g.recvQueue()));
                    flowControl.add(MultiGauge.Row.of(tags, g.flowControlPaused()));
                });
            }
            // A word of a fixed set, never the check's sentence (that is /status's): one series per state.
            String reason = h != null && h.lastResult() != null ? h.lastResult().cause().label() : "no_check_yet";
            rows.add(MultiGauge.Row.of(Tags.of("listener", l.name(), "server", s.name(), "state", s.state(),
                    "reason", reason), 1));
        });
        serverState.register(rows, true);
        lastChange.register(changes, true);
        wsrepLocalState.register(localState, true);
        wsrepClusterSize.register(clusterSize, true);
        wsrepRecvQueue.register(recvQueue, true);
        wsrepFlowControlPaused.register(flowControl, true);
    }

    private List<Meter> listenerMeters(Listener l) {
        Tags tags = Tags.of("listener", l.name());
        List<Meter> meters = new ArrayList<>();
        for (SessionEnd why : SessionEnd.values()) {
            meters.add(FunctionCounter.builder("galera.lb.sessions.ended", l, x -> x.sessionsEnded(why)).tags(tags)
                    .tag("reason", why.label())
                    .description("sessions ended, by why (the session log's vocabulary)").register(registry));
        }
        for (MysqlObserver.Opaque why : MysqlObserver.Opaque.values()) {
            if (why == MysqlObserver.Opaque.NONE) {
                continue;
            }
            meters.add(FunctionCounter.builder("galera.lb.sessions.opaque", l, x -> x.sessionsOpaque(why))
                    .tags(tags).tag("reason", why.name().toLowerCase(Locale.ROOT))
                    .description("sessions whose MySQL protocol galera-lb did not follow, by why").register(registry));
        }
        meters.addAll(List.of(
                Gauge.builder("galera.lb.listener.sessions.current", l, Listener::activeSessions).tags(tags)
                        .description("sessions open on the listener").register(registry),
                Gauge.builder("galera.lb.listener.sessions.limit", l, x -> x.config().maxConnections()).tags(tags)
                        .description("max-connections of the listener").register(registry),
                refused(l, tags, "no-server", Listener::refusedNoServer),
                refused(l, tags, "max-connections", Listener::refusedMaxConnections),
                refused(l, tags, "no-socket", Listener::refusedNoSocket),
                refused(l, tags, "proxy-untrusted", Listener::refusedProxyUntrusted),
                refused(l, tags, "proxy-header", Listener::refusedProxyHeader),
                FunctionCounter.builder("galera.lb.sessions.closed", l, Listener::closedByFinTimeout).tags(tags)
                        .tag("reason", "fin-timeout")
                        .description("sessions galera-lb closed, by reason").register(registry)));
        return meters;
    }

    /** {@code galera_lb_refused_total{reason=...}} of one listener. */
    private Meter refused(Listener l, Tags tags, String reason, ToDoubleFunction<Listener> count) {
        return FunctionCounter.builder("galera.lb.refused", l, count).tags(tags).tag("reason", reason)
                .description("clients refused: with a MySQL error, or closed (proxy-untrusted, proxy-header)")
                .register(registry);
    }

    private List<Meter> serverMeters(String listener, Server s) {
        Tags tags = Tags.of("listener", listener, "server", s.name());
        return List.of(
                Gauge.builder("galera.lb.sessions.current", s, Server::activeSessions).tags(tags)
                        .description("sessions attached to the server").register(registry),
                Gauge.builder("galera.lb.sessions.max", s, Server::maxSessions).tags(tags)
                        .description("the most sessions the server has had at once").register(registry),
                Gauge.builder("galera.lb.server.weight", s, x -> x.config().weight() * x.weightShare()).tags(tags)
                        .description("the server's effective weight: its weight, less during a slow start")
                        .register(registry),
                FunctionCounter.builder("galera.lb.sessions", s, Server::totalSessions).tags(tags)
                        .description("sessions sent to the server").register(registry),
                FunctionCounter.builder("galera.lb.bytes.in", s, Server::bytesFromClients).tags(tags)
                        .description("bytes from clients to the server").register(registry),
                FunctionCounter.builder("galera.lb.bytes.out", s, Server::bytesToClients).tags(tags)
                        .description("bytes from the server to clients").register(registry),
                FunctionCounter.builder("galera.lb.connect.failures", s, Server::connectFailures).tags(tags)
                        .description("connects refused or timed out").register(registry),
                FunctionCounter.builder("galera.lb.host.blocked", s, Server::hostBlocked).tags(tags)
                        .description("sessions the server refused with error 1129 (it blocks galera-lb's address)")
                        .register(registry),
                FunctionCounter.builder("galera.lb.idle.closed.by.server", s, Server::idleClosedByServer).tags(tags)
                        .description("sessions the server closed while they waited for their client").register(registry),
                FunctionCounter.builder("galera.lb.client.aborts", s, Server::clientAborts).tags(tags)
                        .description("sessions whose client connection was reset or failed").register(registry),
                FunctionCounter.builder("galera.lb.server.aborts", s, Server::serverAborts).tags(tags)
                        .description("sessions whose server connection was reset or failed").register(registry),
                FunctionCounter.builder("galera.lb.server.downtime", s, x -> x.downtime().toNanos() / 1e9)
                        .baseUnit("seconds").tags(tags)
                        .description("time the server's checks held it DOWN, in total").register(registry));
    }
}
