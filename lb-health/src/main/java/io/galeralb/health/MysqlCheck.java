package io.galeralb.health;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** For plain MySQL backends: the login works and a query answers (it reads the idle timeouts). */
final class MysqlCheck extends JdbcCheck {

    MysqlCheck(HealthConfig config, ServerConfig server) {
        super(config, server);
    }

    @Override
    CheckResult query(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT @@global.wait_timeout, @@global.interactive_timeout")) {
            rs.next();
            return CheckResult.pass(CheckResult.Cause.ANSWERED, "answered").withTimeouts(rs.getString(1), rs.getString(2));
        }
    }
}
