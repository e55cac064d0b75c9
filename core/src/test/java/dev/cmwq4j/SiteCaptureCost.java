package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;

/**
 * What one profiled detection costs the monitor: runs {@code MonitorBench}'s "blocks" load (2000
 * works blocking 5 ms unannounced in a helper, queued at once: 1000-3000 detections a second)
 * with the sampling rate given (default: unlimited, so every detection is profiled) and prints,
 * per round, the detections, the profiled ones, the monitor thread's CPU and the part of it spent
 * in {@code BlockProfiler.attribute} (capture, checks, trimming, counting; read with the thread
 * CPU clock around it), and the cost per profiled detection. From that, the profiler's share of
 * one CPU at a sampling rate r is r x that cost.
 *
 * <p>It lives in core's test scope to read the profiler's counters ({@link EngineProbe}). Run:
 * {@code mvn -q -pl core test-compile}, then
 * {@code java -cp core/target/test-classes:core/target/classes dev.cmwq4j.SiteCaptureCost [rate]}
 * (a JDK 21+ {@code java}).
 */
public final class SiteCaptureCost {
    private SiteCaptureCost() {}

    public static void main(String[] args) throws Exception {
        String rate = args.length > 0 ? args[0] : "1000000";
        System.setProperty("cmwq4j.blockingSiteSamplesPerSecond", rate);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.println("sampling rate " + rate + "/s after a burst of 64");
        for (int round = 0; round < 5; round++) {
            try (Cmwq c = Cmwq.builder().threadNamePrefix("scc" + round + "-").build()) {
                Thread monitor = find("scc" + round + "-monitor");
                Workqueue wq = c.workqueue("blocks").build();
                int tasks = 2000;
                CountDownLatch done = new CountDownLatch(tasks);
                long cpu0 = mx.getThreadCpuTime(monitor.threadId());
                long t0 = System.nanoTime();
                for (int i = 0; i < tasks; i++) {
                    wq.execute(() -> {
                        spin(50_000);
                        slowCall();
                        done.countDown();
                    });
                }
                done.await();
                long wall = System.nanoTime() - t0;
                long cpu = mx.getThreadCpuTime(monitor.threadId()) - cpu0;
                WorkqueueStats s = wq.stats();
                long[] attribution = EngineProbe.siteAttributionCpu(c.engine());
                System.out.printf("round %d: %.3f s, %d detected, %d profiled (%d stale); monitor CPU %.1f ms"
                        + " (%.2f%% of one core), of it profiling %.1f ms over %d measured: %.1f us each%n", round,
                        wall / 1e9, s.blocksDetected(), EngineProbe.blocksSampled(c.engine()),
                        EngineProbe.staleSiteCaptures(c.engine()), cpu / 1e6, 100.0 * cpu / wall, attribution[0] / 1e6,
                        attribution[1], attribution[1] == 0 ? 0.0 : attribution[0] / 1e3 / attribution[1]);
            }
        }
    }

    private static Thread find(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                return t;
            }
        }
        throw new IllegalStateException("no thread " + name);
    }

    /** The blocking call: a plain sleep, as a driver's socket read would be. */
    private static void slowCall() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
