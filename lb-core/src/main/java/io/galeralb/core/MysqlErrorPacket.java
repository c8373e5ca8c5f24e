package io.galeralb.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * A MySQL ERR packet sent in place of the server greeting, so that a client that cannot be
 * served gets an error it can show, not a silent close.
 *
 * <p>Before the handshake no capabilities are agreed, so the packet has no SQL state marker
 * ({@code #HY000}): exactly what mariadbd itself sends when it refuses a connection early
 * (e.g. "Too many connections"); mariadb, JDBC and PHP clients show the message as is.
 */
final class MysqlErrorPacket {

    /** ER_CON_COUNT_ERROR: what MySQL itself answers when max_connections is reached. */
    static final int TOO_MANY_CONNECTIONS = 1040;
    /**
     * ER_UNKNOWN_ERROR, the server's generic error, for "no server can take this session" (or no
     * socket to one can be opened); the message says why. Not a client-range code such as 2003:
     * libmariadb (the mariadb CLI, PHP's mysqli on it) rejects a 2xxx code in a server packet as
     * malformed and hides the message.
     */
    static final int NO_SERVER = 1105;

    private static final int MAX_MESSAGE_BYTES = 512;

    private MysqlErrorPacket() {
    }

    static ByteBuf create(ByteBufAllocator alloc, int code, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int textLength = Math.min(text.length, MAX_MESSAGE_BYTES);
        int payload = 1 + 2 + textLength;
        ByteBuf buf = alloc.buffer(4 + payload);
        buf.writeMediumLE(payload);
        buf.writeByte(0); // sequence id: the first packet of the connection
        buf.writeByte(0xFF);
        buf.writeShortLE(code);
        buf.writeBytes(text, 0, textLength);
        return buf;
    }
}
