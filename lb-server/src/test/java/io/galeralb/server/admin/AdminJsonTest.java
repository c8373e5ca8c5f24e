package io.galeralb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admin API's JSON: what a client of {@code /status} reads, and what {@code galera-lb status} reads back. */
class AdminJsonTest {

    private static final StatusReport.ServerStatus NODE1 = new StatusReport.ServerStatus("node1", "127.0.0.1:23306",
            "127.0.0.1:23306", null, 1, 1.0, "UP", "UP", "Synced", "2026-12-07T06:00:00Z", 3, 10, 4, 100, 200, 0, 0, 0,
            1, 0, 0, 12L);
    private static final StatusReport REPORT = new StatusReport(42, "2026-12-07T05:00:00Z", "1.0", "/etc/galera-lb.yaml",
            "ab", 2, "2026-12-07T05:00:01Z", null, "epoll", 2, "0s", List.of(new StatusReport.ListenerStatus("rw",
            "127.0.0.1:3307", "first", 3, 1000, 0, 0, 0, 0, new StatusReport.WriterStatus("node1", null,
            "2026-12-07T05:00:02Z", "first choice among UP servers by priority", 1, "2026-12-07T06:00:00Z",
            new StatusReport.LeaseStatus("node1", "lb-a", 1, "2026-12-07T05:00:02Z", "first choice"), null),
            List.of(NODE1))));

    @Test
    void keysAreKebabCaseInTheRecordsOrderAndEveryKeyIsPresent() throws IOException {
        Map<String, Object> json = JSON.std.mapFrom(AdminJson.write(REPORT));
        assertThat(json.keySet()).containsExactly("pid", "started", "version", "config", "sha256", "generation",
                "loaded", "reload-pending", "transport", "io-threads", "busy-poll", "listeners");
        assertThat(json).containsEntry("reload-pending", null);
        @SuppressWarnings("unchecked")
        Map<String, Object> listener = ((List<Map<String, Object>>) json.get("listeners")).get(0);
        assertThat(listener).containsEntry("max-connections", 1000).containsEntry("refused-no-server", 0)
                .containsKey("closed-fin-timeout");
        @SuppressWarnings("unchecked")
        Map<String, Object> server = ((List<Map<String, Object>>) listener.get("servers")).get(0);
        assertThat(server).containsEntry("connects-to", "127.0.0.1:23306").containsEntry("address-problem", null)
                .containsEntry("check-duration-ms", 12).containsEntry("idle-closed-by-server", 0);
        @SuppressWarnings("unchecked")
        Map<String, Object> writer = (Map<String, Object>) listener.get("writer");
        assertThat(writer).containsEntry("no-writer-reason", null).containsEntry("lease-error", null);
    }

    @Test
    void theStatusCommandReadsBackWhatTheApiWrote() throws IOException {
        assertThat(AdminJson.read(StatusReport.class, AdminJson.writePretty(REPORT))).isEqualTo(REPORT);
    }

    @Test
    void aKeyTheCommandDoesNotKnowIsSkipped() throws IOException {
        assertThat(AdminJson.read(StatusReport.LeaseStatus.class,
                "{\"writer\":\"node1\",\"holder\":\"a\",\"epoch\":1,\"changed\":\"x\",\"reason\":\"r\",\"term\":2}"))
                .isEqualTo(new StatusReport.LeaseStatus("node1", "a", 1, "x", "r"));
    }
}
