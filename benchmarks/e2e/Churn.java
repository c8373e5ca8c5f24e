import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Connection churn: THREADS threads, each opening a connection, running one query and closing
 * it, for SECONDS seconds after WARMUP seconds of the same that are not counted (this JVM's own
 * JIT compiles the driver's connect path meanwhile; without it the first seconds of every
 * target measure the client more than the target). Prints "connections/s errors". Run with the
 * JDBC driver on the class path:
 * java -cp lb-server/target/galera-lb.jar benchmarks/e2e/Churn.java URL THREADS SECONDS [WARMUP, default 3]
 */
public class Churn {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int threads = Integer.parseInt(args[1]);
        long warmup = args.length > 3 ? Long.parseLong(args[3]) : 3;
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
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%.1f %d%n", done.get() / seconds, errors.get());
    }
}
