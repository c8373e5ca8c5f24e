package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.galeralb.core.AdminState;
import io.galeralb.core.SessionEnd;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** The session log against the real cluster: one line per session, with the reason it ended. */
@ExtendWith(GaleraClusterExtension.class)
class SessionLogClusterTest {

    /** The session logger's events, as key-value maps (the message is their text form). */
    private final List<Map<String, String>> lines = new CopyOnWriteArrayList<>();
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            messages.add(e.getFormattedMessage());
            lines.add(e.getKeyValuePairs().stream().collect(Collectors.toMap(kv -> kv.key, kv -> String.valueOf(kv.value))));
        }
    };
    private GaleraLb lb;
    private String url;
    private String idleUrl;

    @BeforeEach
    void start() throws Exception {
        appender.start();
        ((Logger) LoggerFactory.getLogger("galera-lb.session")).addAppender(appender);
        int port = TestConfigs.freePort();
        int idlePort = TestConfigs.freePort();
        String yaml = TestConfigs.clusterYaml(port).replace("    timeouts: { connect: 2s }\n",
                        "    timeouts: { connect: 2s }\n    session-log: on\n    max-connections: 3\n")
                + TestConfigs.clusterYaml(idlePort).split("listeners:\n")[1].replace("  app-cluster:", "  idle:")
                        .replace("    timeouts: { connect: 2s }\n",
                                "    timeouts: { connect: 2s, client-idle: 1s }\n    session-log: errors\n");
        lb = GaleraLb.start(TestConfigs.parse(yaml));
        url = TestConfigs.appUrl(port);
        idleUrl = TestConfigs.appUrl(idlePort);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger("galera-lb.session")).detachAppender(appender);
        lb.close();
    }

    private Map<String, String> awaitLine(String listener, String end) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> lines.stream()
                .filter(l -> listener.equals(l.get("listener")) && end.equals(l.get("end"))).findFirst(),
                java.util.Optional::isPresent).orElseThrow();
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void eachSessionEndsWithOneLineNamingWhy() throws Exception {
        // client_closed: the line has the client, the server, the connect time and the bytes.
        String node;
        try (Connection c = DriverManager.getConnection(url)) {
            node = GaleraCluster.nodeOf(c);
        }
        Map<String, String> closed = awaitLine("app-cluster", "client_closed");
        assertThat(closed).containsEntry("server", node).containsKeys("connect_ms", "duration_ms");
        assertThat(closed.get("client")).startsWith("127.0.0.1:");
        assertThat(Long.parseLong(closed.get("bytes_in"))).isPositive();
        assertThat(Long.parseLong(closed.get("bytes_out"))).isPositive();
        assertThat(Long.parseLong(closed.get("connect_ms"))).isNotNegative();

        // refused_max_connections: three held, the fourth refused.
        List<Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(DriverManager.getConnection(url));
            }
            assertThatThrownBy(() -> DriverManager.getConnection(url)).isInstanceOf(SQLException.class);
            awaitLine("app-cluster", "refused_max_connections");

            // server_closed: the node ends the session (KILL on the node itself).
            Connection killed = held.get(0);
            int n = Integer.parseInt(GaleraCluster.nodeOf(killed).substring(4));
            GaleraCluster.execute(n, "KILL CONNECTION " + connectionId(killed));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                try {
                    GaleraCluster.nodeOf(killed); // the client notices on its next query
                    return false;
                } catch (SQLException e) {
                    return true;
                }
            });
            awaitLine("app-cluster", "server_closed");

            // maint: an operator takes a node out and its sessions are closed.
            String maintNode = GaleraCluster.nodeOf(held.get(1));
            lb.adminState("app-cluster", maintNode, AdminState.MAINT, false);
            assertThat(awaitLine("app-cluster", "maint")).containsEntry("server", maintNode);
            lb.adminState("app-cluster", maintNode, AdminState.READY, false);

            // server_down: a desynced node goes DOWN and shutdown-sessions closes its sessions.
            Connection onDown = held.get(2);
            String downNode = GaleraCluster.nodeOf(onDown);
            GaleraCluster.execute(Integer.parseInt(downNode.substring(4)), "SET GLOBAL wsrep_desync=ON");
            assertThat(awaitLine("app-cluster", "server_down")).containsEntry("server", downNode);
            // The idle listener checks the same node on its own: its sessions below must not land
            // there in the moment before its check sees the desync (shutdown-sessions would close them).
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !lb.listener("idle").pool().find(downNode).orElseThrow().isUp());
        } finally {
            for (Connection c : held) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closed by the test's own faults
                }
            }
        }

        // session-log: errors logs what did not end by a close: the idle one, not the closed one.
        try (Connection c = DriverManager.getConnection(idleUrl)) {
            GaleraCluster.nodeOf(c);
        }
        Connection idle = DriverManager.getConnection(idleUrl);
        GaleraCluster.nodeOf(idle);
        awaitLine("idle", "client_idle");
        idle.close();
        assertThat(lines.stream().filter(l -> "idle".equals(l.get("listener")))).extracting(l -> l.get("end"))
                .containsOnly("client_idle");
        System.out.println("== session log:\n" + String.join("\n", messages));
        // Counted whether or not they are logged: the errors listener's closed session too.
        assertThat(lb.listener("idle").sessionsEnded(SessionEnd.CLIENT_CLOSED)).isEqualTo(1);
        assertThat(lb.listener("idle").sessionsEnded(SessionEnd.CLIENT_IDLE)).isEqualTo(1);
        assertThat(lb.listener("app-cluster").sessionsEnded(SessionEnd.MAINT)).isEqualTo(1);
        assertThat(lb.listener("app-cluster").sessionsEnded(SessionEnd.REFUSED_MAX_CONNECTIONS)).isEqualTo(1);
    }
}
