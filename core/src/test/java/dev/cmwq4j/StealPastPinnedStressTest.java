package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Thieves that look past pinned works ({@code WorkerPool.stealCandidate}) keep every promise of
 * the works they pass over and of the works they take. A feeder pinned to CPU 0 keeps CPU 0's
 * worklist mixed: works pinned there ({@code queueOn(0)}) and unpinned ones (queued from CPU 0's
 * worker, so listed there too), each spinning long enough (30 us) to be worth a thief, each
 * re-queued many times while a canceller cancels at random and a flusher flushes. Checked: a
 * pinned work never runs off CPU 0; no work runs concurrently with itself; every queue() that
 * returned true is matched by exactly one run or one successful cancel; every instance queued
 * before a flush began has run or been cancelled when it returns; the statistics after the last
 * flush count exactly the runs; CPU 1's worker took unpinned works; the pools end at rest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost completion hangs a flush
class StealPastPinnedStressTest {

    private static final int WORKS = 16; // half pinned to CPU 0, half not

    @Test
    void thievesPassingPinnedWorksLoseNothingAndMoveNoPinnedWork() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1); // -Pstress: 50
        int rounds = 400 * scale;
        try (Cmwq c = Cmwq.builder().name("pinstress").cpus(2).jmx(false).simulate(true, false)
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("mixed").build();
            LongAdder queued = new LongAdder();
            LongAdder runs = new LongAdder();
            LongAdder cancelled = new LongAdder();
            AtomicInteger offCpu = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger flushViolations = new AtomicInteger();
            LongAdder stolenByCpu1 = new LongAdder();
            AtomicInteger cancelling = new AtomicInteger(); // cancels in progress: counted before they resolve
            Work[] works = new Work[WORKS];
            for (int i = 0; i < WORKS; i++) {
                boolean pinned = i % 2 == 0;
                AtomicInteger inRun = new AtomicInteger();
                works[i] = new Work((pinned ? "pinned-" : "free-") + i, () -> {
                    if (inRun.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    String thread = Thread.currentThread().getName();
                    if (pinned && !thread.contains("-cpu0-")) {
                        offCpu.incrementAndGet();
                    }
                    if (!pinned && thread.contains("-cpu1-")) {
                        stolenByCpu1.increment();
                    }
                    TestSupport.spin(30_000);
                    inRun.decrementAndGet();
                    runs.increment();
                });
            }
            AtomicInteger roundsLeft = new AtomicInteger(rounds);
            java.util.concurrent.CountDownLatch fed = new java.util.concurrent.CountDownLatch(1);
            Work[] feeder = new Work[1];
            feeder[0] = new Work("feeder", () -> {
                // on CPU 0's worker: pinned ones with queueOn(0), free ones with queue() (this pool)
                for (int i = 0; i < WORKS; i++) {
                    boolean ok = i % 2 == 0 ? wq.queueOn(0, works[i]) : wq.queue(works[i]);
                    if (ok) {
                        queued.increment();
                    }
                }
                if (roundsLeft.decrementAndGet() > 0) {
                    wq.queueOn(0, feeder[0]);
                } else {
                    fed.countDown();
                }
            });
            Thread canceller = new Thread(() -> {
                java.util.Random rnd = new java.util.Random(7);
                while (fed.getCount() > 0) {
                    cancelling.incrementAndGet();
                    if (works[rnd.nextInt(WORKS)].cancel()) {
                        cancelled.increment();
                    }
                    cancelling.decrementAndGet();
                    TestSupport.spin(200_000);
                }
            }, "canceller");
            Thread flusher = new Thread(() -> {
                while (fed.getCount() > 0) {
                    long before = queued.sum(); // these queue() calls returned before the flush began
                    wq.flush();
                    long done = cancelling.get() + cancelled.sum() + runs.sum();
                    if (done < before) {
                        flushViolations.incrementAndGet();
                    }
                    TestSupport.spin(500_000);
                }
            }, "flusher");
            wq.queueOn(0, feeder[0]);
            canceller.start();
            flusher.start();
            assertThat(fed.await(150, TimeUnit.SECONDS)).as("the feeder finished its rounds").isTrue();
            canceller.join();
            flusher.join();
            wq.flush();

            assertThat(offCpu.get()).as("runs of pinned works off CPU 0").isZero();
            assertThat(overlaps.get()).as("runs that overlapped another run of their work").isZero();
            assertThat(flushViolations.get()).as("flushes that returned before earlier instances resolved").isZero();
            assertThat(runs.sum() + cancelled.sum()).as("runs + successful cancels == successful queues")
                    .isEqualTo(queued.sum());
            assertThat(wq.stats().total()).as("statistics after the flush: the runs, and the feeder's")
                    .isEqualTo(runs.sum() + rounds);
            assertThat(stolenByCpu1.sum()).as("unpinned works run by CPU 1's worker").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
