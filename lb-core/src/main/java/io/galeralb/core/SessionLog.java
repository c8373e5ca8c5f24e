package io.galeralb.core;

import io.galeralb.config.SessionLogMode;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per session when it ends, on its own logger ({@value #LOGGER}) so that it can go to a
 * file, syslog or JSON apart from the rest (HAProxy's {@code tcplog} is the model). The line's
 * fields are also key-value pairs for structured encoders.
 */
final class SessionLog {

    static final String LOGGER = "galera-lb.session";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private SessionLog() {
    }

    static void ended(SessionLogMode mode, String listener, InetSocketAddress client, Server server,
                      long connectNanos, long durationNanos, long bytesIn, long bytesOut, SessionEnd end) {
        if (mode == SessionLogMode.OFF || (mode == SessionLogMode.ERRORS && end.normal()) || !log.isInfoEnabled()) {
            return;
        }
        String clientText = client == null ? "-" : client.getAddress().getHostAddress() + ":" + client.getPort();
        String serverName = server == null ? "-" : server.name();
        long connectMs = connectNanos < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(connectNanos);
        long durationMs = TimeUnit.NANOSECONDS.toMillis(durationNanos);
        log.atInfo().addKeyValue("listener", listener).addKeyValue("client", clientText)
                .addKeyValue("server", serverName).addKeyValue("connect_ms", connectMs)
                .addKeyValue("duration_ms", durationMs).addKeyValue("bytes_in", bytesIn)
                .addKeyValue("bytes_out", bytesOut).addKeyValue("end", end.label())
                .log("{} {} -> {} connect={}ms duration={}ms in={} out={} end={}", listener, clientText, serverName,
                        connectMs, durationMs, bytesIn, bytesOut, end.label());
    }
}
