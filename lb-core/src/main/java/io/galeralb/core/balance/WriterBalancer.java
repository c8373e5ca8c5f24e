package io.galeralb.core.balance;

import io.galeralb.core.Server;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * {@code balance: first}: every session goes to the pool's writer, or nowhere. The writer is
 * chosen outside lb-core (by priority, stickiness and, with a lease, agreement with other
 * instances) and set on the pool; a failed connect to it is not retried on another server,
 * which would make a second writer.
 */
public final class WriterBalancer implements Balancer {

    private final Supplier<Server> writer;

    public WriterBalancer(Supplier<Server> writer) {
        this.writer = writer;
    }

    @Override
    public Server acquire(List<Server> servers, Predicate<Server> eligible) {
        Server w = writer.get();
        if (w == null || !eligible.test(w)) {
            return null;
        }
        w.acquire();
        return w;
    }
}
