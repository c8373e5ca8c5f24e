package io.galeralb.health;

import java.time.Instant;
import java.util.Objects;

/**
 * A server changed state, once per change.
 *
 * @param listener the listener the server belongs to
 * @param server   the server's name
 * @param up       its new state
 * @param reason   the last check's finding, e.g. {@code wsrep_local_state=2 (Donor/Desynced)}
 * @param evidence how the decision was reached, e.g. {@code 3/3 checks failed}
 * @param at       when
 */
public record Transition(String listener, String server, boolean up, String reason, String evidence, Instant at) {

    public Transition {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(evidence, "evidence");
        Objects.requireNonNull(at, "at");
    }

    /** The log line: {@code app-cluster/db-node-2 DOWN: wsrep_local_state=2 (Donor/Desynced); 3/3 checks failed}. */
    @Override
    public String toString() {
        return listener + "/" + server + (up ? " UP: " : " DOWN: ") + reason + "; " + evidence;
    }
}
