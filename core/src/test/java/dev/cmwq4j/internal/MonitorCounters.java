package dev.cmwq4j.internal;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.WorkqueueStats;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The monitor's own counters under the loads of bench's {@code MonitorBench}, for the numbers that
 * have no public equivalent: concurrency-target raises (samples that found every counted worker
 * of a pool off the CPU while work waited) and ticks. Blocks detected and CPU hogs flagged are
 * printed twice, from the monitor and summed over the public {@link WorkqueueStats}; the two agree
 * unless a detection hit a worker between works.
 *
 * <p>{@code MonitorBench} measures (latency, the monitor's CPU, wall times) through the public API
 * only; this class lives in core's test scope, in the monitor's package, because it reads the
 * monitor's fields. It reaches the engine of a {@link Cmwq} built through the public builder from
 * inside one of its works ({@link Worker#current()}), without reflection. Run:
 * {@code mvn -q -pl core process-test-classes -Dcore.main=dev.cmwq4j.internal.MonitorCounters}
 * (optional {@code -Dcore.main.args=SAMPLES}, default 2000).
 */
public final class MonitorCounters {
    private MonitorCounters() {}

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("mc-").build()) {
            Workqueue wq = c.workqueue("latency").build();
            Monitor m = monitorOf(wq);
            Thread monitorThread = findThread("mc-monitor");
            Snapshot s0 = new Snapshot(m, c);
            latency(wq, monitorThread, samples / 4 + 20, true);
            System.out.printf("latency, cold, %d samples: %s%n", samples / 4 + 20, new Snapshot(m, c).minus(s0));
            Snapshot s1 = new Snapshot(m, c);
            latency(wq, monitorThread, samples + 200, false);
            System.out.printf("latency, warm, %d samples: %s%n", samples + 200, new Snapshot(m, c).minus(s1));
        }
        for (int run = 0; run < 4; run++) {
            try (Cmwq c = Cmwq.builder().threadNamePrefix("mm" + run + "-").build()) {
                Workqueue wq = c.workqueue("mixed").build();
                Monitor m = monitorOf(wq);
                Snapshot s0 = new Snapshot(m, c);
                int tasks = 4000;
                CountDownLatch done = new CountDownLatch(tasks);
                long t0 = System.nanoTime();
                for (int i = 0; i < tasks; i++) {
                    wq.execute(() -> mixedTask(done));
                }
                done.await();
                long wall = System.nanoTime() - t0;
                System.out.printf("mixed (unannounced), round %d, %d tasks on %d CPUs, %.3f s: %s%n", run, tasks,
                        c.cpus(), wall / 1e9, new Snapshot(m, c).minus(s0));
            }
        }
    }

    /** The monitor's counters and their public counterparts at one moment. */
    private record Snapshot(long detected, long publicDetected, long cpuIntensive, long publicCpuIntensive,
            long targetRaised, long ticks) {
        Snapshot(Monitor m, Cmwq c) {
            this(m.blocksDetected.sum(), c.workqueueStats().stream().mapToLong(WorkqueueStats::blocksDetected).sum(),
                    m.cpuIntensiveFlagged.sum(), c.workqueueStats().stream().mapToLong(WorkqueueStats::cpuIntensive).sum(),
                    m.targetRaised.sum(), m.ticks.sum());
        }

        Snapshot minus(Snapshot o) {
            return new Snapshot(detected - o.detected, publicDetected - o.publicDetected, cpuIntensive - o.cpuIntensive,
                    publicCpuIntensive - o.publicCpuIntensive, targetRaised - o.targetRaised, ticks - o.ticks);
        }

        @Override
        public String toString() {
            return String.format("%d target raises, %d blocks detected (workqueue stats: %d), %d CPU-intensive (%d), %d ticks",
                    targetRaised, detected, publicDetected, cpuIntensive, publicCpuIntensive, ticks);
        }
    }

    /** The monitor of the engine that runs {@code wq}, read on one of its workers. */
    private static Monitor monitorOf(Workqueue wq) throws InterruptedException {
        AtomicReference<Monitor> found = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        wq.queue(new Work(() -> {
            found.set(Worker.current().pool().engine.monitor);
            ran.countDown();
        }));
        if (!ran.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the probe work did not run");
        }
        return found.get();
    }

    /** A work blocks in an unannounced sleep, then the next one is queued behind it. */
    private static void latency(Workqueue wq, Thread monitorThread, int samples, boolean cold) throws Exception {
        for (int i = 0; i < samples; i++) {
            if (cold) {
                awaitParked(monitorThread);
            }
            CountDownLatch done = new CountDownLatch(2);
            CountDownLatch blocking = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                blocking.countDown();
                try {
                    Thread.sleep(5); // unannounced
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                done.countDown();
            }));
            blocking.await();
            wq.queue(new Work(done::countDown));
            done.await(10, TimeUnit.SECONDS);
        }
    }

    private static void awaitParked(Thread monitorThread) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (monitorThread.getState() != Thread.State.WAITING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("monitor never parked");
            }
            Thread.onSpinWait();
        }
    }

    /** 0.1 ms CPU, 1 ms plain sleep, 0.1 ms CPU, as in {@code MonitorBench}. */
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

    private static volatile long sink;

    /** Burns {@code nanos} of the calling (platform) thread's CPU time. */
    private static void spinCpu(long nanos) {
        long end = MX.getCurrentThreadCpuTime() + nanos;
        long x = nanos | 1;
        do {
            for (int i = 0; i < 200; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
        } while (MX.getCurrentThreadCpuTime() - end < 0);
        if (x == 42) {
            sink = x;
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
