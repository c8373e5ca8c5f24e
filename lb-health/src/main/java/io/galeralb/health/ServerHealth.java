package io.galeralb.health;

import java.time.Duration;
import java.time.Instant;

/**
 * A snapshot of one server's health, for status pages and tests.
 *
 * @param server     the server's name
 * @param up         whether it may receive sessions
 * @param known      whether it has had its first verdict
 * @param lastResult the last check's result, or null before the first
 * @param checks     checks run so far
 * @param lastChange when it last changed state, or null
 * @param lastDuration how long the last check took, or null
 */
public record ServerHealth(String server, boolean up, boolean known, CheckResult lastResult, long checks,
                           Instant lastChange, Duration lastDuration) {
}
