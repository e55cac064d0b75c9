package dev.cmwq4j.bench.monitor;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
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
 *       ({@code Thread.sleep}) to the moment the pool's next work starts, p50/p99/max;
 *   <li>the monitor thread's CPU use while every pool is idle (it should be parked);
 *   <li>its CPU use under the mixed load (4000 x (0.1 ms CPU, 1 ms plain sleep, 0.1 ms CPU)).
 * </ol>
 * Run: {@code mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.monitor.MonitorBench}
 */
public final class MonitorBench {
    private MonitorBench() {}

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("mb-").build()) {
            Thread monitor = findThread("mb-monitor");
            Workqueue wq = c.workqueue("latency").build();
            Histogram h = new Histogram(3);
            AtomicLong blockedAt = new AtomicLong();
            AtomicLong nextStartedAt = new AtomicLong();
            for (int i = 0; i < samples + 200; i++) {
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
                if (i >= 200) { // warm-up
                    h.recordValue(Math.max(0, nextStartedAt.get() - blockedAt.get()));
                }
            }
            System.out.printf("detection latency (block -> next work starts), %d samples:%n", h.getTotalCount());
            System.out.printf("  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms%n",
                    h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
                    h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);

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
        try (Cmwq c = Cmwq.builder().threadNamePrefix("mm-").build()) {
            Thread monitor = findThread("mm-monitor");
            Workqueue wq = c.workqueue("mixed").build();
            int tasks = 4000;
            CountDownLatch done = new CountDownLatch(tasks);
            long cpu0 = mx.getThreadCpuTime(monitor.threadId());
            long t0 = System.nanoTime();
            for (int i = 0; i < tasks; i++) {
                wq.execute(() -> {
                    spinCpu(100_000);
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    spinCpu(100_000);
                    done.countDown();
                });
            }
            done.await();
            long wall = System.nanoTime() - t0;
            long cpu = mx.getThreadCpuTime(monitor.threadId()) - cpu0;
            System.out.printf("mixed (unannounced), %d tasks on %d CPUs: %.3f s, peak threads %d; "
                    + "monitor CPU %.2f%% of one core%n", tasks, c.cpus(), wall / 1e9, c.peakThreads(),
                    100.0 * cpu / wall);
        }
    }

    private static void spinCpu(long nanos) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long end = mx.getCurrentThreadCpuTime() + nanos;
        while (mx.getCurrentThreadCpuTime() < end) {
            Thread.onSpinWait();
        }
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
