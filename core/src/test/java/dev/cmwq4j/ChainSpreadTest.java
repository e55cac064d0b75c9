package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.awaitility.Awaitility;
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
            startOnCpu0(wq, works);
            assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(overlaps.get()).as("runs of one chain that overlapped").isZero();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(chains * perChain + 1L);
            assertThat(onCpu1.sum()).as("works that ran on CPU 1").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Tiny works are never stolen one by one, but a chain of them is moved whole: an idle
     * sibling is sent a thief for the chain's head, and a busy pool that waits on fewer works
     * than its sibling takes the sibling's head every {@code Stealing.BALANCE_EVERY} runs, until
     * the backlogs even out. Eight chains started on CPU 0's pool, after a first round that
     * warms the code up (interpreted, the runs are not tiny): at least two chains, and a tenth of
     * the works, run on CPU 1. In this JVM (assertions on, the JIT compiling beside the test) the
     * pool's run class also flickers to short at times, where the older rules spread a backlog
     * too, so the test guards the outcome (and that a moved chain never overlaps itself and
     * loses nothing); what only the new rules do shows in {@code QueueExecuteBench.selfSubmit},
     * whose invocations restart eight chains on one pool every millisecond (14 -> 23 M/s).
     */
    @Test
    void tinyChainsStartedOnOneCpuSpreadUntilBalanced() throws Exception {
        try (Cmwq c = Cmwq.builder().name("tiny-spread").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false);
            Workqueue wq = c.workqueue("tiny-chains").build();
            TinyChains warmUp = new TinyChains(c, wq, 8, 60_000);
            warmUp.runFromCpu0();
            TinyChains measured = new TinyChains(c, wq, 8, 100_000);
            measured.runFromCpu0();
            assertThat(warmUp.overlaps.get() + measured.overlaps.get())
                    .as("runs of one chain that overlapped").isZero();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(8L * 60_000 + 8L * 100_000 + 2L);
            assertThat(measured.movedToCpu1())
                    .as("chains that ran on CPU 1 (CPU 0's runs tiny in " + measured.tinyShare() + ")")
                    .isGreaterThanOrEqualTo(2);
            assertThat(measured.onCpu1.sum()).as("works that ran on CPU 1").isGreaterThanOrEqualTo(8L * 100_000 / 10);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Four endless chains of tiny works started on CPU 0 with the lane on, after a round that
     * compiled their path and left the pool's runs tiny: the balance moves them until each CPU
     * runs two at once. An idle sibling's thief moves the first; the sibling's worker, running
     * that chain, takes a second from CPU 0 at its look at the balance. CPU 0's works wait in its
     * ring, which that look drains into the worklist, where they count as the backlog the ring
     * has been (the lane's backlog hint), not as a new one: before, the look listed CPU 0's ring,
     * took nothing, and the chains stayed three to one. No chain overlaps itself.
     */
    @Test
    void fourTinyChainsInTheLaneEndTwoAndTwo() throws Exception {
        try (Cmwq c = EngineProbe.withLane(true, () -> Cmwq.builder().name("lane-spread").cpus(2).jmx(false)
                .simulate(true, false).build())) {
            EngineProbe.setCpusSaturated(c.engine(), false);
            Workqueue wq = c.workqueue("lane-chains").build();
            EndlessChains warmUp = new EndlessChains(wq, 4);
            warmUp.startOnCpu0();
            Awaitility.await("the warm-up's runs, tiny").atMost(Duration.ofSeconds(120))
                    .until(() -> warmUp.runs.sum() >= 400_000 && EngineProbe.runsAreTiny(c.engine(), 0));
            warmUp.stop();
            EndlessChains measured = new EndlessChains(wq, 4);
            measured.startOnCpu0();
            try {
                Awaitility.await("two of the four chains on CPU 1 at once").atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(1))
                        .until(() -> measured.onCpu1() == 2);
            } finally {
                measured.stop();
            }
            wq.flush();
            assertThat(warmUp.overlaps.get() + measured.overlaps.get()).as("runs of one chain that overlapped").isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /** Chains of tiny works that queue their successors until stopped; each knows its last run's CPU. */
    private static final class EndlessChains {
        final Workqueue wq;
        final Work[] works;
        final AtomicInteger[] cpu;
        final AtomicBoolean[] inside;
        final AtomicBoolean stopping = new AtomicBoolean();
        final AtomicInteger overlaps = new AtomicInteger();
        final LongAdder runs = new LongAdder();
        final CountDownLatch stopped;

        EndlessChains(Workqueue wq, int chains) {
            this.wq = wq;
            works = new Work[chains];
            cpu = new AtomicInteger[chains];
            inside = new AtomicBoolean[chains];
            stopped = new CountDownLatch(chains);
            for (int i = 0; i < chains; i++) {
                int id = i;
                cpu[i] = new AtomicInteger();
                inside[i] = new AtomicBoolean();
                works[i] = new Work("endless" + i, () -> {
                    if (inside[id].getAndSet(true)) {
                        overlaps.incrementAndGet();
                    }
                    cpu[id].lazySet(Thread.currentThread().getName().contains("-cpu1-") ? 1 : 0);
                    runs.increment();
                    inside[id].set(false);
                    if (stopping.get()) {
                        stopped.countDown();
                    } else {
                        wq.queue(works[id]); // from a worker: onto that worker's pool
                    }
                });
            }
        }

        /** Queues every chain's first work on CPU 0's pool, from its worker. */
        void startOnCpu0() {
            ChainSpreadTest.startOnCpu0(wq, works);
        }

        int onCpu1() {
            int n = 0;
            for (AtomicInteger c : cpu) {
                n += c.get();
            }
            return n;
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            assertThat(stopped.await(60, TimeUnit.SECONDS)).as("every chain stopped").isTrue();
        }
    }

    /**
     * Queues every chain's first work on CPU 0's pool, from its worker (a work queued by a worker
     * goes onto that worker's pool), so that all start there.
     */
    private static void startOnCpu0(Workqueue wq, Work[] works) {
        wq.queueOn(0, new Work("starter", () -> {
            for (Work w : works) {
                wq.queue(w);
            }
        }));
    }

    /** Chains of tiny works, each queueing its successor from the worker that runs it. */
    private static final class TinyChains {
        final Cmwq cmwq;
        final Workqueue wq;
        final Work[] works;
        final AtomicInteger[] left;
        final AtomicBoolean[] inside;
        final AtomicBoolean[] ranOnCpu1;
        final AtomicInteger overlaps = new AtomicInteger();
        final LongAdder onCpu1 = new LongAdder();
        final CountDownLatch done;
        int samples;
        int tinySamples;

        TinyChains(Cmwq cmwq, Workqueue wq, int chains, int perChain) {
            this.cmwq = cmwq;
            this.wq = wq;
            works = new Work[chains];
            left = new AtomicInteger[chains];
            inside = new AtomicBoolean[chains];
            ranOnCpu1 = new AtomicBoolean[chains];
            done = new CountDownLatch(chains);
            for (int i = 0; i < chains; i++) {
                int id = i;
                left[i] = new AtomicInteger(perChain);
                inside[i] = new AtomicBoolean();
                ranOnCpu1[i] = new AtomicBoolean();
                works[i] = new Work("tiny" + i, () -> {
                    if (inside[id].getAndSet(true)) {
                        overlaps.incrementAndGet();
                    }
                    if (Thread.currentThread().getName().contains("-cpu1-")) {
                        onCpu1.increment();
                        if (!ranOnCpu1[id].get()) {
                            ranOnCpu1[id].set(true);
                        }
                    }
                    inside[id].set(false);
                    if (left[id].decrementAndGet() > 0) {
                        wq.queue(works[id]); // from a worker: onto that worker's pool
                    } else {
                        done.countDown();
                    }
                });
            }
        }

        /** Starts every chain on CPU 0's pool, queued by its worker, and waits for all to end. */
        void runFromCpu0() throws InterruptedException {
            startOnCpu0(wq, works);
            while (!done.await(1, TimeUnit.MILLISECONDS)) {
                samples++;
                tinySamples += EngineProbe.runsAreTiny(cmwq.engine(), 0) ? 1 : 0;
                assertThat(samples).as("chains still running after 300 s").isLessThan(300_000);
            }
            wq.flush();
        }

        int movedToCpu1() {
            int moved = 0;
            for (AtomicBoolean b : ranOnCpu1) {
                moved += b.get() ? 1 : 0;
            }
            return moved;
        }

        String tinyShare() {
            return tinySamples + " of " + samples + " samples";
        }
    }
}
