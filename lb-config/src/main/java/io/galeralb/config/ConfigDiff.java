package io.galeralb.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a reload changes: the difference between the running configuration and a new one.
 * A listener whose bind address changes is removed and added; a server whose address changes
 * likewise; a server whose weight, priority, source, send-proxy or slowstart alone changes is changed in place.
 *
 * @param listenersAdded   names of listeners to bind
 * @param listenersRemoved names of listeners to stop
 * @param listenersChanged listeners that stay, with what changes in them
 * @param settingsChanged  top-level settings that differ (shutdown-grace, drain-timeout, admin, lock-file,
 *                         io-threads, busy-poll)
 */
public record ConfigDiff(List<String> listenersAdded, List<String> listenersRemoved,
                         Map<String, ListenerChange> listenersChanged, List<String> settingsChanged) {

    /**
     * What changes in a listener that stays.
     *
     * @param serversAdded    new servers (checked before they receive sessions)
     * @param serversRemoved  servers that go (drained)
     * @param serversChanged  servers whose weight, priority, source, send-proxy or slowstart changes
     * @param settingsChanged listener settings that differ (balance, max-connections, timeouts, health, on-server-down, failback, writer-lease, accept-proxy)
     */
    public record ListenerChange(List<String> serversAdded, List<String> serversRemoved, List<String> serversChanged,
                                 List<String> settingsChanged) {

        public boolean healthChanged() {
            return settingsChanged.contains("health");
        }
    }

    public static ConfigDiff between(GaleraLbConfig running, GaleraLbConfig next) {
        Objects.requireNonNull(running, "running");
        Objects.requireNonNull(next, "next");
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        Map<String, ListenerChange> changed = new LinkedHashMap<>();
        for (ListenerConfig l : running.listeners().values()) {
            ListenerConfig n = next.listeners().get(l.name());
            if (n == null || !n.bind().equals(l.bind())) {
                removed.add(l.name());
            }
        }
        for (ListenerConfig n : next.listeners().values()) {
            ListenerConfig l = running.listeners().get(n.name());
            if (l == null || !n.bind().equals(l.bind())) {
                added.add(n.name());
            } else {
                ListenerChange c = compare(l, n);
                if (!c.serversAdded().isEmpty() || !c.serversRemoved().isEmpty() || !c.serversChanged().isEmpty()
                        || !c.settingsChanged().isEmpty()) {
                    changed.put(n.name(), c);
                }
            }
        }
        List<String> settings = new ArrayList<>();
        if (!running.shutdownGrace().equals(next.shutdownGrace())) {
            settings.add("shutdown-grace");
        }
        if (!running.drainTimeout().equals(next.drainTimeout())) {
            settings.add("drain-timeout");
        }
        if (!running.adminBind().equals(next.adminBind())) {
            settings.add("admin");
        }
        if (!running.lockFile().equals(next.lockFile())) {
            settings.add("lock-file");
        }
        if (!running.ioThreads().equals(next.ioThreads())) {
            settings.add("io-threads");
        }
        if (!running.busyPoll().equals(next.busyPoll())) {
            settings.add("busy-poll");
        }
        if (!running.nameservers().equals(next.nameservers())) {
            settings.add("dns");
        }
        return new ConfigDiff(List.copyOf(added), List.copyOf(removed), Map.copyOf(changed), List.copyOf(settings));
    }

    private static ListenerChange compare(ListenerConfig l, ListenerConfig n) {
        List<String> sAdded = new ArrayList<>();
        List<String> sRemoved = new ArrayList<>();
        List<String> sChanged = new ArrayList<>();
        for (ServerConfig s : l.servers().values()) {
            ServerConfig ns = n.servers().get(s.name());
            if (ns == null || !ns.address().equals(s.address())) {
                sRemoved.add(s.name());
            }
        }
        for (ServerConfig ns : n.servers().values()) {
            ServerConfig s = l.servers().get(ns.name());
            if (s == null || !ns.address().equals(s.address())) {
                sAdded.add(ns.name());
            } else if (ns.weight() != s.weight() || ns.priority() != s.priority() || !ns.source().equals(s.source())
                    || ns.sendProxy() != s.sendProxy() || !ns.slowstart().equals(s.slowstart())) {
                sChanged.add(ns.name());
            }
        }
        List<String> settings = new ArrayList<>();
        if (l.balance() != n.balance()) {
            settings.add("balance");
        }
        if (l.maxConnections() != n.maxConnections()) {
            settings.add("max-connections");
        }
        if (!l.timeouts().equals(n.timeouts())) {
            settings.add("timeouts");
        }
        if (!l.health().equals(n.health())) {
            settings.add("health");
        }
        if (l.onServerDown() != n.onServerDown()) {
            settings.add("on-server-down");
        }
        if (l.failback() != n.failback()) {
            settings.add("failback");
        }
        if (!l.writerLease().equals(n.writerLease())) {
            settings.add("writer-lease");
        }
        if (l.acceptProxy() != n.acceptProxy() || !l.trustedProxies().equals(n.trustedProxies())) {
            settings.add("accept-proxy");
        }
        if (l.sessionLog() != n.sessionLog()) {
            settings.add("session-log");
        }
        if (!l.resolveInterval().equals(n.resolveInterval())) {
            settings.add("resolve-interval");
        }
        if (l.rebalanceRate() != n.rebalanceRate()) {
            settings.add("rebalance");
        }
        return new ListenerChange(List.copyOf(sAdded), List.copyOf(sRemoved), List.copyOf(sChanged), List.copyOf(settings));
    }

    public boolean isEmpty() {
        return listenersAdded.isEmpty() && listenersRemoved.isEmpty() && listenersChanged.isEmpty()
                && settingsChanged.isEmpty();
    }

    /** One line for the log: {@code listeners +portal -old; app-cluster: servers +db4 -db1 ~db2, settings timeouts}. */
    public String summary() {
        if (isEmpty()) {
            return "no changes";
        }
        List<String> parts = new ArrayList<>();
        if (!listenersAdded.isEmpty() || !listenersRemoved.isEmpty()) {
            parts.add("listeners" + signed("+", listenersAdded) + signed("-", listenersRemoved));
        }
        listenersChanged.forEach((name, c) -> {
            List<String> bits = new ArrayList<>();
            if (!c.serversAdded().isEmpty() || !c.serversRemoved().isEmpty() || !c.serversChanged().isEmpty()) {
                bits.add("servers" + signed("+", c.serversAdded()) + signed("-", c.serversRemoved())
                        + signed("~", c.serversChanged()));
            }
            if (!c.settingsChanged().isEmpty()) {
                bits.add("changed " + String.join(", ", c.settingsChanged()));
            }
            parts.add(name + ": " + String.join("; ", bits));
        });
        if (!settingsChanged.isEmpty()) {
            parts.add("changed " + String.join(", ", settingsChanged));
        }
        return String.join("; ", parts);
    }

    private static String signed(String sign, List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append(' ').append(sign).append(n);
        }
        return sb.toString();
    }
}
