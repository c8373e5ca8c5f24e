package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.server.admin.AdminServer;
import io.galeralb.server.process.Instance;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A hostile client of the admin API costs galera-lb a bounded amount and never its sessions. */
@ExtendWith(GaleraClusterExtension.class)
class AdminFloodTest {

    @TempDir
    Path dir;
    private Instance instance;
    private int adminPort;
    private String url;

    @BeforeEach
    void start() throws Exception {
        int port = TestConfigs.freePort();
        adminPort = TestConfigs.freePort();
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, TestConfigs.instanceYaml(port, adminPort, dir.resolve("lb.lock")));
        instance = Instance.start(f);
        url = TestConfigs.appUrl(port);
    }

    @AfterEach
    void stop() {
        instance.shutdown();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), adminPort);
        s.setSoTimeout(60_000);
        return s;
    }

    /** Everything the server sends until it closes, as text. */
    private static String readToEnd(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private static String request(String method, String path, String body) {
        return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private static int statusOf(String answer) {
        assertThat(answer).startsWith("HTTP/1.1 ");
        return Integer.parseInt(answer.substring(9, 12));
    }

    private static boolean hasAnswer(Socket s) {
        try {
            return s.getInputStream().available() > 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void idleConnectionsBeyondTheCapAreClosedAtOnceTheRestTimeOutAndSessionsGoOn() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < AdminServer.MAX_CONNECTIONS + 100; i++) {
                idle.add(connect());
            }
            int closedAtOnce = 0;
            for (Socket s : idle.subList(AdminServer.MAX_CONNECTIONS, idle.size())) {
                InputStream in = s.getInputStream();
                try {
                    if (in.read() == -1) {
                        closedAtOnce++;
                    }
                } catch (IOException reset) {
                    closedAtOnce++;
                }
            }
            assertThat(closedAtOnce).isEqualTo(100);
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(GaleraCluster.nodeOf(c)).startsWith("node");
            }
            // The ones let in are answered 408 once REQUEST_TIMEOUT has passed, and closed.
            String answer = readToEnd(idle.get(0));
            assertThat(statusOf(answer)).isEqualTo(408);
            try (Socket s = connect()) {
                s.getOutputStream().write(request("GET", "/status", "").getBytes(StandardCharsets.US_ASCII));
                assertThat(statusOf(readToEnd(s))).as("room again").isEqualTo(200);
            }
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void pipelinedRequestsGetOneAnswerAndTheConnectionCloses() throws Exception {
        try (Socket s = connect()) {
            byte[] one = request("GET", "/metrics", "").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 2000; i++) {
                s.getOutputStream().write(one);
            }
            String answer = readToEnd(s);
            assertThat(statusOf(answer)).isEqualTo(200);
            assertThat(answer.split("HTTP/1.1 ", -1)).as("one answer").hasSize(2);
        }
    }

    @Test
    void whenTheWorkQueueIsFullTheAnswerIs503() throws Exception {
        List<Socket> waiting = new ArrayList<>();
        int extra = 3;
        try {
            // status() waits for the instance's monitor, as it does for a reload in progress.
            synchronized (instance) {
                for (int i = 0; i < 1 + AdminServer.MAX_QUEUED_READS + extra; i++) {
                    Socket s = connect();
                    s.getOutputStream().write(request("GET", "/status", "").getBytes(StandardCharsets.US_ASCII));
                    waiting.add(s);
                }
                // One runs (and waits), MAX_QUEUED_READS wait in the queue, the rest are answered at once.
                await().until(() -> waiting.stream().filter(AdminFloodTest::hasAnswer).count() == extra);
            }
            List<Integer> statuses = new ArrayList<>();
            for (Socket s : waiting) {
                statuses.add(statusOf(readToEnd(s)));
            }
            assertThat(statuses).filteredOn(c -> c == 503).hasSize(extra);
            assertThat(statuses).filteredOn(c -> c == 200).hasSize(waiting.size() - extra);
        } finally {
            for (Socket s : waiting) {
                s.close();
            }
        }
    }

    @Test
    void everyMalformedRequestIsAnsweredWithAStatusAndTheConnectionCloses() throws Exception {
        try (Socket s = connect()) {
            String head = "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10485760\r\n\r\n";
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            String answer = readToEnd(s);
            assertThat(statusOf(answer)).isEqualTo(413);
        }
        try (Socket s = connect()) {
            s.getOutputStream().write(request("GET", "/status%zz", "").getBytes(StandardCharsets.US_ASCII));
            String answer = readToEnd(s);
            assertThat(statusOf(answer)).isEqualTo(400);
            assertThat(answer).contains("malformed request URI");
        }
        try (Socket s = connect()) {
            s.getOutputStream().write("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(statusOf(readToEnd(s))).isEqualTo(400);
        }
    }
}
