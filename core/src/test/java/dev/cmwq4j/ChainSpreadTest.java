package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Chains of works that queue their own successors keep their pool's worklist from ever
 * emptying, though each work waits only a run or two: such a backlog is spread to an idle
 * sibling pool once it outlasts the steal threshold (a stolen work's successor is queued on the
 * thief's pool, so the chain moves). Before, every chain stayed on the CPU it started on while
 * the other idled. And a spread chain still never runs two of its works at once, and loses none.
 */
class ChainSpreadTest {

    @Test
    void twoSelfQueueingChainsStartedOnOneCpuRunOnBoth() throws Exception {
        try (Cmwq c = Cmwq.builder().name("spread").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("chains").build();
            int chains = 2;
            int perChain = 20_000;
            LongAdder onCpu1 = new LongAdder();
            AtomicInteger overlaps = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(chains);
            Work[] works = new Work[chains];
            AtomicInteger[] left = new AtomicInteger[chains];
            AtomicBoolean[] inside = new AtomicBoolean[chains];
            for (int i = 0; i < chains; i++) {
                int id = i;
                left[i] = new AtomicInteger(perChain);
                inside[i] = new AtomicBoolean();
                works[i] = new Work("chain" + i, () -> {
                    if (inside[id].getAndSet(true)) {
                        overlaps.incrementAndGet();
                    }
                    TestSupport.spin(5_000); // a short work: stolen only from a lasting backlog
                    if (Thread.currentThread().getName().contains("-cpu1-")) {
                        onCpu1.increment();
                    }
                    inside[id].set(false);
                    if (left[id].decrementAndGet() > 0) {
                        wq.queue(works[id]); // from a worker: onto that worker's pool
                    } else {
                        done.countDown();
                    }
                });
            }
            // both chains start on CPU 0's pool, queued by its worker
            wq.queueOn(0, new Work("starter", () -> {
                for (Work w : works) {
                    wq.queue(w);
                }
            }));
            assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(overlaps.get()).as("runs of one chain that overlapped").isZero();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(chains * perChain + 1L);
            assertThat(onCpu1.sum()).as("works that ran on CPU 1").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
