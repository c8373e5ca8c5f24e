package io.galeralb.config;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the writer of a {@code balance: first} listener is recorded in the cluster itself, so
 * that every galera-lb instance in front of it routes to the same node.
 *
 * @param schema the database holding the table, created if missing
 * @param table  the table, one row per listener name, created if missing
 */
public record WriterLeaseConfig(String schema, String table) {

    /** Plain identifiers only: they are written into SQL statements. */
    public static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,63}");
    /** Declared after IDENTIFIER, which its constructor uses. */
    public static final WriterLeaseConfig DEFAULTS = new WriterLeaseConfig("galera_lb", "writer_lease");

    public WriterLeaseConfig {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        if (!IDENTIFIER.matcher(schema).matches() || !IDENTIFIER.matcher(table).matches()) {
            throw new IllegalArgumentException("not a plain identifier: " + schema + "." + table);
        }
    }

    /** {@code schema.table}, quoted for SQL. */
    public String qualifiedTable() {
        return "`" + schema + "`.`" + table + "`";
    }
}
