package io.galeralb.server;

import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.OnServerDown;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Proxy;
import io.galeralb.core.Server;
import io.galeralb.health.ListenerHealth;
import io.galeralb.health.Transition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running galera-lb: the proxy and its listeners, wired from one configuration. */
public final class GaleraLb implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GaleraLb.class);

    private final GaleraLbConfig config;
    private final Proxy proxy;
    private final Map<String, Listener> listeners;
    private final List<ListenerHealth> healths;
    private boolean stopped;

    private GaleraLb(GaleraLbConfig config, Proxy proxy, Map<String, Listener> listeners,
                     List<ListenerHealth> healths) {
        this.config = config;
        this.proxy = proxy;
        this.listeners = Collections.unmodifiableMap(listeners);
        this.healths = List.copyOf(healths);
    }

    /**
     * Checks every server, then binds every listener. A listener accepts only once each of its
     * servers has had its first verdict (or the time for one has passed), so no session goes to
     * a node that was never checked. If any listener cannot bind, nothing keeps running and the
     * error is thrown: galera-lb never runs with part of its listeners.
     */
    public static GaleraLb start(GaleraLbConfig config) throws ListenerBindException, InterruptedException {
        Objects.requireNonNull(config, "config");
        Proxy proxy = Proxy.start(Runtime.getRuntime().availableProcessors());
        Map<String, Listener> listeners = new LinkedHashMap<>();
        List<ListenerHealth> healths = new ArrayList<>();
        try {
            for (ListenerConfig lc : config.listeners().values()) {
                Listener listener = proxy.prepare(lc);
                listeners.put(lc.name(), listener);
                // Nothing is sent to a server before its first check says it may serve.
                listener.pool().servers().forEach(s -> s.markDown("not checked yet"));
                HealthConfig hc = lc.effectiveHealth();
                if (lc.health().isEmpty()) {
                    log.warn("listener {} has no health section: its servers are checked by TCP connect only, "
                            + "which cannot see Galera state (add health: {{type: galera, user: ...}})", lc.name());
                }
                ListenerHealth health = new ListenerHealth(lc.name(), hc, lc.servers().values(),
                        t -> apply(listener, t));
                healths.add(health);
                health.start();
            }
            for (ListenerHealth h : healths) {
                if (!h.awaitFirstVerdicts(h.firstVerdictBound())) {
                    for (String name : h.serversWithoutVerdict()) {
                        log.warn("{}: no verdict within {}; DOWN until its first check completes", name,
                                Durations.format(h.firstVerdictBound()));
                    }
                }
            }
            for (Listener listener : listeners.values()) {
                ListenerConfig lc = listener.config();
                HealthConfig hc = lc.effectiveHealth();
                listener.bind();
                log.info("listener {} on {}:{} ({}, max-connections {}, connect {}, client-idle {}, server-idle {}, "
                                + "{} check every {}, on-server-down {})",
                        lc.name(), listener.localAddress().getHostString(), listener.localAddress().getPort(),
                        lc.balance().yamlName(), lc.maxConnections(), Durations.format(lc.timeouts().connect()),
                        Durations.format(lc.timeouts().clientIdle()), Durations.format(lc.timeouts().serverIdle()),
                        hc.type().yamlName(), Durations.format(hc.interval()), lc.onServerDown().yamlName());
                for (Server s : listener.pool().servers()) {
                    log.info("listener {} server {} at {} weight {}: {}", lc.name(), s.name(), s.config().address(),
                            s.config().weight(), s.isUp() ? "UP" : "DOWN, " + s.downReason());
                }
            }
        } catch (ListenerBindException | InterruptedException | RuntimeException e) {
            healths.forEach(ListenerHealth::close);
            listeners.values().forEach(Listener::stopAccepting);
            proxy.close();
            throw e;
        }
        log.info("galera-lb started: {} listener(s) from {}, transport {}", listeners.size(), config.source(),
                proxy.transport().name().toLowerCase(Locale.ROOT));
        return new GaleraLb(config, proxy, listeners, healths);
    }

    /** Applies a health transition to the proxy's server; closes its sessions if the listener says so. */
    private static void apply(Listener listener, Transition t) {
        Server server = listener.pool().server(t.server());
        if (t.up()) {
            server.markUp();
            return;
        }
        server.markDown(t.reason() + "; " + t.evidence());
        if (listener.config().onServerDown() == OnServerDown.SHUTDOWN_SESSIONS) {
            int closed = server.closeSessions();
            if (closed > 0) {
                log.info("{}/{}: closed {} session(s) (on-server-down: shutdown-sessions)", listener.name(),
                        server.name(), closed);
            }
        }
    }

    /** The health of one listener's servers. */
    public ListenerHealth health(String listener) {
        for (ListenerHealth h : healths) {
            if (h.listener().equals(listener)) {
                return h;
            }
        }
        throw new IllegalArgumentException("no listener " + listener);
    }

    public GaleraLbConfig config() {
        return config;
    }

    public Listener listener(String name) {
        Listener l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name);
        }
        return l;
    }

    /**
     * Stops accepting, lets sessions finish for up to {@code grace}, then closes the rest and
     * stops the event loops.
     */
    public synchronized void shutdown(Duration grace) {
        if (stopped) {
            return;
        }
        stopped = true;
        healths.forEach(ListenerHealth::close);
        List<CompletableFuture<Void>> drained = new ArrayList<>();
        int open = 0;
        for (Listener l : listeners.values()) {
            open += l.activeSessions();
            drained.add(l.stopAccepting());
        }
        log.info("stopped accepting; waiting up to {} for {} open session(s)", Durations.format(grace), open);
        try {
            CompletableFuture.allOf(drained.toArray(CompletableFuture[]::new)).get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            int left = listeners.values().stream().mapToInt(Listener::activeSessions).sum();
            log.info("grace period over; closing {} remaining session(s)", left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        listeners.values().forEach(Listener::closeSessions);
        proxy.close();
        log.info("galera-lb stopped");
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
