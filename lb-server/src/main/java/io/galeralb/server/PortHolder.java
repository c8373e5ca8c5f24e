package io.galeralb.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who holds a listening TCP port: on Linux, from {@code /proc/net/tcp*} (the socket's inode)
 * and {@code /proc/PID/fd} (the process that has it open). The answer an operator needs when a
 * bind fails, instead of a bare "Address already in use".
 */
final class PortHolder {

    private static final Path PROC = Path.of("/proc");

    private PortHolder() {
    }

    /** A sentence such as {@code 127.0.0.1:3307 is in use by PID 10787 (haproxy -f haproxy.cfg), running since ...}. */
    static String describe(String address, int port) {
        Optional<Long> pid = find(port);
        if (pid.isEmpty()) {
            return address + ":" + port + " is in use by another process"
                    + (Files.isDirectory(PROC.resolve("net")) ? " (not visible to this user)" : "");
        }
        return address + ":" + port + " is in use by " + describeProcess(pid.get());
    }

    /** {@code PID 10787 (haproxy -f haproxy.cfg), running since 2026-02-11T08:12:01Z}. */
    static String describeProcess(long pid) {
        String cmd = commandLine(pid).orElse("command line unknown");
        return "PID " + pid + " (" + cmd + ")" + startTime(pid).map(t -> ", running since " + t).orElse("");
    }

    static Optional<Long> find(int port) {
        Set<String> inodes = new HashSet<>();
        for (String table : List.of("net/tcp", "net/tcp6")) {
            try {
                for (String line : Files.readAllLines(PROC.resolve(table))) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st ... inode (field 9); st 0A is LISTEN
                    if (f.length > 9 && f[3].equals("0A") && f[1].contains(":")) {
                        int localPort = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
                        if (localPort == port) {
                            inodes.add(f[9]);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // Not Linux, or not readable: say what we can.
            }
        }
        if (inodes.isEmpty()) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:[")
                                && inodes.contains(target.substring(8, target.length() - 1))) {
                            return Optional.of(Long.parseLong(proc.getFileName().toString()));
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // A process that ended meanwhile, or one we may not look into.
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<String> commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(PROC.resolve(pid + "/cmdline"));
            String cmd = new String(raw, StandardCharsets.UTF_8).replaceAll("[\\x00\\s]+", " ").trim();
            return cmd.isEmpty() ? Optional.empty() : Optional.of(cmd.length() > 200 ? cmd.substring(0, 200) + "..." : cmd);
        } catch (IOException e) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().commandLine());
        }
    }

    private static Optional<Instant> startTime(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().startInstant());
    }
}
