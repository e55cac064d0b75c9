package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A busy worker that takes a sibling's head to even out the backlogs ({@code Stealing.rebalance},
 * every 64 of its runs) keeps every promise of the works it takes. CPU 1's worker is kept busy by a
 * chain of tiny works (so it never steals as an idle thief would); CPU 0's pool holds a backlog of
 * re-queued works with a small {@code maxActive} (completions on CPU 1 activate inactive works);
 * a thread cancels at random and another flushes at random. Checked: no work ever runs
 * concurrently with itself; every instance queued before a flush began has run or been
 * cancelled when the flush returns; every queue() that returned true is matched by exactly one
 * run or one successful cancel; the statistics after a flush count exactly the runs; CPU 1's
 * worker did take works by balance; the pools end at rest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost completion hangs a flush
class BalanceStressTest {

    @Test
    void aBusyWorkerEvensOutBacklogsWithoutLosingOverlappingOrMiscountingAWork() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1); // -Pstress: 50
        try (Cmwq c = Cmwq.builder().name("balance").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("backlog").maxActive(8).build();
            Workqueue chainWq = c.workqueue("chain").build();
            int k = 256;
            AtomicBoolean[] inside = new AtomicBoolean[k];
            AtomicInteger overlaps = new AtomicInteger();
            LongAdder runs = new LongAdder();
            LongAdder queued = new LongAdder();
            LongAdder cancelled = new LongAdder();
            AtomicInteger cancelling = new AtomicInteger();
            LongAdder onCpu1 = new LongAdder();
            AtomicInteger flushViolations = new AtomicInteger();
            LongAdder flushes = new LongAdder();
            AtomicBoolean producing = new AtomicBoolean(true);
            Work[] works = new Work[k];
            for (int i = 0; i < k; i++) {
                int id = i;
                inside[i] = new AtomicBoolean();
                works[i] = new Work("b" + i, () -> {
                    if (inside[id].getAndSet(true)) {
                        overlaps.incrementAndGet();
                    }
                    TestSupport.spin(1_000);
                    if (Thread.currentThread().getName().contains("-cpu1-")) {
                        onCpu1.increment();
                    }
                    runs.increment();
                    inside[id].set(false);
                    if (producing.get() && ThreadLocalRandom.current().nextInt(16) == 0 && wq.queue(works[id])) {
                        queued.increment(); // re-queued while it runs: a second instance behind it
                    }
                });
            }
            // CPU 1's worker: busy with a chain of tiny works for as long as the test produces
            LongAdder chainRuns = new LongAdder();
            Work[] chain = new Work[1];
            chain[0] = new Work("chain", () -> {
                chainRuns.increment();
                if (producing.get()) {
                    chainWq.queue(chain[0]); // from a worker: stays on its pool
                }
            });
            chainWq.queueOn(1, new Work("chain-starter", () -> chainWq.queue(chain[0])));
            Thread canceller = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (producing.get()) {
                    cancelling.incrementAndGet();
                    if (works[r.nextInt(k)].cancel()) {
                        cancelled.increment();
                    }
                    cancelling.decrementAndGet();
                    TestSupport.spin(10_000);
                }
            }, "canceller");
            Thread flusher = new Thread(() -> {
                while (producing.get()) {
                    long before = queued.sum(); // these queue() calls returned before the flush began
                    wq.flush();
                    // a cancel in progress may have resolved an instance already: count it first
                    long done = cancelling.get() + cancelled.sum() + runs.sum();
                    if (done < before) {
                        flushViolations.incrementAndGet();
                    }
                    flushes.increment();
                    TestSupport.spin(50_000);
                }
            }, "flusher");
            canceller.start();
            flusher.start();
            int rounds = 100 * scale;
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
            flusher.join(TimeUnit.SECONDS.toMillis(60));
            wq.flush();
            for (Work w : works) {
                w.flush(); // a self-queue made during the flush above (none after this)
            }
            wq.flush();
            chain[0].flush();
            chainWq.flush();
            long balanced = EngineProbe.balanceSteals(c.engine());
            System.out.printf("balance: %d runs, %d on CPU 1, %d by balance, %d cancelled, %d flushes, %d chain runs%n",
                    runs.sum(), onCpu1.sum(), balanced, cancelled.sum(), flushes.sum(), chainRuns.sum());
            assertThat(overlaps.get()).as("runs that overlapped their own work").isZero();
            assertThat(flushViolations.get()).as("flushes that returned before an earlier instance ended").isZero();
            assertThat(runs.sum() + cancelled.sum()).as("runs + cancels = successful queues").isEqualTo(queued.sum());
            assertThat(wq.stats().total()).as("executed per the statistics, after a flush")
                    .isEqualTo(runs.sum() + rounds);
            assertThat(chainWq.stats().total()).as("chain runs per the statistics").isEqualTo(chainRuns.sum() + 1);
            assertThat(balanced).as("works CPU 1's busy worker took by balance").isPositive();
            for (Work w : works) {
                assertThat(w.isPending()).isFalse();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
