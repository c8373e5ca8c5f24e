package io.galeralb.core;

import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** Seeded pseudo-random streams and their digests, to check that a relay is byte-exact. */
final class ByteStreams {

    private ByteStreams() {
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
        return receive(in, count, 0);
    }

    /** As {@link #receive(InputStream, AtomicLong)}, pausing {@code pauseMillis} after each read of up to 64 KiB. */
    static String receive(InputStream in, AtomicLong count, long pauseMillis) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            md.update(buf, 0, n);
            count.addAndGet(n);
            if (pauseMillis > 0) {
                Thread.sleep(pauseMillis);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
