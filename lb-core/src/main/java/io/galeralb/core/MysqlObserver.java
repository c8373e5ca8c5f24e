package io.galeralb.core;

import io.netty.buffer.ByteBuf;

/**
 * Follows one session's MySQL protocol from the bytes the relay forwards, without copying or
 * changing them, well enough to know two things at every moment: whether the session is
 * <em>between commands</em> (every command the client sent has its whole answer, and the client
 * has not begun another) and whether it is <em>outside a transaction</em> (the status flags of
 * the server's last OK or EOF). Text and binary result sets, with and without
 * {@code CLIENT_DEPRECATE_EOF} and MariaDB's metadata cache, multi-results, prepared statements,
 * pipelined commands, {@code LOAD DATA LOCAL}, {@code COM_CHANGE_USER} and packets split over
 * 16 MiB are followed.
 *
 * <p>Whatever it cannot follow makes the session <em>opaque</em> for the rest of its life, and
 * an opaque session is never judged: TLS or compression negotiated by the client, a packet that
 * does not fit the exchange, a command it does not know. It errs towards "inside a
 * transaction": after an error packet (which carries no status) with autocommit off, a
 * transaction is assumed open until the next status says otherwise.
 *
 * <p>Confined to the session's event loop. Allocates once per session (the heads of packets it
 * must read), never per packet.
 */
public final class MysqlObserver {

    /** Why a session became opaque; {@link #NONE} while it is followed. */
    public enum Opaque {
        NONE, TLS, COMPRESSION, UNCLASSIFIED, UNKNOWN_COMMAND, PIPELINE
    }

    // Capability flags (protocol::CapabilityFlags).
    static final long CLIENT_COMPRESS = 0x20;
    static final long CLIENT_PROTOCOL_41 = 0x200;
    static final long CLIENT_SSL = 0x800;
    static final long CLIENT_DEPRECATE_EOF = 1L << 24;
    /** MariaDB: no CLIENT_MYSQL in the server's capabilities means its extended ones follow. */
    static final long CLIENT_MYSQL = 1;
    static final long MARIADB_CLIENT_CACHE_METADATA = 1L << 36;
    // Server status flags.
    static final int SERVER_STATUS_IN_TRANS = 0x0001;
    static final int SERVER_STATUS_AUTOCOMMIT = 0x0002;
    static final int SERVER_MORE_RESULTS_EXISTS = 0x0008;
    // Commands.
    static final int COM_QUIT = 0x01;
    static final int COM_INIT_DB = 0x02;
    static final int COM_QUERY = 0x03;
    static final int COM_FIELD_LIST = 0x04;
    static final int COM_REFRESH = 0x07;
    static final int COM_STATISTICS = 0x09;
    static final int COM_PROCESS_KILL = 0x0C;
    static final int COM_DEBUG = 0x0D;
    static final int COM_PING = 0x0E;
    static final int COM_CHANGE_USER = 0x11;
    static final int COM_STMT_PREPARE = 0x16;
    static final int COM_STMT_EXECUTE = 0x17;
    static final int COM_STMT_SEND_LONG_DATA = 0x18;
    static final int COM_STMT_CLOSE = 0x19;
    static final int COM_STMT_RESET = 0x1A;
    static final int COM_SET_OPTION = 0x1B;
    static final int COM_STMT_FETCH = 0x1C;
    static final int COM_RESET_CONNECTION = 0x1F;
    static final int COM_STMT_BULK_EXECUTE = 0xFA;

    /** What answers a command, as far as the observer needs to tell. */
    private static final byte QUERY = 1;      // OK | ERR | LOCAL INFILE | result sets (text)
    private static final byte EXECUTE = 2;    // as QUERY, binary rows, metadata may be cached
    private static final byte PREPARE = 3;    // ERR | OK with parameter and column definitions
    private static final byte SIMPLE = 4;     // OK | ERR
    private static final byte EOF_OR_OK = 5;  // EOF | OK | ERR (COM_SET_OPTION, COM_DEBUG)
    private static final byte ANY_ONE = 6;    // one packet of any kind (COM_STATISTICS)
    private static final byte ROWS = 7;       // rows then a terminator, or ERR (COM_STMT_FETCH)
    private static final byte FIELDS = 8;     // column definitions then EOF, or ERR (COM_FIELD_LIST)
    private static final byte AUTH = 9;       // OK | ERR | auth switch / more data (COM_CHANGE_USER, login)

    // Where the answer at the head of the queue is.
    private static final int FIRST = 0;         // its first packet
    private static final int COLUMNS = 1;       // column definitions (columnsLeft of them)
    private static final int COLUMNS_EOF = 2;   // the EOF after them (no CLIENT_DEPRECATE_EOF)
    private static final int RESULT_ROWS = 3;   // rows until a terminator
    private static final int PREPARED = 4;      // definitions of a prepared statement
    private static final int INFILE = 5;        // the client sends a file; the server waits
    private static final int AUTH_CLIENT = 6;   // the client's turn in an authentication exchange
    private static final int AUTH_EITHER = 7;   // after "more data": either side may be next

    /** Room for pipelined commands (Connector/J sends PREPARE and EXECUTE, or a batch, at once). */
    private static final int MAX_PENDING = 64;
    private static final int SERVER_HEAD = 128; // a server greeting's capabilities lie this far in
    private static final int CLIENT_HEAD = 32;  // a handshake response's extended capabilities
    /** What is read of any other packet: an OK's status flags lie within its first 21 bytes. */
    private static final int PACKET_HEAD = 32;

    private final Direction fromClient = new Direction(true, CLIENT_HEAD);
    private final Direction fromServer = new Direction(false, SERVER_HEAD);
    private Opaque opaque = Opaque.NONE;
    private boolean greeted;
    private boolean loggedIn;
    private long serverCapabilities;
    private long capabilities;
    private int status;
    private boolean statusKnown;
    private boolean quit;
    /** An answer to a command after the login has been read: the client's setup is over. */
    private boolean settled;
    /** The last answer ended a transaction (COMMIT, ROLLBACK), and the client has sent nothing since. */
    private boolean transactionEnded;
    // The queue of answers awaited, oldest first, and where the oldest is.
    private final byte[] pending = new byte[MAX_PENDING];
    private int pendingHead;
    private int pendingCount;
    private int stage;
    private long columnsLeft;
    private int prepareParams;
    private int prepareColumns;
    /** The EOF after a group of a prepared statement's definitions is the next packet. */
    private boolean eofDue;

    public void fromClient(ByteBuf buf) {
        if (opaque == Opaque.NONE) {
            fromClient.read(buf);
        }
    }

    public void fromServer(ByteBuf buf) {
        if (opaque == Opaque.NONE) {
            fromServer.read(buf);
        }
    }

    public Opaque opaque() {
        return opaque;
    }

    /** Logged in, every command answered in full, and nothing of a next one sent. */
    public boolean betweenCommands() {
        return opaque == Opaque.NONE && loggedIn && pendingCount == 0 && !fromClient.inPacket() && !quit;
    }

    /** The last status the server sent says a transaction is open (or cannot say it is not). */
    public boolean inTransaction() {
        return !statusKnown || (status & SERVER_STATUS_IN_TRANS) != 0;
    }

    /**
     * Between commands, outside a transaction and followed, and past the client's first command
     * after logging in (a client sends its setup right after the login: closing before it would
     * fail the client's connect, not end a session cleanly): closing it now loses the client nothing.
     */
    public boolean atBoundary() {
        return betweenCommands() && !inTransaction() && settled;
    }

    /**
     * At a boundary that the end of a transaction made, with nothing sent since: the client has
     * just finished a unit of work, the moment a pooled connection goes back to its pool.
     */
    public boolean transactionJustEnded() {
        return atBoundary() && transactionEnded;
    }

    private void giveUp(Opaque why) {
        opaque = why;
    }

    /** Frames one direction's bytes into packets and hands each complete one to the observer. */
    private final class Direction {
        private final boolean client;
        private final byte[] head;
        private int headerBytes;
        private int header;
        private int remaining;
        private int headLength;
        private int seq;
        /** The physical packets so far of the logical one: more than one past 16 MiB. */
        private boolean continued;
        private boolean continues;
        private int firstLength;

        Direction(boolean client, int headSize) {
            this.client = client;
            this.head = new byte[headSize];
        }

        boolean inPacket() {
            return headerBytes > 0 || continues;
        }

        void read(ByteBuf buf) {
            int i = buf.readerIndex();
            int end = buf.writerIndex();
            while (i < end && opaque == Opaque.NONE) {
                if (headerBytes < 4) {
                    if (headerBytes == 0 && end - i >= 4) {
                        header = buf.getIntLE(i);
                        headerBytes = 4;
                        i += 4;
                    } else {
                        header |= (buf.getByte(i++) & 0xFF) << (8 * headerBytes);
                        headerBytes++;
                    }
                    if (headerBytes == 4) {
                        begin();
                    }
                    continue;
                }
                int n = Math.min(end - i, remaining);
                int wanted = client || !greeted ? head.length : PACKET_HEAD;
                if (!continued && headLength < wanted) {
                    int k = Math.min(n, wanted - headLength);
                    buf.getBytes(i, head, headLength, k);
                    headLength += k;
                }
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    complete();
                }
            }
        }

        private void begin() {
            int length = header & 0xFFFFFF;
            if (!continued) {
                seq = header >>> 24;
                firstLength = length;
                headLength = 0;
            }
            continues = length == 0xFFFFFF;
            remaining = length;
            if (remaining == 0) {
                complete();
            }
        }

        private void complete() {
            headerBytes = 0;
            header = 0;
            if (continues) {
                continued = true;
                return;
            }
            continued = false;
            if (client) {
                clientPacket(seq, head, headLength, firstLength);
            } else {
                serverPacket(head, headLength, firstLength);
            }
        }
    }

    // ---- The exchange ----

    private void clientPacket(int seq, byte[] p, int n, int length) {
        if (!greeted) {
            giveUp(Opaque.UNCLASSIFIED); // the server speaks first
            return;
        }
        if (!loggedIn && pendingCount == 0) {
            handshakeResponse(p, n);
            return;
        }
        if (seq == 0) {
            command(p, n, length);
            return;
        }
        // A continuation: the client's part of an exchange the server asked for.
        if (pendingCount == 0) {
            giveUp(Opaque.UNCLASSIFIED);
        } else if (stage == INFILE) {
            if (length == 0) {
                stage = FIRST; // the file has been sent: the server answers OK or ERR
            }
        } else if (stage == AUTH_CLIENT || stage == AUTH_EITHER) {
            stage = FIRST;
        } else {
            giveUp(Opaque.UNCLASSIFIED);
        }
    }

    /** The client's handshake response (or its SSL request, which is the same packet cut short). */
    private void handshakeResponse(byte[] p, int n) {
        if (n < 4) {
            giveUp(Opaque.UNCLASSIFIED);
            return;
        }
        long client = u32(p, 0);
        if ((client & CLIENT_PROTOCOL_41) == 0) {
            giveUp(Opaque.UNCLASSIFIED);
            return;
        }
        if (n >= 32 && (serverCapabilities & CLIENT_MYSQL) == 0) {
            client |= u32(p, 28) << 32;
        }
        capabilities = client & serverCapabilities;
        if ((capabilities & CLIENT_SSL) != 0) {
            giveUp(Opaque.TLS);
        } else if ((capabilities & CLIENT_COMPRESS) != 0) {
            giveUp(Opaque.COMPRESSION);
        } else {
            push(AUTH);
        }
    }

    private void command(byte[] p, int n, int length) {
        transactionEnded = false;
        if (n == 0 || !loggedIn) {
            giveUp(Opaque.UNCLASSIFIED);
            return;
        }
        switch (p[0] & 0xFF) {
            case COM_QUIT -> quit = true;
            case COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA -> { } // no answer
            case COM_QUERY -> push(QUERY);
            case COM_STMT_EXECUTE, COM_STMT_BULK_EXECUTE -> push(EXECUTE);
            case COM_STMT_PREPARE -> push(PREPARE);
            case COM_INIT_DB, COM_PING, COM_STMT_RESET, COM_RESET_CONNECTION, COM_PROCESS_KILL, COM_REFRESH ->
                    push(SIMPLE);
            case COM_SET_OPTION, COM_DEBUG -> push(EOF_OR_OK);
            case COM_STATISTICS -> push(ANY_ONE);
            case COM_STMT_FETCH -> push(ROWS);
            case COM_FIELD_LIST -> push(FIELDS);
            case COM_CHANGE_USER -> push(AUTH);
            default -> giveUp(Opaque.UNKNOWN_COMMAND);
        }
    }

    private void push(byte kind) {
        if (pendingCount == MAX_PENDING) {
            giveUp(Opaque.PIPELINE);
            return;
        }
        if (pendingCount == 0) {
            stage = FIRST;
        }
        pending[(pendingHead + pendingCount++) % MAX_PENDING] = kind;
    }

    /** The answer at the head of the queue is complete: the next one, if any, begins. */
    private void answered() {
        settled = loggedIn && pending[pendingHead] != AUTH || settled;
        pendingHead = (pendingHead + 1) % MAX_PENDING;
        pendingCount--;
        stage = FIRST;
    }

    private void serverPacket(byte[] p, int n, int length) {
        if (!greeted) {
            greeting(p, n, length);
            return;
        }
        if (pendingCount == 0 || n == 0) {
            giveUp(Opaque.UNCLASSIFIED); // the server speaks only when spoken to
            return;
        }
        int first = p[0] & 0xFF;
        byte kind = pending[pendingHead];
        switch (stage) {
            case FIRST -> firstOfAnswer(kind, first, p, n, length);
            case COLUMNS -> {
                if (--columnsLeft == 0) {
                    stage = deprecateEof() ? RESULT_ROWS : COLUMNS_EOF;
                }
            }
            case COLUMNS_EOF -> {
                if (isTerminator(first, length)) {
                    stage = RESULT_ROWS;
                } else if (first == 0xFF) {
                    error(kind);
                } else {
                    giveUp(Opaque.UNCLASSIFIED);
                }
            }
            case RESULT_ROWS -> {
                if (isTerminator(first, length)) {
                    if (terminatorStatus(p, n, length) && (status & SERVER_MORE_RESULTS_EXISTS) == 0) {
                        answered();
                    } else {
                        stage = FIRST; // the next result of a multi-result answer
                    }
                } else if (first == 0xFF) {
                    error(kind);
                }
            }
            case PREPARED -> definition(first, length);
            case AUTH_EITHER -> firstOfAnswer(kind, first, p, n, length);
            default -> giveUp(Opaque.UNCLASSIFIED); // INFILE, AUTH_CLIENT: the client's turn
        }
    }

    private void firstOfAnswer(byte kind, int first, byte[] p, int n, int length) {
        if (first == 0xFF) {
            error(kind);
            return;
        }
        switch (kind) {
            case QUERY, EXECUTE -> {
                if (first == 0x00) {
                    if (okStatus(p, n) && (status & SERVER_MORE_RESULTS_EXISTS) == 0) {
                        answered();
                    }
                } else if (first == 0xFB) {
                    stage = INFILE;
                } else {
                    resultSet(kind, p, n);
                }
            }
            case PREPARE -> {
                if (first != 0x00 || n < 9) {
                    giveUp(Opaque.UNCLASSIFIED);
                    return;
                }
                prepareColumns = u16(p, 5);
                prepareParams = u16(p, 7);
                nextDefinitions();
            }
            case SIMPLE -> {
                if (first == 0x00 && okStatus(p, n)) {
                    answered();
                } else if (first != 0x00) {
                    giveUp(Opaque.UNCLASSIFIED);
                }
            }
            case EOF_OR_OK -> {
                if (isTerminator(first, length) ? terminatorStatus(p, n, length) : first == 0x00 && okStatus(p, n)) {
                    answered();
                } else {
                    giveUp(Opaque.UNCLASSIFIED);
                }
            }
            case ANY_ONE -> answered();
            case ROWS -> {
                stage = RESULT_ROWS;
                serverPacket(p, n, length);
            }
            case FIELDS -> {
                if (isTerminator(first, length)) {
                    if (terminatorStatus(p, n, length)) {
                        answered();
                    }
                }
            }
            case AUTH -> {
                if (first == 0x00) {
                    if (okStatus(p, n)) {
                        loggedIn = true;
                        answered();
                    }
                } else if (first == 0xFE) {
                    stage = AUTH_CLIENT; // auth switch request: the client answers
                } else if (first == 0x01) {
                    stage = AUTH_EITHER; // more data: the client answers, or the server goes on
                } else {
                    giveUp(Opaque.UNCLASSIFIED);
                }
            }
            default -> giveUp(Opaque.UNCLASSIFIED);
        }
    }

    /** The column count of a result set; with the metadata cache, whether the definitions follow. */
    private void resultSet(byte kind, byte[] p, int n) {
        int size = lenencSize(p, 0, n);
        if (size < 0) {
            giveUp(Opaque.UNCLASSIFIED);
            return;
        }
        long columns = lenenc(p, 0, size);
        boolean definitions = true;
        if (kind == EXECUTE && (capabilities & MARIADB_CLIENT_CACHE_METADATA) != 0) {
            if (n <= size) {
                giveUp(Opaque.UNCLASSIFIED);
                return;
            }
            definitions = p[size] != 0;
        }
        if (columns == 0) {
            giveUp(Opaque.UNCLASSIFIED);
        } else if (definitions) {
            columnsLeft = columns;
            stage = COLUMNS;
        } else {
            stage = RESULT_ROWS; // definitions cached by the client: neither they nor their EOF come
        }
    }

    /**
     * The next group of definitions after a prepared statement's OK: its parameters, then its
     * columns (each group followed by an EOF without CLIENT_DEPRECATE_EOF); the answer ends after the last.
     */
    private void nextDefinitions() {
        eofDue = false;
        if (prepareParams > 0) {
            columnsLeft = prepareParams;
            prepareParams = 0;
            stage = PREPARED;
        } else if (prepareColumns > 0) {
            columnsLeft = prepareColumns;
            prepareColumns = 0;
            stage = PREPARED;
        } else {
            answered();
        }
    }

    private void definition(int first, int length) {
        if (columnsLeft > 0) {
            if (--columnsLeft == 0) {
                if (deprecateEof()) {
                    nextDefinitions();
                } else {
                    eofDue = true;
                }
            }
        } else if (eofDue && isTerminator(first, length)) {
            nextDefinitions();
        } else {
            giveUp(Opaque.UNCLASSIFIED);
        }
    }

    private void error(byte kind) {
        if ((kind == QUERY || kind == EXECUTE) && statusKnown && (status & SERVER_STATUS_AUTOCOMMIT) == 0) {
            status |= SERVER_STATUS_IN_TRANS; // carries no status: with autocommit off, one may be open
        }
        if (kind == AUTH && !loggedIn) {
            quit = true; // a failed login: the server closes
        }
        answered();
    }

    /** The server's first packet: its capabilities, for what the client may use of them. */
    private void greeting(byte[] p, int n, int length) {
        greeted = true;
        if (n < 1 || p[0] == (byte) 0xFF) {
            quit = true; // refused before the handshake (too many connections, host blocked)
            return;
        }
        int i = 1;
        while (i < n && p[i] != 0) {
            i++;
        }
        i++; // the version's NUL
        int low = i + 4 + 8 + 1;
        if (low + 2 > n) {
            giveUp(Opaque.UNCLASSIFIED);
            return;
        }
        long caps = u16(p, low);
        int high = low + 2 + 1 + 2;
        if (high + 2 <= n) {
            caps |= (long) u16(p, high) << 16;
        }
        int extended = high + 2 + 1 + 6;
        if ((caps & CLIENT_MYSQL) == 0) {
            if (extended + 4 <= n) {
                caps |= u32(p, extended) << 32;
            } else if (length > n) {
                giveUp(Opaque.UNCLASSIFIED); // a greeting longer than the head read: its capabilities unread
                return;
            }
        }
        serverCapabilities = caps;
    }

    private boolean deprecateEof() {
        return (capabilities & CLIENT_DEPRECATE_EOF) != 0;
    }

    /** An EOF packet, or with CLIENT_DEPRECATE_EOF the OK that ends rows: 0xFE and shorter than a row could be. */
    private static boolean isTerminator(int first, int length) {
        return first == 0xFE && length < 9;
    }

    /** The status of a terminator: an EOF packet is 5 bytes; the OK that replaces it, at least 7. */
    private boolean terminatorStatus(byte[] p, int n, int length) {
        if (length != 5) {
            return okStatus(p, n);
        }
        if (n < 5) {
            giveUp(Opaque.UNCLASSIFIED);
            return false;
        }
        setStatus(u16(p, 3)); // 0xFE, warnings, status
        return true;
    }

    /** The status flags of an OK packet: after its header and two length-encoded integers. */
    private boolean okStatus(byte[] p, int n) {
        int i = 1;
        for (int k = 0; k < 2; k++) {
            int size = lenencSize(p, i, n);
            if (size < 0) {
                giveUp(Opaque.UNCLASSIFIED);
                return false;
            }
            i += size;
        }
        if (i + 2 > n) {
            giveUp(Opaque.UNCLASSIFIED);
            return false;
        }
        setStatus(u16(p, i));
        return true;
    }

    private void setStatus(int flags) {
        if (statusKnown && (status & SERVER_STATUS_IN_TRANS) != 0 && (flags & SERVER_STATUS_IN_TRANS) == 0) {
            transactionEnded = true;
        }
        status = flags;
        statusKnown = true;
    }

    /** The size of the length-encoded integer at {@code i}, or -1 when it is not all there. */
    private static int lenencSize(byte[] p, int i, int n) {
        if (i >= n) {
            return -1;
        }
        int size = switch (p[i] & 0xFF) {
            case 0xFC -> 3;
            case 0xFD -> 4;
            case 0xFE -> 9;
            case 0xFB, 0xFF -> -1;
            default -> 1;
        };
        return size > 0 && i + size <= n ? size : -1;
    }

    private static long lenenc(byte[] p, int i, int size) {
        if (size == 1) {
            return p[i] & 0xFF;
        }
        long v = 0;
        for (int k = size - 1; k >= 1; k--) {
            v = (v << 8) | (p[i + k] & 0xFF);
        }
        return v;
    }

    private static int u16(byte[] p, int i) {
        return (p[i] & 0xFF) | (p[i + 1] & 0xFF) << 8;
    }

    private static long u32(byte[] p, int i) {
        return (u16(p, i) | (long) u16(p, i + 2) << 16) & 0xFFFFFFFFL;
    }
}
