package io.galeralb.server.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --config FILE} option every command takes: given, else {@code $GALERA_LB_CONFIG},
 * else {@value #DEFAULT_CONFIG}, so that a packaged install needs none of them.
 */
public final class ConfigOption {

    public static final String DEFAULT_CONFIG = "/etc/galera-lb/galera-lb.yaml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            defaultValue = "${env:GALERA_LB_CONFIG:-" + DEFAULT_CONFIG + "}",
            description = "the YAML configuration (default: $GALERA_LB_CONFIG, else " + DEFAULT_CONFIG + "; now ${DEFAULT-VALUE})")
    Path file;
}
