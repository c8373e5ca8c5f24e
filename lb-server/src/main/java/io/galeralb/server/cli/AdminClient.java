package io.galeralb.server.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import io.galeralb.config.HostPort;
import io.galeralb.config.Secret;
import io.galeralb.config.TrustedFiles;
import io.galeralb.server.admin.AdminJson;
import io.galeralb.server.admin.StatusReport;
import io.galeralb.server.process.InstanceLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;

/**
 * How the CLI finds and talks to the running instance of a configuration: the lock file names
 * its PID and admin address.
 */
final class AdminClient {

    /** The instance cannot be reached, or the CLI refuses to contact it; the message says why. */
    static final class Unreachable extends Exception {
        private final int exitCode;

        Unreachable(String message) {
            this(message, ExitCode.NOT_RUNNING);
        }

        Unreachable(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        /** NOT_RUNNING, or REFUSED when the lock file cannot be trusted. */
        int exitCode() {
            return exitCode;
        }
    }

    private final String base;
    private final String token;

    private AdminClient(String base, String token) {
        this.base = base;
        this.token = token;
    }

    /**
     * The running instance of {@code config}, found through its lock file without needing the
     * file to be valid: the lock file it names (or names on a line of its own when it is not
     * YAML), else the default one. The lock file must be one this user can trust (see
     * {@link InstanceLock#readTrusted}): the admin token is sent to the address it gives.
     */
    static AdminClient forConfig(Path config) throws Unreachable {
        Path named = ConfigLoader.lockFileOf(config);
        Path standard = GaleraLbConfig.defaultLockFile(config.toString());
        Map<String, Object> holder = null;
        Path lockFile = named;
        for (Path candidate : named.equals(standard) ? List.of(named) : List.of(named, standard)) {
            try {
                Optional<Map<String, Object>> h = InstanceLock.readTrusted(candidate);
                if (h.isPresent()) {
                    holder = h.get();
                    lockFile = candidate;
                    break;
                }
            } catch (TrustedFiles.Untrusted e) {
                throw new Unreachable("refusing to contact galera-lb: " + e.getMessage(), ExitCode.REFUSED);
            }
        }
        if (holder == null) {
            throw new Unreachable("galera-lb is not running for " + config + " (no lock file at " + named
                    + (named.equals(standard) ? "" : " or " + standard) + "; a running instance keeps the "
                    + "lock-file it started with)");
        }
        Object pid = holder.get("pid");
        boolean alive = pid instanceof Number n && ProcessHandle.of(n.longValue()).map(ProcessHandle::isAlive).orElse(false);
        if (!alive) {
            throw new Unreachable("galera-lb is not running for " + config + " (its last instance, PID " + pid
                    + ", has ended)");
        }
        HostPort admin;
        try {
            admin = HostPort.parse(String.valueOf(holder.get("admin")));
        } catch (IllegalArgumentException e) {
            throw new Unreachable("lock file " + lockFile + " names no admin address: " + e.getMessage());
        }
        return new AdminClient("http://" + admin, token(config, holder));
    }

    /**
     * The admin token: from the configuration's token file, else from the lock file, else from
     * the token file the running instance read (when the configuration cannot be loaded now).
     */
    private static String token(Path config, Map<String, Object> holder) {
        try {
            Optional<String> configured = ConfigLoader.load(config).adminToken().map(Secret::value);
            if (configured.isPresent()) {
                return configured.get();
            }
        } catch (ConfigException e) {
            // Being edited: the running instance's own token file, named in the lock file.
            if (holder.get("token-file") instanceof String file) {
                try {
                    return new String(TrustedFiles.read(Path.of(file), TrustedFiles.MAX_SECRET_BYTES, true, "token file"),
                            StandardCharsets.UTF_8).strip();
                } catch (IOException unreadable) {
                    return "";
                }
            }
        }
        return String.valueOf(holder.getOrDefault("token", ""));
    }

    /** The HTTP status and the JSON body of a call. */
    record Answer(int status, Map<String, Object> body) {

        /** Prints the answer's message (stdout when it is ok, stderr when not); 0 when ok, else 1. */
        /** Prints the message; returns 0, or the exit code of the refusal. */
        int print(CommandSpec spec) {
            boolean ok = Boolean.TRUE.equals(body.get("ok"));
            (ok ? spec.commandLine().getOut() : spec.commandLine().getErr()).println(body.get("message"));
            if (ok) {
                return ExitCode.OK;
            }
            return Boolean.TRUE.equals(body.get("invalid-config")) ? ExitCode.INVALID_CONFIG : ExitCode.REFUSED;
        }
    }

    /**
     * POSTs {@code jsonBody} and hands each line of a streamed text answer to {@code line}.
     *
     * @return null when the answer was streamed; the JSON answer when the call was refused
     */
    Answer stream(String path, String jsonBody, Duration timeout, Consumer<String> line)
            throws Unreachable {
        HttpResponse<Stream<String>> r = send(request("POST", path, jsonBody, timeout), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = r.body()) {
            if (r.statusCode() == 200) {
                lines.forEach(line);
                return null;
            }
            return new Answer(r.statusCode(), JSON.std.mapFrom(String.join("\n", lines.toList())));
        } catch (IOException | UncheckedIOException e) {
            throw unreachable(e);
        }
    }

    /** {@code GET /status}, typed. */
    StatusReport status(Duration timeout) throws Unreachable {
        HttpResponse<String> r = send(request("GET", "/status", null, timeout), HttpResponse.BodyHandlers.ofString());
        try {
            if (r.statusCode() != 200) {
                throw new Unreachable("the admin API at " + base + " answered " + r.statusCode() + ": "
                        + JSON.std.mapFrom(r.body()).get("message"), ExitCode.REFUSED);
            }
            return AdminJson.read(StatusReport.class, r.body());
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    Answer call(String method, String path, Duration timeout) throws Unreachable {
        return call(method, path, null, timeout);
    }

    Answer call(String method, String path, String jsonBody, Duration timeout) throws Unreachable {
        HttpResponse<String> r = send(request(method, path, jsonBody, timeout), HttpResponse.BodyHandlers.ofString());
        try {
            return new Answer(r.statusCode(), JSON.std.mapFrom(r.body()));
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    private HttpRequest request(String method, String path, String jsonBody, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(jsonBody))
                .build();
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> body) throws Unreachable {
        try {
            return HttpClient.newHttpClient().send(req, body);
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
    }

    private Unreachable unreachable(Exception e) {
        return new Unreachable("cannot reach the admin API at " + base + ": "
                + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
    }
}
