package io.galeralb.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real 3-node MariaDB Galera cluster the tests run against, driven through the project's
 * own {@code scripts/local-cluster}: started once per test JVM, checked (and repaired) before
 * every test, stopped at the end if this JVM started it. If it cannot start, tests fail with
 * the script's output; they never skip.
 */
final class GaleraCluster {

    static final int NODES = 3;
    private static final int SQL_BASE = Integer.parseInt(System.getenv().getOrDefault("GLB_CLUSTER_SQL_PORT", "23306"));
    private static boolean stopAtExit;

    private GaleraCluster() {
    }

    static int sqlPort(int node) {
        return SQL_BASE + node - 1;
    }

    static String nodeName(int node) {
        return "node" + node;
    }

    /** Makes sure all three nodes run and are Synced; starts or restarts what is missing. */
    static synchronized void ensureRunning() {
        if (script("status").exitCode == 0) {
            return;
        }
        boolean noneRunning = script("status").output.lines().noneMatch(l -> l.contains(" PID "));
        Result start = script("start");
        if (start.exitCode != 0) {
            throw new AssertionError("the local Galera cluster did not start (scripts/local-cluster start exited "
                    + start.exitCode + "):\n" + start.output);
        }
        if (noneRunning && !stopAtExit) {
            stopAtExit = true;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> script("stop"), "galera-cluster-stop"));
        }
    }

    static void stopNode(int node) {
        check(script("stop-node", Integer.toString(node)));
    }

    static void stopAll() {
        check(script("stop"));
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("scripts/local-cluster"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("cannot find scripts/local-cluster above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    private static void check(Result r) {
        if (r.exitCode != 0) {
            throw new AssertionError("scripts/local-cluster failed (" + r.exitCode + "):\n" + r.output);
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result script(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot().resolve("scripts/local-cluster").toString());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return new Result(-1, out + "\n(timed out)");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }
}
