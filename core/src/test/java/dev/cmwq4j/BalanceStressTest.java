package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.TimeUnit;
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
            RequeueingBacklog b = new RequeueingBacklog(wq, 1_000);
            AtomicInteger flushViolations = new AtomicInteger();
            LongAdder flushes = new LongAdder();
            // CPU 1's worker: busy with a chain of tiny works for as long as the test produces
            LongAdder chainRuns = new LongAdder();
            Work[] chain = new Work[1];
            chain[0] = new Work("chain", () -> {
                chainRuns.increment();
                if (b.producing.get()) {
                    chainWq.queue(chain[0]); // from a worker: stays on its pool
                }
            });
            chainWq.queueOn(1, new Work("chain-starter", () -> chainWq.queue(chain[0])));
            Thread flusher = new Thread(() -> {
                while (b.producing.get()) {
                    long before = b.queued.sum(); // these queue() calls returned before the flush began
                    wq.flush();
                    // a cancel in progress may have resolved an instance already: count it first
                    long done = b.cancelling.get() + b.cancelled.sum() + b.runs.sum();
                    if (done < before) {
                        flushViolations.incrementAndGet();
                    }
                    flushes.increment();
                    TestSupport.spin(50_000);
                }
            }, "flusher");
            b.startCanceller();
            flusher.start();
            b.produce(100 * scale);
            b.stopProducing();
            flusher.join(TimeUnit.SECONDS.toMillis(60));
            b.flushAll();
            chain[0].flush();
            chainWq.flush();
            long balanced = EngineProbe.balanceSteals(c.engine());
            System.out.printf("balance: %d runs, %d on CPU 1, %d by balance, %d cancelled, %d flushes, %d chain runs%n",
                    b.runs.sum(), b.onCpu1.sum(), balanced, b.cancelled.sum(), flushes.sum(), chainRuns.sum());
            b.assertNothingLostOrOverlapped();
            assertThat(flushViolations.get()).as("flushes that returned before an earlier instance ended").isZero();
            assertThat(chainWq.stats().total()).as("chain runs per the statistics").isEqualTo(chainRuns.sum() + 1);
            assertThat(balanced).as("works CPU 1's busy worker took by balance").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
