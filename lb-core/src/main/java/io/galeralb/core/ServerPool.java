package io.galeralb.core;

import io.galeralb.config.Balance;
import io.galeralb.config.ListenerConfig;
import io.galeralb.config.ServerConfig;
import io.galeralb.core.balance.Balancer;
import io.galeralb.core.balance.LeastConnBalancer;
import io.galeralb.core.balance.RoundRobinBalancer;
import io.galeralb.core.balance.WriterBalancer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** The servers of one listener and the balancer that chooses among them. */
public final class ServerPool {

    private static final String NO_WRITER_YET = "no writer chosen yet";

    private final List<Server> servers;
    private final Balance balance;
    private final Balancer balancer;
    /** {@code balance: first}: where every new session goes; null while there is none. */
    private volatile Server writer;
    private volatile String noWriterReason = NO_WRITER_YET;
    /**
     * While the next writer is being chosen (a switchover, the writer just went DOWN, a reload
     * made this pool), new sessions wait for it instead of being refused.
     */
    private volatile boolean holding;

    ServerPool(Collection<ServerConfig> configs, Balance balance) {
        this(configs.stream().map(Server::new).toList(), balance);
    }

    /** A pool of {@code listener}'s servers outside any listener (tests, tools): its servers start DOWN. */
    public static ServerPool of(ListenerConfig listener) {
        return new ServerPool(listener.servers().values(), listener.balance());
    }

    private ServerPool(List<Server> servers, Balance balance) {
        this.servers = List.copyOf(servers);
        this.balance = balance;
        this.balancer = switch (balance) {
            case LEASTCONN -> new LeastConnBalancer();
            case ROUNDROBIN -> new RoundRobinBalancer(servers);
            case FIRST -> new WriterBalancer(() -> writer);
        };
    }

    public Balance balance() {
        return balance;
    }

    /** {@code balance: first}: the server every new session goes to, if there is one. */
    public Optional<Server> writer() {
        return Optional.ofNullable(writer);
    }

    /** Makes {@code server}, one of this pool's, the writer; new sessions go there from now on. */
    public void writer(Server server) {
        if (!servers.contains(Objects.requireNonNull(server, "server"))) {
            throw new IllegalArgumentException(server.name() + " is not a server of this pool");
        }
        writer = server;
        noWriterReason = "";
    }

    /** Leaves the pool without a writer: new sessions are refused with {@code reason}. */
    public void noWriter(String reason) {
        writer = null;
        noWriterReason = Objects.requireNonNull(reason, "reason");
    }

    /** Why there is no writer ({@code balance: first}); empty while there is one. */
    public String noWriterReason() {
        return noWriterReason;
    }

    /** While true, sessions that find no writer wait for one (up to the connect timeout). */
    public void holdNewSessions(boolean hold) {
        holding = hold;
    }

    boolean holdsNewSessions() {
        return holding;
    }

    /** Why no server could be picked, leaving out those in {@code tried} (their connect failures say why). */
    String unavailable(Set<Server> tried) {
        if (balance == Balance.FIRST) {
            Server w = writer;
            if (w == null) {
                return "no writer: " + noWriterReason;
            }
            return tried.contains(w) ? "" : "writer " + w.name() + ": " + w.unavailableReason();
        }
        return reasons(tried);
    }

    /** Each server's state for messages ("node1: DOWN (...), node2: UP"), leaving out those in {@code except}. */
    public String reasons(Set<Server> except) {
        List<String> reasons = new ArrayList<>();
        for (Server s : servers) {
            if (!except.contains(s)) {
                reasons.add(s.name() + ": " + s.unavailableReason());
            }
        }
        return String.join(", ", reasons);
    }

    public List<Server> servers() {
        return servers;
    }

    /**
     * The pool a reload gives: servers that stay (same name and address) are the same objects,
     * with their state, counters and sessions, and take their new weight; new servers start DOWN
     * with {@code newServerReason} until their first check; servers that go are left out.
     */
    ServerPool next(Collection<ServerConfig> configs, Balance balance, String newServerReason) {
        List<Server> list = new ArrayList<>();
        for (ServerConfig c : configs) {
            Server kept = servers.stream()
                    .filter(s -> s.name().equals(c.name()) && s.config().address().equals(c.address()))
                    .findFirst().orElse(null);
            if (kept != null) {
                kept.reconfigure(c);
                list.add(kept);
            } else {
                Server fresh = new Server(c);
                fresh.markDown(newServerReason);
                list.add(fresh);
            }
        }
        ServerPool next = new ServerPool(list, balance);
        Server w = writer;
        if (balance == Balance.FIRST && this.balance == Balance.FIRST && w != null && list.contains(w)) {
            next.writer(w);
        } else if (balance == Balance.FIRST) {
            // Until the writer election has looked at the new pool, sessions wait rather than fail.
            next.holdNewSessions(true);
        }
        return next;
    }

    /** The server of that name. */
    public Server server(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("no server " + name));
    }

    /** The server of that name, if this pool has one (a reload may have removed it). */
    public Optional<Server> find(String name) {
        for (Server s : servers) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** The servers' names, for messages: "node1, node2, node3". */
    public String names() {
        return String.join(", ", servers.stream().map(Server::name).toList());
    }

    /** Picks and acquires a server that takes sessions and is not in {@code tried}; null when none is left. */
    public Server pick(Set<Server> tried) {
        return balancer.acquire(servers, candidate -> candidate.takesSessions() && !tried.contains(candidate));
    }
}
