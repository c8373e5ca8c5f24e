package io.galeralb.config;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the writer of a {@code balance: first} listener is recorded in the cluster itself, so
 * that every galera-lb instance in front of it routes to the same node.
 *
 * @param schema   the database holding the table, created if missing
 * @param table    the table, one row per listener name, created if missing
 * @param user     who the lease reads and writes its table as; empty: the health check's user and
 *                 password, which then need write access to the schema
 * @param password {@code user}'s password; {@link Secret#NONE} without a user of its own
 */
public record WriterLeaseConfig(String schema, String table, Optional<String> user, Secret password) {

    /** Plain identifiers only: they are written into SQL statements. */
    public static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,63}");
    /** Declared after IDENTIFIER, which its constructor uses. */
    public static final WriterLeaseConfig DEFAULTS = new WriterLeaseConfig("galera_lb", "writer_lease");

    public WriterLeaseConfig {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (!IDENTIFIER.matcher(schema).matches() || !IDENTIFIER.matcher(table).matches()) {
            throw new IllegalArgumentException("not a plain identifier: " + schema + "." + table);
        }
        if (user.isEmpty() && !password.equals(Secret.NONE)) {
            throw new IllegalArgumentException("a writer-lease password needs a writer-lease user");
        }
    }

    /** A lease kept with the health check's user and password. */
    public WriterLeaseConfig(String schema, String table) {
        this(schema, table, Optional.empty(), Secret.NONE);
    }

    /** {@code schema.table}, quoted for SQL. */
    public String qualifiedTable() {
        return "`" + schema + "`.`" + table + "`";
    }
}
