package io.galeralb.server.cli;

import io.galeralb.config.Durations;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code galera-lb reload}: asks the running instance to apply its configuration file again. */
@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {"Reload the running galera-lb of a configuration file, in place, and print the outcome.",
                "An invalid file changes nothing: the running configuration stays and the errors are printed.",
                "Exit 0 when the new configuration runs, 1 when it was refused, 2 when no instance answers."})
public final class ReloadCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = "--timeout", defaultValue = "60s", paramLabel = "DURATION",
            description = "how long to wait for the outcome, as in the configuration: 30s, 2m (default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--force", description = "apply new health settings even when they fail on every server that is UP")
    boolean force;

    @Override
    public Integer call() {
        Duration wait;
        try {
            wait = Durations.parse(timeout);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout: " + e.getMessage());
        }
        try {
            return AdminClient.forConfig(configOption.file).call("POST", force ? "/reload?force=true" : "/reload", wait)
                    .print(spec);
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
    }
}
