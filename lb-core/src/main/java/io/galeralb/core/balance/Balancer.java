package io.galeralb.core.balance;

import io.galeralb.core.Server;
import java.util.List;
import java.util.function.Predicate;

/** Chooses a server for a new session. Called from every event loop at once. */
public interface Balancer {

    /**
     * Chooses a server among those {@code eligible} accepts and counts the new session on it
     * ({@link Server#acquire}); null when none is left.
     */
    Server acquire(List<Server> servers, Predicate<Server> eligible);
}
