package io.galeralb.health;

import java.util.Objects;

/**
 * What one check of one server found.
 *
 * @param kind     pass, donor (serves only as the donor policy allows) or fail
 * @param reason   what was seen, for the log and the status page, e.g. {@code wsrep_local_state=2 (Donor/Desynced)}
 * @param definite true when the node itself answered (a definite state, not a network failure):
 *                 such a failure takes a server out at once instead of counting toward {@code fall}
 */
public record CheckResult(Kind kind, String reason, boolean definite) {

    /** The three kinds of result. */
    public enum Kind { PASS, DONOR, FAIL }

    public CheckResult {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
    }

    static CheckResult pass(String reason) {
        return new CheckResult(Kind.PASS, reason, true);
    }

    static CheckResult donor(String reason) {
        return new CheckResult(Kind.DONOR, reason, true);
    }

    /** The node answered with a state that must not serve. */
    static CheckResult refused(String reason) {
        return new CheckResult(Kind.FAIL, reason, true);
    }

    /** The node could not be asked: network failure, timeout, login failure. */
    static CheckResult unreachable(String reason) {
        return new CheckResult(Kind.FAIL, reason, false);
    }
}
