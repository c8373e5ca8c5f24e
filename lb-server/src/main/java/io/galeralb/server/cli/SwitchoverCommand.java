package io.galeralb.server.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.Durations;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code galera-lb switchover LISTENER --to SERVER [--timeout 30s]}: moves the writer, step by step. */
@Command(name = "switchover", mixinStandardHelpOptions = true,
        description = {"Move the writer of a balance: first listener to SERVER: new sessions wait, the current writer "
                + "is set to DRAIN, its sessions get up to --timeout to finish and the rest are closed, then SERVER "
                + "is recorded as the writer (in the writer lease too, if enabled). Prints each step.",
                "Exit status: 0 moved (or already the writer), 1 refused or failed, 2 no running instance."})
public final class SwitchoverCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Parameters(index = "0", paramLabel = "LISTENER")
    String listener;

    @Option(names = "--to", required = true, paramLabel = "SERVER", description = "the new writer; must be UP and READY")
    String to;

    @Option(names = "--timeout", defaultValue = "30s", paramLabel = "DURATION",
            description = "how long the current writer's sessions may take to finish (default: ${DEFAULT-VALUE})")
    String timeout;

    @Override
    public Integer call() throws IOException {
        Duration wait;
        try {
            wait = Durations.parse(timeout);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout: " + e.getMessage());
        }
        String body = JSON.std.asString(Map.of("to", to, "timeout", Durations.format(wait)));
        PrintWriter out = spec.commandLine().getOut();
        String[] last = {""};
        AdminClient.Answer refused;
        try {
            refused = AdminClient.forConfig(configOption.file).stream("/listeners/" + listener + "/switchover", body,
                    wait.plusSeconds(60), line -> {
                        out.println(line);
                        out.flush();
                        last[0] = line;
                    });
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
        if (refused != null) {
            return refused.print(spec);
        }
        return last[0].startsWith("done:") ? ExitCode.OK : ExitCode.FAILED;
    }
}
