package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The observer on exchanges written byte by byte after the protocol's description; every one is
 * also replayed split at every position, which must not change a verdict. The same on real
 * sessions recorded through galera-lb: ObserverClusterTest in lb-server.
 */
class MysqlObserverTest {

    static final long DEPRECATE_EOF = MysqlObserver.CLIENT_DEPRECATE_EOF;
    static final int IN_TRANS = MysqlObserver.SERVER_STATUS_IN_TRANS;
    static final int AUTOCOMMIT = MysqlObserver.SERVER_STATUS_AUTOCOMMIT;
    static final int MORE = MysqlObserver.SERVER_MORE_RESULTS_EXISTS;

    /** A transcript: chunks from either side, and after some of them the verdict expected. */
    static final class Transcript {
        final List<byte[]> chunks = new ArrayList<>();
        final List<Boolean> fromClient = new ArrayList<>();
        final List<String> expected = new ArrayList<>();
        int clientSeq;
        int serverSeq;

        Transcript client(int seq, byte[] payload) {
            return add(true, packet(seq, payload));
        }

        Transcript server(int seq, byte[] payload) {
            return add(false, packet(seq, payload));
        }

        Transcript add(boolean client, byte[] bytes) {
            chunks.add(bytes);
            fromClient.add(client);
            expected.add(null);
            return this;
        }

        /** The verdict after the last chunk: "idle in-tx", "idle no-tx", "busy", or "opaque TLS". */
        Transcript expect(String verdict) {
            expected.set(expected.size() - 1, verdict);
            return this;
        }

        /** Standard login: greeting with {@code serverCaps}, response with {@code clientCaps}, OK. */
        static Transcript login(long serverCaps, long clientCaps) {
            return new Transcript().server(0, greeting(serverCaps)).client(1, handshakeResponse(clientCaps))
                    .expect("busy").server(2, ok(AUTOCOMMIT)).expect("idle no-tx");
        }

        Transcript query(String sql) {
            return client(0, command(MysqlObserver.COM_QUERY, sql)).expect("busy");
        }
    }

    static String verdict(MysqlObserver o) {
        if (o.opaque() != MysqlObserver.Opaque.NONE) {
            return "opaque " + o.opaque();
        }
        if (!o.betweenCommands()) {
            return "busy";
        }
        return o.inTransaction() ? "idle in-tx" : "idle no-tx";
    }

    /** Replays {@code t} with every chunk whole, then split at every position of the whole stream. */
    static void check(Transcript t) {
        replay(t, -1);
        int total = t.chunks.stream().mapToInt(c -> c.length).sum();
        for (int split = 1; split < total; split++) {
            replay(t, split);
        }
    }

    private static void replay(Transcript t, int split) {
        MysqlObserver o = new MysqlObserver();
        int offset = 0;
        for (int i = 0; i < t.chunks.size(); i++) {
            byte[] c = t.chunks.get(i);
            boolean client = t.fromClient.get(i);
            if (split > offset && split < offset + c.length) {
                feed(o, client, c, 0, split - offset);
                feed(o, client, c, split - offset, c.length - (split - offset));
            } else {
                feed(o, client, c, 0, c.length);
            }
            offset += c.length;
            if (t.expected.get(i) != null) {
                assertThat(verdict(o)).as("after chunk %d (split at %d)", i, split).isEqualTo(t.expected.get(i));
            }
        }
    }

    private static void feed(MysqlObserver o, boolean client, byte[] c, int from, int length) {
        ByteBuf b = Unpooled.wrappedBuffer(c, from, length);
        int before = b.readerIndex();
        if (client) {
            o.fromClient(b);
        } else {
            o.fromServer(b);
        }
        assertThat(b.readerIndex()).as("not a byte consumed").isEqualTo(before);
        b.release();
    }

    // ---- Packets ----

    static byte[] packet(int seq, byte[] payload) {
        byte[] p = new byte[4 + payload.length];
        p[0] = (byte) payload.length;
        p[1] = (byte) (payload.length >>> 8);
        p[2] = (byte) (payload.length >>> 16);
        p[3] = (byte) seq;
        System.arraycopy(payload, 0, p, 4, payload.length);
        return p;
    }

    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] le16(int v) {
        return bytes(v, v >>> 8);
    }

    static byte[] le32(long v) {
        return bytes((int) v, (int) (v >>> 8), (int) (v >>> 16), (int) (v >>> 24));
    }

    /** MariaDB 10.11's greeting: no CLIENT_MYSQL, so the extended capabilities follow. */
    static byte[] greeting(long caps) {
        return concat(bytes(10), "10.11.13-MariaDB-log".getBytes(StandardCharsets.US_ASCII), bytes(0), le32(42),
                new byte[8], bytes(0), le16((int) caps & 0xFFFF), bytes(45), le16(AUTOCOMMIT),
                le16((int) (caps >>> 16) & 0xFFFF), bytes(21), new byte[6], le32(caps >>> 32), new byte[12], bytes(0),
                "mysql_native_password".getBytes(StandardCharsets.US_ASCII), bytes(0));
    }

    static byte[] handshakeResponse(long caps) {
        return concat(le32(caps & 0xFFFFFFFFL), le32(1 << 24), bytes(45), new byte[19], le32(caps >>> 32),
                "app".getBytes(StandardCharsets.US_ASCII), bytes(0, 0));
    }

    static byte[] ok(int status) {
        return concat(bytes(0, 0, 0), le16(status), le16(0));
    }

    static byte[] okWithCounts(int status) {
        return concat(bytes(0, 0xFC, 0x10, 0x27, 0xFD, 1, 2, 3), le16(status), le16(0));
    }

    /** The OK that ends rows with CLIENT_DEPRECATE_EOF. */
    static byte[] okEnd(int status) {
        return concat(bytes(0xFE, 0, 0), le16(status), le16(0));
    }

    static byte[] eof(int status) {
        return concat(bytes(0xFE), le16(0), le16(status));
    }

    static byte[] err() {
        return concat(bytes(0xFF), le16(1064), "#42000syntax".getBytes(StandardCharsets.US_ASCII));
    }

    static byte[] command(int code, String arg) {
        return concat(bytes(code), arg.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] columnDefinition() {
        return concat(bytes(3), "def".getBytes(StandardCharsets.US_ASCII), bytes(0, 0, 0, 1, 'a', 1, 'a', 0x0C),
                le16(45), le32(11), bytes(3, 0, 0, 0, 0, 0));
    }

    static byte[] textRow(String value) {
        return concat(bytes(value.length()), value.getBytes(StandardCharsets.UTF_8));
    }

    static final long BASE = MysqlObserver.CLIENT_PROTOCOL_41 | 0x8000 /* secure connection */
            | 0x10000 /* multi statements */ | 0x20000 /* multi results */ | 0x40000 /* ps multi results */;

    /** A text result set of one column: count, definition, [EOF], rows, end. */
    static Transcript resultSet(Transcript t, long caps, int firstSeq, int rows, int endStatus) {
        int seq = firstSeq;
        t.server(seq++, bytes(1)).expect("busy").server(seq++, columnDefinition());
        if ((caps & DEPRECATE_EOF) == 0) {
            t.server(seq++, eof(endStatus));
        }
        for (int i = 0; i < rows; i++) {
            t.server(seq++, textRow("row" + i)).expect("busy");
        }
        return t.server(seq, (caps & DEPRECATE_EOF) != 0 ? okEnd(endStatus) : eof(endStatus));
    }

    @Test
    void aTransactionOpensOnBeginAndClosesOnCommitWithAndWithoutDeprecateEof() {
        for (long caps : new long[] {BASE, BASE | DEPRECATE_EOF}) {
            Transcript t = Transcript.login(caps, caps).query("BEGIN").server(1, ok(AUTOCOMMIT | IN_TRANS))
                    .expect("idle in-tx").query("SELECT a FROM t");
            resultSet(t, caps, 1, 3, AUTOCOMMIT | IN_TRANS).expect("idle in-tx");
            t.query("COMMIT").server(1, ok(AUTOCOMMIT)).expect("idle no-tx");
            check(t);
        }
    }

    @Test
    void multiResultsAreOneAnswerUntilTheLastHasNoMoreResultsFlag() {
        long caps = BASE | DEPRECATE_EOF;
        Transcript t = Transcript.login(caps, caps).query("CALL p()");
        resultSet(t, caps, 1, 2, AUTOCOMMIT | MORE).expect("busy");
        resultSet(t, caps, 5, 1, AUTOCOMMIT | MORE).expect("busy");
        t.server(8, okWithCounts(AUTOCOMMIT)).expect("idle no-tx");
        t.query("BEGIN; INSERT INTO t VALUES (1)").server(1, ok(AUTOCOMMIT | IN_TRANS | MORE)).expect("busy")
                .server(2, okWithCounts(AUTOCOMMIT | IN_TRANS)).expect("idle in-tx");
        check(t);
    }

    @Test
    void anErrorMidResultEndsTheAnswerAndWithAutocommitOffATransactionIsAssumed() {
        long caps = BASE | DEPRECATE_EOF;
        Transcript t = Transcript.login(caps, caps).query("SELECT x");
        t.server(1, bytes(1)).server(2, columnDefinition()).server(3, textRow("1")).server(4, err())
                .expect("idle no-tx");
        t.query("SET autocommit=0").server(1, ok(0)).expect("idle no-tx").query("SELECT x").server(1, err())
                .expect("idle in-tx").query("ROLLBACK").server(1, ok(0)).expect("idle no-tx");
        check(t);
    }

    @Test
    void preparedStatementsWithPipelinedExecuteAndCachedMetadata() {
        long caps = BASE | DEPRECATE_EOF | MysqlObserver.MARIADB_CLIENT_CACHE_METADATA;
        Transcript t = Transcript.login(caps, caps);
        // PREPARE and EXECUTE sent at once, as Connector/J does.
        t.add(true, concat(packet(0, command(MysqlObserver.COM_STMT_PREPARE, "SELECT ?")),
                packet(0, concat(bytes(MysqlObserver.COM_STMT_EXECUTE), le32(-1), bytes(0), le32(1)))))
                .expect("busy");
        t.server(1, concat(bytes(0), le32(1), le16(1), le16(1), bytes(0), le16(0))).expect("busy")
                .server(2, columnDefinition()).server(3, columnDefinition()).expect("busy");
        t.server(1, bytes(1, 1)).server(2, columnDefinition()).server(3, bytes(0, 0, 1, 'x')).expect("busy")
                .server(4, okEnd(AUTOCOMMIT)).expect("idle no-tx");
        // Executed again: the metadata is cached, neither definitions nor their EOF come.
        t.client(0, concat(bytes(MysqlObserver.COM_STMT_EXECUTE), le32(1), bytes(0), le32(1))).expect("busy")
                .server(1, bytes(1, 0)).server(2, bytes(0, 0, 1, 'y')).server(3, okEnd(AUTOCOMMIT))
                .expect("idle no-tx");
        t.client(0, concat(bytes(MysqlObserver.COM_STMT_CLOSE), le32(1))).expect("idle no-tx");
        check(t);
    }

    @Test
    void preparedStatementDefinitionsEachEndWithAnEofWithoutDeprecateEof() {
        long caps = BASE;
        Transcript t = Transcript.login(caps, caps)
                .client(0, command(MysqlObserver.COM_STMT_PREPARE, "SELECT ?, ?")).expect("busy")
                .server(1, concat(bytes(0), le32(7), le16(2), le16(2), bytes(0), le16(0)))
                .server(2, columnDefinition()).server(3, columnDefinition()).server(4, eof(AUTOCOMMIT)).expect("busy")
                .server(5, columnDefinition()).server(6, columnDefinition()).expect("busy")
                .server(7, eof(AUTOCOMMIT)).expect("idle no-tx")
                .client(0, command(MysqlObserver.COM_STMT_PREPARE, "DO 1")).expect("busy")
                .server(1, concat(bytes(0), le32(8), le16(0), le16(0), bytes(0), le16(0))).expect("idle no-tx");
        check(t);
    }

    @Test
    void loadDataLocalSendsTheFileThenTheServerAnswers() {
        long caps = BASE | DEPRECATE_EOF;
        Transcript t = Transcript.login(caps, caps).query("LOAD DATA LOCAL INFILE 'f' INTO TABLE t")
                .server(1, concat(bytes(0xFB), "f".getBytes(StandardCharsets.US_ASCII))).expect("busy")
                .client(2, "1\n2\n".getBytes(StandardCharsets.US_ASCII)).expect("busy")
                .client(3, new byte[0]).expect("busy")
                .server(4, okWithCounts(AUTOCOMMIT)).expect("idle no-tx");
        check(t);
    }

    @Test
    void changeUserWithAnAuthSwitchResetsTheTransaction() {
        long caps = BASE | DEPRECATE_EOF;
        Transcript t = Transcript.login(caps, caps).query("BEGIN").server(1, ok(AUTOCOMMIT | IN_TRANS))
                .expect("idle in-tx")
                .client(0, command(MysqlObserver.COM_CHANGE_USER, "other")).expect("busy")
                .server(1, concat(bytes(0xFE), "mysql_native_password".getBytes(StandardCharsets.US_ASCII), bytes(0)))
                .expect("busy").client(2, new byte[20]).expect("busy")
                .server(3, ok(AUTOCOMMIT)).expect("idle no-tx")
                .client(0, bytes(MysqlObserver.COM_PING)).server(1, ok(AUTOCOMMIT)).expect("idle no-tx")
                .client(0, bytes(MysqlObserver.COM_QUIT)).expect("busy");
        check(t);
    }

    @Test
    void aPacketOfSixteenMebibytesOrMoreContinuesInTheNext() {
        long caps = BASE | DEPRECATE_EOF;
        Transcript t = Transcript.login(caps, caps);
        byte[] big = new byte[0xFFFFFF];
        big[0] = MysqlObserver.COM_QUERY;
        t.client(0, big).expect("busy").client(1, "tail".getBytes(StandardCharsets.US_ASCII)).expect("busy");
        // A row of 20 MB: its first packet starts with 0xFE (an 8-byte length), never taken for an end.
        byte[] row = new byte[0xFFFFFF];
        row[0] = (byte) 0xFE;
        t.server(1, bytes(1)).server(2, columnDefinition()).server(3, row).expect("busy")
                .server(4, new byte[100]).expect("busy").server(5, okEnd(AUTOCOMMIT)).expect("idle no-tx");
        replayWhole(t);
    }

    private static void replayWhole(Transcript t) {
        MysqlObserverTest.replay(t, -1);
        MysqlObserverTest.replay(t, 4 + 0xFFFFFF / 2);
    }

    @Test
    void tlsAndCompressionMakeTheSessionOpaqueAndSoDoesWhatCannotBeClassified() {
        long caps = BASE | DEPRECATE_EOF | MysqlObserver.CLIENT_SSL | MysqlObserver.CLIENT_COMPRESS;
        check(new Transcript().server(0, greeting(caps)).client(1, concat(le32(BASE | MysqlObserver.CLIENT_SSL),
                le32(1 << 24), bytes(45), new byte[23])).expect("opaque TLS"));
        check(new Transcript().server(0, greeting(caps)).client(1, handshakeResponse(BASE | MysqlObserver.CLIENT_COMPRESS))
                .expect("opaque COMPRESSION"));
        check(Transcript.login(BASE, BASE).server(0, ok(AUTOCOMMIT)).expect("opaque UNCLASSIFIED"));
        check(Transcript.login(BASE, BASE).client(0, bytes(0x12 /* COM_BINLOG_DUMP */)).expect("opaque UNKNOWN_COMMAND"));
    }
}
