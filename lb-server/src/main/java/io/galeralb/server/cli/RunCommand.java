package io.galeralb.server.cli;

import io.galeralb.config.Durations;
import io.galeralb.server.process.ConfigWatch;
import io.galeralb.server.process.Instance;
import io.galeralb.server.process.ReloadRequests;
import io.galeralb.server.process.SystemdNotify;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** {@code galera-lb run}: binds the listeners and serves until SIGTERM or SIGINT; SIGHUP reloads. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run galera-lb in the foreground.",
                "SIGHUP reloads the configuration file in place (as 'galera-lb reload' does).",
                "SIGTERM or SIGINT stop accepting, let sessions finish for shutdown-grace, then exit 0."})
public final class RunCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigOption configOption;

    @Option(names = "--watch-config", paramLabel = "DURATION",
            description = "reload when the file's content changes, read this often (e.g. 10s; for a Kubernetes "
                    + "ConfigMap); default: only on SIGHUP or 'galera-lb reload'")
    String watchConfig;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Duration watchEvery = watchConfig == null ? null : watchInterval();
        CountDownLatch stop = new CountDownLatch(1);
        AtomicReference<ReloadRequests> running = new AtomicReference<>();
        // Handlers first, so that a signal during start-up takes the same path as any other.
        // Signal handlers rather than a shutdown hook: the process then ends through the
        // graceful path and exits 0.
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                log.info("SIG{} received: shutting down", s.getName());
                stop.countDown();
            });
        }
        // A SIGHUP that arrives while starting (even just after "galera-lb started" is logged) is
        // not lost: the reload runs once the instance is up, by whichever side sees the flag last.
        AtomicBoolean reloadWhenStarted = new AtomicBoolean();
        SignalHandler before = Signal.handle(new Signal("HUP"), s -> {
            ReloadRequests reloads = running.get();
            if (reloads != null) {
                if (reloads.request()) {
                    log.info("SIGHUP received: reloading {}", configOption.file);
                } else {
                    log.info("SIGHUP received: a reload of {} is already waiting; it reads the file as it is then",
                            configOption.file);
                }
                return;
            }
            log.info("SIGHUP received while starting: reloading {} once started", configOption.file);
            reloadWhenStarted.set(true);
            ReloadRequests started = running.get();
            if (started != null && reloadWhenStarted.getAndSet(false)) {
                started.request();
            }
        });
        if (before == SignalHandler.SIG_IGN) {
            // The JVM keeps a SIGHUP that was ignored when the process started (nohup does that)
            // ignored, and our handler is never called.
            log.warn("SIGHUP is ignored in this process (it was started with SIGHUP ignored, as nohup does): "
                    + "reload with 'galera-lb reload' instead");
        }
        Instance instance;
        try {
            instance = Instance.start(configOption.file);
        } catch (Instance.Refused e) {
            log.error("refused to start: {}", e.getMessage());
            return e.invalidConfig() ? ExitCode.INVALID_CONFIG : ExitCode.REFUSED;
        }
        SystemdNotify systemd = SystemdNotify.fromEnvironment(System.getenv());
        instance.notifySystemd(systemd);
        systemd.startWatchdog(System.getenv(), instance.lb()::ioThreadsTurning);
        ReloadRequests reloads = new ReloadRequests(instance::reload);
        running.set(reloads);
        if (reloadWhenStarted.getAndSet(false)) {
            log.info("started: reloading {} for the SIGHUP received while starting", configOption.file);
            reloads.request();
        }
        ConfigWatch watch = watchEvery == null ? null
                : new ConfigWatch(configOption.file, watchEvery, instance::loadedSha256, reloads::request);
        stop.await();
        if (watch != null) {
            watch.close();
        }
        instance.shutdown();
        systemd.close();
        return ExitCode.OK;
    }

    private Duration watchInterval() {
        Duration d;
        try {
            d = Durations.parse(watchConfig);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch-config: " + e.getMessage());
        }
        if (d.compareTo(ConfigWatch.MIN_INTERVAL) < 0 || d.compareTo(ConfigWatch.MAX_INTERVAL) > 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch-config: " + watchConfig
                    + " is not between " + Durations.format(ConfigWatch.MIN_INTERVAL) + " and "
                    + Durations.format(ConfigWatch.MAX_INTERVAL));
        }
        return d;
    }
}
