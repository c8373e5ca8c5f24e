package io.galeralb.server;

import io.galeralb.server.cli.CheckCommand;
import io.galeralb.server.cli.DoctorCommand;
import io.galeralb.server.cli.ProbeCommand;
import io.galeralb.server.cli.ReloadCommand;
import io.galeralb.server.cli.RunCommand;
import io.galeralb.server.cli.ServerStateCommand;
import io.galeralb.server.cli.StatusCommand;
import io.galeralb.server.cli.SwitchoverCommand;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

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

    /**
     * Netty's leak detector stays on, but records the stack of one buffer in 4096 rather than
     * its default one in 128: the relay allocates a buffer per read, and the sampled stacks cost
     * CPU on the forwarding path (docs/architecture.md). A leak on any busy path is still
     * sampled within seconds. Setting the property on the command line overrides this.
     */
    private static final String LEAK_SAMPLING_INTERVAL = "io.netty.leakDetection.samplingInterval";
    private static final String DEFAULT_LEAK_SAMPLING_INTERVAL = "4096";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Before any Netty class is loaded: the detector reads it once.
        if (System.getProperty(LEAK_SAMPLING_INTERVAL) == null) {
            System.setProperty(LEAK_SAMPLING_INTERVAL, DEFAULT_LEAK_SAMPLING_INTERVAL);
        }
        System.exit(execute(commandLine(), args));
    }

    /**
     * Runs the command and returns its exit code. picocli turns exceptions into exit codes but
     * lets an {@link Error} through; uncaught, it would end only the main thread, and the I/O
     * threads (not daemons) would keep a process alive that no longer stops on SIGTERM (a jar
     * replaced under a running galera-lb does that). It is printed plainly (logging may be what
     * failed) and exits 1.
     */
    static int execute(CommandLine commandLine, String[] args) {
        try {
            return commandLine.execute(args);
        } catch (Error e) {
            PrintWriter err = commandLine.getErr();
            err.println("galera-lb: failed: " + e);
            e.printStackTrace(err);
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    @Override
    public void run() {
        // picocli answers with this message and the usage, which lists every command.
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    /** The version written into the jar's manifest by the build. */
    public static String version() {
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
