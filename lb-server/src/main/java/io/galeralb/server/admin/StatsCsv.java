package io.galeralb.server.admin;

import java.time.Instant;

/** {@code GET /stats}: the status as CSV. */
final class StatsCsv {

    private StatsCsv() {
    }

    /**
     * {@code GET /stats}: one CSV row per listener (svname FRONTEND) and server, with HAProxy's
     * column names where the meaning is the same.
     */
    static String of(StatusReport status) {
        StringBuilder csv = new StringBuilder("# pxname,svname,scur,smax,stot,bin,bout,econ,dreq,status,weight,"
                + "check_status,check_duration,lastchg,idle_closed_by_server\n");
        long now = Instant.now().getEpochSecond();
        for (StatusReport.ListenerStatus l : status.listeners()) {
            long stot = 0;
            long bin = 0;
            long bout = 0;
            for (StatusReport.ServerStatus srv : l.servers()) {
                stot += srv.totalSessions();
                bin += srv.bytesIn();
                bout += srv.bytesOut();
                csv.append(row(l.name(), srv.name(), srv.sessions(), srv.maxSessions(), srv.totalSessions(),
                        srv.bytesIn(), srv.bytesOut(), srv.connectFailures(), "", srv.state(), srv.weight(), srv.reason(),
                        srv.checkDurationMs(), srv.lastChange() == null ? ""
                                : now - Instant.parse(srv.lastChange()).getEpochSecond(),
                        srv.idleClosedByServer()));
            }
            long refused = l.refusedNoServer() + l.refusedMaxConnections();
            csv.append(row(l.name(), "FRONTEND", l.sessions(), "", stot, bin, bout, "", refused, "OPEN", "",
                    "", "", "", ""));
        }
        return csv.toString();
    }

    private static String row(Object... fields) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            String f = fields[i] == null ? "" : String.valueOf(fields[i]);
            if (f.contains(",") || f.contains("\"")) {
                f = "\"" + f.replace("\"", "\"\"") + "\"";
            }
            sb.append(i == 0 ? "" : ",").append(f);
        }
        return sb.append('\n').toString();
    }

}
