package io.galeralb.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The whole, validated configuration of one galera-lb process. Immutable: a reload builds a
 * new one and swaps it in.
 *
 * @param source        the file it was read from, as named by the operator
 * @param adminBind     the admin API (status, reload, server states)
 * @param adminToken    the bearer token mutating admin calls need, from {@code admin.token-file}; when
 *                      absent, galera-lb makes one at start and keeps it in the lock file
 * @param lockFile      the file locked for the life of the process, one instance per configuration
 * @param ioThreads     the event-loop (I/O) threads that carry every session; empty: one per CPU the
 *                      JVM sees
 * @param busyPoll      how long an I/O thread that has just handled I/O polls for more without
 *                      sleeping, while the machine's CPU is not under pressure; zero: never
 * @param shutdownGrace how long sessions may go on after SIGTERM before they are closed
 * @param drainTimeout  how long sessions of a listener or server removed by a reload may go on
 * @param listeners     listeners by name, in file order
 */
public record GaleraLbConfig(String source, HostPort adminBind, Optional<Secret> adminToken, Path lockFile,
                             OptionalInt ioThreads, Duration busyPoll, Duration shutdownGrace,
                             Duration drainTimeout, Map<String, ListenerConfig> listeners,
                             List<HostPort> nameservers) {

    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
    public static final HostPort DEFAULT_ADMIN_BIND = new HostPort("127.0.0.1", 9307);
    public static final int MAX_IO_THREADS = 1024;
    public static final Duration DEFAULT_BUSY_POLL = Duration.ofNanos(100_000);
    public static final Duration MAX_BUSY_POLL = Duration.ofMillis(1);

    public GaleraLbConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(adminBind, "adminBind");
        Objects.requireNonNull(adminToken, "adminToken");
        Objects.requireNonNull(lockFile, "lockFile");
        Objects.requireNonNull(ioThreads, "ioThreads");
        Objects.requireNonNull(busyPoll, "busyPoll");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        nameservers = List.copyOf(nameservers);
        listeners = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(listeners, "listeners")));
    }

    /**
     * The lock file of a configuration that does not name one: in the private runtime directory
     * ({@link TrustedFiles#runtimeDirectory}), named after the configuration file's absolute path,
     * so the same file always maps to the same lock.
     */
    public static Path defaultLockFile(String configSource) {
        String absolute = Path.of(configSource).toAbsolutePath().normalize().toString();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(absolute.getBytes(StandardCharsets.UTF_8));
            return TrustedFiles.runtimeDirectory(System.getenv())
                    .resolve("galera-lb-" + HexFormat.of().formatHex(digest, 0, 6) + ".lock");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
