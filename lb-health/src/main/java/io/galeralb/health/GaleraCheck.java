package io.galeralb.health;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Galera check: status and variables in one round trip (two SHOW statements sent as one
 * multi-statement query; SHOW is answered even by a node that rejects other queries, such as
 * one outside the Primary component), then {@link GaleraVerdict}.
 */
final class GaleraCheck extends JdbcCheck {

    private static final String QUERY = "SHOW GLOBAL STATUS WHERE Variable_name IN (" + quoted(GaleraVerdict.STATUS)
            + "); SHOW GLOBAL VARIABLES WHERE Variable_name IN (" + quoted(GaleraVerdict.VARIABLES) + ")";

    GaleraCheck(HealthConfig config, ServerConfig server) {
        super(config, server);
    }

    @Override
    CheckResult query(Connection c) throws SQLException {
        Map<String, String> values = StatusQuery.run(c, QUERY);
        CheckResult r = GaleraVerdict.evaluate(values, config).withView(ClusterView.of(values))
                .withGalera(GaleraStatus.of(values));
        String wait = values.get("wait_timeout");
        String interactive = values.get("interactive_timeout");
        return wait != null && interactive != null ? r.withTimeouts(wait, interactive) : r;
    }

    private static String quoted(java.util.Set<String> names) {
        return names.stream().sorted().map(n -> "'" + n + "'").collect(Collectors.joining(","));
    }
}
