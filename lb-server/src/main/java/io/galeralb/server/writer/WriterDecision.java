package io.galeralb.server.writer;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The rule that picks the writer of a {@code balance: first} listener, as a pure function of what
 * one look at the listener saw. {@link WriterElection} applies it to the pool (without a writer
 * lease, "recorded" is the pool's current writer) or to the lease (with one).
 *
 * <p>The rule: a recorded writer that can take sessions stays the writer; with {@code failback}
 * the best server replaces it, unless a switchover recorded it. Otherwise the best server that can
 * take sessions is recorded. No writer when none can, or when this is the last attempt of a step
 * whose changes lost to other instances and the record still names one that cannot.
 */
public final class WriterDecision {

    /** Why a server is recorded, or why there is no writer. */
    public enum Cause {
        /** Nothing is recorded yet: the best server. */
        FIRST_CHOICE,
        /** The recorded writer can take sessions, but a better one is back and failback is on. */
        FAILBACK,
        /** The recorded writer cannot take sessions here (DOWN, DRAIN, MAINT, or not a server of the listener). */
        RECORDED_UNUSABLE,
        /** No server can take sessions. */
        NONE_USABLE,
        /** This step's last attempt found no record it could follow after its own changes lost. */
        CHANGES_LOST
    }

    /** What to do. */
    public sealed interface Outcome permits Follow, Record, NoWriter {
    }

    /** The recorded writer stays the writer. */
    public record Follow(String server) implements Outcome {
    }

    /** Record {@code server} (the best that can take sessions) as the writer. */
    public record Record(String server, Cause cause) implements Outcome {
    }

    /** No writer: new sessions are refused. */
    public record NoWriter(Cause cause) implements Outcome {
    }

    private WriterDecision() {
    }

    /**
     * @param usable               the servers that can take sessions now, best first
     * @param recorded             the writer recorded, if any (it may be a name no server has)
     * @param recordedBySwitchover the record was made by a switchover: failback leaves it alone
     * @param failback             the listener's {@code failback}
     * @param lastAttempt          the step's last attempt: follow a usable record even against failback, record nothing
     */
    public static Outcome decide(List<String> usable, Optional<String> recorded, boolean recordedBySwitchover,
                                 boolean failback, boolean lastAttempt) {
        Objects.requireNonNull(usable, "usable");
        Optional<String> best = usable.stream().findFirst();
        boolean recordedUsable = recorded.isPresent() && usable.contains(recorded.get());
        boolean failingBack = recordedUsable && failback && !recordedBySwitchover && !best.get().equals(recorded.get());
        if (recordedUsable && (!failingBack || lastAttempt)) {
            return new Follow(recorded.get());
        }
        if (best.isEmpty()) {
            return new NoWriter(Cause.NONE_USABLE);
        }
        if (lastAttempt) {
            return new NoWriter(recorded.isPresent() ? Cause.RECORDED_UNUSABLE : Cause.CHANGES_LOST);
        }
        return new Record(best.get(), failingBack ? Cause.FAILBACK
                : recorded.isPresent() ? Cause.RECORDED_UNUSABLE : Cause.FIRST_CHOICE);
    }
}
