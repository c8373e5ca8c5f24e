package io.galeralb.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the kernel's CPU pressure ({@link CpuPressure}), from the real file and from files written as the kernel does. */
class CpuPressureTest {

    @TempDir
    Path dir;

    private static String pressure(long someTotalMicros) {
        return "some avg10=1.00 avg60=2.00 avg300=3.00 total=" + someTotalMicros + "\n"
                + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    }

    /** Replaces the file at once, as the kernel's file never reads half-written. */
    private void write(Path file, long someTotalMicros) throws Exception {
        Path next = dir.resolve("next");
        Files.writeString(next, pressure(someTotalMicros));
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void readsTheCumulativeStallOfTheSomeLine() {
        assertThat(CpuPressure.someTotalMicros(pressure(22045777499L))).isEqualTo(22045777499L);
        assertThatThrownBy(() -> CpuPressure.someTotalMicros("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"))
                .hasMessageContaining("no 'some ... total=' line");
        assertThat(CpuPressure.share(50_000, 100_000_000)).isEqualTo(0.5);
    }

    @Test
    void underAQuotaTheCpuHasNoRoomForAWhileEachTimeTheCgroupRunsOut() throws Exception {
        Path file = dir.resolve("cpu");
        write(file, 0);
        Path cgroup = Files.writeString(dir.resolve("proc-cgroup"), "0::/\n");
        Path mountinfo = Files.writeString(dir.resolve("mountinfo"), "41 31 0:41 / " + dir + " rw - cgroup2 cgroup2 rw\n");
        Files.writeString(dir.resolve("cpu.max"), "100000 100000\n");
        Path stat = dir.resolve("cpu.stat");
        Files.writeString(stat, "usage_usec 0\nnr_throttled 4\n");
        try (CpuPressure p = CpuPressure.start(file, CpuQuota.of(cgroup, mountinfo))) {
            await().atMost(Duration.ofSeconds(10)).until(p::low);
            Files.writeString(stat, "usage_usec 90000\nnr_throttled 5\n");
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> !p.low());
            // No more throttling: room again, once the quiet time has passed.
            await().atMost(Duration.ofSeconds(10)).until(p::low);
        }
    }

    @Test
    void theMachinesOwnFileIsReadWhereTheKernelHasOne() {
        try (CpuPressure p = CpuPressure.start(CpuPressure.PROC, Optional.empty())) {
            assertThat(p != null).as("started exactly when " + CpuPressure.PROC + " is readable")
                    .isEqualTo(Files.isReadable(CpuPressure.PROC));
        }
        assertThat(CpuPressure.start(dir.resolve("no-such-file"), Optional.empty())).isNull();
    }

    @Test
    void theCpuHasRoomWhileTasksRarelyWaitAndNoneWhileTheyWaitAllTheTime() throws Exception {
        Path file = dir.resolve("cpu");
        write(file, 0);
        try (CpuPressure p = CpuPressure.start(file, Optional.empty())) {
            await().atMost(Duration.ofSeconds(10)).until(p::low);
            // Stalled all the time: the total grows as fast as the clock.
            long t0 = System.nanoTime();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
                write(file, (System.nanoTime() - t0) / 1000);
                return !p.low();
            });
            // Quiet again.
            long total = (System.nanoTime() - t0) / 1000;
            write(file, total);
            await().atMost(Duration.ofSeconds(10)).until(p::low);
        }
    }
}
