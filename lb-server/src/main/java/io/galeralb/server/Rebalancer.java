package io.galeralb.server;

import io.galeralb.core.Listener;
import io.galeralb.core.Rebalance;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Rebalance} step a second for every listener with {@code rebalance: on}, on a
 * thread of its own, and logs each step that closed something, once.
 */
final class Rebalancer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);
    /** How long sessions a step closed count as on their way to the emptier server. */
    private static final long MOVING_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Supplier<List<Listener>> listeners;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rebalance");
        t.setDaemon(true);
        return t;
    });
    /** Per listener: when steps closed how many sessions. Confined to the thread. */
    private final Map<String, ArrayDeque<long[]>> closed = new HashMap<>();

    /** {@code listeners}: those with rebalance on, as served now. */
    Rebalancer(Supplier<List<Listener>> listeners) {
        this.listeners = listeners;
        thread.scheduleWithFixedDelay(this::step, 1, 1, TimeUnit.SECONDS);
    }

    private void step() {
        for (Listener l : listeners.get()) {
            try {
                ArrayDeque<long[]> recent = closed.computeIfAbsent(l.name(), k -> new ArrayDeque<>());
                long now = System.nanoTime();
                while (!recent.isEmpty() && now - recent.peekFirst()[0] > MOVING_NANOS) {
                    recent.removeFirst();
                }
                int moving = recent.stream().mapToInt(e -> (int) e[1]).sum();
                Rebalance.Step step = Rebalance.step(l.pool(), l.config().rebalanceRate(), moving)
                        .get(10, TimeUnit.SECONDS);
                if (step != null && step.closed() > 0) {
                    recent.addLast(new long[] {now, step.closed()});
                    log.info("{}: rebalance: closed {} idle session(s) of {} ({} session(s)) for {}, which has {}",
                            l.name(), step.closed(), step.from(), step.fromSessions(), step.to(), step.toSessions());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                log.warn("{}: rebalance step failed: {}", l.name(), e.toString());
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
