package dev.cmwq4j;

import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Placement (docs/ARCHITECTURE.md, "The path of a work"): one external producer thread, and one
 * worker fanning out, each keep every CPU busy. Measured as process CPU time / wall time on the
 * whole process, so it needs the machine's CPUs to itself: tagged {@code timing}, it runs only
 * with {@code mvn -B test -Ptiming} on a quiet machine, never in the default suite.
 */
@Tag("timing")
class PlacementTest {
    private static final int CPUS = Math.min(2, Runtime.getRuntime().availableProcessors());
    private static final long WORK_NANOS = 1_000_000; // 1 ms of CPU per work

    @Test
    void oneProducerThreadKeepsEveryCpuBusyThroughTheSystemWorkqueue() throws Exception {
        assumeTrue(CPUS >= 2, "needs 2 CPUs");
        Workqueue wq = Workqueues.system();
        int works = 1500;
        Semaphore window = new Semaphore(16); // bounded backlog; the producer mostly sleeps on it
        CountDownLatch done = new CountDownLatch(works);
        Work[] ring = new Work[32];
        for (int i = 0; i < ring.length; i++) {
            ring[i] = new Work(() -> {
                spin(WORK_NANOS);
                window.release();
                done.countDown();
            });
        }
        long cpu0 = TestSupport.processCpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < works; i++) {
            window.acquire();
            // at most 16 outstanding, so the slot queued 32 iterations ago is no longer pending
            assertThat(wq.queue(ring[i % ring.length])).isTrue();
        }
        assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
        double ratio = (double) (TestSupport.processCpuNanos() - cpu0) / (System.nanoTime() - t0);
        System.out.printf("placement: one producer -> system workqueue: CPU/wall = %.2f%n", ratio);
        assertThat(ratio).as("process CPU time / wall time").isGreaterThanOrEqualTo(0.9 * CPUS);
    }

    @Test
    void oneWorkerFanningOutKeepsEveryCpuBusy() throws Exception {
        assumeTrue(CPUS >= 2, "needs 2 CPUs");
        try (Cmwq c = Cmwq.builder().cpus(CPUS).build()) {
            Workqueue wq = c.workqueue("fanout").build();
            int works = 1500;
            CountDownLatch done = new CountDownLatch(works);
            long cpu0 = TestSupport.processCpuNanos();
            long t0 = System.nanoTime();
            wq.queueOn(0, new Work(() -> {
                for (int i = 0; i < works; i++) {
                    wq.execute(() -> {
                        spin(WORK_NANOS);
                        done.countDown();
                    }); // lands on this worker's own pool; an idle pool must steal
                }
            }));
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            double ratio = (double) (TestSupport.processCpuNanos() - cpu0) / (System.nanoTime() - t0);
            System.out.printf("placement: one worker fanning out: CPU/wall = %.2f%n", ratio);
            assertThat(ratio).as("process CPU time / wall time").isGreaterThanOrEqualTo(0.9 * CPUS);
        }
    }
}
