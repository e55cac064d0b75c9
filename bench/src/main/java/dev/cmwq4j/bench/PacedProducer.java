package dev.cmwq4j.bench;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One producer thread that does a little work of its own between two queues (it spins
 * {@code gapNanos}), with at most 256 tasks outstanding: when the gap is longer than a worker
 * takes per no-op task, the pool runs dry after nearly every task, and what this measures is the
 * cost of running out of work and getting the next one (going idle, being found or woken). The
 * ideal is one task per gap plus one queue. cmwq4j queues pre-built {@link Work}s of a private
 * {@link Cmwq}; {@code fjp} executes one pre-built {@code Runnable} on {@code new ForkJoinPool(ncpu)}.
 * Prints, per round of one second, the throughput and the process CPU per task ({@code
 * /proc/self/stat}, 10 ms ticks); with {@code --thread-cpu}, each busy thread's CPU too (which
 * loads {@code java.lang.management} before the first round).
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.PacedProducer -Dmain.args="cmwq 1000"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.PacedProducer -Dmain.args="fjp 1000"
 * </pre>
 *
 * Arguments: {@code cmwq|fjp gapNanos [rounds] [--thread-cpu]} (default rounds: 5; the first
 * rounds warm up the JIT). One executor per JVM, so that each starts cold and alone.
 */
public final class PacedProducer {
    private PacedProducer() {}

    private static final int RING = 1024;
    private static final int WINDOW = 256;

    public static void main(String[] args) throws Exception {
        boolean cmwqMode = switch (args[0]) {
            case "cmwq" -> true;
            case "fjp" -> false;
            default -> throw new IllegalArgumentException("cmwq or fjp, got " + args[0]);
        };
        long gap = Long.parseLong(args[1]);
        int rounds = args.length > 2 && !args[2].startsWith("--") ? Integer.parseInt(args[2]) : 5;
        boolean threadCpu = args[args.length - 1].equals("--thread-cpu");
        ThreadMXBean threads = threadCpu ? ManagementFactory.getThreadMXBean() : null;
        AtomicLong completed = new AtomicLong();
        Runnable count = completed::incrementAndGet;
        Cmwq cmwq = cmwqMode ? Cmwq.builder().name("paced").jmx(false).build() : null;
        Workqueue wq = cmwqMode ? cmwq.workqueue("paced").build() : null;
        ForkJoinPool fjp = cmwqMode ? null : new ForkJoinPool(Runtime.getRuntime().availableProcessors());
        Work[] ring = new Work[RING];
        for (int i = 0; i < RING; i++) {
            ring[i] = new Work(count);
        }
        try {
            for (int r = 0; r < rounds; r++) {
                Map<Long, Long> cpuBefore = threadCpu ? cpuByThread(threads) : null;
                long cpu0 = processCpuNanos();
                long issued = 0;
                long t0 = System.nanoTime();
                long end = t0 + 1_000_000_000L;
                completed.set(0);
                while (System.nanoTime() - end < 0) {
                    for (int k = 0; k < 1000; k++) {
                        BenchSupport.spinUntilAbove(completed, issued - WINDOW); // back-pressure, as QueueExecuteBench.external
                        if (cmwqMode) {
                            Work w = ring[(int) issued & (RING - 1)];
                            while (!wq.queue(w)) {
                                Thread.onSpinWait(); // its previous instance has not started yet
                            }
                        } else {
                            fjp.execute(count);
                        }
                        issued++;
                        BenchSupport.spinFor(gap);
                    }
                }
                BenchSupport.spinUntilAbove(completed, issued - 1);
                long wall = System.nanoTime() - t0;
                long cpu = processCpuNanos() - cpu0;
                StringBuilder busy = new StringBuilder();
                if (threadCpu) {
                    Map<Long, Long> after = cpuByThread(threads);
                    for (ThreadInfo t : threads.getThreadInfo(after.keySet().stream().mapToLong(Long::longValue).toArray())) {
                        if (t == null) {
                            continue;
                        }
                        long used = after.get(t.getThreadId()) - cpuBefore.getOrDefault(t.getThreadId(), 0L);
                        if (used >= 5_000_000L) {
                            busy.append(String.format(" %s=%d ms", t.getThreadName(), used / 1_000_000));
                        }
                    }
                }
                System.out.printf("%s gap %d ns round %d: %.3f M tasks/s, process CPU %.0f ns/task%s%n", args[0], gap, r,
                        issued * 1e3 / wall, (double) cpu / issued, busy);
            }
        } finally {
            if (cmwq != null) {
                cmwq.close();
            }
            if (fjp != null) {
                fjp.shutdownNow();
            }
        }
    }

    private static Map<Long, Long> cpuByThread(ThreadMXBean threads) {
        Map<Long, Long> m = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            m.put(id, threads.getThreadCpuTime(id));
        }
        return m;
    }

    /** utime + stime of this process from /proc/self/stat, in ns (10 ms ticks); 0 without /proc. */
    private static long processCpuNanos() throws IOException {
        Path stat = Path.of("/proc/self/stat");
        if (!Files.isReadable(stat)) {
            return 0;
        }
        String s = Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }
}
