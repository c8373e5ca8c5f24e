package io.galeralb.server;

import static org.awaitility.Awaitility.await;

import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** {@code galera-lb} run as its own JVM process, as an operator runs it, with its output captured. */
final class GaleraLbProcess implements AutoCloseable {

    private static final String LEAK_LEVEL_PROPERTY = "io.netty.leakDetection.level";
    /** How Netty's leak detector starts the report of a buffer that was never released. */
    private static final String LEAK_REPORT = "LEAK: ";

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private GaleraLbProcess(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(output read failed: " + e + ")");
            }
        }, "galera-lb-output");
        reader.setDaemon(true);
        reader.start();
    }

    static GaleraLbProcess start(String... args) throws IOException {
        return start(new ArrayList<>(), args);
    }

    /** Starts galera-lb with SIGHUP ignored, as {@code nohup} starts a process. */
    static GaleraLbProcess startWithSighupIgnored(String... args) throws IOException {
        return start(new ArrayList<>(List.of("sh", "-c", "trap '' HUP; exec \"$0\" \"$@\"")), args);
    }

    /** Starts galera-lb with an open-files limit (soft and hard: the JVM raises its soft limit to the hard one). */
    static GaleraLbProcess startWithOpenFilesLimit(int limit, String... args) throws IOException {
        return start(new ArrayList<>(List.of("prlimit", "--nofile=" + limit + ":" + limit, "--")), args);
    }

    /** Starts galera-lb with these environment variables added to this JVM's. */
    static GaleraLbProcess startWithEnvironment(Map<String, String> env, String... args) throws IOException {
        return start(new ArrayList<>(), env, args);
    }

    private static GaleraLbProcess start(List<String> cmd, String... args) throws IOException {
        return start(cmd, Map.of(), args);
    }

    private static GaleraLbProcess start(List<String> cmd, Map<String, String> env, String... args) throws IOException {
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // As strict as the tests in this JVM: every buffer tracked, a leak reported (see close()).
        cmd.add("-D" + LEAK_LEVEL_PROPERTY + "=paranoid");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        return new GaleraLbProcess(pb.start());
    }

    void awaitOutput(String fragment) {
        try {
            await().atMost(Duration.ofSeconds(60))
                    .failFast("galera-lb exited", () -> !process.isAlive() && !hasOutput(fragment))
                    .until(() -> hasOutput(fragment));
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new AssertionError("galera-lb never printed \"" + fragment + "\"; its output:\n" + output(), e);
        }
    }

    boolean hasOutput(String fragment) {
        return output.stream().anyMatch(l -> l.contains(fragment));
    }

    String output() {
        return String.join("\n", output);
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no chance to clean up. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(1, TimeUnit.MINUTES);
    }

    /** SIGTERM, as {@code kill PID} and systemd send it. */
    void terminate() {
        // Through the handle: Process.destroy() would also close our end of its output.
        process.toHandle().destroy();
    }

    int waitForExit() throws InterruptedException {
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            throw new AssertionError("galera-lb did not exit:\n" + output());
        }
        reader.join(10_000); // the last lines
        assertNoLeakReported();
        return process.exitValue();
    }

    /** Stops the process and fails the test if it reported a leaked buffer while it ran. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(1, TimeUnit.MINUTES);
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertNoLeakReported();
    }

    private void assertNoLeakReported() {
        if (hasOutput(LEAK_REPORT)) {
            throw new AssertionError("galera-lb reported a leaked buffer:\n" + output());
        }
    }
}
