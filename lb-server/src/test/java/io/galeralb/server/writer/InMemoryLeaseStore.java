package io.galeralb.server.writer;

import io.galeralb.config.HealthConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.config.WriterLeaseConfig;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A lease table in memory that several elections share, each through a view of its own holder;
 * the test plays the cluster: it can change the table between a read and a write, abort a write
 * as Galera aborts a certification conflict, or make the table unreadable.
 */
final class InMemoryLeaseStore {

    /** Runs before each compare-and-set; returning false aborts it (a deadlock: nothing written). */
    interface BeforeWrite {
        boolean proceed(int writeNumber);
    }

    private final Map<String, LeaseStore.Lease> rows = new HashMap<>();
    private BeforeWrite beforeWrite = n -> true;
    private String unreadable;
    private int writes;

    synchronized void beforeWrite(BeforeWrite hook) {
        this.beforeWrite = hook;
    }

    /** Every call fails with {@code why} until called with null. */
    synchronized void unreadable(String why) {
        this.unreadable = why;
    }

    /** Writes a row as another instance would, by compare-and-set. */
    synchronized boolean write(String listener, long expectedEpoch, String writer, String holder, String reason) {
        LeaseStore.Lease now = rows.get(listener);
        long epoch = now == null ? 0 : now.epoch();
        if (epoch != expectedEpoch) {
            return false;
        }
        rows.put(listener, new LeaseStore.Lease(writer, holder, epoch + 1, Instant.now(), reason));
        return true;
    }

    synchronized Optional<LeaseStore.Lease> row(String listener) {
        return Optional.ofNullable(rows.get(listener));
    }

    /** Opens views for elections: {@code InMemoryLeaseStore::open} is a {@link LeaseStore.Opener}. */
    LeaseStore open(String listener, WriterLeaseConfig table, HealthConfig health, String holder) {
        return new LeaseStore() {
            private volatile boolean aborted;

            @Override
            public Optional<Lease> read(List<ServerConfig> via) throws UnavailableException {
                synchronized (InMemoryLeaseStore.this) {
                    check(via);
                    return row(listener);
                }
            }

            @Override
            public boolean compareAndSet(List<ServerConfig> via, long expectedEpoch, String writer, String reason)
                    throws UnavailableException {
                synchronized (InMemoryLeaseStore.this) {
                    check(via);
                    if (!beforeWrite.proceed(++writes)) {
                        return false;
                    }
                    return write(listener, expectedEpoch, writer, holder, reason);
                }
            }

            private void check(List<ServerConfig> via) throws UnavailableException {
                if (aborted) {
                    throw new UnavailableException("writer lease closed");
                }
                if (via.isEmpty()) {
                    throw new UnavailableException("no server is UP to read the writer lease from");
                }
                if (unreadable != null) {
                    throw new UnavailableException(unreadable);
                }
            }

            @Override
            public void abort() {
                aborted = true;
            }

            @Override
            public void close() {
            }
        };
    }
}
