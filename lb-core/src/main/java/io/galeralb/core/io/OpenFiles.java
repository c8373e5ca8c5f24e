package io.galeralb.core.io;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Says, in an operator's words, when a socket could not be made or accepted because the process
 * or the system has run out of file descriptors (EMFILE, ENFILE), naming the limit to raise.
 * Netty reports both as an exception whose message ends in the C library's text.
 */
public final class OpenFiles {

    private OpenFiles() {
    }

    /** "too many open files (this process may open N)" and the like, or empty for any other error. */
    public static Optional<String> exhausted(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("Too many open files in system")) {
                return Optional.of("too many open files in the system (kernel limit fs.file-max)");
            }
            if (m.contains("Too many open files")) {
                OptionalLong limit = processLimit();
                return Optional.of("too many open files (this process may open "
                        + (limit.isPresent() ? Long.toString(limit.getAsLong()) : "an unknown number of files") + ")");
            }
        }
        return Optional.empty();
    }

    /** The soft RLIMIT_NOFILE of this process, as the JVM reads it; empty where it cannot. */
    public static OptionalLong processLimit() {
        try {
            OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
                return OptionalLong.of(unix.getMaxFileDescriptorCount());
            }
        } catch (RuntimeException | LinkageError e) {
            // Its native library could not be loaded (out of descriptors, that takes one too).
        }
        return OptionalLong.empty();
    }
}
