package io.galeralb.server;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code galera-lb status}: what the running instance runs, and the state of every server. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show the running galera-lb of a configuration file: PID, start time, the configuration",
                "it loaded (path, SHA-256, generation, when), and every listener and server.",
                "Exit 0 when it answers, 2 when no instance answers."})
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = "--json", description = "print the admin API's JSON as it is")
    boolean json;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws IOException {
        AdminClient.Answer a;
        try {
            a = AdminClient.forConfig(configOption.file).call("GET", "/status", Duration.ofSeconds(10));
        } catch (AdminClient.Unreachable e) {
            spec.commandLine().getErr().println(e.getMessage());
            return e.exitCode();
        }
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> s = a.body();
        if (json) {
            out.println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(s));
            return ExitCode.OK;
        }
        out.printf("galera-lb %s, PID %s, running since %s; %s, %s I/O thread(s), busy-poll %s%n", s.get("version"),
                s.get("pid"), s.get("started"), s.get("transport"), s.get("io-threads"), s.get("busy-poll"));
        out.printf("config %s%n  sha256 %s, generation %s, loaded %s%n", s.get("config"), s.get("sha256"),
                s.get("generation"), s.get("loaded"));
        if (Boolean.TRUE.equals(s.get("reload-pending"))) {
            out.println("  the file on disk differs from the loaded configuration: reload pending");
        } else if (s.get("reload-pending") == null) {
            out.println("  the configuration file cannot be read: galera-lb could not reload it");
        }
        for (Object lo : (List<Object>) s.get("listeners")) {
            Map<String, Object> l = (Map<String, Object>) lo;
            out.printf("%nlistener %s on %s (%s), %s session(s)%n", l.get("name"), l.get("bind"), l.get("balance"),
                    l.get("sessions"));
            if (l.get("writer") instanceof Map<?, ?> w) {
                out.println(w.get("server") != null
                        ? "  writer " + w.get("server") + " since " + shortTime(w.get("since")) + " (" + w.get("reason") + ")"
                        : "  NO WRITER: " + w.get("no-writer-reason"));
                if (w.get("lease") instanceof Map<?, ?> lease) {
                    out.println("  writer lease: " + lease.get("writer") + ", epoch " + lease.get("epoch") + ", set "
                            + shortTime(lease.get("changed")) + " by " + lease.get("holder"));
                }
            }
            out.printf("  %-16s %-22s %-5s %8s  %-20s %s%n", "SERVER", "ADDRESS", "STATE", "SESSIONS", "LAST CHANGE",
                    "REASON");
            for (Object so : (List<Object>) l.get("servers")) {
                Map<String, Object> srv = (Map<String, Object>) so;
                Object changed = srv.get("last-change");
                out.printf("  %-16s %-22s %-5s %8s  %-20s %s%n", srv.get("name"), srv.get("address"), srv.get("state"),
                        srv.get("sessions"), changed == null ? "-" : shortTime(changed),
                        srv.get("reason"));
            }
        }
        return ExitCode.OK;
    }

    private static String shortTime(Object instant) {
        return String.valueOf(instant).replaceFirst("\\.\\d+Z$", "Z");
    }
}
