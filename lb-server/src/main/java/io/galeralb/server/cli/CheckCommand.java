package io.galeralb.server.cli;

import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code galera-lb check}: validates a configuration file without running anything. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate a configuration file and exit 0 if it is valid, 1 if not.")
public final class CheckCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Override
    public Integer call() {
        try {
            GaleraLbConfig c = ConfigLoader.load(configOption.file);
            int servers = c.listeners().values().stream().mapToInt(l -> l.servers().size()).sum();
            spec.commandLine().getOut().printf("OK: %s: %d listener(s), %d server(s)%n", configOption.file,
                    c.listeners().size(), servers);
            return ExitCode.OK;
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return ExitCode.INVALID_CONFIG;
        }
    }
}
