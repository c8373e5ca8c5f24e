package io.galeralb.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding the CPU quota of a process's cgroup ({@link CpuQuota}): from cgroup trees laid out as
 * the kernel does (v1 and v2, in and out of a container), and from a real cgroup with a quota
 * and a process spinning in it, which is what stops busy polling ({@link CpuPressure}).
 */
class CpuQuotaTest {

    @TempDir
    Path dir;

    private Path write(String relative, String content) throws IOException {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private String mountinfoLine(int id, String root, String point, String fsType, String superOptions) {
        return id + " 31 0:" + id + " " + root + " " + dir.resolve(point) + " rw,relatime - " + fsType + " "
                + fsType + " " + superOptions + "\n";
    }

    @Test
    void cgroupV2TheTightestQuotaOnTheWayUpAndItsThrottling() throws IOException {
        Path cgroup = write("proc/cgroup", "0::/kubepods/pod1/ctr\n");
        Path mountinfo = write("proc/mountinfo", mountinfoLine(41, "/", "sys", "cgroup2", "rw,nsdelegate"));
        write("sys/kubepods/cpu.max", "max 100000\n");
        write("sys/kubepods/pod1/cpu.max", "150000 100000\n");
        write("sys/kubepods/pod1/ctr/cpu.max", "50000 100000\n");
        write("sys/kubepods/pod1/ctr/cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n"
                + "nr_periods 40\nnr_throttled 3\nthrottled_usec 81000\n");

        CpuQuota quota = CpuQuota.of(cgroup, mountinfo).orElseThrow();
        assertThat(quota.cpus()).isEqualTo(0.5);
        assertThat(quota.toString()).isEqualTo("0.50 CPU on cgroup " + dir.resolve("sys/kubepods/pod1/ctr"));
        assertThat(quota.throttledPeriods()).isEqualTo(3);

        // The pod's limit, when it is the tighter one.
        write("sys/kubepods/pod1/cpu.max", "25000 100000\n");
        write("sys/kubepods/pod1/cpu.stat", "usage_usec 7\nnr_throttled 0\n");
        quota = CpuQuota.of(cgroup, mountinfo).orElseThrow();
        assertThat(quota.cpus()).isEqualTo(0.25);
        assertThat(quota.throttledPeriods()).isZero();
    }

    @Test
    void cgroupV2InsideAContainerWhoseOwnGroupIsTheMount() throws IOException {
        // With a cgroup namespace the process sees its group as "/", mounted at /sys/fs/cgroup.
        Path cgroup = write("proc/cgroup", "0::/\n");
        Path mountinfo = write("proc/mountinfo", mountinfoLine(41, "/", "sys", "cgroup2", "rw"));
        write("sys/cpu.max", "200000 100000\n");
        assertThat(CpuQuota.of(cgroup, mountinfo).orElseThrow().cpus()).isEqualTo(2.0);

        write("sys/cpu.max", "max 100000\n");
        assertThat(CpuQuota.of(cgroup, mountinfo)).isEmpty();
    }

    @Test
    void cgroupV1QuotaAndThrottlingFromTheCpuHierarchyMountedApartOrWithCpuacct() throws IOException {
        Path cgroup = write("proc/cgroup", "12:memory:/docker/abc\n4:cpuacct:/docker/abc\n3:cpu:/docker/abc\n0::/\n");
        Path mountinfo = write("proc/mountinfo", mountinfoLine(41, "/", "unified", "cgroup2", "rw")
                + mountinfoLine(32, "/", "cpu", "cgroup", "rw,cpu") + mountinfoLine(33, "/", "cpuacct", "cgroup", "rw,cpuacct"));
        write("cpu/cpu.cfs_quota_us", "-1\n");
        write("cpu/cpu.cfs_period_us", "100000\n");
        write("cpu/docker/cpu.cfs_quota_us", "75000\n");
        write("cpu/docker/cpu.cfs_period_us", "50000\n");
        write("cpu/docker/cpu.stat", "nr_periods 12\nnr_throttled 5\nthrottled_time 31000000\n");
        write("cpu/docker/abc/cpu.cfs_quota_us", "-1\n");
        write("cpu/docker/abc/cpu.cfs_period_us", "100000\n");

        CpuQuota quota = CpuQuota.of(cgroup, mountinfo).orElseThrow();
        assertThat(quota.cpus()).isEqualTo(1.5);
        assertThat(quota.toString()).endsWith("cgroup " + dir.resolve("cpu/docker"));
        assertThat(quota.throttledPeriods()).as("counted by the group holding the quota").isEqualTo(5);

        // Docker without a cgroup namespace: the container's own group is the root of the mounts.
        Path inside = write("proc2/mountinfo", mountinfoLine(32, "/docker/abc", "cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"));
        Path insideCgroup = write("proc2/cgroup", "3:cpu,cpuacct:/docker/abc\n");
        write("cpu,cpuacct/cpu.cfs_quota_us", "20000\n");
        write("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
        write("cpu,cpuacct/cpu.stat", "nr_periods 2\nnr_throttled 1\nthrottled_time 4\n");
        quota = CpuQuota.of(insideCgroup, inside).orElseThrow();
        assertThat(quota.cpus()).isEqualTo(0.2);
        assertThat(quota.throttledPeriods()).isEqualTo(1);

        write("cpu,cpuacct/cpu.stat", "nr_periods 2\n");
        assertThatThrownBy(quota::throttledPeriods).hasMessageContaining("no nr_throttled line in " + dir.resolve("cpu,cpuacct/cpu.stat"));
    }

    @Test
    void noCgroupsNoQuota() throws IOException {
        assertThat(CpuQuota.of(dir.resolve("none"), dir.resolve("none either"))).isEmpty();
        Path cgroup = write("proc/cgroup", "0::/\n");
        Path mountinfo = write("proc/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
        assertThat(CpuQuota.of(cgroup, mountinfo)).isEmpty();
    }

    /**
     * A real cgroup with a quota of half a CPU, and a shell loop spinning in it: the loop runs out
     * of the quota in every period (the kernel throttles it), so there is no CPU to spare;
     * stopped (SIGSTOP), it never runs out.
     */
    @Test
    void aRealCgroupSpinningAtItsQuotaLeavesNoCpuToSpare() throws Exception {
        Path psi = write("pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        try (LimitedGroup group = LimitedGroup.create("galera-lb-test-" + ProcessHandle.current().pid(), 50_000, 100_000)) {
            Process spin = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
            try {
                group.add(spin.pid());
                Path proc = Path.of("/proc", Long.toString(spin.pid()));
                CpuQuota quota = CpuQuota.of(proc.resolve("cgroup"), proc.resolve("mountinfo")).orElseThrow();
                assertThat(quota.cpus()).isEqualTo(0.5);
                assertThat(quota.toString()).contains(group.name());

                try (CpuPressure pressure = CpuPressure.start(psi, Optional.of(quota))) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> !pressure.low());
                    signal("STOP", spin.pid());
                    await().atMost(Duration.ofSeconds(10)).until(pressure::low);
                    signal("CONT", spin.pid());
                    await().atMost(Duration.ofSeconds(10)).until(() -> !pressure.low());
                }
            } finally {
                spin.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor()).isZero();
    }

    /**
     * A cgroup of its own with a CPU quota, in the hierarchy this machine has: cgroup v1's cpu,
     * or cgroup v2 with the cpu controller. Needs root, as CI has.
     */
    private static final class LimitedGroup implements AutoCloseable {
        private static final Path V1_CPU = Path.of("/sys/fs/cgroup/cpu");
        private static final Path V2 = Path.of("/sys/fs/cgroup");

        private final String name;
        private final List<Path> dirs = new ArrayList<>();

        private LimitedGroup(String name) {
            this.name = name;
        }

        static LimitedGroup create(String name, long quotaMicros, long periodMicros) throws IOException {
            LimitedGroup g = new LimitedGroup(name);
            try {
                if (Files.exists(V1_CPU.resolve("cpu.cfs_quota_us"))) {
                    Path cpu = g.mkdir(V1_CPU.resolve(name));
                    Files.writeString(cpu.resolve("cpu.cfs_period_us"), Long.toString(periodMicros));
                    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), Long.toString(quotaMicros));
                } else if (Files.readString(V2.resolve("cgroup.controllers")).contains("cpu")) {
                    Files.writeString(V2.resolve("cgroup.subtree_control"), "+cpu");
                    Path cg = g.mkdir(V2.resolve(name));
                    Files.writeString(cg.resolve("cpu.max"), quotaMicros + " " + periodMicros);
                } else {
                    throw new IOException("neither a cgroup v1 cpu hierarchy at " + V1_CPU
                            + " nor the cpu controller in cgroup v2 at " + V2);
                }
            } catch (IOException e) {
                g.close();
                throw new IOException("cannot make a cgroup with a CPU quota (this test needs root): " + e, e);
            }
            return g;
        }

        private Path mkdir(Path dir) throws IOException {
            Files.createDirectory(dir);
            dirs.add(dir);
            return dir;
        }

        String name() {
            return name;
        }

        void add(long pid) throws IOException {
            for (Path d : dirs) {
                Files.writeString(d.resolve("cgroup.procs"), Long.toString(pid));
            }
        }

        @Override
        public void close() throws IOException {
            for (Path d : dirs) {
                // Empty once its processes have exited; the kernel needs a moment to see that.
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                    Files.delete(d);
                    return true;
                });
            }
        }
    }
}
