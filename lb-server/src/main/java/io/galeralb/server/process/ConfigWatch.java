package io.galeralb.server.process;

import io.galeralb.config.Durations;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code run --watch-config}: a reload whenever the configuration file's content changes, where
 * nobody sends SIGHUP (a Kubernetes ConfigMap, which the kubelet replaces by a symlink swap).
 * The file's sha256 is read every interval; content that is loaded already, or that was tried
 * and refused, is not reloaded again until it changes.
 */
public final class ConfigWatch implements AutoCloseable {

    public static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    public static final Duration MAX_INTERVAL = Duration.ofHours(1);

    private static final Logger log = LoggerFactory.getLogger(ConfigWatch.class);

    private final Path file;
    private final Supplier<String> loaded;
    private final Runnable reload;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "config-watch");
        t.setDaemon(true);
        return t;
    });
    /** The content last acted on; touched by the timer thread only. */
    private String seen;
    private String lastProblem;

    /**
     * @param loaded the sha256 of the configuration running now
     * @param reload asks for a reload (coalesced with SIGHUP's)
     */
    public ConfigWatch(Path file, Duration interval, Supplier<String> loaded, Runnable reload) {
        this.file = file;
        this.loaded = loaded;
        this.reload = reload;
        this.seen = loaded.get();
        timer.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("watching {} every {}: a change of its content reloads it", file, Durations.format(interval));
    }

    private void check() {
        String now;
        try {
            now = Instance.sha256(file);
        } catch (IOException e) {
            String problem = "cannot read " + file + ": " + e;
            if (!problem.equals(lastProblem)) {
                log.warn("{}; the running configuration stays", problem);
                lastProblem = problem;
            }
            return;
        }
        lastProblem = null;
        if (now.equals(seen)) {
            return;
        }
        seen = now;
        if (Objects.equals(now, loaded.get())) {
            return;
        }
        log.info("{} changed (sha256 {}): reloading", file, now.substring(0, 12));
        reload.run();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
