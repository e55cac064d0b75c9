package dev.cmwq4j.bench.monitor;

import dev.cmwq4j.BlockingSite;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.WorkqueueStats;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The monitor's numbers (issue 3):
 * <ol>
 *   <li>detection latency: from the moment a work blocks without announcing it
 *       ({@code Thread.sleep}) to the moment the pool's next work starts, p50/p99/max; "cold"
 *       samples start from a pool at rest (concurrency target 1: the monitor parked in between),
 *       "warm" ones follow each other, so the pool may have learned to run a second worker;
 *   <li>the monitor thread's CPU use while every pool is idle (it should be parked); the monitor's
 *       thread is the Cmwq's one service thread, so its CPU includes the timer's work (delayed
 *       works, and the manager passes that create the workers);
 *   <li>its CPU use under the mixed load (4000 x (0.1 ms CPU, 1 ms plain sleep, 0.1 ms CPU)),
 *       with the wall time of that load on cmwq and on virtual threads in alternating rounds of
 *       one JVM (round 0 includes the JIT warm-up of both; the harness's one-JVM-per-run table
 *       is the cold view);
 *   <li>the blocking-site profiler's cost where it has the most to do ({@link #blocks}): a load
 *       whose works block unannounced for 5 ms in a helper, with a backlog, so that the monitor
 *       detects hundreds to thousands of blocks a second; the monitor's CPU and how many blocks
 *       it profiled. Run it with {@code -Dcmwq4j.blockingSites=false} for the baseline and
 *       {@code -Dcmwq4j.blockingSiteSamplesPerSecond=N} for other sampling rates.
 * </ol>
 * Arguments: latency samples (default 2000), then the parts to run, comma-separated, of
 * {@code latency,idle,mixed,blocks} (default all).
 * <p>Only the public API: the monitor's reactions are counted from {@link Cmwq#workqueueStats()}
 * ({@link WorkqueueStats#blocksDetected()}, {@link WorkqueueStats#cpuIntensive()},
 * {@link WorkqueueStats#cmWakeups()}), its thread is found by name (the instance's thread-name
 * prefix + {@code monitor}) and its CPU read through {@link ThreadMXBean}. The monitor's own
 * counters that have no public equivalent (concurrency-target raises, ticks) are read by core's
 * tests through {@code EngineProbe} (see docs/BENCHMARKS.md, <i>The monitor</i>).
 * Run: {@code mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.monitor.MonitorBench}
 */
public final class MonitorBench {
    private MonitorBench() {}

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        java.util.Set<String> parts = java.util.Set.of((args.length > 1 ? args[1] : "latency,idle,mixed,blocks")
                .split(","));
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("blocking-site profiler: %s%n", Boolean.parseBoolean(System.getProperty("cmwq4j.blockingSites",
                "true")) ? "on, " + Integer.getInteger("cmwq4j.blockingSiteSamplesPerSecond",
                Cmwq.Builder.DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND) + " samples/s after a burst of 64" : "off");
        if (parts.contains("latency") || parts.contains("idle")) {
            latencyAndIdle(mx, samples, parts);
        }
        // Warm comparison, same JVM: rounds alternate cmwq (a fresh instance each time) and
        // virtual threads (a fresh executor each time), after the first round warmed both up.
        if (parts.contains("mixed")) {
            for (int run = 0; run < 4; run++) {
                mixed(mx, run);
                mixedVirtual(run);
            }
        }
        if (parts.contains("blocks")) {
            for (int run = 0; run < 4; run++) {
                blocks(mx, run);
            }
        }
    }

    private static void latencyAndIdle(ThreadMXBean mx, int samples, java.util.Set<String> parts) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("mb-").build()) {
            Thread monitor = findThread("mb-monitor");
            Workqueue wq = c.workqueue("latency").build();
            if (parts.contains("latency")) {
                latency(wq, monitor, samples / 4, true);
                latency(wq, monitor, samples, false);
                System.out.printf("  (monitor: %s)%n", reactions(c));
            }
            if (!parts.contains("idle")) {
                return;
            }
            // idle: let the pools retire into idleness, then watch the monitor for 2 s
            Thread.sleep(200);
            long cpu0 = mx.getThreadCpuTime(monitor.threadId());
            long t0 = System.nanoTime();
            Thread.sleep(2000);
            long idleCpu = mx.getThreadCpuTime(monitor.threadId()) - cpu0;
            long idleWall = System.nanoTime() - t0;
            System.out.printf("monitor CPU while idle: %.4f%% of one core over %.1f s (thread state %s)%n",
                    100.0 * idleCpu / idleWall, idleWall / 1e9, monitor.getState());
        }
    }

    /**
     * Many long unannounced blocks: 2000 works of 0.05 ms CPU and a 5 ms plain sleep in a helper,
     * queued at once, so that pools stall and the monitor detects blocks as fast as it can; the
     * monitor's CPU, and how many of the detections the profiler sampled.
     */
    private static void blocks(ThreadMXBean mx, int run) throws Exception {
        try (Cmwq c = Cmwq.builder().threadNamePrefix("mk" + run + "-").build()) {
            Thread monitor = findThread("mk" + run + "-monitor");
            Workqueue wq = c.workqueue("blocks").build();
            int tasks = 2000;
            CountDownLatch done = new CountDownLatch(tasks);
            long cpu0 = mx.getThreadCpuTime(monitor.threadId());
            long t0 = System.nanoTime();
            for (int i = 0; i < tasks; i++) {
                wq.execute(() -> {
                    spinCpu(50_000);
                    slowCall();
                    done.countDown();
                });
            }
            done.await();
            long wall = System.nanoTime() - t0;
            long cpu = mx.getThreadCpuTime(monitor.threadId()) - cpu0;
            WorkqueueStats s = wq.stats();
            long sampled = s.blocksDetected() - s.blocksUnsampled();
            System.out.printf("blocks (5 ms unannounced) on cmwq, round %d, %d tasks on %d CPUs: %.3f s, peak threads %d;"
                    + " monitor CPU %.2f%% of one core; %d detected (%.0f/s), %d profiled (%.0f/s) at %d sites%n", run,
                    tasks, c.cpus(), wall / 1e9, c.peakThreads(), 100.0 * cpu / wall, s.blocksDetected(),
                    s.blocksDetected() / (wall / 1e9), sampled, sampled / (wall / 1e9), s.blockingSites().size());
            for (BlockingSite site : s.blockingSites()) {
                System.out.printf("  %5d  %8.1f ms  %s%n", site.count(), site.blockedNanos() / 1e6,
                        String.join(" <- ", java.util.Arrays.stream(site.stack()).map(f -> f.getMethodName()).toList()));
            }
        }
    }

    /** The blocking call of {@link #blocks}: a plain sleep, as a driver's socket read would be. */
    private static void slowCall() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The same mixed load on a fresh virtual-thread-per-task executor. */
    private static void mixedVirtual(int run) throws Exception {
        int tasks = 4000;
        CountDownLatch done = new CountDownLatch(tasks);
        long t0 = System.nanoTime();
        try (var ex = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < tasks; i++) {
                ex.execute(() -> mixedTask(done));
            }
            done.await();
        }
        long wall = System.nanoTime() - t0;
        System.out.printf("mixed on virtual threads, round %d: %.3f s%n", run, wall / 1e9);
    }

    private static void mixedTask(CountDownLatch done) {
        spinCpu(100_000);
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        spinCpu(100_000);
        done.countDown();
    }

    /** Block -> next start, {@code samples} times; {@code cold}: from a pool at rest each time. */
    private static void latency(Workqueue wq, Thread monitor, int samples, boolean cold) throws Exception {
        Histogram h = new Histogram(3);
        AtomicLong blockedAt = new AtomicLong();
        AtomicLong nextStartedAt = new AtomicLong();
        int warmup = cold ? 20 : 200;
        for (int i = 0; i < samples + warmup; i++) {
                if (cold) {
                    awaitParked(monitor);
                }
                CountDownLatch done = new CountDownLatch(2);
                CountDownLatch blocking = new CountDownLatch(1);
                wq.queue(new Work(() -> {
                    blocking.countDown();
                    blockedAt.set(System.nanoTime());
                    try {
                        Thread.sleep(5); // unannounced
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    done.countDown();
                }));
                blocking.await();
                wq.queue(new Work(() -> {
                    nextStartedAt.set(System.nanoTime());
                    done.countDown();
                }));
                done.await(10, TimeUnit.SECONDS);
                if (i >= warmup) {
                    h.recordValue(Math.max(0, nextStartedAt.get() - blockedAt.get()));
                }
        }
        System.out.printf("detection latency, %s (block -> next work starts), %d samples:%n",
                cold ? "cold" : "warm", h.getTotalCount());
        System.out.printf("  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms%n",
                h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
                h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
    }

    /** Waits until the monitor thread is parked with every pool idle (not merely napping). */
    private static void awaitParked(Thread monitor) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (monitor.getState() != Thread.State.WAITING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("monitor never parked");
            }
            Thread.onSpinWait();
        }
    }

    /** The mixed load, unannounced: wall time, peak threads and the monitor's CPU. */
    private static void mixed(ThreadMXBean mx, int run) throws Exception {
        try (Cmwq c = Cmwq.builder().threadNamePrefix("mm" + run + "-").build()) {
            Thread monitor = findThread("mm" + run + "-monitor");
            Workqueue wq = c.workqueue("mixed").build();
            int tasks = 4000;
            CountDownLatch done = new CountDownLatch(tasks);
            long cpu0 = mx.getThreadCpuTime(monitor.threadId());
            long t0 = System.nanoTime();
            for (int i = 0; i < tasks; i++) {
                wq.execute(() -> mixedTask(done));
            }
            done.await();
            long wall = System.nanoTime() - t0;
            long cpu = mx.getThreadCpuTime(monitor.threadId()) - cpu0;
            System.out.printf("mixed (unannounced) on cmwq, round %d, %d tasks on %d CPUs: %.3f s, peak threads %d; "
                    + "monitor (service thread, timer included) CPU %.2f%% of one core (%s)%n", run, tasks, c.cpus(),
                    wall / 1e9, c.peakThreads(), 100.0 * cpu / wall, reactions(c));
        }
    }

    /** CPU time, as the scenario harness burns it (a virtual thread: its carrier's clock). */
    private static void spinCpu(long nanos) {
        dev.cmwq4j.bench.scenario.Cpu.spin(nanos);
    }

    /**
     * What the monitor did to the works of {@code c}'s workqueues, summed over them: blocks it
     * detected (unannounced), CPU hogs it flagged, and the concurrency-management wakeups (a
     * block, announced or detected, after which the pool woke or asked for another worker).
     */
    private static String reactions(Cmwq c) {
        long detected = 0;
        long unsampled = 0;
        long cpuIntensive = 0;
        long cmWakeups = 0;
        for (WorkqueueStats s : c.workqueueStats()) {
            detected += s.blocksDetected();
            unsampled += s.blocksUnsampled();
            cpuIntensive += s.cpuIntensive();
            cmWakeups += s.cmWakeups();
        }
        return detected + " blocks detected (" + (detected - unsampled) + " profiled), " + cpuIntensive
                + " CPU-intensive, " + cmWakeups + " cm wakeups";
    }

    private static Thread findThread(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                return t;
            }
        }
        throw new IllegalStateException("no thread " + name);
    }
}
