package io.galeralb.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The CPU quota of the cgroup galera-lb runs in (a container's CPU limit), and how often that
 * cgroup has run out of it: cgroup v2 ({@code cpu.max}) or v1 ({@code cpu.cfs_quota_us}), with
 * {@code nr_throttled} from the group's {@code cpu.stat}. Where quotas are set at several levels,
 * the tightest applies. The kernel's CPU pressure is host-wide and does not show a cgroup at its
 * quota; once over it, every thread of the cgroup stops until the period ends (it is throttled).
 */
final class CpuQuota {

    static final Path SELF_CGROUP = Path.of("/proc/self/cgroup");
    static final Path SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Path limitedAt;
    private final double cpus;

    private CpuQuota(Path limitedAt, double cpus) {
        this.limitedAt = limitedAt;
        this.cpus = cpus;
    }

    /** This process's quota; empty without one (or without cgroups to read). */
    static Optional<CpuQuota> ofThisProcess() throws IOException {
        return of(SELF_CGROUP, SELF_MOUNTINFO);
    }

    /**
     * The quota of the process whose {@code /proc/<pid>/cgroup} and {@code mountinfo} these are;
     * empty when no cgroup on its way to the root has one.
     */
    static Optional<CpuQuota> of(Path cgroupFile, Path mountinfoFile) throws IOException {
        if (!Files.isReadable(cgroupFile) || !Files.isReadable(mountinfoFile)) {
            return Optional.empty();
        }
        List<String> memberships = Files.readAllLines(cgroupFile);
        List<String> mounts = Files.readAllLines(mountinfoFile);
        Optional<Group> cpu = group(memberships, mounts, "cpu");
        if (cpu.isPresent()) {
            // cgroup v1 (or hybrid: the cpu controller is in v1 even where a v2 hierarchy is mounted).
            return tightest(cpu.get(), CpuQuota::v1Cpus);
        }
        Optional<Group> unified = group(memberships, mounts, "");
        return unified.isEmpty() ? Optional.empty() : tightest(unified.get(), CpuQuota::v2Cpus);
    }

    private interface QuotaFiles {
        /** The CPUs' worth of time per period the quota set on {@code dir} allows; 0 where none is set. */
        double cpus(Path dir) throws IOException;
    }

    private static Optional<CpuQuota> tightest(Group leaf, QuotaFiles files) throws IOException {
        CpuQuota tightest = null;
        for (Path dir = leaf.dir; dir != null && dir.startsWith(leaf.mountPoint); dir = dir.getParent()) {
            double cpus = files.cpus(dir);
            if (cpus > 0 && (tightest == null || cpus < tightest.cpus)) {
                tightest = new CpuQuota(dir, cpus);
            }
        }
        return Optional.ofNullable(tightest);
    }

    /** cgroup v2: {@code cpu.max} holds "quota period" in microseconds, or "max period". */
    private static double v2Cpus(Path dir) throws IOException {
        Path max = dir.resolve("cpu.max");
        if (!Files.exists(max)) {
            return 0;
        }
        String[] quotaPeriod = Files.readString(max).trim().split("\\s+");
        return quotaPeriod[0].equals("max") ? 0 : Double.parseDouble(quotaPeriod[0]) / Double.parseDouble(quotaPeriod[1]);
    }

    /** cgroup v1: {@code cpu.cfs_quota_us} (-1 for none) over {@code cpu.cfs_period_us}. */
    private static double v1Cpus(Path dir) throws IOException {
        Path quota = dir.resolve("cpu.cfs_quota_us");
        if (!Files.exists(quota)) {
            return 0;
        }
        long micros = Long.parseLong(Files.readString(quota).trim());
        return micros <= 0 ? 0 : micros / Double.parseDouble(Files.readString(dir.resolve("cpu.cfs_period_us")).trim());
    }

    /** A process's cgroup in one hierarchy: its directory, and where the hierarchy is mounted. */
    private record Group(Path dir, Path mountPoint) { }

    /**
     * The process's cgroup in the hierarchy of {@code controller} ("" for the unified cgroup v2
     * one): the mount point, plus the process's path below the mount's root (in a container the
     * mount's root is often the container's own group).
     */
    private static Optional<Group> group(List<String> memberships, List<String> mounts, String controller) {
        for (String membership : memberships) {
            String[] f = membership.split(":", 3);
            if (f.length == 3 && matches(f[0].equals("0") ? "" : f[1], controller)) {
                for (String mount : mounts) {
                    Mount m = Mount.parse(mount);
                    if (m != null && m.controls(controller)) {
                        String below = f[2].startsWith(m.root) ? f[2].substring(m.root.length()) : f[2];
                        return Optional.of(new Group(m.point.resolve(below.replaceFirst("^/+", "")).normalize(), m.point));
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static boolean matches(String controllers, String controller) {
        return controller.isEmpty() ? controllers.isEmpty() : List.of(controllers.split(",")).contains(controller);
    }

    /** A cgroup mount from mountinfo: which controllers, its root in the hierarchy, where it is mounted. */
    private record Mount(String fsType, List<String> options, String root, Path point) {
        static Mount parse(String line) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash < 0 || f.length < dash + 4 || !f[dash + 1].startsWith("cgroup")) {
                return null;
            }
            return new Mount(f[dash + 1], List.of(f[dash + 3].split(",")), f[3], Path.of(f[4]));
        }

        boolean controls(String controller) {
            return controller.isEmpty() ? fsType.equals("cgroup2")
                    : fsType.equals("cgroup") && options.contains(controller);
        }
    }

    /** How many CPUs' worth of time per period the cgroup may use. */
    double cpus() {
        return cpus;
    }

    /** How many quota periods the limited cgroup has run out of its quota in, since it was created. */
    long throttledPeriods() throws IOException {
        Path stat = limitedAt.resolve("cpu.stat");
        for (String line : Files.readAllLines(stat)) {
            if (line.startsWith("nr_throttled ")) {
                return Long.parseLong(line.substring("nr_throttled ".length()).trim());
            }
        }
        throw new IOException("no nr_throttled line in " + stat);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.2f CPU on cgroup %s", cpus, limitedAt);
    }
}
