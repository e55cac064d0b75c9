package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thief that goes on stealing ({@code Stealing.runChain}: it ends one stolen work and claims the
 * next under one acquisition of the victim's lock) keeps every promise of a work it did not take:
 * a backlog of re-queued works, on CPU 0's pool of a 2-CPU engine whose CPUs are marked free
 * (so CPU 1's worker steals), with a small {@code maxActive} (stolen completions activate the
 * inactive works), works re-queueing themselves while they run, and a thread cancelling at
 * random. Checked: no work ever runs concurrently with itself; every queue() that returned true
 * is matched by exactly one run or one successful cancel; the statistics after a flush count
 * exactly the runs; CPU 1's worker did steal; the pools end at rest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost completion hangs a flush
class StealChainStressTest {

    @Test
    void aStealingThiefLosesNothingRunsNothingTwiceAndNeverOverlapsAWork() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1); // -Pstress: 50
        try (Cmwq c = Cmwq.builder().name("stealchain").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("chain").maxActive(8).build();
            int k = 256; // 256 x 1.5 us per round: a backlog a thief has time to chain through
            AtomicBoolean[] inside = new AtomicBoolean[k];
            AtomicInteger overlaps = new AtomicInteger();
            LongAdder runs = new LongAdder();
            LongAdder queued = new LongAdder();
            LongAdder cancelled = new LongAdder();
            LongAdder stolen = new LongAdder();
            AtomicLong selfQueues = new AtomicLong();
            AtomicBoolean producing = new AtomicBoolean(true);
            Work[] works = new Work[k];
            for (int i = 0; i < k; i++) {
                int id = i;
                inside[i] = new AtomicBoolean();
                works[i] = new Work("w" + i, () -> {
                    if (inside[id].getAndSet(true)) {
                        overlaps.incrementAndGet();
                    }
                    TestSupport.spin(1_500); // above the size a thief is sent for on a free CPU
                    if (Thread.currentThread().getName().contains("-cpu1-")) {
                        stolen.increment();
                    }
                    runs.increment();
                    inside[id].set(false);
                    if (producing.get() && ThreadLocalRandom.current().nextInt(16) == 0 && wq.queue(works[id])) {
                        queued.increment(); // re-queued while it runs: a second instance behind it
                        selfQueues.incrementAndGet();
                    }
                });
            }
            int rounds = 100 * scale;
            Thread canceller = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (producing.get()) {
                    if (works[r.nextInt(k)].cancel()) {
                        cancelled.increment();
                    }
                    TestSupport.spin(10_000); // a cancel now and then: most instances run
                }
            }, "canceller");
            canceller.start();
            for (int round = 0; round < rounds; round++) {
                CountDownLatch queuedAll = new CountDownLatch(1);
                // queued from a work on CPU 0: the backlog lands on CPU 0's pool, unpinned
                wq.queueOn(0, new Work("producer" + round, () -> {
                    for (Work w : works) {
                        if (wq.queue(w)) {
                            queued.increment();
                        }
                    }
                    queuedAll.countDown();
                }));
                assertThat(queuedAll.await(60, TimeUnit.SECONDS)).isTrue();
            }
            producing.set(false);
            canceller.join(TimeUnit.SECONDS.toMillis(60));
            wq.flush();
            for (Work w : works) {
                w.flush(); // a self-queue made during the flush above (none after this)
            }
            wq.flush();
            System.out.printf("steal chain: %d runs, %d on CPU 1, %d cancelled, %d self-queued%n",
                    runs.sum(), stolen.sum(), cancelled.sum(), selfQueues.get());
            assertThat(overlaps.get()).as("runs that overlapped their own work").isZero();
            assertThat(runs.sum() + cancelled.sum()).as("runs + cancels = successful queues")
                    .isEqualTo(queued.sum());
            long producers = rounds;
            assertThat(wq.stats().total()).as("executed per the statistics, after a flush")
                    .isEqualTo(runs.sum() + producers);
            assertThat(stolen.sum()).as("works CPU 1's worker stole").isPositive();
            for (Work w : works) {
                assertThat(w.isPending()).isFalse();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
