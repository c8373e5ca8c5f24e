import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Connection churn: THREADS threads, each opening a connection, running one query and closing
 * it, for SECONDS seconds after WARMUP seconds of the same that are not counted (this JVM's own
 * JIT compiles the driver's connect path meanwhile; without it the first seconds of every
 * target measure the client more than the target). Prints "connections/s errors"; given the PID of
 * the proxy under test, also the CPU time it had used (user + system, clock ticks) when the
 * counted seconds began and when they ended. Run with the JDBC driver on the class path:
 * java -cp lb-server/target/galera-lb.jar benchmarks/e2e/Churn.java URL THREADS SECONDS [WARMUP, default 3] [PID]
 */
public class Churn {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int threads = Integer.parseInt(args[1]);
        long warmup = args.length > 3 ? Long.parseLong(args[3]) : 3;
        long proxyPid = args.length > 4 ? Long.parseLong(args[4]) : 0;
        long start = System.nanoTime() + warmup * 1_000_000_000L;
        long end = start + Long.parseLong(args[2]) * 1_000_000_000L;
        AtomicLong done = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        Thread[] workers = new Thread[threads];

        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(() -> {
                while (System.nanoTime() < end) {
                    try (Connection c = DriverManager.getConnection(url);
                         Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT 1")) {
                        rs.next();
                        if (System.nanoTime() >= start) {
                            done.incrementAndGet();
                        }
                    } catch (Exception e) {
                        if (System.nanoTime() >= start) {
                            errors.incrementAndGet();
                        }
                    }
                }
            });
            workers[i].start();
        }
        sleepUntil(start);
        long cpuFrom = cpuTicks(proxyPid);
        sleepUntil(end);
        long cpuTo = cpuTicks(proxyPid);
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (proxyPid > 0) {
            System.out.printf("%.1f %d %d %d%n", done.get() / seconds, errors.get(), cpuFrom, cpuTo);
        } else {
            System.out.printf("%.1f %d%n", done.get() / seconds, errors.get());
        }
    }

    private static void sleepUntil(long nanoTime) {
        for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    /** User + system CPU time of process {@code pid} so far, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    private static long cpuTicks(long pid) throws Exception {
        if (pid <= 0) {
            return 0;
        }
        String stat;
        // Not Files.readString: /proc files report a size that does not match their content.
        try (InputStream in = Files.newInputStream(Path.of("/proc/" + pid + "/stat"))) {
            stat = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15 overall)
    }
}
