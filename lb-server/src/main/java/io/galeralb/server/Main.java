package io.galeralb.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code galera-lb} command. */
@Command(name = "galera-lb",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A TCP load balancer for MySQL/MariaDB Galera clusters.",
        subcommands = {RunCommand.class, CheckCommand.class, ReloadCommand.class, StatusCommand.class, ProbeCommand.class,
                DoctorCommand.class, ServerStateCommand.Drain.class, ServerStateCommand.Ready.class,
                ServerStateCommand.Maint.class, SwitchoverCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: use run, check, reload, status, drain, ready, maint, probe, doctor or help");
    }

    /** The version written into the jar's manifest by the build. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"galera-lb " + version()};
        }
    }
}
