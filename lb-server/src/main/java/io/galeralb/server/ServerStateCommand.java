package io.galeralb.server;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code galera-lb drain|ready|maint LISTENER SERVER}: an operator's state for a server, set
 * through the admin API. One implementation; the command name is the state.
 */
abstract class ServerStateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Parameters(index = "0", paramLabel = "LISTENER")
    String listener;

    @Parameters(index = "1", paramLabel = "SERVER")
    String server;

    @Override
    public Integer call() {
        try {
            return AdminClient.forConfig(configOption.file).call("POST", "/servers/" + listener + "/" + server + "/state",
                    "{\"state\": \"" + spec.name() + "\"}", Duration.ofSeconds(30)).print(spec);
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Send no new sessions to SERVER; its open sessions go on. Survives reloads.")
    static final class Drain extends ServerStateCommand {
    }

    @Command(name = "ready", mixinStandardHelpOptions = true,
            description = "Let SERVER take sessions again (when its health check passes).")
    static final class Ready extends ServerStateCommand {
    }

    @Command(name = "maint", mixinStandardHelpOptions = true,
            description = "Take SERVER out entirely: no sessions, its open sessions closed, health ignored.")
    static final class Maint extends ServerStateCommand {
    }
}
