package dev.cmwq4j.bench;

import dev.cmwq4j.Workqueues;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * What a fresh JVM pays the first time it uses cmwq4j, next to what it pays for a
 * {@code ForkJoinPool}: building the executor ({@code Workqueues.system()}, which builds the shared
 * {@code Cmwq}; or {@code new ForkJoinPool(ncpu)}), then running 1,000 no-op works on it.
 *
 * <h2>Modes</h2>
 * <ul>
 *   <li>{@code cmwq}, {@code cmwq-nojmx} ({@code -Dcmwq4j.jmx=false}), {@code fjp}: one
 *       measurement in this JVM, printed as one {@code cold-start ...} line. Each must run in a
 *       fresh JVM.
 *   <li>no mode (the driver): starts {@code --runs} (default 7) child JVMs per mode, from this
 *       JVM's own {@code java} binary and class path, rounds interleaved so that the machine's
 *       load hits every mode alike, and prints the medians and the cmwq4j/FJP CPU ratio.
 *       {@code --modes=cmwq,fjp,cmwq-nojmx} picks the modes (default {@code cmwq,fjp});
 *       {@code --jvm=OPTION}, repeated, passes options to every child (an AOT or CDS archive, say).
 * </ul>
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ColdStart
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ColdStart -Dmain.args="--runs=11 --modes=cmwq,cmwq-nojmx,fjp"
 * </pre>
 *
 * <h2>How CPU is read</h2>
 * A child must not load {@code java.lang.management} before its measured section: cmwq4j uses it
 * itself, so loading it first would hide part of cmwq4j's cost. {@code OperatingSystemMXBean}
 * (precise, process-wide) is therefore out; so is {@code getrusage} through the foreign function
 * API, whose set-up warms up {@code java.lang.invoke}, which cmwq4j's first use needs too. The
 * child reads two clocks with the {@code java.io} classes a JVM has loaded at boot:
 * <ul>
 *   <li>{@code cpu}: the first field of {@code /proc/self/task/<tid>/schedstat} (the thread's
 *       {@code sum_exec_runtime}, in ns), summed over the threads alive at the end of the
 *       section, each charged what its clock advanced since the start (a thread born meanwhile:
 *       all of it). Precise, with two blind spots: the kernel updates a thread's figure at
 *       context switches and scheduler ticks (4 ms here), so a thread on a CPU at a read may be
 *       up to a tick behind; and a thread that ends within the section takes its time along
 *       ({@code exited} counts those alive at the start; one born and ended within the section
 *       is seen by the second clock only).
 *   <li>{@code stat}: {@code utime + stime} of {@code /proc/self/stat}, which the kernel keeps
 *       for the whole process, ended threads included, but reports in clock ticks (10 ms, with
 *       {@code USER_HZ} = 100, as on every mainstream Linux). One reading is coarse; its mean
 *       over several runs is not biased, so it checks the first clock. It also gives
 *       {@code CPU+tail}, which adds the {@value #TAIL_MILLIS} ms after the works, in which the
 *       program does nothing: what runs later in the background (idle spinning, cmwq4j's
 *       deferred JMX registration, on a thread that ends when done).
 * </ul>
 *
 * <p>Columns: {@code build} is the wall time of the build alone; {@code works} of the 1,000
 * works until the last one ran; the CPU columns cover build + works (all threads: the caller,
 * workers, helper threads, the JIT, GC).
 */
public final class ColdStart {
    private ColdStart() {}

    static final int WORKS = 1000;
    static final int DEFAULT_RUNS = 7;
    /** How long a child idles after its works, to see background CPU (beyond the JMX delay, 1 s). */
    static final long TAIL_MILLIS = 1500;

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && !args[0].startsWith("--")) {
            child(args[0]);
        } else {
            driver(args);
        }
    }

    // ------------------------------------------------------------------------------------------
    // The child: one measurement in a fresh JVM.

    private static void child(String mode) throws Exception {
        if (mode.equals("cmwq-nojmx")) {
            System.setProperty("cmwq4j.jmx", "false"); // read when the shared instance is built
        }
        TaskCpu.read(); // once before: the reader's own first use (a few classes, page faults)
        TaskCpu cpu0 = TaskCpu.read();
        long t0 = System.nanoTime();
        Executor executor = switch (mode) {
            case "cmwq", "cmwq-nojmx" -> CmwqPeer.build();
            case "fjp" -> FjpPeer.build();
            default -> throw new IllegalArgumentException("mode: cmwq, cmwq-nojmx or fjp; got " + mode);
        };
        long t1 = System.nanoTime();
        CountDownLatch done = new CountDownLatch(WORKS);
        Runnable work = new CountDown(done); // not a lambda: the harness must not warm up lambdas
        for (int i = 0; i < WORKS; i++) {
            executor.execute(work);
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the first " + WORKS + " works did not finish");
        }
        long t2 = System.nanoTime();
        TaskCpu cpu1 = TaskCpu.read();
        Thread.sleep(TAIL_MILLIS);
        TaskCpu cpu2 = TaskCpu.read();
        System.out.printf(Locale.ROOT, "cold-start %s build_ns=%d works_ns=%d cpu_ns=%d stat_cpu_ns=%d"
                + " stat_tail_cpu_ns=%d exited=%d threads=%d%n", mode, t1 - t0, t2 - t1, cpu1.since(cpu0),
                cpu1.statNanos - cpu0.statNanos, cpu2.statNanos - cpu0.statNanos, cpu1.exitedSince(cpu0),
                cpu1.tids.length);
    }

    /** The cmwq4j side, in a class of its own so that nothing of it loads before the section. */
    private static final class CmwqPeer {
        static Executor build() {
            return Workqueues.system();
        }
    }

    private static final class FjpPeer {
        static Executor build() {
            return new ForkJoinPool(Runtime.getRuntime().availableProcessors());
        }
    }

    private static final class CountDown implements Runnable {
        private final CountDownLatch latch;

        CountDown(CountDownLatch latch) {
            this.latch = latch;
        }

        @Override
        public void run() {
            latch.countDown();
        }
    }

    /**
     * The CPU clocks of this process: its live threads' from {@code /proc/self/task/<tid>/schedstat}
     * (ns), and the whole process's from {@code /proc/self/stat} (clock ticks).
     */
    private static final class TaskCpu {
        /** Nanoseconds per clock tick ({@code USER_HZ} = 100; a JVM cannot ask sysconf). */
        static final long NANOS_PER_TICK = 10_000_000;

        /** Sorted thread ids and their sum_exec_runtime (ns), index for index. */
        final long[] tids;
        final long[] nanos;
        /** utime + stime of the whole process, ended threads included, in ns (tick resolution). */
        final long statNanos;

        private TaskCpu(long[] tids, long[] nanos, long statNanos) {
            this.tids = tids;
            this.nanos = nanos;
            this.statNanos = statNanos;
        }

        static TaskCpu read() throws IOException {
            String[] names = new File("/proc/self/task").list();
            if (names == null) {
                throw new IOException("cannot list /proc/self/task");
            }
            long[] tids = new long[names.length];
            for (int i = 0; i < names.length; i++) {
                tids[i] = Long.parseLong(names[i]);
            }
            Arrays.sort(tids);
            long[] nanos = new long[tids.length];
            byte[] buf = new byte[1024];
            int live = 0;
            for (long tid : tids) {
                // a StringBuilder, not '+': string concatenation would bootstrap java.lang.invoke
                String path = new StringBuilder("/proc/self/task/").append(tid).append("/schedstat").toString();
                int n;
                try (FileInputStream in = new FileInputStream(path)) {
                    n = in.read(buf);
                } catch (IOException e) {
                    continue; // it exited between the listing and the read
                }
                tids[live] = tid;
                nanos[live++] = number(buf, 0, n);
            }
            int n;
            try (FileInputStream in = new FileInputStream("/proc/self/stat")) {
                n = in.read(buf);
            }
            // after the command name's closing parenthesis: " state ppid ... utime stime ..."
            // (fields 3, 4, ... 14, 15 of proc(5)); the name itself may hold spaces
            int i = n - 1;
            while (i > 0 && buf[i] != ')') {
                i--;
            }
            for (int field = 2; field < 14; field++) { // skip to the space before field 14
                i++;
                while (i < n && buf[i] != ' ') {
                    i++;
                }
            }
            long utime = number(buf, i + 1, n);
            while (++i < n && buf[i] != ' ') {
                // to the space before field 15
            }
            long stime = number(buf, i + 1, n);
            return new TaskCpu(Arrays.copyOf(tids, live), Arrays.copyOf(nanos, live),
                    (utime + stime) * NANOS_PER_TICK);
        }

        /** The decimal number at {@code buf[from]}, up to the first non-digit. */
        private static long number(byte[] buf, int from, int to) {
            long v = 0;
            for (int i = from; i < to && buf[i] >= '0' && buf[i] <= '9'; i++) {
                v = v * 10 + (buf[i] - '0');
            }
            return v;
        }

        /** CPU that the threads alive now used since {@code before} (threads born since: all of it). */
        long since(TaskCpu before) {
            long sum = 0;
            for (int i = 0; i < tids.length; i++) {
                int j = Arrays.binarySearch(before.tids, tids[i]);
                sum += j >= 0 ? Math.max(0, nanos[i] - before.nanos[j]) : nanos[i];
            }
            return sum;
        }

        /** Threads alive at {@code before} and gone now. */
        int exitedSince(TaskCpu before) {
            int n = 0;
            for (long tid : before.tids) {
                if (Arrays.binarySearch(tids, tid) < 0) {
                    n++;
                }
            }
            return n;
        }
    }

    // ------------------------------------------------------------------------------------------
    // The driver: fresh child JVMs per mode, medians.

    private record Sample(double buildMs, double worksMs, double cpuMs, double statCpuMs, double statTailCpuMs,
            int exited, int threads) {}

    private static void driver(String[] args) throws Exception {
        int runs = DEFAULT_RUNS;
        List<String> modes = List.of("cmwq", "fjp");
        List<String> jvmArgs = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--runs=")) {
                runs = Integer.parseInt(a.substring("--runs=".length()));
            } else if (a.startsWith("--modes=")) {
                modes = List.of(a.substring("--modes=".length()).split(","));
            } else if (a.startsWith("--jvm=")) {
                jvmArgs.add(a.substring("--jvm=".length()));
            } else if (!a.isBlank()) {
                throw new IllegalArgumentException("usage: ColdStart [--runs=N] [--modes=cmwq,fjp,cmwq-nojmx]"
                        + " [--jvm=CHILD_JVM_OPTION]... | ColdStart cmwq|cmwq-nojmx|fjp");
            }
        }
        String javaBin = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        String classPath = System.getProperty("java.class.path");
        System.out.printf(Locale.ROOT, "cold start: %d fresh JVMs per mode, %d no-op works each, %d CPUs, %s %s%n",
                runs, WORKS, Runtime.getRuntime().availableProcessors(), javaBin, String.join(" ", jvmArgs));
        List<List<Sample>> samples = new ArrayList<>();
        for (int m = 0; m < modes.size(); m++) {
            samples.add(new ArrayList<>());
        }
        for (int r = 0; r < runs; r++) {
            for (int k = 0; k < modes.size(); k++) {
                int m = (k + r) % modes.size(); // rotate the order from round to round
                samples.get(m).add(runChild(javaBin, jvmArgs, classPath, modes.get(m)));
            }
        }
        System.out.printf(Locale.ROOT, "%-11s %9s %9s %9s %10s %10s %12s %7s %8s%n", "mode", "build ms", "works ms",
                "CPU ms", "CPU mean", "stat mean", "+tail mean", "exited", "threads");
        double[] cpu = new double[modes.size()];
        for (int m = 0; m < modes.size(); m++) {
            List<Sample> s = samples.get(m);
            cpu[m] = median(s, Sample::cpuMs);
            System.out.printf(Locale.ROOT, "%-11s %9.1f %9.1f %9.1f %10.1f %10.1f %12.1f %7d %8.0f%n", modes.get(m),
                    median(s, Sample::buildMs), median(s, Sample::worksMs), cpu[m], mean(s, Sample::cpuMs),
                    mean(s, Sample::statCpuMs), mean(s, Sample::statTailCpuMs),
                    s.stream().mapToInt(Sample::exited).sum(), median(s, x -> x.threads()));
            System.out.printf(Locale.ROOT, "  %-9s CPU ms of each run: %s%n", "", s.stream()
                    .map(x -> String.format(Locale.ROOT, "%.1f", x.cpuMs())).toList());
        }
        int fjp = modes.indexOf("fjp");
        if (fjp >= 0) {
            for (int m = 0; m < modes.size(); m++) {
                if (m != fjp) {
                    System.out.printf(Locale.ROOT, "CPU ratio %s/fjp (medians): %.2f%n", modes.get(m), cpu[m] / cpu[fjp]);
                }
            }
        }
        System.out.println("build, works, CPU: medians. CPU: live threads' schedstat (ns); stat: /proc/self/stat"
                + " (10 ms ticks, ended threads included), mean; +tail: stat, with the next " + TAIL_MILLIS
                + " ms; exited: threads that ended within a section, over all runs. Load average now: "
                + loadAverage());
    }

    private static Sample runChild(String javaBin, List<String> jvmArgs, String classPath, String mode)
            throws Exception {
        List<String> command = new ArrayList<>();
        command.add(javaBin);
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classPath, ColdStart.class.getName(), mode));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("child " + mode + " failed:\n" + out);
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("cold-start " + mode + " ")) {
                java.util.Map<String, Long> f = new java.util.HashMap<>();
                for (String kv : line.substring(("cold-start " + mode + " ").length()).trim().split(" ")) {
                    int eq = kv.indexOf('=');
                    f.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                }
                return new Sample(f.get("build_ns") / 1e6, f.get("works_ns") / 1e6, f.get("cpu_ns") / 1e6,
                        f.get("stat_cpu_ns") / 1e6, f.get("stat_tail_cpu_ns") / 1e6, f.get("exited").intValue(),
                        f.get("threads").intValue());
            }
        }
        throw new IllegalStateException("child " + mode + " printed no result:\n" + out);
    }

    private static double mean(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f) {
        return s.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    private static double median(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f) {
        double[] v = s.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
