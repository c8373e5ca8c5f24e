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
        List<Server> list = new ArrayList<>();
        for (ServerConfig c : configs) {
            list.add(new Server(c));
        }
        this.servers = List.copyOf(list);
        this.balancer = switch (balance) {
            case LEASTCONN -> new LeastConnBalancer();
            case ROUNDROBIN -> new RoundRobinBalancer(servers);
        };
    }

    public List<Server> servers() {
        return servers;
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

    /** Picks and acquires an up server not in {@code tried}; null when none is left. */
    Server pick(Set<Server> tried) {
        Server s = balancer.choose(servers, candidate -> candidate.isUp() && !tried.contains(candidate));
        if (s != null) {
            s.acquire();
        }
        return s;
    }
}
