package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A worker that runs out of work lingers for a few microseconds, still counted as running, before
 * it goes idle ({@code Worker.lingerForWork}): a queuer then sees a running worker and neither
 * takes the pool lock nor wakes anyone. The lingering worker must see every work queued meanwhile,
 * and one queued just as it gives up must be seen by its idle transition (the queuer's push and
 * read of the running count, against the worker's leaving the count and reading the stack): a
 * lost wake-up here leaves a work queued with nobody to run it.
 *
 * <p>The engines sample no /proc ({@code simulate}), so the "CPUs saturated" flag, which turns the
 * linger off, stays as each test sets it. Size: {@code cmwq4j.stress.scale} (1 by default, 50
 * with {@code -Pstress}).
 */
class LingerTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final Duration BOUND = Duration.ofSeconds(60);

    /**
     * One producer queues distinct works with gaps drawn around the linger (0 to 12 us), so the
     * pool runs dry after most works and the next queue lands before, during or after the
     * linger's end; with the linger allowed and with it off. Every work runs exactly once, the
     * workqueue's statistics count each once after a flush, and the pools end at rest with their
     * counts back to zero.
     */
    @Test
    void everyWorkOfAPacedProducerRunsOnceWhetherTheWorkerLingersOrNot() throws Exception {
        for (boolean saturated : new boolean[] {false, true}) {
            try (Cmwq c = Cmwq.builder().name("linger-" + saturated).cpus(2).jmx(false).simulate(true, false).build()) {
                EngineProbe.setCpusSaturated(c.engine(), saturated);
                Workqueue wq = c.workqueue("paced").build();
                int n = 20_000 * SCALE;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                AtomicInteger ran = new AtomicInteger();
                SplittableRandom random = new SplittableRandom(saturated ? 2 : 1);
                for (int i = 0; i < n; i++) {
                    int index = i;
                    assertThat(wq.queue(new Work(() -> {
                        runs.incrementAndGet(index);
                        ran.incrementAndGet();
                    }))).isTrue();
                    TestSupport.spin(random.nextInt(4) == 0 ? 0 : random.nextLong(12_000)); // the producer's gap
                }
                Awaitility.await().atMost(BOUND).untilAsserted(() -> assertThat(ran.get()).isEqualTo(n));
                wq.flush();
                for (int i = 0; i < n; i++) {
                    assertThat(runs.get(i)).as("runs of work %d (saturated %s)", i, saturated).isEqualTo(1);
                }
                assertThat(wq.stats().total()).as("runs per the statistics").isEqualTo(n);
                TestSupport.assertPoolsAtRest(c);
                if (saturated) {
                    assertThat(EngineProbe.lingerHits(c.engine())).as("no linger while the CPUs are saturated").isZero();
                }
            }
        }
    }

    /**
     * On one CPU, a worker that has run its last work lingers, still counted: a work queued from
     * outside meanwhile is taken by that very worker (the linger's hook holds it until the queue
     * returned, so the order is certain however busy the machine), with no other worker made or
     * woken for it. With the CPUs saturated it does not linger at all.
     */
    @Test
    void aWorkQueuedWhileTheWorkerLingersIsRunByThatWorker() throws Exception {
        for (boolean saturated : new boolean[] {false, true}) {
            CountDownLatch lingering = new CountDownLatch(1);
            CountDownLatch queued = new CountDownLatch(1);
            AtomicBoolean first = new AtomicBoolean(true);
            String engineName = "linger-seen-" + saturated;
            EngineProbe.onLinger(() -> {
                // only this engine's worker (another engine's, the shared one's say, may linger too)
                if (Thread.currentThread().getName().contains(engineName) && first.compareAndSet(true, false)) {
                    lingering.countDown();
                    try {
                        queued.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            try (Cmwq c = Cmwq.builder().name(engineName).cpus(1).jmx(false).simulate(true, false).build()) {
                EngineProbe.setCpusSaturated(c.engine(), saturated);
                Workqueue wq = c.workqueue("lingered").build();
                AtomicReference<Thread> ranA = new AtomicReference<>();
                AtomicReference<Thread> ranB = new AtomicReference<>();
                CountDownLatch doneB = new CountDownLatch(1);
                wq.queue(new Work("a", () -> ranA.set(Thread.currentThread())));
                if (saturated) {
                    wq.flush();
                    TestSupport.assertPoolsAtRest(c); // the worker went idle: past any linger
                    assertThat(lingering.getCount()).as("lingered while the CPUs are saturated").isEqualTo(1);
                    assertThat(EngineProbe.lingerHits(c.engine())).isZero();
                    continue;
                }
                assertThat(lingering.await(60, TimeUnit.SECONDS)).as("the worker lingered after its last work").isTrue();
                wq.queue(new Work("b", () -> {
                    ranB.set(Thread.currentThread());
                    doneB.countDown();
                }));
                queued.countDown();
                assertThat(doneB.await(60, TimeUnit.SECONDS)).isTrue();
                assertThat(ranB.get()).as("the lingering worker ran it").isSameAs(ranA.get());
                assertThat(EngineProbe.lingerHits(c.engine())).isEqualTo(1);
                assertThat(c.peakThreads()).as("no other worker made for it").isEqualTo(1);
                wq.flush();
                TestSupport.assertPoolsAtRest(c);
            } finally {
                EngineProbe.onLinger(null);
                queued.countDown();
            }
        }
    }
}
