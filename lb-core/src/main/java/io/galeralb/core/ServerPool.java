package io.galeralb.core;

import io.galeralb.config.Balance;
import io.galeralb.config.ServerConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/** The servers of one listener and the balancer that chooses among them. */
public final class ServerPool {

    private final List<Server> servers;
    private final Balancer balancer;

    ServerPool(Collection<ServerConfig> configs, Balance balance) {
        this(configs.stream().map(Server::new).toList(), balance);
    }

    private ServerPool(List<Server> servers, Balance balance) {
        this.servers = List.copyOf(servers);
        this.balancer = switch (balance) {
            case LEASTCONN -> new LeastConnBalancer();
            case ROUNDROBIN -> new RoundRobinBalancer(servers);
        };
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
        return new ServerPool(list, balance);
    }

    /** The server of that name. */
    public Server server(String name) {
        for (Server s : servers) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no server " + name);
    }

    /** Picks and acquires a server that takes sessions and is not in {@code tried}; null when none is left. */
    Server pick(Set<Server> tried) {
        return balancer.acquire(servers, candidate -> candidate.takesSessions() && !tried.contains(candidate));
    }
}
