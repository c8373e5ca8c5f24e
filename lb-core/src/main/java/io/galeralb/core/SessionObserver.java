package io.galeralb.core;

/** Hears of what happens to sessions, for metrics. Called on event loops: must not block. */
public interface SessionObserver {

    SessionObserver NONE = (server, nanos) -> { };

    /** A session's connect to {@code server} succeeded after {@code nanos}. */
    void connected(Server server, long nanos);
}
