package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    @Test
    void withoutACommandTheUsageNamesEveryCommandAndExitsWithAUsageError() {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));

        int code = Main.execute(cli, new String[0]);

        assertThat(code).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(err.toString()).startsWith("missing command");
        assertThat(cli.getSubcommands().keySet()).contains("switchover", "run", "maint");
        assertThat(err.toString()).contains(cli.getSubcommands().keySet().stream().map(c -> "  " + c).toList());
    }
}
