package io.galeralb.server.writer;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.WriterLeaseConfig;
import io.galeralb.health.DriverTls;
import io.galeralb.health.SeverableConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * The {@link LeaseStore} kept in the Galera cluster itself:
 * one row per listener name in a small table, read with causal consistency and changed only
 * by a compare-and-set on its epoch, which Galera certifies cluster-wide. Two galera-lb
 * instances racing to change the writer on different nodes cannot both win: one statement
 * matches no row (or fails certification) and its instance follows the winner.
 *
 * <p>Blocking JDBC: to be used from one thread of its own, never from an event loop. One
 * connection, to the first node in the list it is given that answers; it moves when that node
 * leaves the list (is no longer UP).
 */
public final class JdbcLeaseStore implements LeaseStore {

    private static final int ER_DUP_ENTRY = 1062;
    private static final int ER_LOCK_DEADLOCK = 1213;
    private static final Duration MIN_TIMEOUT = Duration.ofSeconds(2);

    private final String key;
    private final WriterLeaseConfig table;
    /** Who the lease reads and writes as: its own user, or the health check's. */
    private final String user;
    private final String holder;
    private final Properties properties = new Properties();
    private final SeverableConnection connection = new SeverableConnection();
    private ServerConfig connectedTo;
    private volatile boolean aborted;

    /**
     * @param key         the listener's name: instances sharing a lease must name the listener alike
     * @param table       where the lease lives
     * @param health      the health check's settings: the lease uses its timeout, and its user and
     *                    password unless {@code table} names a user of its own
     * @param holder      who this instance is, as recorded with each change it makes
     */
    public JdbcLeaseStore(String key, WriterLeaseConfig table, HealthConfig health, String holder) {
        this.key = Objects.requireNonNull(key, "key");
        this.table = Objects.requireNonNull(table, "table");
        Objects.requireNonNull(health, "health");
        this.holder = Objects.requireNonNull(holder, "holder");
        Duration timeout = health.timeout().compareTo(MIN_TIMEOUT) < 0 ? MIN_TIMEOUT : health.timeout();
        this.user = table.user().or(health::user).orElse("");
        properties.setProperty("user", user);
        properties.setProperty("password", table.user().isPresent() ? table.password().value()
                : health.password().value());
        properties.setProperty("connectTimeout", Long.toString(timeout.toMillis()));
        properties.setProperty("socketTimeout", Long.toString(timeout.toMillis()));
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("connectionAttributes", "program_name:galera-lb-writer-lease");
        DriverTls.apply(properties, health.tls());
    }

    @Override
    public Optional<Lease> read(List<ServerConfig> via) throws UnavailableException {
        return withConnection(via, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT writer, holder, epoch, changed_at, reason FROM "
                    + table.qualifiedTable() + " WHERE listener = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    Timestamp at = rs.getTimestamp(4);
                    return Optional.of(new Lease(rs.getString(1), rs.getString(2), rs.getLong(3),
                            at == null ? Instant.EPOCH : at.toInstant(), rs.getString(5)));
                }
            }
        });
    }

    @Override
    public boolean compareAndSet(List<ServerConfig> via, long expectedEpoch, String writer, String reason)
            throws UnavailableException {
        return withConnection(via, c -> {
            try {
                if (expectedEpoch == 0) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table.qualifiedTable()
                            + " (listener, writer, holder, epoch, changed_at, reason) VALUES (?, ?, ?, 1, NOW(3), ?)")) {
                        ps.setString(1, key);
                        ps.setString(2, writer);
                        ps.setString(3, holder);
                        ps.setString(4, truncate(reason));
                        return ps.executeUpdate() == 1;
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE " + table.qualifiedTable()
                        + " SET writer = ?, holder = ?, epoch = epoch + 1, changed_at = NOW(3), reason = ?"
                        + " WHERE listener = ? AND epoch = ?")) {
                    ps.setString(1, writer);
                    ps.setString(2, holder);
                    ps.setString(3, truncate(reason));
                    ps.setString(4, key);
                    ps.setLong(5, expectedEpoch);
                    return ps.executeUpdate() == 1;
                }
            } catch (SQLException e) {
                if (e.getErrorCode() == ER_DUP_ENTRY || e.getErrorCode() == ER_LOCK_DEADLOCK) {
                    // Another instance inserted first, or Galera certified its change and not ours.
                    return false;
                }
                throw e;
            }
        });
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} over the open connection, or through the first of {@code via} that
     * answers: one node failing (stopped, paused, gone non-Primary) is not the lease being
     * unreadable, so every UP node is tried before saying so.
     */
    private <T> T withConnection(List<ServerConfig> via, Work<T> work) throws UnavailableException {
        if (aborted) {
            throw new UnavailableException("writer lease closed");
        }
        if (connection.get() != null && !via.contains(connectedTo)) {
            close(); // its node is no longer UP: read and write through one that is
        }
        List<String> failures = new ArrayList<>();
        ServerConfig failed = null;
        Connection open = connection.get();
        ServerConfig openTo = connectedTo;
        if (open != null && openTo != null) {
            try {
                return work.run(open);
            } catch (SQLException e) {
                failed = openTo;
                failures.add(openTo.name() + ": " + describe(e));
                close();
            }
        }
        for (ServerConfig s : via) {
            if (aborted) {
                throw new UnavailableException("writer lease closed");
            }
            if (s.equals(failed)) {
                continue;
            }
            try {
                return work.run(open(s));
            } catch (SQLException e) {
                failures.add(s.name() + ": " + describe(e));
                close();
            }
        }
        throw new UnavailableException(via.isEmpty() ? "no server is UP to read the writer lease from"
                : "writer lease unreadable (" + String.join("; ", failures) + ")");
    }

    private Connection open(ServerConfig s) throws SQLException {
        Properties forServer = properties;
        if (s.source().isPresent()) {
            forServer = new Properties();
            forServer.putAll(properties);
            forServer.setProperty("localSocketAddress", s.source().get());
        }
        Connection c = connection.open("jdbc:mariadb://" + s.address() + "/", forServer, null);
        connectedTo = s;
        try (Statement st = c.createStatement()) {
            // Causal reads: a change committed on any node is seen here before the read answers.
            st.execute("SET SESSION wsrep_sync_wait = 1");
            if (tableExists(c)) {
                return c;
            }
            // Only where it is missing: a CREATE ... IF NOT EXISTS is replicated (a cluster-wide
            // DDL in total order) even when there is nothing to create.
            st.execute("CREATE DATABASE IF NOT EXISTS `" + table.schema() + "`");
            st.execute("CREATE TABLE IF NOT EXISTS " + table.qualifiedTable() + " ("
                    + "listener VARCHAR(128) NOT NULL PRIMARY KEY, "
                    + "writer VARCHAR(255) NOT NULL, "
                    + "holder VARCHAR(255) NOT NULL, "
                    + "epoch BIGINT NOT NULL, "
                    + "changed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), "
                    + "reason VARCHAR(512) NOT NULL DEFAULT '') ENGINE=InnoDB "
                    + "COMMENT='galera-lb: the writer of each balance: first listener; changed by compare-and-set on epoch'");
        }
        return c;
    }

    private boolean tableExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, table.schema());
            ps.setString(2, table.table());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private String describe(SQLException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage().strip().replaceFirst("^\\(conn=\\d+\\)\\s*", "");
        int nl = m.indexOf('\n');
        if (nl > 0) {
            m = m.substring(0, nl);
        }
        if (e.getErrorCode() == 1142 || e.getErrorCode() == 1044 || e.getErrorCode() == 1045) {
            return m + " (the lease needs: GRANT CREATE, SELECT, INSERT, UPDATE ON `" + table.schema() + "`.* TO '"
                    + user + "'@...)";
        }
        return m;
    }

    private static String truncate(String reason) {
        return reason.length() <= 512 ? reason : reason.substring(0, 509) + "...";
    }

    /** The statement in flight fails at once: a node that stopped answering would hold it until the socket timeout. */
    @Override
    public void abort() {
        aborted = true;
        connection.sever();
    }

    @Override
    public void close() {
        connection.sever();
        connectedTo = null;
    }
}
