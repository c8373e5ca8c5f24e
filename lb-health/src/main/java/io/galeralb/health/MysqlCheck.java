package io.galeralb.health;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** For plain MySQL backends: the login works and {@code SELECT 1} answers. */
final class MysqlCheck extends JdbcCheck {

    MysqlCheck(HealthConfig config, ServerConfig server) {
        super(config, server);
    }

    @Override
    CheckResult query(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return CheckResult.pass("SELECT 1 answered");
        }
    }
}
