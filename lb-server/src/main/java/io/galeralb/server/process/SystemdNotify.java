package io.galeralb.server.process;

import io.galeralb.core.LogLimit;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd's notification protocol ({@code sd_notify}): datagrams of {@code KEY=VALUE} lines sent
 * to the Unix socket named by {@code $NOTIFY_SOCKET}, over a Netty epoll datagram channel
 * connected to it (no {@code systemd-notify} process). Without {@code $NOTIFY_SOCKET} every call does nothing. With
 * {@code $WATCHDOG_USEC}, {@code WATCHDOG=1} is sent every half of it, but only while every I/O
 * thread runs a task given to it: a stuck event loop stops the pings and systemd restarts
 * galera-lb.
 */
public final class SystemdNotify implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);
    static final SystemdNotify NONE = new SystemdNotify(null, null, null);

    private final EventLoopGroup group;
    private final Channel channel;
    private final DomainSocketAddress target;
    private final LogLimit failures = new LogLimit(Duration.ofMinutes(1));

    private SystemdNotify(EventLoopGroup group, Channel channel, DomainSocketAddress target) {
        this.group = group;
        this.channel = channel;
        this.target = target;
    }

    /** The notifier $NOTIFY_SOCKET asks for, or {@link #NONE}. */
    public static SystemdNotify fromEnvironment(Map<String, String> env) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isBlank()) {
            return NONE;
        }
        if (socket.startsWith("@")) {
            log.warn("NOTIFY_SOCKET {} is in the abstract namespace, which galera-lb cannot send to: no readiness "
                    + "notifications (use Type=simple, or a path)", socket);
            return NONE;
        }
        if (!Epoll.isAvailable()) {
            log.warn("NOTIFY_SOCKET is set but the epoll transport is not available here: no readiness notifications");
            return NONE;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("systemd-notify", true),
                EpollIoHandler.newFactory());
        EpollDomainDatagramChannel ch = new EpollDomainDatagramChannel();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter());
        DomainSocketAddress target = new DomainSocketAddress(socket);
        ChannelFuture ready = group.register(ch).awaitUninterruptibly();
        if (ready.isSuccess()) {
            ready = ch.connect(target).awaitUninterruptibly();
        }
        if (!ready.isSuccess()) {
            ch.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            log.warn("cannot reach NOTIFY_SOCKET {}: {}; no readiness notifications", socket, ready.cause().toString());
            return NONE;
        }
        return new SystemdNotify(group, ch, target);
    }

    /** Sends {@code lines} ({@code READY=1}, {@code STATUS=...}) as one datagram; failures are logged, never thrown. */
    void send(String... lines) {
        if (channel == null) {
            return;
        }
        byte[] bytes = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
        channel.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener(f -> {
            if (!f.isSuccess() && failures.count() > 0) {
                log.warn("cannot notify systemd at {}: {}", target.path(), f.cause().toString());
            }
        });
    }

    /** {@code MONOTONIC_USEC} for {@code RELOADING=1}: CLOCK_MONOTONIC, which System.nanoTime reads on Linux. */
    static String monotonicUsec() {
        return "MONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
    }

    /**
     * Starts the watchdog pings when {@code $WATCHDOG_USEC} asks for them (and {@code $WATCHDOG_PID},
     * if set, is this process): {@code WATCHDOG=1} every half period, each only once
     * {@code turning} has completed within that half period.
     */
    public void startWatchdog(Map<String, String> env, Supplier<CompletableFuture<Void>> turning) {
        String usec = env.get("WATCHDOG_USEC");
        String pid = env.get("WATCHDOG_PID");
        if (channel == null || usec == null || pid != null && !pid.equals(Long.toString(ProcessHandle.current().pid()))) {
            return;
        }
        Duration period;
        try {
            period = Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(Long.parseLong(usec.trim())) / 2);
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC={} is not a number: no watchdog pings", usec);
            return;
        }
        long millis = Math.max(1, period.toMillis());
        group.scheduleAtFixedRate(() -> turning.get().orTimeout(millis, TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            if (e == null) {
                send("WATCHDOG=1");
            } else {
                log.warn("an I/O thread did not run a task within {} ms: no watchdog ping", millis);
            }
        }), 0, millis, TimeUnit.MILLISECONDS);
        log.info("systemd watchdog: a ping every {} ms while the I/O threads turn", millis);
    }

    @Override
    public void close() {
        if (group != null) {
            channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }
}
