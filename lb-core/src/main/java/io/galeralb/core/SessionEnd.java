package io.galeralb.core;

import io.netty.util.AttributeKey;
import java.util.Locale;

/** Why a session ended: the session log's fixed vocabulary (HAProxy's termination state, in words). */
public enum SessionEnd {
    /** The client closed, or the server closed right after the client's last request (COM_QUIT). */
    CLIENT_CLOSED,
    /** The server closed while the client was not waiting for it (KILL, wait_timeout, a node going away). */
    SERVER_CLOSED,
    CLIENT_IDLE,
    SERVER_IDLE,
    FIN_TIMEOUT,
    /** Its server went DOWN and the listener shuts down sessions of a DOWN server. */
    SERVER_DOWN,
    MAINT,
    /** A drain that closes idle sessions ({@code drain --close-idle}) closed it at a transaction boundary. */
    DRAIN,
    /** Closed at a transaction boundary so that its pool reconnects to a less loaded server ({@code rebalance}). */
    REBALANCE,
    /** The writer moved (switchover, failover, failback) and the old writer's sessions were closed. */
    SWITCHOVER,
    /** A reload removed its server or listener, and drain-timeout ran out. */
    RELOAD_REMOVED,
    SHUTDOWN,
    REFUSED_NO_SERVER,
    REFUSED_MAX_CONNECTIONS,
    REFUSED_NO_SOCKET;

    /** Set on a client channel by whoever closes it from outside its session, before the close. */
    static final AttributeKey<SessionEnd> FORCED = AttributeKey.valueOf("galera-lb.session-end");

    /** As the log and labels write it: {@code client_closed}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A session that ended as sessions do: one side closed. */
    public boolean normal() {
        return this == CLIENT_CLOSED || this == SERVER_CLOSED;
    }
}
