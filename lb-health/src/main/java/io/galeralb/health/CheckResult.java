package io.galeralb.health;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What one check of one server found.
 *
 * @param kind     pass, donor (a donor whose SST method blocks: serves only as the donor policy
 *                 allows) or fail
 * @param cause    the reason as one word of a fixed set, for metric labels
 * @param reason   what was seen, for the log and the status page, e.g. {@code wsrep_local_state=2 (Donor/Desynced)}
 * @param definite true when the node itself answered (a definite state, not a network failure):
 *                 such a failure takes a server out at once instead of counting toward {@code fall}
 * @param timeouts the node's idle timeouts, when the check read them
 * @param view     the node's view of the cluster, when a Galera check read it
 * @param galera   the node's Galera status values, when a Galera check read them
 */
public record CheckResult(Kind kind, Cause cause, String reason, boolean definite, Optional<NodeTimeouts> timeouts,
                          Optional<ClusterView> view, Optional<GaleraStatus> galera) {

    /** The three kinds of result. */
    public enum Kind { PASS, DONOR, FAIL }

    /** Why, in one word of a fixed set: a label value that never grows a new series per sentence. */
    public enum Cause {
        /** A Galera node Synced in the Primary component, or a donor that keeps serving. */
        SYNCED,
        /** A mysql check's node answered; a tcp check's port accepted. */
        ANSWERED,
        DONOR,
        DESYNCED,
        NOT_SYNCED,
        NON_PRIMARY,
        NOT_READY,
        NOT_GALERA,
        REJECTING_QUERIES,
        READ_ONLY,
        RECV_QUEUE,
        /** The node's view of the cluster is behind the other nodes' (a stale view). */
        STALE_VIEW,
        UNREACHABLE,
        TIMEOUT,
        AUTH,
        TLS,
        HOST_BLOCKED,
        /** The check itself failed (an exception in galera-lb). */
        CHECK_ERROR;

        /** As a label value: {@code non_primary}. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A node's {@code wait_timeout} and {@code interactive_timeout}: when it closes idle sessions. */
    public record NodeTimeouts(Duration waitTimeout, Duration interactiveTimeout) {
    }

    public CheckResult {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(galera, "galera");
    }

    static CheckResult pass(Cause cause, String reason) {
        return new CheckResult(Kind.PASS, cause, reason, true, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** A donor whose donation may block its commits (see {@link GaleraVerdict#BLOCKING_SST}). */
    static CheckResult donor(String reason) {
        return new CheckResult(Kind.DONOR, Cause.DONOR, reason, true, Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** The node answered with a state that must not serve. */
    static CheckResult refused(Cause cause, String reason) {
        return new CheckResult(Kind.FAIL, cause, reason, true, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The node could not be asked: network failure, timeout, login failure. */
    static CheckResult unreachable(Cause cause, String reason) {
        return new CheckResult(Kind.FAIL, cause, reason, false, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The same result, with the node's idle timeouts when both values parse. */
    CheckResult withTimeouts(String waitTimeout, String interactiveTimeout) {
        try {
            return new CheckResult(kind, cause, reason, definite, Optional.of(new NodeTimeouts(
                    Duration.ofSeconds(Long.parseLong(waitTimeout.trim())),
                    Duration.ofSeconds(Long.parseLong(interactiveTimeout.trim())))), view, galera);
        } catch (RuntimeException e) {
            return this;
        }
    }

    /** The same result, with the node's view of the cluster. */
    CheckResult withView(Optional<ClusterView> v) {
        return new CheckResult(kind, cause, reason, definite, timeouts, v, galera);
    }

    /** The same result, with the node's Galera status values. */
    CheckResult withGalera(Optional<GaleraStatus> g) {
        return new CheckResult(kind, cause, reason, definite, timeouts, view, g);
    }

    /**
     * A pass that must not count as one: the node says it may serve, but its view of the
     * cluster contradicts the other nodes' (see {@link ClusterView#disagreement}). Not definite:
     * a view change seen by one check before the others counts toward fall only.
     */
    CheckResult disputed(String why) {
        return new CheckResult(Kind.FAIL, Cause.STALE_VIEW, reason + "; " + why, false, timeouts, view, galera);
    }
}
