package io.galeralb.health;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Runs SHOW statements (one or several, as one multi-statement query) and collects name → value. */
public final class StatusQuery {

    private StatusQuery() {
    }

    /**
     * @param sql one or more {@code SHOW ... STATUS/VARIABLES} statements; the connection must allow
     *            multi-statement queries when there are several
     * @return the values by lower-case name
     */
    public static Map<String, String> run(Connection c, String sql) throws SQLException {
        Map<String, String> values = new HashMap<>();
        try (Statement s = c.createStatement()) {
            boolean isResult = s.execute(sql);
            while (true) {
                if (isResult) {
                    try (ResultSet rs = s.getResultSet()) {
                        while (rs.next()) {
                            values.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2));
                        }
                    }
                } else if (s.getUpdateCount() == -1) {
                    return values;
                }
                isResult = s.getMoreResults();
            }
        }
    }
}
