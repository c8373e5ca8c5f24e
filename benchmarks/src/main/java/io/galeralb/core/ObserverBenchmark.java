package io.galeralb.core;

import io.galeralb.benchmarks.AbstractBenchmark;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What following the MySQL protocol costs a session: one query and its result set of
 * {@code rows} rows of {@code rowBytes} bytes, in reads of at most 64 KiB as the relay sees them,
 * through one observer (after a login). Throughput is queries per second; run with
 * {@code -prof gc} to see that nothing is allocated per packet.
 */
@State(Scope.Thread)
public class ObserverBenchmark extends AbstractBenchmark {

    @Param({"1", "100", "1000"})
    public int rows;

    @Param({"20", "200"})
    public int rowBytes;

    private MysqlObserver observer;
    private ByteBuf query;
    private ByteBuf[] answer;

    @Setup
    public void setUp() {
        observer = new MysqlObserver();
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        long caps = MysqlObserver.CLIENT_PROTOCOL_41 | 0x8000 | 0x10000 | 0x20000 | MysqlObserver.CLIENT_DEPRECATE_EOF;
        ByteBuf login = alloc.buffer();
        packet(login, 0, greeting(caps));
        observer.fromServer(login);
        login.clear();
        byte[] response = new byte[32];
        le32(response, 0, caps);
        packet(login, 1, response);
        observer.fromClient(login);
        login.clear();
        packet(login, 2, new byte[] {0, 0, 0, 2, 0, 0, 0});
        observer.fromServer(login);
        login.release();

        query = alloc.directBuffer();
        byte[] sql = "\3SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 1000".getBytes(StandardCharsets.US_ASCII);
        packet(query, 0, sql);
        ByteBuf all = alloc.directBuffer();
        int seq = 1;
        packet(all, seq++, new byte[] {1});
        packet(all, seq++, new byte[40]);
        byte[] row = new byte[rowBytes];
        row[0] = (byte) (rowBytes - 1);
        for (int i = 0; i < rows; i++) {
            packet(all, seq++ & 0xFF, row);
        }
        packet(all, seq & 0xFF, new byte[] {(byte) 0xFE, 0, 0, 2, 0, 0, 0});
        int reads = (all.readableBytes() + 65535) / 65536;
        answer = new ByteBuf[reads];
        for (int i = 0; i < reads; i++) {
            answer[i] = all.retainedSlice(i * 65536, Math.min(65536, all.readableBytes() - i * 65536));
        }
        all.release();
    }

    @TearDown
    public void tearDown() {
        query.release();
        for (ByteBuf b : answer) {
            b.release();
        }
    }

    @Benchmark
    public boolean queryAndResultSet() {
        observer.fromClient(query);
        for (ByteBuf b : answer) {
            observer.fromServer(b);
        }
        return observer.atBoundary();
    }

    private static void packet(ByteBuf out, int seq, byte[] payload) {
        out.writeMediumLE(payload.length).writeByte(seq).writeBytes(payload);
    }

    private static void le32(byte[] b, int at, long v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static byte[] greeting(long caps) {
        ByteBuf g = ByteBufAllocator.DEFAULT.heapBuffer();
        g.writeByte(10).writeBytes("10.11.13-MariaDB".getBytes(StandardCharsets.US_ASCII)).writeByte(0).writeIntLE(1)
                .writeZero(8).writeByte(0).writeShortLE((int) caps).writeByte(45).writeShortLE(2)
                .writeShortLE((int) (caps >>> 16)).writeByte(21).writeZero(6).writeIntLE(0).writeZero(13);
        byte[] b = new byte[g.readableBytes()];
        g.readBytes(b);
        g.release();
        return b;
    }
}
