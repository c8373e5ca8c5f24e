package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.core.Listener;
import io.galeralb.core.MysqlObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol observer on real sessions through galera-lb: after every command the verdict
 * galera-lb holds (between commands? inside a transaction?) must match the server's own
 * {@code @@in_transaction}; each session is also recorded between the client and galera-lb and
 * replayed into a fresh observer, split at every position, with the same verdicts.
 */
@ExtendWith(GaleraClusterExtension.class)
class ObserverClusterTest {

    @TempDir
    Path dir;
    private GaleraLb lb;
    private int port;
    private Recorder recorder;

    @BeforeEach
    void start() throws Exception {
        GaleraCluster.execute(1, "CREATE TABLE IF NOT EXISTS demo.obs (id INT PRIMARY KEY AUTO_INCREMENT, "
                        + "v VARCHAR(100), b LONGBLOB)",
                "DROP PROCEDURE IF EXISTS demo.two_results",
                "CREATE PROCEDURE demo.two_results() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END");
        GaleraCluster.executeOnEveryNode("SET GLOBAL max_allowed_packet = 67108864", "SET GLOBAL local_infile = ON");
        port = TestConfigs.freePort();
        lb = GaleraLb.start(TestConfigs.cluster(port));
        recorder = new Recorder(port);
    }

    @AfterEach
    void stop() throws IOException {
        if (recorder != null) {
            recorder.close();
        }
        if (lb != null) {
            lb.close();
        }
    }

    private Listener listener() {
        return lb.listener("app-cluster");
    }

    /** The one open session's verdict, as galera-lb holds it. */
    private String liveVerdict() throws Exception {
        List<Listener.SessionView> views = listener().sessionViews().get(10, TimeUnit.SECONDS);
        assertThat(views).hasSize(1);
        Listener.SessionView v = views.get(0);
        if (!v.opaque().isEmpty()) {
            return "opaque " + v.opaque();
        }
        return !v.betweenCommands() ? "busy" : v.inTransaction() ? "idle in-tx" : "idle no-tx";
    }

    /** After a command: the verdict matches the server's view, and is marked in the recording. */
    private void boundary(Connection c) throws Exception {
        String live = liveVerdict();
        recorder.mark(live);
        boolean serverSays;
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT @@in_transaction")) {
            r.next();
            serverSays = r.getInt(1) == 1;
        }
        assertThat(live).as("galera-lb's verdict against @@in_transaction = %s", serverSays)
                .isEqualTo(serverSays ? "idle in-tx" : "idle no-tx");
        assertThat(liveVerdict()).as("after asking").isEqualTo(live);
        recorder.mark(live);
    }

    private Connection connect(String options) throws SQLException {
        return DriverManager.getConnection(TestConfigs.appUrl(recorder.port(), "connectTimeout=10000" + options));
    }

    private void session(String options) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> listener().activeSessions() == 0);
        try (Connection c = connect(options)) {
            boundary(c);
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN");
                boundary(c);
                s.executeUpdate("INSERT INTO obs (v) VALUES ('a')");
                boundary(c);
                s.execute("COMMIT");
                boundary(c);
                try (ResultSet r = s.executeQuery("SELECT v FROM obs LIMIT 50")) {
                    while (r.next()) {
                        r.getString(1);
                    }
                }
                boundary(c);
                s.execute("BEGIN; INSERT INTO obs (v) VALUES ('multi'); SELECT COUNT(*) FROM obs");
                while (s.getMoreResults() || s.getUpdateCount() != -1) {
                    // every result read
                }
                boundary(c);
                s.execute("ROLLBACK");
                boundary(c);
                s.execute("CALL two_results()");
                while (s.getMoreResults() || s.getUpdateCount() != -1) {
                    // every result read
                }
                boundary(c);
                try {
                    s.executeQuery("SELECT IF(seq < 3, seq, (SELECT 1 UNION SELECT 2)) FROM seq_1_to_10").close();
                } catch (SQLException expected) {
                    // an error after the first rows
                }
                boundary(c);
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO obs (v) VALUES (?)")) {
                c.setAutoCommit(false);
                boundary(c);
                p.setString(1, "prepared");
                p.executeUpdate();
                boundary(c);
                c.commit();
                boundary(c);
                c.setAutoCommit(true);
                boundary(c);
            }
            try (PreparedStatement p = c.prepareStatement("SELECT id, v FROM obs WHERE id > ?")) {
                for (int i = 0; i < 3; i++) {
                    p.setInt(1, i);
                    try (ResultSet r = p.executeQuery()) {
                        while (r.next()) {
                            r.getString(2);
                        }
                    }
                    boundary(c);
                }
            }
            Path file = dir.resolve("rows.csv");
            Files.writeString(file, "infile1\ninfile2\n");
            try (Statement s = c.createStatement()) {
                s.execute("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE obs (v)");
                boundary(c);
            }
        }
    }

    @Test
    void connectorJTextAndBinaryProtocolsAgreeWithTheServerAtEveryBoundary() throws Exception {
        session("&allowMultiQueries=true&allowLocalInfile=true");
        recorder.replayEverySplit();
        session("&allowMultiQueries=true&allowLocalInfile=true&useServerPrepStmts=true");
        recorder.replayEverySplit();
    }

    @Test
    void aTwentyMegabyteBlobGoesBothWaysAndTheSessionStaysFollowed() throws Exception {
        byte[] blob = new byte[20 * 1024 * 1024];
        new Random(1).nextBytes(blob);
        for (String options : List.of("", "&useServerPrepStmts=true")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> listener().activeSessions() == 0);
            try (Connection c = connect(options); PreparedStatement p = c.prepareStatement(
                    "INSERT INTO obs (v, b) VALUES ('blob', ?)", Statement.RETURN_GENERATED_KEYS)) {
                c.setAutoCommit(false);
                p.setBytes(1, blob);
                p.executeUpdate();
                boundary(c);
                c.commit();
                boundary(c);
                try (Statement s = c.createStatement();
                     ResultSet r = s.executeQuery("SELECT b FROM obs WHERE v = 'blob' ORDER BY id DESC LIMIT 1")) {
                    r.next();
                    assertThat(r.getBytes(1)).isEqualTo(blob);
                }
                boundary(c);
                c.setAutoCommit(true);
                boundary(c);
            }
            recorder.replaySampled(65_521);
        }
    }

    @Test
    void theMariadbClientAndPyMysqlAreFollowedToTheEnd() throws Exception {
        Process cli = new ProcessBuilder("mariadb", "--skip-ssl", "-h", "127.0.0.1", "-P",
                Integer.toString(recorder.port()), "-uapp", "-papp", "demo", "-e",
                "BEGIN; INSERT INTO obs (v) VALUES ('cli'); SELECT COUNT(*) FROM obs; COMMIT; "
                        + "CALL two_results(); SELECT 1; SELECT 2\\G").redirectErrorStream(true).start();
        String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cli.waitFor()).as(out).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> listener().activeSessions() == 0);
        assertThat(recorder.replayEverySplit()).as("the client's last verdict").isEqualTo("busy"); // after COM_QUIT

        Path script = dir.resolve("client.py");
        Files.writeString(script, """
                import sys, pymysql
                c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="app", password="app",
                                    database="demo", client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
                cur = c.cursor()
                for line in sys.stdin:
                    cur.execute(line.strip())
                    while True:
                        cur.fetchall()
                        if not cur.nextset():
                            break
                    print("done", flush=True)
                """);
        Process py = new ProcessBuilder("/usr/bin/python3", script.toString(), Integer.toString(recorder.port()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (PrintWriter in = new PrintWriter(py.getOutputStream(), true, StandardCharsets.UTF_8);
             BufferedReader answers = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8))) {
            for (String[] step : new String[][] {
                    {"BEGIN", "idle in-tx"},
                    {"INSERT INTO obs (v) VALUES ('py')", "idle in-tx"},
                    {"SELECT v FROM obs LIMIT 5; SELECT 1", "idle in-tx"},
                    {"COMMIT", "idle no-tx"},
                    {"CALL two_results()", "idle no-tx"}}) {
                in.println(step[0]);
                assertThat(answers.readLine()).isEqualTo("done");
                String live = liveVerdict();
                recorder.mark(live);
                assertThat(live).as(step[0]).isEqualTo(step[1]);
            }
        }
        assertThat(py.waitFor()).isZero();
        recorder.replayEverySplit();
    }

    /**
     * A TCP relay between the test's client and galera-lb that records each chunk with its side,
     * and verdict marks in between; one connection at a time.
     */
    private static final class Recorder implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        private final int target;
        private final List<Object> transcript = new ArrayList<>();
        private final Thread acceptor;

        /** A chunk of bytes, from the client or the server. */
        private record Chunk(boolean fromClient, byte[] bytes) {
        }

        /** What galera-lb's observer said at this point. */
        private record Mark(String verdict) {
        }

        Recorder(int target) throws IOException {
            this.target = target;
            acceptor = new Thread(this::accept, "recorder");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket client = socket.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    pump(client, server, true);
                    pump(server, client, false);
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void pump(Socket from, Socket to, boolean fromClient) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (transcript) {
                            transcript.add(new Chunk(fromClient, Arrays.copyOf(buf, n)));
                        }
                        out.write(buf, 0, n);
                    }
                } catch (IOException e) {
                    // one side went away
                } finally {
                    try {
                        from.close();
                        to.close();
                    } catch (IOException e) {
                        // closing
                    }
                }
            }, "recorder-" + (fromClient ? "client" : "server"));
            t.setDaemon(true);
            t.start();
        }

        void mark(String verdict) {
            synchronized (transcript) {
                transcript.add(new Mark(verdict));
            }
        }

        private List<Object> takeTranscript() {
            synchronized (transcript) {
                List<Object> t = new ArrayList<>(transcript);
                transcript.clear();
                return t;
            }
        }

        /** Replays what was recorded since the last replay, whole and split at every position; returns the last verdict. */
        String replayEverySplit() {
            List<Object> t = takeTranscript();
            long total = t.stream().filter(Chunk.class::isInstance).mapToLong(c -> ((Chunk) c).bytes().length).sum();
            String last = replay(t, -1);
            for (long split = 1; split < total; split++) {
                assertThat(replay(t, split)).isEqualTo(last);
            }
            return last;
        }

        /** As {@link #replayEverySplit}, at every {@code step}-th position only (large sessions). */
        void replaySampled(int step) {
            List<Object> t = takeTranscript();
            long total = t.stream().filter(Chunk.class::isInstance).mapToLong(c -> ((Chunk) c).bytes().length).sum();
            String last = replay(t, -1);
            for (long split = 1; split < total; split += step) {
                assertThat(replay(t, split)).isEqualTo(last);
            }
        }

        private static String replay(List<Object> t, long split) {
            MysqlObserver o = new MysqlObserver();
            long offset = 0;
            String verdict = null;
            for (Object e : t) {
                if (e instanceof Mark m) {
                    verdict = verdict(o);
                    assertThat(verdict).as("replayed, split at %d", split).isEqualTo(m.verdict());
                    continue;
                }
                Chunk c = (Chunk) e;
                byte[] b = c.bytes();
                if (split > offset && split < offset + b.length) {
                    int at = (int) (split - offset);
                    feed(o, c.fromClient(), Unpooled.wrappedBuffer(b, 0, at));
                    feed(o, c.fromClient(), Unpooled.wrappedBuffer(b, at, b.length - at));
                } else {
                    feed(o, c.fromClient(), Unpooled.wrappedBuffer(b));
                }
                offset += b.length;
            }
            return verdict(o);
        }

        private static void feed(MysqlObserver o, boolean fromClient, ByteBuf b) {
            if (fromClient) {
                o.fromClient(b);
            } else {
                o.fromServer(b);
            }
            b.release();
        }

        private static String verdict(MysqlObserver o) {
            if (o.opaque() != MysqlObserver.Opaque.NONE) {
                return "opaque " + o.opaque().name().toLowerCase(Locale.ROOT);
            }
            return !o.betweenCommands() ? "busy" : o.inTransaction() ? "idle in-tx" : "idle no-tx";
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
