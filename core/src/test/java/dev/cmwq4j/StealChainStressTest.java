package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.TimeUnit;
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
            // 256 x 1.5 us per round: a backlog a thief has time to chain through
            RequeueingBacklog b = new RequeueingBacklog(wq, 1_500);
            b.startCanceller();
            b.produce(100 * scale);
            b.stopProducing();
            b.flushAll();
            System.out.printf("steal chain: %d runs, %d on CPU 1, %d cancelled, %d self-queued%n",
                    b.runs.sum(), b.onCpu1.sum(), b.cancelled.sum(), b.selfQueues.sum());
            b.assertNothingLostOrOverlapped();
            assertThat(b.onCpu1.sum()).as("works CPU 1's worker stole").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
