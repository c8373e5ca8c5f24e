package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.core.Proxy;
import io.galeralb.server.admin.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void theConfigGenerationGaugeStillReadsAfterAGarbageCollection() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger generation = new AtomicInteger(7);
        try (Proxy proxy = Proxy.start(1)) {
            new Metrics(registry, proxy).process(generation::get); // as Instance does: a supplier nothing else holds
        }
        // What a weakly held supplier would be lost to: a collection (proved by a weak canary).
        WeakReference<Object> canary = new WeakReference<>(new Object());
        for (int i = 0; i < 50 && canary.get() != null; i++) {
            System.gc();
        }
        assertThat(canary.get()).as("a garbage collection ran").isNull();
        assertThat(registry.get("galera.lb.config.generation").gauge().value()).isEqualTo(7.0);
    }
}
