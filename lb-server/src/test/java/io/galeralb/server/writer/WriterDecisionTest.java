package io.galeralb.server.writer;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.server.writer.WriterDecision.Cause;
import io.galeralb.server.writer.WriterDecision.Follow;
import io.galeralb.server.writer.WriterDecision.NoWriter;
import io.galeralb.server.writer.WriterDecision.Outcome;
import io.galeralb.server.writer.WriterDecision.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The writer rule over every input of a three-server listener: each subset of usable servers,
 * nothing recorded or each server or a name the listener does not have, recorded by a switchover
 * or not, failback on and off, first and last attempt (5 × 8 × 2 × 2 × 2 = 320 cases).
 */
class WriterDecisionTest {

    /** Best first, as the election orders them. */
    private static final List<String> SERVERS = List.of("a", "b", "c");
    private static final List<Optional<String>> RECORDS = List.of(Optional.empty(), Optional.of("a"), Optional.of("b"),
            Optional.of("c"), Optional.of("gone"));

    @Test
    void everyInputGetsTheOutcomeTheRuleNames() {
        int cases = 0;
        for (List<String> usable : subsets()) {
            for (Optional<String> recorded : RECORDS) {
                for (boolean bySwitchover : new boolean[] {false, true}) {
                    for (boolean failback : new boolean[] {false, true}) {
                        for (boolean last : new boolean[] {false, true}) {
                            Outcome o = WriterDecision.decide(usable, recorded, bySwitchover, failback, last);
                            assertThat(o).as("usable %s, recorded %s, by switchover %s, failback %s, last attempt %s",
                                    usable, recorded, bySwitchover, failback, last)
                                    .isEqualTo(expected(usable, recorded, bySwitchover, failback, last));
                            cases++;
                        }
                    }
                }
            }
        }
        assertThat(cases).isEqualTo(320);
    }

    /** The rule as an operator reads it in docs/single-writer.md, case by case. */
    private static Outcome expected(List<String> usable, Optional<String> recorded, boolean bySwitchover,
                                    boolean failback, boolean last) {
        if (usable.isEmpty()) {
            return new NoWriter(Cause.NONE_USABLE);
        }
        String best = usable.get(0);
        if (recorded.isPresent() && usable.contains(recorded.get())) {
            boolean better = !recorded.get().equals(best);
            if (failback && better && !bySwitchover && !last) {
                return new Record(best, Cause.FAILBACK);
            }
            return new Follow(recorded.get()); // a writer that can take sessions stays
        }
        if (last) {
            return new NoWriter(recorded.isPresent() ? Cause.RECORDED_UNUSABLE : Cause.CHANGES_LOST);
        }
        return new Record(best, recorded.isPresent() ? Cause.RECORDED_UNUSABLE : Cause.FIRST_CHOICE);
    }

    @Test
    void aWriterThatCanTakeSessionsStaysWhenABetterOneReturnsUnlessFailbackIsOn() {
        List<String> all = List.of("a", "b", "c");
        assertThat(WriterDecision.decide(all, Optional.of("b"), false, false, false)).isEqualTo(new Follow("b"));
        assertThat(WriterDecision.decide(all, Optional.of("b"), false, true, false))
                .isEqualTo(new Record("a", Cause.FAILBACK));
        assertThat(WriterDecision.decide(all, Optional.of("b"), true, true, false))
                .as("failback leaves a switchover's choice alone").isEqualTo(new Follow("b"));
    }

    @Test
    void onlyAServerThatCanTakeSessionsIsEverFollowedOrRecorded() {
        for (List<String> usable : subsets()) {
            for (Optional<String> recorded : RECORDS) {
                Outcome o = WriterDecision.decide(usable, recorded, false, true, false);
                if (o instanceof Follow f) {
                    assertThat(usable).contains(f.server());
                } else if (o instanceof Record r) {
                    assertThat(r.server()).isEqualTo(usable.get(0));
                } else {
                    assertThat(usable).isEmpty();
                }
            }
        }
    }

    /** Every subset of the servers, each in preference order. */
    private static List<List<String>> subsets() {
        List<List<String>> all = new ArrayList<>();
        for (int mask = 0; mask < 1 << SERVERS.size(); mask++) {
            List<String> s = new ArrayList<>();
            for (int i = 0; i < SERVERS.size(); i++) {
                if ((mask & 1 << i) != 0) {
                    s.add(SERVERS.get(i));
                }
            }
            all.add(List.copyOf(s));
        }
        return all;
    }
}
