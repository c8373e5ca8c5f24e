package io.galeralb.health;

/**
 * HAProxy's rise/fall counter, as a pure state machine. One counter from 0 to rise+fall-1;
 * a server is up when it is at least {@code rise}.
 * <ul>
 *   <li>The first result decides at once: a pass puts the counter at the top, a failure at 0.</li>
 *   <li>A pass while down counts up; reaching {@code rise} brings the server up and snaps the
 *       counter to the top, so that it takes {@code fall} failures to go down again.</li>
 *   <li>A failure while up counts down; the {@code fall}-th consecutive one takes the server
 *       down and snaps the counter to 0, so that it takes {@code rise} passes to come back.</li>
 *   <li>A definite failure (the node itself answered that it must not serve) takes it down at once.</li>
 * </ul>
 * Not thread-safe; its owner serialises calls.
 */
final class Hysteresis {

    /** What one observation did. */
    enum Change { UNCHANGED, PENDING, WENT_UP, WENT_DOWN }

    private final int rise;
    private final int fall;
    private int counter;
    private boolean known;

    Hysteresis(int rise, int fall) {
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise and fall must be at least 1");
        }
        this.rise = rise;
        this.fall = fall;
    }

    private int top() {
        return rise + fall - 1;
    }

    /** A counter for new settings that keeps the state a server had under the old ones (a reload). */
    static Hysteresis carrying(boolean up, int rise, int fall) {
        Hysteresis h = new Hysteresis(rise, fall);
        h.known = true;
        h.counter = up ? h.top() : 0;
        return h;
    }

    boolean isUp() {
        return known && counter >= rise;
    }

    boolean isKnown() {
        return known;
    }

    /** True when some passes or failures have been counted toward a transition that has not happened. */
    boolean isPending() {
        return known && counter != 0 && counter != top();
    }

    /** Brings a server that is down up at once (it was down for a known, finished reason). */
    Change resume() {
        if (isUp()) {
            return Change.UNCHANGED;
        }
        known = true;
        counter = top();
        return Change.WENT_UP;
    }

    Change observe(boolean pass, boolean definite) {
        if (!known) {
            known = true;
            counter = pass ? top() : 0;
            return pass ? Change.WENT_UP : Change.WENT_DOWN;
        }
        boolean wasUp = isUp();
        if (pass) {
            if (counter < top()) {
                counter++;
                if (!wasUp && counter >= rise) {
                    counter = top();
                    return Change.WENT_UP;
                }
                return wasUp ? Change.UNCHANGED : Change.PENDING;
            }
            return Change.UNCHANGED;
        }
        if (!wasUp) {
            counter = 0;
            return Change.UNCHANGED;
        }
        if (definite || counter <= rise) {
            counter = 0;
            return Change.WENT_DOWN;
        }
        counter--;
        return Change.PENDING;
    }
}
