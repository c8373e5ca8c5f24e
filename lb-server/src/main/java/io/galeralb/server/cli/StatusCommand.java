package io.galeralb.server.cli;

import io.galeralb.server.admin.AdminJson;
import io.galeralb.server.admin.StatusReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code galera-lb status}: what the running instance runs, and the state of every server. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show the running galera-lb of a configuration file: PID, start time, the configuration",
                "it loaded (path, SHA-256, generation, when), and every listener and server.",
                "Exit 0 when it answers, 2 when no instance answers."})
public final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = "--json", description = "print the admin API's JSON as it is")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        StatusReport s;
        try {
            AdminClient admin = AdminClient.forConfig(configOption.file);
            if (json) {
                // As the instance wrote it, keys this version does not know included.
                AdminClient.Answer a = admin.call("GET", "/status", Duration.ofSeconds(10));
                out.println(AdminJson.writePretty(a.body()));
                return a.status() == 200 ? ExitCode.OK : ExitCode.REFUSED;
            }
            s = admin.status(Duration.ofSeconds(10));
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
        out.printf("galera-lb %s, PID %s, running since %s; %s, %s I/O thread(s), busy-poll %s%n", s.version(),
                s.pid(), s.started(), s.transport(), s.ioThreads(), s.busyPoll());
        out.printf("config %s%n  sha256 %s, generation %s, loaded %s%n", s.config(), s.sha256(), s.generation(),
                s.loaded());
        if (Boolean.TRUE.equals(s.reloadPending())) {
            out.println("  the file on disk differs from the loaded configuration: reload pending");
        } else if (s.reloadPending() == null) {
            out.println("  the configuration file cannot be read: galera-lb could not reload it");
        }
        for (StatusReport.ListenerStatus l : s.listeners()) {
            out.printf("%nlistener %s on %s (%s), %s session(s)%n", l.name(), l.bind(), l.balance(), l.sessions());
            StatusReport.WriterStatus w = l.writer();
            if (w != null) {
                out.println(w.server() != null
                        ? "  writer " + w.server() + " since " + shortTime(w.since()) + " (" + w.reason() + ")"
                        : "  NO WRITER: " + w.noWriterReason());
                if (w.lease() != null) {
                    out.println("  writer lease: " + w.lease().writer() + ", epoch " + w.lease().epoch() + ", set "
                            + shortTime(w.lease().changed()) + " by " + w.lease().holder());
                }
            }
            out.printf("  %-16s %-22s %-5s %8s  %-20s %s%n", "SERVER", "ADDRESS", "STATE", "SESSIONS", "LAST CHANGE",
                    "REASON");
            for (StatusReport.ServerStatus srv : l.servers()) {
                out.printf("  %-16s %-22s %-5s %8s  %-20s %s%n", srv.name(), srv.address(), srv.state(),
                        srv.sessions(), srv.lastChange() == null ? "-" : shortTime(srv.lastChange()), srv.reason());
            }
        }
        return ExitCode.OK;
    }

    private static String shortTime(String instant) {
        return instant.replaceFirst("\\.\\d+Z$", "Z");
    }
}
