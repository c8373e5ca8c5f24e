package io.galeralb.server.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Who holds a listening TCP port: on Linux, from {@code /proc/net/tcp*} (the socket's inode)
 * and {@code /proc/PID/fd} (the process that has it open). The answer an operator needs when a
 * bind fails, instead of a bare "Address already in use".
 */
public final class PortHolder {

    private static final Path PROC = Path.of("/proc");

    private PortHolder() {
    }

    /** A sentence such as {@code 127.0.0.1:3307 is in use by PID 10787 (haproxy -f haproxy.cfg), running since ...}. */
    static String describe(String address, int port) {
        Optional<Long> pid = find(port);
        if (pid.isPresent()) {
            return address + ":" + port + " is in use by " + describeProcess(pid.get());
        }
        if (!Files.isDirectory(PROC.resolve("net"))) {
            return address + ":" + port + " is in use by another process";
        }
        Map<String, Integer> others = otherSockets(port);
        if (others.isEmpty()) {
            return address + ":" + port + " is in use by another process (not visible to this user)";
        }
        StringBuilder states = new StringBuilder();
        others.forEach((state, n) -> states.append(states.length() == 0 ? "" : ", ").append(n).append(' ').append(state));
        return address + ":" + port + " is in use, but no process listens on it; the port still has " + states
                + " connection(s)" + (others.containsKey("TIME_WAIT") ? " (those in TIME_WAIT end by themselves "
                + "within a minute and do not block galera-lb, which binds with SO_REUSEADDR)" : "")
                + ": look for a process that bound the port without listening";
    }

    /** TCP states by their number in /proc/net/tcp. */
    private static final String[] STATES = {"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"};

    /** Sockets on local port {@code port} that do not listen, counted by state. */
    static Map<String, Integer> otherSockets(int port) {
        Map<String, Integer> count = new TreeMap<>();
        for (String[] f : sockets()) {
            int state = Integer.parseInt(f[3], 16);
            if (state != 0x0A && localPort(f) == port) {
                count.merge(state < STATES.length ? STATES[state] : "state " + f[3], 1, Integer::sum);
            }
        }
        return count;
    }

    /** The fields of every line of /proc/net/tcp and tcp6 (sl, local_address, rem_address, st, ..., inode). */
    private static List<String[]> sockets() {
        List<String[]> out = new ArrayList<>();
        for (String table : List.of("net/tcp", "net/tcp6")) {
            try {
                for (String line : Files.readAllLines(PROC.resolve(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[1].contains(":") && f[3].matches("[0-9A-F]{2}")) {
                        out.add(f);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // Not Linux, or not readable: say what we can.
            }
        }
        return out;
    }

    private static int localPort(String[] f) {
        return Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
    }

    /** {@code PID 10787 (haproxy -f haproxy.cfg), running since 2026-02-11T08:12:01Z}. */
    public static String describeProcess(long pid) {
        String cmd = commandLine(pid).orElse("command line unknown");
        return "PID " + pid + " (" + cmd + ")" + startTime(pid).map(t -> ", running since " + t).orElse("");
    }

    public static Optional<Long> find(int port) {
        Set<String> inodes = new HashSet<>();
        for (String[] f : sockets()) {
            // st 0A is LISTEN; the inode is field 9
            if (f[3].equals("0A") && localPort(f) == port) {
                inodes.add(f[9]);
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
