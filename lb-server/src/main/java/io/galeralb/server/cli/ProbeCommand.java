package io.galeralb.server.cli;

import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.TrustedFiles;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code galera-lb probe}: the operator's "20-connection loop", built in. Opens N connections
 * through a listener and holds them all until the end (so leastconn spreads them as it would
 * spread a pool), then reports each and a summary.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = {"Open N connections through a listener and report where each went.",
                "Without --user it reads each MySQL greeting (no credentials needed); with --user it logs in",
                "and asks SELECT @@wsrep_node_name. Prints 'OK: N / FAIL: M'; exits 1 on any failure."})
public final class ProbeCommand implements Callable<Integer> {

    private static final int TIMEOUT_MS = 10_000;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption configOption;

    @Option(names = {"-l", "--listener"}, paramLabel = "NAME", description = "the listener (default: the first)")
    String listener;

    @Option(names = {"-n", "--count"}, defaultValue = "20", paramLabel = "N", description = "connections (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "log in as USER and ask each node its name")
    String user;

    @Option(names = "--password-env", paramLabel = "VAR", description = "environment variable holding USER's password")
    String passwordEnv;

    @Option(names = "--password-file", paramLabel = "FILE", description = "file holding USER's password")
    Path passwordFile;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (passwordEnv != null && System.getenv(passwordEnv) == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--password-env: environment variable "
                    + passwordEnv + " is not set (export it, or use --password-file)");
        }
        GaleraLbConfig cfg;
        try {
            cfg = ConfigLoader.load(configOption.file);
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return ExitCode.INVALID_CONFIG;
        }
        ListenerConfig l = listener == null ? cfg.listeners().values().iterator().next() : cfg.listeners().get(listener);
        if (l == null) {
            err.println("no listener " + listener + " in " + configOption.file + " (listeners: "
                    + String.join(", ", cfg.listeners().keySet()) + ")");
            return ExitCode.USAGE;
        }
        HostPort target = reachable(l.bind());
        out.printf("probe: %d connection(s) to listener %s at %s%s%n", count, l.name(), target,
                user == null ? " (greeting only)" : " as " + user);
        List<AutoCloseable> held = new ArrayList<>();
        Map<String, Integer> perNode = new TreeMap<>();
        int ok = 0;
        try {
            for (int i = 1; i <= count; i++) {
                try {
                    String where = user == null ? greeting(target, held) : nodeName(target, held);
                    perNode.merge(where, 1, Integer::sum);
                    out.printf("%3d  OK    %s%n", i, where);
                    ok++;
                } catch (IOException | SQLException e) {
                    out.printf("%3d  FAIL  %s%n", i, e.getMessage());
                }
            }
        } finally {
            for (AutoCloseable c : held) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // Closing what the probe opened; nothing to report.
                }
            }
        }
        if (user != null && !perNode.isEmpty()) {
            out.println("per node: " + perNode);
        }
        out.printf("OK: %d / FAIL: %d%n", ok, count - ok);
        return ok == count ? ExitCode.OK : ExitCode.FAILED;
    }

    /** A wildcard bind is probed on loopback. */
    private static HostPort reachable(HostPort bind) {
        if (bind.host().equals("0.0.0.0")) {
            return new HostPort("127.0.0.1", bind.port());
        }
        return bind.host().equals("::") ? new HostPort("::1", bind.port()) : bind;
    }

    /** Reads the first packet: a server greeting, or galera-lb's (or the server's) ERR packet. */
    private static String greeting(HostPort target, List<AutoCloseable> held) throws IOException {
        Socket s = new Socket();
        held.add(s);
        s.connect(new InetSocketAddress(target.host(), target.port()), TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        DataInputStream in = new DataInputStream(s.getInputStream());
        int len = in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
        in.readUnsignedByte(); // sequence id
        byte[] p = in.readNBytes(len);
        if (p.length == 0) {
            throw new IOException("empty first packet");
        }
        if ((p[0] & 0xFF) == 0xFF) {
            int code = (p[1] & 0xFF) | (p[2] & 0xFF) << 8;
            throw new IOException("ERROR " + code + ": " + new String(p, 3, p.length - 3, StandardCharsets.UTF_8));
        }
        int end = 1;
        while (end < p.length && p[end] != 0) {
            end++;
        }
        String version = new String(p, 1, end - 1, StandardCharsets.UTF_8);
        long connectionId = end + 4 < p.length ? (p[end + 1] & 0xFFL) | (p[end + 2] & 0xFFL) << 8
                | (p[end + 3] & 0xFFL) << 16 | (p[end + 4] & 0xFFL) << 24 : -1;
        return "greeting from " + version + ", connection id " + connectionId;
    }

    private String nodeName(HostPort target, List<AutoCloseable> held) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (passwordEnv != null) {
            p.setProperty("password", System.getenv(passwordEnv));
        } else if (passwordFile != null) {
            p.setProperty("password", new String(TrustedFiles.read(passwordFile, TrustedFiles.MAX_SECRET_BYTES, true,
                    "password file"), StandardCharsets.UTF_8).strip());
        }
        p.setProperty("connectTimeout", Integer.toString(TIMEOUT_MS));
        Connection c = DriverManager.getConnection("jdbc:mariadb://" + target + "/", p);
        held.add(c);
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@wsrep_node_name")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
