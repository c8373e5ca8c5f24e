package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/** Seeded pseudo-random streams and their digests, to check that a relay is byte-exact. */
final class ByteStreams {

    private ByteStreams() {
    }

    /** Sends {@code size} seeded bytes and checks they come back unchanged (through an echo). */
    static void roundTrip(Socket client, int size, long seed) throws IOException {
        byte[] sent = new byte[size];
        new Random(seed).nextBytes(sent);
        client.getOutputStream().write(sent);
        byte[] back = new byte[size];
        new DataInputStream(client.getInputStream()).readFully(back);
        assertThat(back).isEqualTo(sent);
    }

    /** Writes {@code total} bytes of a seeded pseudo-random stream; returns their SHA-256. */
    static String send(OutputStream out, long seed, long total) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random r = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        for (long sent = 0; sent < total; ) {
            int n = (int) Math.min(chunk.length, total - sent);
            r.nextBytes(chunk);
            out.write(chunk, 0, n);
            md.update(chunk, 0, n);
            sent += n;
        }
        out.flush();
        return HexFormat.of().formatHex(md.digest());
    }

    /** Reads to end of stream; returns the byte count and SHA-256. */
    static String receive(InputStream in, AtomicLong count) throws Exception {
        return receive(in, count, Long.MAX_VALUE, new CountDownLatch(0));
    }

    /**
     * As {@link #receive(InputStream, AtomicLong)}, but stops reading once {@code pauseAt} bytes
     * have arrived until {@code resume} opens: meanwhile the writer fills every buffer on the way.
     */
    static String receive(InputStream in, AtomicLong count, long pauseAt, CountDownLatch resume) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        long holdAt = pauseAt;
        int n;
        while ((n = in.read(buf, 0, (int) Math.min(buf.length, Math.max(1, holdAt - count.get())))) >= 0) {
            md.update(buf, 0, n);
            if (count.addAndGet(n) >= holdAt) {
                resume.await();
                holdAt = Long.MAX_VALUE;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
