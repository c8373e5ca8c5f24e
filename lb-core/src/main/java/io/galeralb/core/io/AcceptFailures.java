package io.galeralb.core.io;

import io.galeralb.core.LogLimit;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failures to accept on a listening socket. Out of file descriptors, the peer stays in the
 * kernel's backlog and the socket stays readable: accepting pauses for a second (as Netty's own
 * acceptor does; the loop would spin otherwise), and the operator is told which limit to raise,
 * at most once per interval. Handled here, so Netty does not log each one with a stack trace as
 * an exception nobody handled.
 */
public final class AcceptFailures extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AcceptFailures.class);

    private final Supplier<String> name;
    private final String peers;
    private final LogLimit logLimit;

    /**
     * @param name  what accepts, for the log line (a listener's name, "admin API")
     * @param peers what it accepts, for the log line ("clients", "connections")
     */
    public AcceptFailures(Supplier<String> name, String peers, Duration logInterval) {
        this.name = name;
        this.peers = peers;
        this.logLimit = new LogLimit(logInterval);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelConfig server = ctx.channel().config();
        if (server.isAutoRead()) {
            server.setAutoRead(false);
            ctx.channel().eventLoop().schedule(() -> server.setAutoRead(true), 1, TimeUnit.SECONDS);
        }
        if (logLimit.count() > 0) {
            log.warn("{}: cannot accept {}: {}; they wait in the listen backlog, tried again every second", name.get(),
                    peers, OpenFiles.exhausted(cause).orElse(cause.toString()));
        }
    }
}
