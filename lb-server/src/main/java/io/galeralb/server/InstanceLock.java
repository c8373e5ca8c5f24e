package io.galeralb.server;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

/**
 * One galera-lb per configuration: an OS file lock held for the life of the process (the
 * kernel drops it when the process dies, however it dies, so it never goes stale). The file
 * says who holds it: PID, start time, configuration, generation, admin address.
 */
final class InstanceLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private InstanceLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Thrown when another process holds the lock; the message is the one the operator sees. */
    static final class AlreadyRunning extends Exception {
        AlreadyRunning(String message) {
            super(message);
        }
    }

    static InstanceLock acquire(Path file, Map<String, Object> holder) throws IOException, AlreadyRunning {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            // It may hold the admin token: readable by this user only.
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system, or not our file: the token-file setting is the way there.
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw new AlreadyRunning(describe(read(file).orElse(Map.of()), file));
        }
        InstanceLock l = new InstanceLock(ch, lock);
        l.update(holder);
        return l;
    }

    /** Rewrites what the file says about the holder (after a reload: the new generation). */
    synchronized void update(Map<String, Object> holder) throws IOException {
        byte[] json = JSON.std.asString(holder).getBytes(StandardCharsets.UTF_8);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(json), 0);
        channel.force(false);
    }

    /** What the lock file of a running (or dead) instance says. */
    static Optional<Map<String, Object>> read(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.isBlank() ? Optional.empty() : Optional.of(JSON.std.mapFrom(text));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String describe(Map<String, Object> h, Path file) {
        if (h.isEmpty()) {
            return "galera-lb is already running for this configuration (lock " + file + " is held); "
                    + "use 'galera-lb reload'";
        }
        return "galera-lb is already running as PID " + h.get("pid") + " since " + h.get("started") + " (config "
                + h.get("config") + ", generation " + h.get("generation") + "); use 'galera-lb reload'";
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
