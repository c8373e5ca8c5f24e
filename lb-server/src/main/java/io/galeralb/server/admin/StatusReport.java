package io.galeralb.server.admin;

import io.galeralb.core.Listener;
import io.galeralb.core.Server;
import io.galeralb.health.ServerHealth;
import io.galeralb.server.AddressWatch;
import io.galeralb.server.GaleraLb;
import io.galeralb.server.Main;
import io.galeralb.server.writer.WriterElection;
import io.galeralb.config.Durations;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /status}: the process, its configuration, and every listener and server. Written as
 * JSON by {@link AdminJson} (keys in kebab case, in this order) and read back by
 * {@code galera-lb status}; times are ISO-8601 instants.
 *
 * @param reloadPending whether the file on disk differs from the loaded one; null when it cannot be read
 */
public record StatusReport(long pid, String started, String version, String config, String sha256, long generation,
                    String loaded, Boolean reloadPending, String transport, int ioThreads, String busyPoll,
                    List<ListenerStatus> listeners) {

    /** @param writer for {@code balance: first} only */
    public record ListenerStatus(String name, String bind, String balance, int sessions, int maxConnections,
                          long refusedNoServer, long refusedMaxConnections, long refusedNoSocket, long closedFinTimeout,
                          WriterStatus writer, List<ServerStatus> servers) {
    }

    /**
     * @param server         the writer; null when there is none
     * @param noWriterReason why there is none; null while there is one
     * @param lease          what the writer lease says, with {@code writer-lease}
     * @param leaseError     why the lease could not be read, when it could not
     */
    public record WriterStatus(String server, String noWriterReason, String since, String reason, long changes,
                        String checked, LeaseStatus lease, String leaseError) {
    }

    public record LeaseStatus(String writer, String holder, long epoch, String changed, String reason) {
    }

    /**
     * @param connectsTo      the address a name resolves to now
     * @param addressProblem  why the name could not be resolved lately; null when it could
     * @param state           UP, DOWN, DRAIN or MAINT; {@code health} is UP or DOWN whatever the operator set
     * @param lastChange      the last health transition; null before the first
     * @param checkDurationMs the last check's duration; null before the first
     */
    public record ServerStatus(String name, String address, String connectsTo, String addressProblem, int weight,
                        double weightShare, String state, String health, String reason, String lastChange,
                        int sessions, long totalSessions, int maxSessions, long bytesIn, long bytesOut,
                        long connectFailures, long hostBlocked, long idleClosedByServer, long clientAborts,
                        long serverAborts, long downtimeSeconds, Long checkDurationMs) {
    }

    /**
     * What the process knows of itself.
     *
     * @param reloadPending whether the file on disk differs from the loaded one; empty when it cannot be read
     */
    public record Process(long pid, Instant started, Path config, String sha256, long generation, Instant loaded,
                          Optional<Boolean> reloadPending) {
    }

    /** The report of {@code process} and of every listener and server of {@code lb} now. */
    public static StatusReport of(Process process, GaleraLb lb) {
        List<ListenerStatus> listeners = new ArrayList<>();
        for (Listener l : lb.listeners()) {
            Map<String, ServerHealth> health = lb.health(l.name()).snapshot();
            List<ServerStatus> servers = new ArrayList<>();
            for (Server srv : l.pool().servers()) {
                ServerHealth h = health.get(srv.name());
                servers.add(new ServerStatus(srv.name(), srv.config().address().toString(),
                        AddressWatch.shown(srv.address()) + ":" + srv.address().getPort(),
                        srv.addressProblem().isEmpty() ? null : srv.addressProblem(), srv.config().weight(),
                        srv.weightShare(), srv.state(), srv.isUp() ? "UP" : "DOWN",
                        h != null && h.lastResult() != null ? h.lastResult().reason() : srv.downReason(),
                        h != null && h.lastChange() != null ? h.lastChange().toString() : null,
                        srv.activeSessions(), srv.totalSessions(), srv.maxSessions(), srv.bytesFromClients(),
                        srv.bytesToClients(), srv.connectFailures(), srv.hostBlocked(), srv.idleClosedByServer(),
                        srv.clientAborts(), srv.serverAborts(), srv.downtime().toSeconds(),
                        h != null && h.lastDuration() != null ? h.lastDuration().toMillis() : null));
            }
            listeners.add(new ListenerStatus(l.name(), l.config().bind().toString(),
                    l.config().balance().yamlName(), l.activeSessions(), l.config().maxConnections(),
                    l.refusedNoServer(), l.refusedMaxConnections(), l.refusedNoSocket(), l.closedByFinTimeout(),
                    lb.writerState(l.name()).map(StatusReport::writer).orElse(null), servers));
        }
        return new StatusReport(process.pid(), process.started().toString(), Main.version(),
                process.config().toString(), process.sha256(), process.generation(), process.loaded().toString(),
                process.reloadPending().orElse(null), lb.transport().name().toLowerCase(Locale.ROOT), lb.ioThreads(),
                Durations.format(lb.busyPoll()), listeners);
    }

    private static WriterStatus writer(WriterElection.State w) {
        return new WriterStatus(w.writer().orElse(null), w.writer().isPresent() ? null : w.noWriterReason(),
                w.since().toString(), w.reason(), w.changes(), w.checked().toString(),
                w.lease().map(l -> new LeaseStatus(l.writer(), l.holder(), l.epoch(), l.changedAt().toString(),
                        l.reason())).orElse(null), w.leaseError().orElse(null));
    }
}
