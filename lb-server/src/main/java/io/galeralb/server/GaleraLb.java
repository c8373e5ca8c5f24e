package io.galeralb.server;

import io.galeralb.config.Durations;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.core.Listener;
import io.galeralb.core.ListenerBindException;
import io.galeralb.core.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
    private boolean stopped;

    private GaleraLb(GaleraLbConfig config, Proxy proxy, Map<String, Listener> listeners) {
        this.config = config;
        this.proxy = proxy;
        this.listeners = Collections.unmodifiableMap(listeners);
    }

    /**
     * Binds every listener of {@code config}. If any cannot bind, those already bound are
     * closed and the error is thrown: galera-lb never runs with part of its listeners.
     */
    public static GaleraLb start(GaleraLbConfig config) throws ListenerBindException {
        Objects.requireNonNull(config, "config");
        Proxy proxy = Proxy.start(Runtime.getRuntime().availableProcessors());
        Map<String, Listener> bound = new LinkedHashMap<>();
        try {
            for (ListenerConfig lc : config.listeners().values()) {
                Listener listener = proxy.bind(lc);
                bound.put(lc.name(), listener);
                log.info("listener {} on {}:{} ({}, max-connections {}, connect {}, client-idle {}, server-idle {})",
                        lc.name(), listener.localAddress().getHostString(), listener.localAddress().getPort(), lc.balance().yamlName(), lc.maxConnections(),
                        Durations.format(lc.timeouts().connect()), Durations.format(lc.timeouts().clientIdle()),
                        Durations.format(lc.timeouts().serverIdle()));
                for (ServerConfig s : lc.servers().values()) {
                    log.info("listener {} server {} at {} weight {}", lc.name(), s.name(), s.address(), s.weight());
                }
            }
        } catch (ListenerBindException e) {
            bound.values().forEach(l -> l.stopAccepting());
            proxy.close();
            throw e;
        }
        log.info("galera-lb started: {} listener(s) from {}, transport {}", bound.size(), config.source(),
                proxy.transport().name().toLowerCase(java.util.Locale.ROOT));
        return new GaleraLb(config, proxy, bound);
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
