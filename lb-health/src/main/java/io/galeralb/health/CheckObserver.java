package io.galeralb.health;

/** Hears of every check's result and duration (idle timeouts, metrics). Called on checker threads. */
@FunctionalInterface
public interface CheckObserver {

    void checked(String server, CheckResult result, long nanos);
}
