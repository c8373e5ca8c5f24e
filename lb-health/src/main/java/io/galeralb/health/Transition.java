package io.galeralb.health;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A server changed state, once per change; or a server that stays DOWN is held down by a new
 * reason, which has replaced the one it went down with ({@code was}).
 *
 * @param listener the listener the server belongs to
 * @param server   the server's name
 * @param up       its new state
 * @param reason   the last check's finding, e.g. {@code wsrep_local_state=2 (Donor/Desynced)}
 * @param evidence how the decision was reached, e.g. {@code 3/3 checks failed}
 * @param at       when
 * @param was      for a server that stays DOWN, the reason this one replaces; empty for a change of state
 * @param donor    the server goes DOWN as a donor: it takes no new sessions, but the sessions it has go
 *                 on (they wait while the donation blocks, as they would connected directly)
 */
public record Transition(String listener, String server, boolean up, String reason, String evidence, Instant at,
                         Optional<String> was, boolean donor) {

    public Transition {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(evidence, "evidence");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(was, "was");
        if (up && was.isPresent()) {
            throw new IllegalArgumentException("only a server that stays DOWN changes its reason without a transition");
        }
    }

    /** False when the server stays DOWN and only the reason changed. */
    public boolean changesState() {
        return was.isEmpty();
    }

    /**
     * The log line: {@code app-cluster/db-node-2 DOWN: wsrep_local_state=2 (Donor/Desynced); 3/3 checks failed},
     * or for a new reason: {@code app-cluster/db-node-2 still DOWN: connection refused; 3/3 checks failed (was: ...)}.
     */
    @Override
    public String toString() {
        if (was.isPresent()) {
            return listener + "/" + server + " still DOWN: " + reason + "; " + evidence + " (was: " + was.get() + ")";
        }
        return listener + "/" + server + (up ? " UP: " : " DOWN: ") + reason + "; " + evidence;
    }
}
