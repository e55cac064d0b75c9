package dev.cmwq4j.bench.scenario;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Resource accounting for a child JVM: process usage and the calling thread's CPU clock.
 *
 * <p>Preferred source: {@code getrusage(RUSAGE_SELF)} through {@link FfmRusage} (JDK 22+, Linux),
 * which counts context switches of every thread the process ever had. Fallback: {@code /proc},
 * whose per-thread context switch counters vanish with the thread, so threads that exited during
 * the run are missed; the report says which source was used.
 */
final class Probes {
    private Probes() {}

    private static final ThreadMXBean TMX = ManagementFactory.getThreadMXBean();
    /** The FFM probe, or null when it could not be loaded. */
    static final NativeProbe NATIVE;
    /** Why the FFM probe is missing, or null. */
    static final String NATIVE_PROBLEM;

    static {
        NativeProbe p = null;
        String problem = null;
        try {
            Class<?> c = Class.forName("dev.cmwq4j.bench.scenario.FfmRusage");
            p = (NativeProbe) c.getDeclaredConstructor().newInstance();
            p.usage();
            p.threadUsage();
            p.threadCpuNanos();
        } catch (Throwable t) { // UnsupportedClassVersionError on JDK 21, UnsatisfiedLinkError, ...
            p = null;
            problem = t.toString();
        }
        NATIVE = p;
        NATIVE_PROBLEM = problem;
    }

    static String describe() {
        return NATIVE != null ? NATIVE.describe()
                : "/proc/self (live threads only: exited threads' context switches are lost; FFM probe unavailable: "
                        + NATIVE_PROBLEM + ")";
    }

    static Usage usage() {
        if (NATIVE != null) {
            return NATIVE.usage();
        }
        return procUsage();
    }

    /** Context switches of the calling thread: {@code {voluntary, involuntary}}. */
    static long[] threadSwitches() {
        if (NATIVE != null) {
            Usage u = NATIVE.threadUsage();
            return new long[] {u.voluntarySwitches(), u.involuntarySwitches()};
        }
        long[] out = {-1, -1};
        try {
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("voluntary_ctxt_switches:")) {
                    out[0] = parseField(line);
                } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                    out[1] = parseField(line);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return out;
    }

    /**
     * CPU time of the calling thread, for CPU-bound spins: work measured this way does not shrink
     * when the thread is preempted (oversubscribed pools, other load on the machine), as a
     * wall-clock spin would. Virtual threads: the carrier's clock (FFM); without FFM, wall time.
     */
    static long threadCpuNanos() {
        if (!Thread.currentThread().isVirtual()) {
            long t = TMX.getCurrentThreadCpuTime();
            if (t >= 0) {
                return t;
            }
        }
        if (NATIVE != null) {
            return NATIVE.threadCpuNanos();
        }
        return System.nanoTime();
    }

    /**
     * CPU time so far of the JIT compiler threads ({@code C1 CompilerThread*}, {@code C2
     * CompilerThread*}: their names as {@code /proc} shows them, cut at 15 characters), from each
     * thread's {@code /proc/self/task/<tid>/schedstat} (nanoseconds); -1 without {@code /proc}. A
     * compiler thread that the JVM stopped during the run takes its time with it (HotSpot starts
     * and stops compiler threads beyond the first only with many CPUs).
     */
    static long compilerCpuNanos() {
        List<TaskCpu> tasks = TaskCpu.all();
        if (tasks == null) {
            return -1;
        }
        long sum = 0;
        for (TaskCpu t : tasks) {
            if (t.name().startsWith("C1 CompilerThre") || t.name().startsWith("C2 CompilerThre")) {
                sum += t.cpuNanos();
            }
        }
        return sum;
    }

    private static Usage procUsage() {
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        long vol = 0;
        long invol = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            vol += parseField(line);
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            invol += parseField(line);
                        }
                    }
                } catch (IOException e) {
                    // the thread exited meanwhile
                }
            }
        } catch (IOException e) {
            vol = -1;
            invol = -1;
        }
        long hwm = -1;
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith("VmHWM:")) {
                    hwm = parseField(line);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return new Usage(-1, -1, cpu, vol, invol, hwm);
    }

    /** This process's threads, the JVM's own included ({@code /proc/self/status}); -1 without it. */
    static int processThreads() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Threads:")) {
                    return (int) parseField(line);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return -1;
    }

    private static long parseField(String line) {
        String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(parts[0]);
    }
}
