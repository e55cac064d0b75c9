package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A pool whose works blocked gets allowances for it (one counted worker beyond its target, an
 * idle reserve: ARCHITECTURE 2); they lapse once {@code BLOCK_MEMORY_RUNS} works have started
 * there without a block, and a block brings them back. Before, the first block (or the first
 * raise of the target by the monitor, which counts as one) kept them for the pool's life.
 */
class BlockMemoryTest {

    @Test
    void aPoolsAllowancesForBlocksLapseAfterWorksThatDoNotBlockAndComeBackWithABlock() throws Exception {
        try (Cmwq c = Cmwq.builder().name("block-memory").cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("memory").build();
            assertThat(EngineProbe.blocksLately(c.engine(), 0)).as("before any block").isFalse();

            runOneBlockingWork(wq);
            assertThat(EngineProbe.blocksLately(c.engine(), 0)).as("after an announced block").isTrue();

            // A chain of no-op works long enough for the allowances to lapse. On a loaded machine
            // the monitor may take the preempted worker for blocked (or raise the target), which
            // counts as a block: then another chain, until one runs through without that.
            int chain = (int) EngineProbe.blockMemoryRuns() + 1_000;
            int chains = 0;
            do {
                runNoOpChain(wq, chain);
                chains++;
                assertThat(chains).as("chains of %d works run, the pool still counting a block", chain)
                        .isLessThanOrEqualTo(50);
            } while (EngineProbe.blocksLately(c.engine(), 0));

            runOneBlockingWork(wq);
            assertThat(EngineProbe.blocksLately(c.engine(), 0)).as("after the next block").isTrue();
            wq.flush();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(2L + (long) chains * chain);
        }
    }

    private static void runOneBlockingWork(Workqueue wq) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        wq.queue(new Work("blocks", () -> {
            try {
                Blocking.sleep(Duration.ofMillis(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.countDown();
        }));
        assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
        wq.flush();
    }

    /** {@code runs} no-op works, each queueing the next from its worker. */
    private static void runNoOpChain(Workqueue wq, int runs) throws InterruptedException {
        AtomicInteger left = new AtomicInteger(runs);
        CountDownLatch done = new CountDownLatch(1);
        Work[] self = new Work[1];
        self[0] = new Work("chain", () -> {
            if (left.decrementAndGet() > 0) {
                wq.queue(self[0]);
            } else {
                done.countDown();
            }
        });
        wq.queue(self[0]);
        assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
        wq.flush();
    }
}
