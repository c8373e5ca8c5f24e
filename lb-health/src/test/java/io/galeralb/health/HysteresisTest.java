package io.galeralb.health;

import static io.galeralb.health.Hysteresis.Change.PENDING;
import static io.galeralb.health.Hysteresis.Change.UNCHANGED;
import static io.galeralb.health.Hysteresis.Change.WENT_DOWN;
import static io.galeralb.health.Hysteresis.Change.WENT_UP;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HysteresisTest {

    private static List<Hysteresis.Change> feed(Hysteresis h, String results) {
        List<Hysteresis.Change> out = new ArrayList<>();
        for (char c : results.toCharArray()) {
            out.add(switch (c) {
                case '+' -> h.observe(true, false);
                case '-' -> h.observe(false, false);
                case '!' -> h.observe(false, true);
                default -> throw new IllegalArgumentException(String.valueOf(c));
            });
        }
        return out;
    }

    @Test
    void theFirstResultDecidesAtOnce() {
        Hysteresis up = new Hysteresis(2, 3);
        assertThat(feed(up, "+")).containsExactly(WENT_UP);
        assertThat(up.isUp()).isTrue();
        Hysteresis down = new Hysteresis(2, 3);
        assertThat(down.isKnown()).isFalse();
        assertThat(feed(down, "-")).containsExactly(WENT_DOWN);
        assertThat(down.isUp()).isFalse();
    }

    @Test
    void fallConsecutiveFailuresTakeItDownAndRisePassesBringItBack() {
        Hysteresis h = new Hysteresis(2, 3);
        assertThat(feed(h, "+---")).containsExactly(WENT_UP, PENDING, PENDING, WENT_DOWN);
        assertThat(feed(h, "++")).containsExactly(PENDING, WENT_UP);
        assertThat(h.isPending()).isFalse();
    }

    @Test
    void aPassInBetweenResetsNothingButOneStep() {
        // HAProxy's counter: a pass after two failures climbs back one step, it does not restart the count.
        Hysteresis h = new Hysteresis(2, 3);
        assertThat(feed(h, "+--+-")).containsExactly(WENT_UP, PENDING, PENDING, UNCHANGED, PENDING);
        assertThat(h.isUp()).isTrue();
        assertThat(feed(h, "-")).containsExactly(WENT_DOWN);
    }

    @Test
    void flappingInputDoesNotFlapTheState() {
        Hysteresis h = new Hysteresis(2, 3);
        List<Hysteresis.Change> changes = feed(h, "+-+-+-+-+-+-+-+-");
        assertThat(changes.subList(1, changes.size())).doesNotContain(WENT_UP, WENT_DOWN);
        assertThat(h.isUp()).isTrue();

        Hysteresis down = new Hysteresis(2, 3);
        List<Hysteresis.Change> c2 = feed(down, "-+-+-+-+-+-+");
        assertThat(c2.subList(1, c2.size())).doesNotContain(WENT_UP, WENT_DOWN);
        assertThat(down.isUp()).isFalse();
    }

    @Test
    void aDefiniteFailureTakesItDownAtOnce() {
        Hysteresis h = new Hysteresis(2, 3);
        assertThat(feed(h, "+!")).containsExactly(WENT_UP, WENT_DOWN);
        assertThat(feed(h, "!!")).containsExactly(UNCHANGED, UNCHANGED);
        assertThat(feed(h, "+!+")).containsExactly(PENDING, UNCHANGED, PENDING);
        assertThat(feed(h, "+")).containsExactly(WENT_UP);
    }

    @Test
    void riseAndFallOfOneAreImmediate() {
        Hysteresis h = new Hysteresis(1, 1);
        assertThat(feed(h, "+-+-")).containsExactly(WENT_UP, WENT_DOWN, WENT_UP, WENT_DOWN);
    }

    @Test
    void resumeBringsADownServerUpAtOnceAndLeavesAnUpOneAlone() {
        Hysteresis h = new Hysteresis(2, 3);
        assertThat(h.observe(false, true)).isEqualTo(Hysteresis.Change.WENT_DOWN);
        assertThat(h.resume()).isEqualTo(Hysteresis.Change.WENT_UP);
        assertThat(h.isUp()).isTrue();
        assertThat(h.resume()).isEqualTo(Hysteresis.Change.UNCHANGED);
        assertThat(h.observe(false, false)).as("fall failures to go down again").isEqualTo(Hysteresis.Change.PENDING);
    }
}
