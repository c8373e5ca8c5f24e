package io.galeralb.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The CPU quota of the cgroup galera-lb runs in (a container's CPU limit), and how much CPU that
 * cgroup has used: cgroup v2 ({@code cpu.max}, {@code cpu.stat}) or v1 ({@code cpu.cfs_quota_us}
 * with {@code cpuacct.usage}). Where quotas are set at several levels, the tightest applies. The
 * kernel's CPU pressure is host-wide and does not show a cgroup nearing its quota; once over it,
 * every thread of the cgroup stops until the period ends.
 */
final class CpuQuota {

    static final Path SELF_CGROUP = Path.of("/proc/self/cgroup");
    static final Path SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Path limitedAt;
    private final double cpus;
    private final Path usageFile;
    /** cgroup v2 counts usage in microseconds in a line of cpu.stat, v1 in nanoseconds in a file of its own. */
    private final boolean v2;

    private CpuQuota(Path limitedAt, double cpus, Path usageFile, boolean v2) {
        this.limitedAt = limitedAt;
        this.cpus = cpus;
        this.usageFile = usageFile;
        this.v2 = v2;
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
            Optional<Group> cpuacct = group(memberships, mounts, "cpuacct");
            return cpuacct.isEmpty() ? Optional.empty() : v1(cpu.get(), cpuacct.get().dir);
        }
        Optional<Group> unified = group(memberships, mounts, "");
        return unified.isEmpty() ? Optional.empty() : v2(unified.get());
    }

    private static Optional<CpuQuota> v2(Group leaf) throws IOException {
        CpuQuota tightest = null;
        for (Path dir = leaf.dir; dir != null && dir.startsWith(leaf.mountPoint); dir = dir.getParent()) {
            Path max = dir.resolve("cpu.max");
            if (!Files.exists(max)) {
                continue;
            }
            String[] quotaPeriod = Files.readString(max).trim().split("\\s+");
            if (quotaPeriod[0].equals("max")) {
                continue;
            }
            double cpus = Double.parseDouble(quotaPeriod[0]) / Double.parseDouble(quotaPeriod[1]);
            if (tightest == null || cpus < tightest.cpus) {
                tightest = new CpuQuota(dir, cpus, dir.resolve("cpu.stat"), true);
            }
        }
        return Optional.ofNullable(tightest);
    }

    /**
     * cgroup v1 keeps the quota (controller cpu) and the usage (cpuacct) in two hierarchies,
     * mounted together or apart; the usage is read as many levels up from the process's
     * cpuacct group as the quota was found above its cpu group.
     */
    private static Optional<CpuQuota> v1(Group cpuLeaf, Path cpuacctLeaf) throws IOException {
        CpuQuota tightest = null;
        Path usageDir = cpuacctLeaf;
        for (Path dir = cpuLeaf.dir; dir != null && dir.startsWith(cpuLeaf.mountPoint); dir = dir.getParent()) {
            Path quota = dir.resolve("cpu.cfs_quota_us");
            if (Files.exists(quota)) {
                long micros = Long.parseLong(Files.readString(quota).trim());
                if (micros > 0) {
                    double cpus = micros / Double.parseDouble(Files.readString(dir.resolve("cpu.cfs_period_us")).trim());
                    if (tightest == null || cpus < tightest.cpus) {
                        Path usage = usageDir.resolve("cpuacct.usage");
                        tightest = new CpuQuota(dir, cpus, Files.exists(usage) ? usage
                                : cpuacctLeaf.resolve("cpuacct.usage"), false);
                    }
                }
            }
            if (usageDir.getParent() != null) {
                usageDir = usageDir.getParent();
            }
        }
        return Optional.ofNullable(tightest);
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

    /** CPU time the limited cgroup has used since it was created, in nanoseconds. */
    long usageNanos() throws IOException {
        String text = Files.readString(usageFile);
        if (!v2) {
            return Long.parseLong(text.trim());
        }
        for (String line : text.split("\n")) {
            if (line.startsWith("usage_usec ")) {
                return Long.parseLong(line.substring("usage_usec ".length()).trim()) * 1000;
            }
        }
        throw new IOException("no usage_usec line in " + usageFile);
    }

    /** The share of the quota that {@code usedNanos} of CPU time in {@code elapsedNanos} make. */
    double share(long usedNanos, long elapsedNanos) {
        return elapsedNanos <= 0 ? 1 : usedNanos / (elapsedNanos * cpus);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.2f CPU on cgroup %s", cpus, limitedAt);
    }
}
