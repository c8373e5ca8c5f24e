package io.galeralb.server.writer;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.WriterLeaseConfig;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the writer of one {@code balance: first} listener is recorded for every galera-lb
 * instance that shares it, changed only by compare-and-set on its epoch. {@link JdbcLeaseStore}
 * keeps it in the Galera cluster itself; tests use one in memory.
 *
 * <p>Called from the election's own thread only; {@link #abort()} and {@link #close()} from any.
 */
public interface LeaseStore extends AutoCloseable {

    /** What the store says: the writer, who recorded it, its epoch (1 for the first record), when and why. */
    record Lease(String writer, String holder, long epoch, Instant changedAt, String reason) {
    }

    /** The lease could not be read or written: no node answered, or the one that did refused. */
    final class UnavailableException extends Exception {
        public UnavailableException(String message) {
            super(message);
        }
    }

    /** Opens the store of one listener; {@link JdbcLeaseStore#JdbcLeaseStore} is one. */
    @FunctionalInterface
    interface Opener {
        LeaseStore open(String listener, WriterLeaseConfig table, HealthConfig health, String holder);
    }

    /**
     * Reads the lease through the first of {@code via} that answers (the listener's UP servers,
     * best first). Empty when no writer was ever recorded for this listener.
     */
    Optional<Lease> read(List<ServerConfig> via) throws UnavailableException;

    /**
     * Records {@code writer} if the lease is still at {@code expectedEpoch} (0: no lease yet).
     *
     * @return true if this change won; false if another change came first
     */
    boolean compareAndSet(List<ServerConfig> via, long expectedEpoch, String writer, String reason)
            throws UnavailableException;

    /** Stops at once: the call in flight fails, and so does every later one. */
    void abort();

    @Override
    void close();
}
