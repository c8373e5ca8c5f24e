package io.galeralb.server;

import io.galeralb.config.HostPort;
import io.galeralb.core.Listener;
import io.galeralb.core.Server;
import io.galeralb.health.ListenerHealth;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCacheEntry;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live DNS: the servers of a listener with a {@code resolve-interval} whose address is a host
 * name are looked up again every interval, or sooner when the answer's TTL is shorter (never
 * more often than every second), on one thread of their own, with Netty's DNS resolver (the
 * system's name servers, search domains and hosts file, or {@code dns.nameservers}).
 * A new address takes the new sessions and the checks; open sessions stay where they are. A
 * failed lookup keeps the last good address: logged once until the name resolves again, and
 * shown in {@code /status}.
 */
public final class AddressWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AddressWatch.class);
    /** How often due lookups are looked for: the finest resolve-interval is 1s. */
    private static final long TICK_MILLIS = 250;
    private static final Duration MAX_QUERY_TIMEOUT = Duration.ofSeconds(5);
    private static final long MIN_TTL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One listener as served now: its servers and the checks that must follow their addresses. */
    record Watched(Listener listener, ListenerHealth health) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("dns", true),
            NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private volatile List<Watched> watched = List.of();
    private volatile List<HostPort> nameservers = List.of();
    // Confined to the loop:
    private DnsNameResolver resolver;
    private List<HostPort> resolverNameservers;
    /** When each listener/server/host is next due (System.nanoTime); its lookup in flight or not. */
    private final Map<String, Long> due = new HashMap<>();
    /** Names whose last lookup failed: the failure is logged once, the recovery once. */
    private final Map<String, String> failing = new HashMap<>();
    /** The TTLs of the answers, as the resolver caches them (nothing is cached: each lookup asks). */
    private final TtlRecorder ttls = new TtlRecorder();

    AddressWatch() {
        loop.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** What is served now (after a start or a reload) and the name servers to ask (empty: the system's). */
    void update(List<Watched> now, List<HostPort> servers) {
        watched = List.copyOf(now);
        nameservers = List.copyOf(servers);
    }

    private void tick() {
        long now = System.nanoTime();
        Map<String, Long> stillDue = new HashMap<>();
        for (Watched w : watched) {
            Duration interval = w.listener().config().resolveInterval();
            if (interval.isZero()) {
                continue;
            }
            for (Server s : w.listener().pool().servers()) {
                HostPort hp = s.config().address();
                if (isLiteral(hp.host())) {
                    continue;
                }
                String key = w.listener().name() + "/" + s.name() + "/" + hp;
                long next = due.getOrDefault(key, now);
                if (now - next >= 0) {
                    next = now + interval.toNanos(); // brought forward by a shorter TTL when the answer comes
                    lookUp(w, s, hp, key);
                }
                stillDue.put(key, next);
            }
        }
        due.clear();
        due.putAll(stillDue);
        failing.keySet().retainAll(stillDue.keySet());
    }

    private void lookUp(Watched w, Server s, HostPort hp, String key) {
        DnsNameResolver r = resolver();
        long asked = System.nanoTime();
        r.resolveAll(hp.host()).addListener(f -> {
            long ttl = ttls.take(hp.host());
            if (ttl >= 0) {
                long sooner = asked + Math.max(MIN_TTL_NANOS, TimeUnit.SECONDS.toNanos(ttl));
                due.computeIfPresent(key, (k, next) -> sooner - next < 0 ? sooner : next);
            }
            String where = w.listener().name() + "/" + s.name();
            if (!f.isSuccess() || ((List<?>) f.getNow()).isEmpty()) {
                String why = f.cause() == null ? "no address" : f.cause().getMessage();
                s.addressLookupFailed("cannot resolve " + hp.host() + ": " + why + "; keeping " + shown(s.address()));
                if (!why.equals(failing.put(key, why))) {
                    log.warn("{}: cannot resolve {} ({}); new sessions and checks still go to {}", where, hp.host(),
                            why, shown(s.address()));
                }
                return;
            }
            @SuppressWarnings("unchecked")
            List<InetAddress> found = (List<InetAddress>) f.getNow();
            InetAddress current = s.address().getAddress();
            // The address in use while it is still among the answers: no flapping between records.
            InetAddress chosen = found.contains(current) ? current : found.get(0);
            InetSocketAddress next = new InetSocketAddress(chosen, hp.port());
            if (failing.remove(key) != null) {
                log.info("{}: {} resolves again", where, hp.host());
            }
            String was = shown(s.address());
            if (s.connectTo(next)) {
                log.info("{}: {} now resolves to {} (was {}): new sessions and checks go there, {} open session(s) "
                        + "stay", where, hp.host(), chosen.getHostAddress(), was, s.activeSessions());
            }
            w.health().connectTo(s.name(), next);
        });
    }

    /** The resolver for the configured name servers, made again when they change. */
    private DnsNameResolver resolver() {
        List<HostPort> wanted = nameservers;
        if (resolver == null || !wanted.equals(resolverNameservers)) {
            if (resolver != null) {
                resolver.close();
            }
            DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                    .datagramChannelType(NioDatagramChannel.class)
                    .socketChannelType(NioSocketChannel.class)
                    .resolveCache(ttls)
                    .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                    .queryTimeoutMillis(MAX_QUERY_TIMEOUT.toMillis());
            b.nameServerProvider(wanted.isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
                    : new SequentialDnsServerAddressStreamProvider(wanted.stream()
                    .map(h -> new InetSocketAddress(h.host(), h.port())).toArray(InetSocketAddress[]::new)));
            resolver = b.build();
            resolverNameservers = wanted;
        }
        return resolver;
    }

    /**
     * A resolver cache that caches nothing (every lookup asks the name servers) and keeps the
     * shortest TTL of each name's answers, for the next lookup to come no later than it.
     * Confined to the watch's loop, as the resolver is.
     */
    private static final class TtlRecorder implements DnsCache {
        private final Map<String, Long> shortest = new HashMap<>();

        /** The shortest TTL (seconds) of the answers for {@code host} (or a name it expanded to); -1: none. */
        long take(String host) {
            String h = normal(host);
            long ttl = -1;
            for (var it = shortest.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals(h) || e.getKey().startsWith(h + ".")) {
                    ttl = ttl < 0 ? e.getValue() : Math.min(ttl, e.getValue());
                    it.remove();
                }
            }
            return ttl;
        }

        private static String normal(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
        }

        @Override
        public void clear() {
            shortest.clear();
        }

        @Override
        public boolean clear(String hostname) {
            return shortest.remove(normal(hostname)) != null;
        }

        @Override
        public List<? extends DnsCacheEntry> get(String hostname, DnsRecord[] additionals) {
            return List.of();
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, InetAddress address, long originalTtl,
                                   EventLoop loop) {
            shortest.merge(normal(hostname), originalTtl, Math::min);
            return new Entry(address, null);
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, Throwable cause, EventLoop loop) {
            return new Entry(null, cause);
        }

        private record Entry(InetAddress address, Throwable cause) implements DnsCacheEntry {
        }
    }

    /** An address as the log shows it: the IP, or "unresolved" for a name that never resolved. */
    public static String shown(InetSocketAddress a) {
        return a.getAddress() == null ? "unresolved" : a.getAddress().getHostAddress();
    }

    private static boolean isLiteral(String host) {
        return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    @Override
    public void close() {
        loop.execute(() -> {
            if (resolver != null) {
                resolver.close();
            }
        });
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
