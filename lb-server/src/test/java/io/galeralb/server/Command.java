package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command of the machine run to its end, as an operator would type it, with its output. */
record Command(List<String> line, int exitCode, String output) {

    static Command run(String... line) {
        return run(Map.of(), line);
    }

    /** Runs {@code line} with {@code env} added to this JVM's environment; output and errors together. */
    static Command run(Map<String, String> env, String... line) {
        try {
            ProcessBuilder pb = new ProcessBuilder(line).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", line) + " did not end within 5 minutes:\n" + out);
            }
            return new Command(List.of(line), p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Runs {@code line} and fails the test, with its output, unless it exits 0. */
    static Command ok(String... line) {
        Command c = run(line);
        c.assertOk();
        return c;
    }

    Command assertOk() {
        assertThat(exitCode).as("%s exited %d:%n%s", String.join(" ", line), exitCode, output).isZero();
        return this;
    }

    /** The tests that install packages or change users need root, as CI runs them; they never skip. */
    static void requireRoot() {
        assertThat(run("id", "-u").output().strip()).as("this test installs packages and runs as other users: "
                + "run it as root (CI does)").isEqualTo("0");
    }

    /** The one file of {@code dir} whose name matches {@code glob}, as `mvn package` made it. */
    static Path builtArtifact(String glob) {
        Path dir = Path.of("target").toAbsolutePath();
        try (var files = Files.newDirectoryStream(dir, glob)) {
            List<Path> found = new java.util.ArrayList<>();
            files.forEach(found::add);
            assertThat(found).as("%s in %s (built by mvn package)", glob, dir).hasSize(1);
            return found.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
