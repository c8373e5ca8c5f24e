package io.galeralb.server.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code galera-lb drain|ready|maint LISTENER SERVER}: an operator's state for a server, set
 * through the admin API. One implementation; the command name is the state.
 */
public abstract class ServerStateCommand implements Callable<Integer> {

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
                    "{\"state\": \"" + spec.name() + "\"" + options() + "}", Duration.ofSeconds(30)).print(spec);
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
    }

    /** What the state's options add to the request's JSON: {@code , "key": value}. */
    String options() {
        return "";
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Send no new sessions to SERVER; its open sessions go on. Survives reloads.")
    public static final class Drain extends ServerStateCommand {
        @Option(names = "--close-idle", description = "close its sessions at their transaction boundaries: idle "
                + "ones now, those inside a transaction when they end it (their pools reconnect elsewhere)")
        boolean closeIdle;

        @Override
        String options() {
            return closeIdle ? ", \"close-idle\": true" : "";
        }
    }

    @Command(name = "ready", mixinStandardHelpOptions = true,
            description = "Let SERVER take sessions again (when its health check passes).")
    public static final class Ready extends ServerStateCommand {
    }

    @Command(name = "maint", mixinStandardHelpOptions = true,
            description = "Take SERVER out entirely: no sessions, its open sessions closed, health ignored.")
    public static final class Maint extends ServerStateCommand {
        @Option(names = "--grace", paramLabel = "DURATION", description = "sessions inside a transaction have this "
                + "long to end it; idle ones close at once (default: 0s, all at once)")
        String grace;

        @Override
        String options() {
            return grace == null ? "" : ", \"grace\": \"" + grace.replaceAll("[^0-9a-z]", "") + "\"";
        }
    }
}
