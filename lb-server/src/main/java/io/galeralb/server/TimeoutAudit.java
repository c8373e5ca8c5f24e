package io.galeralb.server;

import io.galeralb.config.Durations;
import io.galeralb.config.IdleTimeout;
import io.galeralb.config.ListenerConfig;
import io.galeralb.health.CheckResult.NodeTimeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the idle timeouts the nodes of one listener report and warns, once per change, when
 * they make pooled connections die: nodes that disagree on {@code wait_timeout}, or a fixed
 * {@code client-idle} that closes sessions before a node would. One of the outage's causes was
 * exactly this: 10 s on two nodes, 28800 s on the third, 60 s in the proxy.
 */
public final class TimeoutAudit {

    private static final Logger log = LoggerFactory.getLogger(TimeoutAudit.class);

    private final String listener;
    private final Supplier<ListenerConfig> config;
    /** Guarded by this. */
    private final Map<String, NodeTimeouts> seen = new TreeMap<>();
    private final Set<String> checked = new HashSet<>();
    private List<String> lastWarnings = List.of();

    TimeoutAudit(String listener, Supplier<ListenerConfig> config) {
        this.listener = listener;
        this.config = config;
    }

    /**
     * Takes one check's result. Nothing is judged before every server of the listener has had
     * its first check, so that start-up gives one verdict, not one per node as they answer.
     */
    synchronized void observe(String server, Optional<NodeTimeouts> result) {
        boolean changed = result.isPresent() && !result.get().equals(seen.put(server, result.get()));
        boolean complete = checked.containsAll(config.get().servers().keySet());
        checked.add(server);
        boolean nowComplete = checked.containsAll(config.get().servers().keySet());
        if (!nowComplete || (complete && !changed)) {
            return;
        }
        List<String> warnings = findings(config.get().timeouts().clientIdle(), seen);
        if (!warnings.equals(lastWarnings)) {
            warnings.stream().filter(w -> !lastWarnings.contains(w)).forEach(w -> log.warn("{}: {}", listener, w));
            lastWarnings = warnings;
        }
    }

    /** The warnings for these values; empty when all is consistent. */
    public static List<String> findings(IdleTimeout clientIdle, Map<String, NodeTimeouts> unordered) {
        Map<String, NodeTimeouts> nodes = new TreeMap<>(unordered); // stable, readable order of names
        List<String> out = new ArrayList<>();
        Map<Duration, List<String>> byWait = new TreeMap<>();
        nodes.forEach((name, t) -> byWait.computeIfAbsent(t.waitTimeout(), k -> new ArrayList<>()).add(name));
        if (byWait.size() > 1) {
            StringBuilder sb = new StringBuilder("nodes disagree on wait_timeout:");
            byWait.forEach((d, names) -> sb.append(' ').append(String.join(",", names)).append('=')
                    .append(d.toSeconds()).append('s'));
            Duration shortest = byWait.keySet().iterator().next();
            sb.append("; pooled connections on ").append(String.join(",", byWait.get(shortest)))
                    .append(" will see \"server has gone away\" after ").append(shortest.toSeconds())
                    .append(" s idle");
            out.add(sb.toString());
        }
        clientIdle.fixed().ifPresent(idle -> nodes.forEach((name, t) -> {
            if (idle.compareTo(t.waitTimeout()) < 0) {
                out.add("client-idle " + Durations.format(idle) + " is shorter than wait_timeout " + t.waitTimeout().toSeconds()
                        + "s of " + name + ": galera-lb, not MySQL, closes idle sessions there, and pooled connections "
                        + "will see \"server has gone away\" after " + idle.toSeconds() + " s idle (client-idle: auto follows the server)");
            }
        }));
        return out;
    }
}
