package io.galeralb.health;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What one check of one server found.
 *
 * @param kind     pass, donor (a donor whose SST method blocks: serves only as the donor policy
 *                 allows) or fail
 * @param reason   what was seen, for the log and the status page, e.g. {@code wsrep_local_state=2 (Donor/Desynced)}
 * @param definite true when the node itself answered (a definite state, not a network failure):
 *                 such a failure takes a server out at once instead of counting toward {@code fall}
 * @param timeouts the node's idle timeouts, when the check read them
 * @param view     the node's view of the cluster, when a Galera check read it
 */
public record CheckResult(Kind kind, String reason, boolean definite, Optional<NodeTimeouts> timeouts,
                          Optional<ClusterView> view) {

    /** The three kinds of result. */
    public enum Kind { PASS, DONOR, FAIL }

    /** A node's {@code wait_timeout} and {@code interactive_timeout}: when it closes idle sessions. */
    public record NodeTimeouts(Duration waitTimeout, Duration interactiveTimeout) {
    }

    public CheckResult {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(view, "view");
    }

    static CheckResult pass(String reason) {
        return new CheckResult(Kind.PASS, reason, true, Optional.empty(), Optional.empty());
    }

    /** A donor whose donation may block its commits (see {@link GaleraVerdict#BLOCKING_SST}). */
    static CheckResult donor(String reason) {
        return new CheckResult(Kind.DONOR, reason, true, Optional.empty(), Optional.empty());
    }

    /** The node answered with a state that must not serve. */
    static CheckResult refused(String reason) {
        return new CheckResult(Kind.FAIL, reason, true, Optional.empty(), Optional.empty());
    }

    /** The node could not be asked: network failure, timeout, login failure. */
    static CheckResult unreachable(String reason) {
        return new CheckResult(Kind.FAIL, reason, false, Optional.empty(), Optional.empty());
    }

    /** The same result, with the node's idle timeouts when both values parse. */
    CheckResult withTimeouts(String waitTimeout, String interactiveTimeout) {
        try {
            return new CheckResult(kind, reason, definite, Optional.of(new NodeTimeouts(
                    Duration.ofSeconds(Long.parseLong(waitTimeout.trim())),
                    Duration.ofSeconds(Long.parseLong(interactiveTimeout.trim())))), view);
        } catch (RuntimeException e) {
            return this;
        }
    }

    /** The same result, with the node's view of the cluster. */
    CheckResult withView(Optional<ClusterView> v) {
        return new CheckResult(kind, reason, definite, timeouts, v);
    }

    /**
     * A pass that must not count as one: the node says it may serve, but its view of the
     * cluster contradicts the other nodes' (see {@link ClusterView#disagreement}). Not definite:
     * a view change seen by one check before the others counts toward fall only.
     */
    CheckResult disputed(String why) {
        return new CheckResult(Kind.FAIL, reason + "; " + why, false, timeouts, view);
    }
}
