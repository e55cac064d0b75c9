package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.bench.scenario.Cpu;
import dev.cmwq4j.bench.scenario.ManagedSleep;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Where a blocking work's time in flight goes, and so where the threads of the mixed load come
 * from. Each work of the scenario harness's {@code mixed} load (CPU, a sleep, CPU) records four
 * clock reads; a sampler counts the works in flight (started, not ended) and those of them not
 * in their sleep, every 200 us. Per round it prints:
 * <ul>
 *   <li>the wall time and the works per millisecond;</li>
 *   <li>the mean wall time of each phase: the wait in the queue, the head (CPU), the sleep (from
 *       the call to the first instruction after it: the sleep itself, the executor's own
 *       announcement and recount, and the wait for a CPU once the sleep ended), the tail;</li>
 *   <li>the works in flight by Little's law (rate times the three phases) and as sampled
 *       (median, 90th percentile, maximum), and the most that were at once not sleeping;</li>
 *   <li>the most live platform threads of the JVM ({@link ThreadMXBean#getPeakThreadCount()},
 *       reset per round), the process CPU per work, and that CPU split into the executor's
 *       threads, the rest of the JVM's Java threads, and what no live Java thread accounts for
 *       (the JIT compilers, the collector, exited threads).</li>
 * </ul>
 * A pool that keeps exactly enough workers running has about {@code rate * (head + sleep +
 * tail)} works in flight, each on a thread of its own, so the peak thread count follows the peak
 * of that sum; what the sleep phase holds beyond the sleep is mostly the wait for a CPU, which a
 * pool running its CPUs at saturation cannot avoid.
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.InFlight -Dmain.args="cmwq"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.InFlight -Dmain.args="fjp-managed"
 * </pre>
 *
 * Arguments: {@code executor [rounds] [works] [cpuMicros] [sleepMicros]}; executor is {@code
 * cmwq} (a workqueue of its own {@link Cmwq}, the sleep announced with {@link Blocking#sleep}),
 * {@code cmwq-plain} (the same, a plain {@link Thread#sleep}) or {@code fjp-managed} ({@code new
 * ForkJoinPool(cpus)}, the sleep in {@link ForkJoinPool#managedBlock}); defaults: 4 rounds of
 * 4,000 works of 100 us CPU, 1,000 us sleep, 100 us CPU (the harness's full {@code mixed} size).
 * Each round starts from the state the previous one left (its threads alive): the first round
 * is a cold JVM's, as in the harness.
 */
public final class InFlight {
    private InFlight() {}

    private static final ThreadMXBean TMX = ManagementFactory.getThreadMXBean();
    private static final long SAMPLE_NANOS = 200_000;

    public static void main(String[] args) throws Exception {
        String executor = args.length > 0 ? args[0] : "cmwq";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int works = args.length > 2 ? Integer.parseInt(args[2]) : 4_000;
        long cpuNanos = (args.length > 3 ? Long.parseLong(args[3]) : 100) * 1_000;
        long sleepNanos = (args.length > 4 ? Long.parseLong(args[4]) : 1_000) * 1_000;
        int cpus = Runtime.getRuntime().availableProcessors();
        Cmwq cmwq = null;
        ForkJoinPool fjp = null;
        Executor ex;
        Sleep sleep;
        String threadPrefix;
        switch (executor) {
            case "cmwq", "cmwq-plain" -> {
                cmwq = Cmwq.builder().name("inflight").jmx(false).build();
                Workqueue wq = cmwq.workqueue("mixed").build();
                ex = wq;
                sleep = executor.equals("cmwq") ? nanos -> Blocking.sleep(Duration.ofNanos(nanos))
                        : nanos -> Thread.sleep(Duration.ofNanos(nanos));
                threadPrefix = "cmwq4j-inflight";
            }
            case "fjp-managed" -> {
                fjp = new ForkJoinPool(cpus);
                ex = fjp;
                sleep = ManagedSleep::sleep;
                threadPrefix = "ForkJoinPool";
            }
            default -> throw new IllegalArgumentException("executor: cmwq, cmwq-plain or fjp-managed, not " + executor);
        }
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Map<Long, Long> cpuBefore = new HashMap<>();
        threadCpu(cpuBefore);
        System.out.printf("%s: %d works of %d us CPU, %d us sleep, %d us CPU; ideal %.0f ms on %d CPUs%n",
                executor, works, cpuNanos / 1000, sleepNanos / 1000, cpuNanos / 1000,
                Math.max(works * 2.0 * cpuNanos / cpus, 2.0 * cpuNanos + sleepNanos) / 1e6, cpus);
        for (int r = 0; r < rounds; r++) {
            long[] submitted = new long[works];
            long[][] at = new long[works][];
            AtomicInteger inFlight = new AtomicInteger();
            AtomicInteger asleep = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(works);
            Sampler sampler = new Sampler(inFlight, asleep, cmwq);
            TMX.resetPeakThreadCount();
            long cpu0 = os.getProcessCpuTime();
            sampler.start();
            long t0 = System.nanoTime();
            for (int i = 0; i < works; i++) {
                long[] mine = new long[4];
                at[i] = mine;
                submitted[i] = System.nanoTime();
                ex.execute(() -> {
                    mine[0] = System.nanoTime();
                    inFlight.incrementAndGet();
                    Cpu.spin(cpuNanos);
                    mine[1] = System.nanoTime();
                    asleep.incrementAndGet();
                    try {
                        sleep.sleep(sleepNanos);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    mine[2] = System.nanoTime();
                    asleep.decrementAndGet();
                    Cpu.spin(cpuNanos);
                    mine[3] = System.nanoTime();
                    inFlight.decrementAndGet();
                    done.countDown();
                });
            }
            if (!done.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("round " + r + " did not finish in 120 s");
            }
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            sampler.interrupt();
            sampler.join();
            int peakThreads = TMX.getPeakThreadCount();
            Map<Long, Long> cpuAfter = new HashMap<>();
            long[] split = threadCpuSplit(cpuBefore, cpuAfter, threadPrefix);
            cpuBefore = cpuAfter;
            double queue = 0, head = 0, asleepNanos = 0, tail = 0;
            long firstStart = Long.MAX_VALUE, firstHead = Long.MAX_VALUE;
            for (int i = 0; i < works; i++) {
                long[] t = at[i];
                firstStart = Math.min(firstStart, t[0] - t0);
                firstHead = Math.min(firstHead, t[1] - t0);
                queue += t[0] - submitted[i];
                head += t[1] - t[0];
                asleepNanos += t[2] - t[1];
                tail += t[3] - t[2];
            }
            double rate = works / (wall / 1e6);
            double inFlightMs = (head + asleepNanos + tail) / works / 1e6;
            System.out.printf("round %d: wall %.0f ms, %.2f works/ms (first start at %.1f ms, first head done at %.1f"
                            + " ms); phases (us): queue %.0f, head %.0f, sleep %.0f, tail %.0f%n", r, wall / 1e6, rate,
                    firstStart / 1e6, firstHead / 1e6, queue / works / 1e3, head / works / 1e3,
                    asleepNanos / works / 1e3, tail / works / 1e3);
            System.out.printf("  in flight: Little %.1f, sampled p50 %d p90 %d max %d, most not asleep %d;"
                            + " peak JVM threads %d%n", rate * inFlightMs, sampler.percentile(0.5),
                    sampler.percentile(0.9), sampler.max(), sampler.maxAwake(), peakThreads);
            if (cmwq != null) {
                System.out.printf("  cmwq pools, most at one look (every %d samples): target %d, workers %d, idle %d,"
                                + " blocked (announced) %d, detected %d, CPU-intensive %d%n", Sampler.POOL_EVERY,
                        sampler.pools[0], sampler.pools[1], sampler.pools[2], sampler.pools[3], sampler.pools[4],
                        sampler.pools[5]);
            }
            System.out.printf("  process CPU %.0f us/work: executor threads %.0f, other Java threads %.0f,"
                            + " unattributed (JIT, GC, exited threads) %.0f%n", cpu / 1e3 / works,
                    split[0] / 1e3 / works, split[1] / 1e3 / works, (cpu - split[0] - split[1]) / 1e3 / works);
        }
        if (cmwq != null) {
            cmwq.close();
        }
        if (fjp != null) {
            fjp.shutdown();
        }
    }

    @FunctionalInterface
    private interface Sleep {
        void sleep(long nanos) throws InterruptedException;
    }

    /** Each live thread's CPU time so far, by id. */
    private static void threadCpu(Map<Long, Long> into) {
        for (long id : TMX.getAllThreadIds()) {
            long c = TMX.getThreadCpuTime(id);
            if (c >= 0) {
                into.put(id, c);
            }
        }
    }

    /**
     * The CPU the live threads used since {@code before} (a thread new since then counts from
     * zero), as {executor threads, other threads}; fills {@code after}.
     */
    private static long[] threadCpuSplit(Map<Long, Long> before, Map<Long, Long> after, String prefix) {
        long[] split = new long[2];
        for (long id : TMX.getAllThreadIds()) {
            ThreadInfo info = TMX.getThreadInfo(id);
            long c = TMX.getThreadCpuTime(id);
            if (info == null || c < 0) {
                continue;
            }
            after.put(id, c);
            long used = c - before.getOrDefault(id, 0L);
            split[info.getThreadName().startsWith(prefix) ? 0 : 1] += used;
        }
        return split;
    }

    /**
     * Counts the works in flight and those of them not asleep, every {@link #SAMPLE_NANOS}; for
     * cmwq4j, also the most its pools showed at one look (summed over the pools, the target as
     * the highest), every {@link #POOL_EVERY} samples.
     */
    private static final class Sampler extends Thread {
        static final int POOL_EVERY = 10;
        private final AtomicInteger inFlight;
        private final AtomicInteger asleep;
        private final Cmwq cmwq;
        /** target, workers, idle, blocked, detected, CPU-intensive. */
        final int[] pools = new int[6];
        private final int[] counts = new int[4096];
        private int samples;
        private int max;
        private int maxAwake;

        Sampler(AtomicInteger inFlight, AtomicInteger asleep, Cmwq cmwq) {
            super("inflight-sampler");
            setDaemon(true);
            this.inFlight = inFlight;
            this.asleep = asleep;
            this.cmwq = cmwq;
        }

        private void lookAtPools() {
            int target = 0, workers = 0, idle = 0, blocked = 0, detected = 0, intensive = 0;
            for (PoolStats p : cmwq.poolStats()) {
                target = Math.max(target, p.target());
                workers += p.workers();
                idle += p.idle();
                blocked += p.blocked();
                detected += p.detected();
                intensive += p.cpuIntensive();
            }
            int[] now = {target, workers, idle, blocked, detected, intensive};
            for (int i = 0; i < now.length; i++) {
                pools[i] = Math.max(pools[i], now[i]);
            }
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                int f = inFlight.get();
                int awake = f - asleep.get();
                counts[Math.min(counts.length - 1, Math.max(0, f))]++;
                samples++;
                max = Math.max(max, f);
                maxAwake = Math.max(maxAwake, awake);
                if (cmwq != null && samples % POOL_EVERY == 0) {
                    lookAtPools();
                }
                LockSupport.parkNanos(SAMPLE_NANOS);
            }
        }

        /** After {@link #join()}. */
        int percentile(double p) {
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= Math.ceil(samples * p)) {
                    return i;
                }
            }
            return counts.length - 1;
        }

        int max() {
            return max;
        }

        int maxAwake() {
            return maxAwake;
        }
    }
}
