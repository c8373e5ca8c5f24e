package io.galeralb.server.process;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.TrustedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One galera-lb per configuration: an OS file lock held for the life of the process (the
 * kernel drops it when the process dies, however it dies, so it never goes stale). The file
 * says who holds it: PID, start time, configuration, generation, admin address.
 */
public final class InstanceLock implements AutoCloseable {

    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
    /** Far more than a holder takes; a larger file is not read. */
    private static final int MAX_BYTES = 64 * 1024;

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

    /**
     * Takes the lock. The file is opened without following a symbolic link and must be this
     * user's own, private file in a directory no other user can write to (or a sticky one, as
     * /tmp): another local user must not be able to read the admin token kept in it, redirect
     * the write to a file of their choice, or hold a forged lock that keeps galera-lb from starting.
     *
     * @throws TrustedFiles.Untrusted naming the file, its owner and mode, when it is not such a file
     */
    static InstanceLock acquire(Path file, Map<String, Object> holder) throws IOException, AlreadyRunning {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            TrustedFiles.ensurePrivateDirectory(parent);
        }
        if (Files.isSymbolicLink(file)) {
            throw new TrustedFiles.Untrusted("lock file " + file + " is a symbolic link (to "
                    + Files.readSymbolicLink(file) + "): remove it");
        }
        FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PRIVATE));
        FileLock lock;
        try {
            TrustedFiles.requireOwnFile(file);
            // It may hold the admin token: readable by this user only.
            Files.setPosixFilePermissions(file, PRIVATE);
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

    /** What the lock file of a running (or dead) instance says; empty when there is none or it is not JSON. */
    public static Optional<Map<String, Object>> read(Path file) {
        try {
            return parse(TrustedFiles.read(file, MAX_BYTES, false, "lock file"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * As {@link #read}, for a caller that will act on what the file says (send the admin token
     * to the address in it): the file must be a regular file, not a link, writable by its owner
     * only, and that owner must be this user, root, or (for root) the owner of a directory that
     * only they can write to, as systemd's RuntimeDirectory is for a service's user.
     *
     * @throws TrustedFiles.Untrusted naming the file, its owner and mode
     */
    public static Optional<Map<String, Object>> readTrusted(Path file) throws TrustedFiles.Untrusted {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return Optional.empty();
        }
        String why = untrustedBecause(file, a);
        if (why != null) {
            throw new TrustedFiles.Untrusted("lock file " + file + " cannot be trusted: " + why + " ("
                    + TrustedFiles.describe(file, a) + "); it may have been planted by another user: remove it");
        }
        return read(file);
    }

    private static String untrustedBecause(Path file, PosixFileAttributes a) {
        if (!a.isRegularFile()) {
            return "not a regular file";
        }
        if (TrustedFiles.othersMayWrite(a.permissions())) {
            return "writable by other users";
        }
        try {
            long me = TrustedFiles.currentUid();
            long owner = TrustedFiles.ownerUid(file);
            if (owner == me || owner == 0) {
                return null;
            }
            Path dir = file.toAbsolutePath().getParent();
            if (me == 0 && dir != null) {
                PosixFileAttributes d = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (d.isDirectory() && TrustedFiles.ownerUid(dir) == owner
                        && !TrustedFiles.othersMayWrite(d.permissions())) {
                    return null;
                }
            }
            return "it belongs to another user, in a directory that user does not own alone";
        } catch (IOException e) {
            return "its owner cannot be read: " + e.getMessage();
        }
    }


    private static Optional<Map<String, Object>> parse(byte[] bytes) {
        try {
            String text = new String(bytes, StandardCharsets.UTF_8);
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
