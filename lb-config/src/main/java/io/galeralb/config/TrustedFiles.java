package io.galeralb.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * Files galera-lb reads or writes on behalf of whoever may run it: the configuration, the
 * secrets it names, and the runtime directory of the lock file. Every read is of a regular file
 * of bounded size (never a FIFO, a device or a file that grows without end), and files that hold
 * secrets must be private to the user running galera-lb (or root), so that no other local user
 * can read or replace them.
 */
public final class TrustedFiles {

    /** The largest configuration file galera-lb reads. */
    public static final int MAX_CONFIG_BYTES = 1 << 20;
    /** The largest password or token file galera-lb reads. */
    public static final int MAX_SECRET_BYTES = 4096;
    private static final long ROOT = 0;

    private TrustedFiles() {
    }

    /** A file that must not be used; the message names the file and what is wrong with it. */
    public static final class Untrusted extends IOException {
        public Untrusted(String message) {
            super(message);
        }
    }

    /**
     * The effective user id of this process: {@code /proc/self} belongs to it (Linux, which
     * galera-lb's epoll transport needs anyway); -1 where that cannot be read.
     */
    public static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Where galera-lb keeps its lock file unless the configuration names one: a directory no
     * other user can write to. systemd's {@code RuntimeDirectory=} (as {@code $RUNTIME_DIRECTORY}),
     * else {@code /run/galera-lb} for root, else {@code $XDG_RUNTIME_DIR/galera-lb}, else a
     * directory of this user's own under the temporary directory.
     */
    public static Path runtimeDirectory(Map<String, String> env) {
        String systemd = env.get("RUNTIME_DIRECTORY");
        if (systemd != null && !systemd.isBlank()) {
            return Path.of(systemd.split(":")[0]);
        }
        long uid = currentUid();
        if (uid == ROOT) {
            return Path.of("/run/galera-lb");
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "galera-lb");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "galera-lb-" + (uid >= 0 ? uid : System.getProperty("user.name")));
    }

    /**
     * Makes {@code dir} (mode 0700) if it does not exist, and checks that only its owner can
     * change what is in it: owned by this user or root, not a symbolic link, not writable by
     * group or others unless sticky (as /tmp is; the files in it are then checked one by one).
     */
    public static void ensurePrivateDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        PosixFileAttributes a = attributes(dir);
        if (!a.isDirectory()) {
            throw new Untrusted(dir + " is not a directory (" + describe(dir, a) + ")");
        }
        if (!ownedByUs(dir)) {
            throw new Untrusted("directory " + dir + " is not this user's (" + describe(dir, a) + ")");
        }
        Set<PosixFilePermission> p = a.permissions();
        if (othersMayWrite(p) && !isSticky(dir)) {
            throw new Untrusted("directory " + dir + " is writable by other users (" + describe(dir, a)
                    + "): anyone could replace galera-lb's files in it; chmod go-w it or choose another");
        }
    }

    /**
     * Checks a file galera-lb writes or trusts (the lock file): a regular file, not a link, with
     * one name, owned by this user, writable by no one else.
     */
    public static void requireOwnFile(Path file) throws IOException {
        PosixFileAttributes a = attributes(file);
        if (!a.isRegularFile()) {
            throw new Untrusted(file + " is not a regular file (" + describe(file, a) + ")");
        }
        Object links = Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        if (links instanceof Number n && n.intValue() > 1) {
            throw new Untrusted(file + " has " + n + " hard links (" + describe(file, a) + "): remove it");
        }
        long uid = ownerUid(file);
        if (uid != currentUid()) {
            throw new Untrusted(file + " belongs to another user (" + describe(file, a) + "), not to the user "
                    + "running galera-lb (uid " + currentUid() + "): remove it");
        }
        Set<PosixFilePermission> p = a.permissions();
        if (othersMayWrite(p)) {
            throw new Untrusted(file + " is writable by other users (" + describe(file, a) + "): remove it");
        }
    }

    /**
     * Reads a small text file: a regular file (links followed) of at most {@code maxBytes}. With
     * {@code secret}, it must also be owned by this user or root and have no group or other
     * permissions (chmod 600), as a password in the configuration itself must.
     *
     * @param what what the file is, for messages: "password file", "token file"
     */
    public static byte[] read(Path file, int maxBytes, boolean secret, String what) throws IOException {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(what + " " + file + " does not exist");
        }
        if (!a.isRegularFile()) {
            throw new Untrusted(what + " " + file + " is not a regular file (" + kind(a) + "); galera-lb reads "
                    + "only regular files");
        }
        if (a.size() > maxBytes) {
            throw new Untrusted(what + " " + file + " is " + a.size() + " bytes; at most " + maxBytes + " are read");
        }
        if (secret) {
            long uid = uid(file, true);
            if (uid != currentUid() && uid != ROOT) {
                throw new Untrusted(what + " " + file + " belongs to uid " + uid + " (" + a.owner().getName()
                        + "), not to the user running galera-lb or root: another user could change it");
            }
            if (!ownerOnly(a.permissions())) {
                throw new Untrusted(what + " " + file + " is accessible to group or others (mode "
                        + PosixFilePermissions.toString(a.permissions()) + "): chmod 600 it");
            }
        }
        // Bounded even if the file grows after the check.
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw new Untrusted(what + " " + file + " is larger than " + maxBytes + " bytes");
            }
            return bytes;
        }
    }

    private static PosixFileAttributes attributes(Path p) throws IOException {
        return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }

    /** Whether group or others may write: they could replace what a file or directory holds. */
    public static boolean othersMayWrite(Set<PosixFilePermission> p) {
        return p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /** Whether only the owner has any permission (chmod 600 or stricter). */
    public static boolean ownerOnly(Set<PosixFilePermission> p) {
        return p.stream().noneMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"));
    }

    private static boolean ownedByUs(Path p) throws IOException {
        long uid = ownerUid(p);
        return uid == currentUid() || uid == ROOT;
    }

    /** The owner's uid of {@code p} itself (a link is not followed). */
    public static long ownerUid(Path p) throws IOException {
        return uid(p, false);
    }

    private static long uid(Path p, boolean followLinks) throws IOException {
        Object uid = followLinks ? Files.getAttribute(p, "unix:uid")
                : Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        return ((Number) uid).longValue();
    }

    private static boolean isSticky(Path dir) throws IOException {
        Object mode = Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return mode instanceof Number n && (n.intValue() & 01000) != 0;
    }

    /** Owner and mode, as {@code ls -l} shows them: {@code owner nobody (uid 65534), mode rw-rw-rw-}. */
    public static String describe(Path p, PosixFileAttributes a) {
        String uid;
        try {
            uid = String.valueOf(ownerUid(p));
        } catch (IOException e) {
            uid = "?";
        }
        return kind(a) + ", owner " + a.owner().getName() + " (uid " + uid + "), mode "
                + PosixFilePermissions.toString(a.permissions());
    }

    private static String kind(PosixFileAttributes a) {
        return a.isSymbolicLink() ? "a symbolic link" : a.isDirectory() ? "a directory"
                : a.isRegularFile() ? "a regular file" : "a special file (FIFO, socket or device)";
    }
}
