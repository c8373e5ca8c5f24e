package io.galeralb.health;

import io.galeralb.config.Durations;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.TlsConfig;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLTimeoutException;
import java.util.Locale;
import java.util.Properties;

/**
 * A check over SQL with one persistent connection per node, opened on first use and opened
 * again after any failure. Connect and socket timeouts equal the check timeout, so a node that
 * accepts TCP but never answers (SIGSTOP) costs one timeout, not a hung thread; closing or
 * aborting the check from another thread ends a check in flight at once ({@link SeverableConnection}).
 */
abstract class JdbcCheck implements HealthCheck {

    protected final HealthConfig config;
    private final String url;
    private final Properties properties = new Properties();
    private final SeverableConnection connection = new SeverableConnection();
    private volatile boolean aborted;
    /** Where the server's name resolves now (live DNS); null: the name, looked up by the driver. */
    private volatile InetSocketAddress target;
    /** Set when target changed: the kept connection is given up before the next check. */
    private volatile boolean moved;

    JdbcCheck(HealthConfig config, ServerConfig server) {
        this.config = config;
        this.url = "jdbc:mariadb://" + server.address() + "/"; // HostPort brackets IPv6
        int timeoutMs = (int) Math.max(1, config.timeout().toMillis());
        properties.setProperty("user", config.user().orElse(""));
        // In Properties, never in the URL: the URL may end up in an exception message or a log.
        properties.setProperty("password", config.password().value());
        properties.setProperty("connectTimeout", Integer.toString(timeoutMs));
        properties.setProperty("socketTimeout", Integer.toString(timeoutMs));
        properties.setProperty("allowMultiQueries", "true");
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("connectionAttributes", "program_name:galera-lb-health-check");
        server.source().ifPresent(a -> properties.setProperty("localSocketAddress", a));
        DriverTls.apply(properties, config.tls());
    }

    @Override
    public void connectTo(InetSocketAddress address) {
        if (!address.equals(target)) {
            target = address;
            moved = true;
        }
    }

    /** Asks the node over an open connection; SQL errors are turned into a result by {@link #run()}. */
    abstract CheckResult query(Connection c) throws SQLException;

    @Override
    public final CheckResult run() {
        try {
            if (moved) {
                moved = false;
                connection.sever();
            }
            Connection c = connection.get();
            if (c == null) {
                c = connection.open(url, properties, target);
            }
            return query(c);
        } catch (SQLException e) {
            close();
            if (aborted) {
                aborted = false;
                return CheckResult.unreachable(CheckResult.Cause.TIMEOUT, "check timed out after "
                        + Durations.format(config.timeout()));
            }
            if (isHostBlocked(e)) {
                return CheckResult.refused(CheckResult.Cause.HOST_BLOCKED, HOST_BLOCKED + " (" + firstLine(e.getMessage()) + ")");
            }
            String reason = describe(e);
            return CheckResult.unreachable(causeOf(e, reason), reason);
        }
    }

    /** MariaDB's error for a host with too many aborted connections. */
    static final int ER_HOST_IS_BLOCKED = 1129;
    /** What 1129 means behind a proxy, and the ways out. */
    public static final String HOST_BLOCKED = "the node blocks galera-lb's address (error 1129: max_connect_errors "
            + "aborted connections from it, and every client behind galera-lb counts as that one host); run FLUSH "
            + "HOSTS on the node, raise max_connect_errors, or send clients' addresses with the PROXY protocol";

    static boolean isHostBlocked(SQLException e) {
        return e.getErrorCode() == ER_HOST_IS_BLOCKED
                || String.valueOf(e.getMessage()).contains("is blocked because of many connection errors");
    }

    @Override
    public void abort() {
        aborted = true;
        close();
    }

    private String describe(SQLException e) {
        if (isTimeout(e)) {
            return "check timed out after " + Durations.format(config.timeout());
        }
        String message = firstLine(e.getMessage());
        String tls = DriverTls.describe(e, config.tls());
        if (tls != null) {
            return tls;
        }
        if (e instanceof SQLInvalidAuthorizationSpecException || e.getErrorCode() == 1045
                || message.toLowerCase(Locale.ROOT).contains("access denied")) {
            if (config.tls().mode() == TlsConfig.Mode.DISABLED && acceptsOverTls()) {
                return "the node requires TLS (require_secure_transport=ON) and the check does not use it: set "
                        + "health.tls (mode verify-full and ca-file) (" + message + ")";
            }
            return "access denied for check user '" + config.user().orElse("") + "' (" + message + ")";
        }
        if (message.toLowerCase(Locale.ROOT).contains("connection refused")) {
            return "connection refused";
        }
        return message;
    }

    /**
     * After an access denied without TLS: whether the same login passes over TLS, which tells a
     * node with require_secure_transport=ON (it answers both with error 1045) from a wrong password.
     */
    private boolean acceptsOverTls() {
        Properties overTls = new Properties();
        overTls.putAll(properties);
        overTls.setProperty("sslMode", TlsConfig.Mode.REQUIRED.driverMode());
        try (Connection c = java.sql.DriverManager.getConnection(url, overTls)) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** The cause of a failed connect or query, from what {@link #describe} made of it. */
    private static CheckResult.Cause causeOf(SQLException e, String reason) {
        if (reason.startsWith("TLS: ") || reason.startsWith("the node requires TLS")) {
            return CheckResult.Cause.TLS;
        }
        if (reason.startsWith("access denied")) {
            return CheckResult.Cause.AUTH;
        }
        return isTimeout(e) ? CheckResult.Cause.TIMEOUT : CheckResult.Cause.UNREACHABLE;
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTimeoutException || t instanceof SocketTimeoutException) {
                return true;
            }
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("timed out") || m.contains("timeout")) {
                return true;
            }
        }
        return false;
    }

    /** Connector/J prefixes "(conn=123) " and may add lines of detail; the first line says it. */
    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        String s = message.strip();
        int nl = s.indexOf('\n');
        if (nl >= 0) {
            s = s.substring(0, nl).strip();
        }
        return s.replaceFirst("^\\(conn=\\d+\\)\\s*", "");
    }

    /** From any thread: a check in flight fails at once, even against a node that stopped answering. */
    @Override
    public void close() {
        connection.sever();
    }
}
