package io.galeralb.server.writer;

import io.galeralb.config.Balance;
import io.galeralb.core.Listener;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The writer elections of one process, one per {@code balance: first} listener. Read from any
 * thread (health transitions poke them); started and stopped by the owner's start, reloads and
 * shutdown, which it does not run concurrently.
 */
public final class WriterElections implements AutoCloseable {

    private final Map<String, WriterElection> elections = new ConcurrentHashMap<>();
    private final Supplier<String> holderName;
    /** Who this instance is in writer leases; named at the first election, then kept. */
    private String holder;

    /** @param holderName names this instance for the lease (host, PID, admin address) */
    public WriterElections(Supplier<String> holderName) {
        this.holderName = Objects.requireNonNull(holderName, "holderName");
    }

    /** Starts the election of {@code listener}: its first step has run (a writer chosen) when this returns. */
    public void start(Listener listener) throws InterruptedException {
        if (holder == null) {
            holder = holderName.get();
        }
        WriterElection election = WriterElection.of(listener, holder);
        elections.put(listener.name(), election);
        election.stepNow();
        election.start();
    }

    public void stop(String listener) {
        WriterElection election = elections.remove(listener);
        if (election != null) {
            election.close();
        }
    }

    /** After a reload: starts or stops the elections of listeners whose balance changed to or from first, pokes the rest. */
    public void sync(Collection<Listener> listeners) throws InterruptedException {
        for (Listener l : listeners) {
            boolean first = l.config().balance() == Balance.FIRST;
            WriterElection running = elections.get(l.name());
            if (first && running == null) {
                start(l);
            } else if (!first && running != null) {
                stop(l.name());
            } else if (running != null) {
                running.poke();
            }
        }
    }

    /** Asks the election of {@code listener}, if it has one, for a step now (something it depends on changed). */
    public void poke(String listener) {
        WriterElection election = elections.get(listener);
        if (election != null) {
            election.poke();
        }
    }

    public Optional<WriterElection> of(String listener) {
        return Optional.ofNullable(elections.get(listener));
    }

    /** Each election's state, by listener. */
    public Map<String, WriterElection.State> states() {
        Map<String, WriterElection.State> states = new LinkedHashMap<>();
        elections.forEach((name, e) -> states.put(name, e.state()));
        return states;
    }

    @Override
    public void close() {
        elections.keySet().forEach(this::stop);
    }
}
