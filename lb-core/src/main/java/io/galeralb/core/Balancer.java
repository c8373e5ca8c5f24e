package io.galeralb.core;

import java.util.List;
import java.util.function.Predicate;

/** Chooses a server for a new session. Called from every event loop at once. */
interface Balancer {

    /**
     * The chosen server among those {@code eligible} accepts, or null when none is left. The
     * caller acquires the server.
     */
    Server choose(List<Server> servers, Predicate<Server> eligible);
}
