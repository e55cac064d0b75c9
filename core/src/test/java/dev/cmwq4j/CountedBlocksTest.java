package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Counted blocks (ARCHITECTURE 2; on by default, {@code cmwq4j.countedBlocks=false} turns them
 * off): a pool keeps a worker blocked in an announced block counted, from its first block and
 * while its blocks are short beside its works' CPU time, as it does an unannounced block until
 * its monitor sees it stuck, so that the target caps its works in flight. Each test says what it
 * checks: when a pool counts blocks and when not, and when it stops (on saturated CPUs too); that
 * a counted block still lets a work it waits for run; that a counted block shows as blocked and
 * counted; and that help, futures and flushes keep the accounting exact with every pool counting
 * blocks.
 */
class CountedBlocksTest {
    private static final ThreadMXBean TMX = ManagementFactory.getThreadMXBean();
    static volatile long sink;

    @AfterEach
    void pointsBackToThePools() {
        EngineProbe.forceCountedBlocks(null);
    }

    /** Burns about {@code nanos} of the calling thread's CPU time (a loaded machine stretches its wall time). */
    static void burnCpu(long nanos) {
        long end = TMX.getCurrentThreadCpuTime() + nanos;
        long x = 1;
        while (TMX.getCurrentThreadCpuTime() < end) {
            for (int i = 0; i < 100; i++) {
                x = x * 31 + 7;
            }
        }
        if (x == 42) {
            sink = x;
        }
    }

    /** Queues {@code n} works running {@code body} and waits for them. */
    private static void runBatch(Workqueue wq, int n, Runnable body) {
        for (int i = 0; i < n; i++) {
            wq.queue(new Work(body));
        }
        wq.flush();
    }

    private static void sleepAnnounced(long micros) {
        try {
            Blocking.sleep(Duration.ofNanos(micros * 1_000));
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    /**
     * A pool counts its announced blocks from its first one, before it knows its works' demand,
     * and keeps counting once it knows it if the blocks are short beside the CPU: works of 1 ms
     * of CPU around a 1 ms announced sleep need two workers per CPU (Little's law: 1 + W / C).
     */
    @Test
    void aPoolCountsFromItsFirstBlockAndKeepsCountingBlocksShortBesideItsCpu() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TMX.isCurrentThreadCpuTimeSupported(), "thread CPU time");
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("short").build();
            runBatch(wq, 20, CountedBlocksTest::shortBlockWork);
            assertThat(EngineProbe.countedBlockPools(c.engine()))
                    .as("pools counting after 20 runs:\n" + EngineProbe.demandEstimates(c.engine())).isEqualTo(1);
            assertThat(EngineProbe.workersPerCpu(c.engine())).as("demand known after 20 runs").isZero();
            countShortBlocks(c, wq);
        }
    }

    /**
     * Works of 50 us of CPU around a 50 ms announced sleep need about 250 workers per CPU (1,000
     * if their CPU were what they ask for; the thread CPU clock's reads add to it), far more than
     * counting can give, on saturated CPUs too (pinned so): their pool counts them from its first
     * block, stops once it knows their demand, and does not come back to it; every work runs.
     */
    @Test
    void aPoolStopsCountingBlocksLongBesideItsCpuOnceItKnowsThem() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TMX.isCurrentThreadCpuTimeSupported(), "thread CPU time");
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().cpus(1).build())) {
            EngineProbe.setCpusSaturated(c.engine(), true);
            Workqueue wq = c.workqueue("long").build();
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            Runnable work = blockingWork(25_000, 50_000, ran);
            int works = runUntilDemandKnown(c, wq, work);
            for (int round = 0; round < 6; round++) {
                runBatch(wq, 20, work);
                works += 20;
                if (round >= 1) { // the first batch with the demand known holds the look that decides
                    assertThat(EngineProbe.countedBlockPools(c.engine()))
                            .as("pools counting long blocks, round " + round + ":\n" + EngineProbe.demandEstimates(c.engine()))
                            .isZero();
                }
            }
            assertThat(ran.get()).isEqualTo(works);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * While the CPUs are saturated, a counting pool whose works need more workers per CPU than
     * the target's ceiling, but not four times as many (1 ms of CPU around a 25 ms announced
     * sleep: about 26 on an idle machine, more as the sleeps end late on a busy one, where the
     * wait for a CPU after a sleep is a few milliseconds, small beside 25), keeps
     * counting: the wait for a CPU is part of what it learned. Once the CPUs have room it stops
     * (the saturation pinned either way, so the machine's own load does not decide). Every work
     * runs, and the pool ends at rest.
     */
    @Test
    void aPoolKeepsCountingBlocksModeratelyPastTheCeilingWhileTheCpusAreSaturated() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TMX.isCurrentThreadCpuTimeSupported(), "thread CPU time");
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().cpus(1).build())) {
            var e = c.engine();
            EngineProbe.setCpusSaturated(e, true);
            Workqueue wq = c.workqueue("moderate").build();
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            Runnable work = blockingWork(500_000, 25_000, ran);
            int works = runUntilDemandKnown(c, wq, work);
            for (int round = 0; round < 4; round++) {
                runBatch(wq, 40, work);
                works += 40;
                assertThat(EngineProbe.countedBlockPools(e))
                        .as("pools counting while saturated, round " + round + ":\n" + EngineProbe.demandEstimates(e))
                        .isEqualTo(1);
            }
            long perCpu = EngineProbe.workersPerCpu(e);
            assertThat(perCpu).as("the demand the test needs:\n" + EngineProbe.demandEstimates(e))
                    .isBetween((long) EngineProbe.MAX_TARGET + 1, 4L * EngineProbe.MAX_TARGET);
            EngineProbe.setCpusSaturated(e, false);
            for (int round = 0; round < 25 && EngineProbe.countedBlockPools(e) == 1; round++) {
                runBatch(wq, 40, work);
                works += 40;
            }
            assertThat(EngineProbe.countedBlockPools(e))
                    .as("pools counting once the CPUs have room:\n" + EngineProbe.demandEstimates(e)).isZero();
            assertThat(ran.get()).isEqualTo(works);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /** Runs batches of 20 {@code work} until the pool knows its demand (64 runs averaged), or 100 batches; returns the works run. */
    private static int runUntilDemandKnown(Cmwq c, Workqueue wq, Runnable work) {
        int works = 0;
        for (int round = 0; round < 100 && EngineProbe.workersPerCpu(c.engine()) == 0; round++) {
            runBatch(wq, 20, work);
            works += 20;
        }
        assertThat(EngineProbe.workersPerCpu(c.engine())).as("demand known").isPositive();
        return works;
    }

    /** A work of {@code cpuNanos} of CPU on each side of an announced sleep of {@code sleepMicros}; counts its runs in {@code ran}. */
    private static Runnable blockingWork(long cpuNanos, long sleepMicros, java.util.concurrent.atomic.AtomicInteger ran) {
        return () -> {
            burnCpu(cpuNanos);
            sleepAnnounced(sleepMicros);
            burnCpu(cpuNanos);
            ran.incrementAndGet();
        };
    }

    /** 1 ms of CPU around a 1 ms announced sleep. */
    private static void shortBlockWork() {
        burnCpu(500_000);
        sleepAnnounced(1_000);
        burnCpu(500_000);
    }

    /**
     * A pool that counts blocks starts each burst from the works in flight Little's law gives its
     * CPU, not from the kernel's 1: works of 1 ms of CPU around a 1 ms announced sleep need
     * {@code 1 + W / C}, 2 on an idle machine (more when the sleeps end late on a busy one, where
     * W, a block's wall time, grows: 6 to 8 at 12 spinning processes beside it, still inside the
     * band where a pool counts). Once the pool is idle and the monitor parked (its last look
     * reset the target), the target is still that count, not 1.
     */
    @Test
    void aPoolThatCountsBlocksStartsItsBurstsFromLittlesCount() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TMX.isCurrentThreadCpuTimeSupported(), "thread CPU time");
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().cpus(1).build())) {
            countShortBlocks(c, c.workqueue("little").build());
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> EngineProbe.monitorParked(c.engine()));
            assertThat(EngineProbe.boundPoolRunningAndTarget(c.engine(), false).get(0)[1])
                    .as("target at rest:\n" + EngineProbe.demandEstimates(c.engine())).isBetween(2, 16);
        }
    }

    /**
     * A pool that counts blocks and then gets works whose blocks are long beside their CPU (50 us
     * around 5 ms: about 100 busy workers per running one, beyond the target's ceiling) stops
     * counting them while the CPUs have room (pinned so), and every one of those works runs; the
     * pool ends at rest (the target that counting raised is reset as it stops).
     */
    @Test
    void aPoolStopsCountingWhenItsBlocksOutgrowTheTarget() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TMX.isCurrentThreadCpuTimeSupported(), "thread CPU time");
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("shifting").build();
            countShortBlocks(c, wq);
            EngineProbe.setCpusSaturated(c.engine(), false);
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            int works = 0;
            for (int round = 0; round < 25 && EngineProbe.countedBlockPools(c.engine()) == 1; round++) {
                runBatch(wq, 40, blockingWork(25_000, 5_000, ran));
                works += 40;
            }
            assertThat(EngineProbe.countedBlockPools(c.engine()))
                    .as("pools still counting long blocks:\n" + EngineProbe.demandEstimates(c.engine())).isZero();
            assertThat(ran.get()).isEqualTo(works);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Runs works of 1 ms of CPU around a 1 ms announced sleep until the pool knows its demand
     * ({@link #runUntilDemandKnown}) and a batch more, for a look that decides with it; then
     * checks that the one pool counts blocks and is back at rest.
     */
    private static void countShortBlocks(Cmwq c, Workqueue wq) {
        runUntilDemandKnown(c, wq, CountedBlocksTest::shortBlockWork);
        runBatch(wq, 20, CountedBlocksTest::shortBlockWork);
        assertThat(EngineProbe.countedBlockPools(c.engine()))
                .as("pools counting short blocks:\n" + EngineProbe.demandEstimates(c.engine())).isEqualTo(1);
        TestSupport.assertPoolsAtRest(c);
    }

    /**
     * {@link #awaitCounting}, then two announced sleeps of {@code micros} one after the other: the
     * pool's usual block becomes long, so that a counted block of the test is not taken out as a
     * stall before twice that.
     */
    private static void countWithALongUsualBlock(Cmwq c, Workqueue wq, long micros) {
        awaitCounting(c, wq);
        for (int i = 0; i < 2; i++) {
            runBatch(wq, 1, () -> sleepAnnounced(micros));
        }
    }

    /**
     * Queues no-op works until a pool counts blocks (forced on, pools count from their start, but
     * the test flag may have been set after the engine was built: then the monitor's first look
     * at the busy pool sets it).
     */
    private static void awaitCounting(Cmwq c, Workqueue wq) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            runBatch(wq, 4, () -> TestSupport.spin(200_000));
            return EngineProbe.countingPools(c.engine(), false) >= 1;
        });
    }

    /**
     * A counted block keeps its worker counted, so the pool (target 1) starts nothing else at
     * once; a work queued after it, which the blocked work waits for, still runs: the monitor
     * sees the pool stuck and takes the worker out, or raises the target. Without that rescue
     * the waiter would wait for good.
     */
    @Test
    void aCountedBlockThatWaitsForALaterWorkOfItsPoolStillLetsItRun() throws Exception {
        EngineProbe.forceCountedBlocks(true);
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("progress").build();
            awaitCounting(c, wq);
            CountDownLatch waiting = new CountDownLatch(1);
            CountDownLatch released = new CountDownLatch(1);
            AtomicBoolean waiterDone = new AtomicBoolean();
            wq.queue(new Work("waiter", () -> {
                waiting.countDown();
                TestSupport.blockOn(released);
                waiterDone.set(true);
            }));
            assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work("releaser", released::countDown));
            assertThat(released.await(30, TimeUnit.SECONDS)).as("the releaser ran").isTrue();
            wq.flush();
            assertThat(waiterDone.get()).isTrue();
            var m = c.engine();
            assertThat(EngineProbe.countedBlocksReleased(m) + EngineProbe.targetRaised(m))
                    .as("the monitor took the counted waiter out or raised the target").isGreaterThanOrEqualTo(1);
            assertThat(EngineProbe.blocksDetected(m)).as("an announced block taken for a detected one").isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A counted block in native code (a blocking read of an OS pipe inside {@code Blocking.run})
     * is RUNNABLE to the JVM, but it is off the CPU: with it counted and nothing else of its pool
     * on the CPU, the monitor raises the target, so a work queued behind it runs while the read
     * still waits. The pool's usual block is made long first (announced sleeps of 1 s), so that
     * the read, which ends only once that work ran, is not taken out as a stall (its age is far
     * below twice the usual block when the target rises).
     */
    @Test
    void aCountedNativeReadRaisesTheTargetForTheWorkBehindIt() throws Exception {
        EngineProbe.forceCountedBlocks(true);
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("native").build();
            countWithALongUsualBlock(c, wq, 1_000_000);
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            try (var source = pipe.source(); var sink = pipe.sink()) {
                CountDownLatch reading = new CountDownLatch(1);
                CountDownLatch behindRan = new CountDownLatch(1);
                AtomicBoolean readDone = new AtomicBoolean();
                wq.queue(new Work("reader", () -> Blocking.run(() -> {
                    reading.countDown();
                    try {
                        source.read(java.nio.ByteBuffer.allocate(1));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    readDone.set(true);
                })));
                assertThat(reading.await(30, TimeUnit.SECONDS)).isTrue();
                long raisedBefore = EngineProbe.targetRaised(c.engine());
                long detectedBefore = EngineProbe.blocksDetected(c.engine()) + EngineProbe.countedBlocksReleased(c.engine());
                wq.queue(new Work("behind", behindRan::countDown));
                boolean ran = behindRan.await(30, TimeUnit.SECONDS);
                boolean readStillWaiting = !readDone.get();
                long raised = EngineProbe.targetRaised(c.engine()) - raisedBefore;
                long detected = EngineProbe.blocksDetected(c.engine()) + EngineProbe.countedBlocksReleased(c.engine()) - detectedBefore;
                sink.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
                wq.flush();
                String why = EngineProbe.demandEstimates(c.engine()) + ", raised " + raised + ", detected " + detected;
                assertThat(ran).as("the work behind the read ran").isTrue();
                assertThat(readStillWaiting).isTrue();
                assertThat(raised).as("target raised: " + why).isGreaterThanOrEqualTo(1);
                assertThat(detected).as("the read taken out as a stall: " + why).isZero();
                assertThat(readDone.get()).isTrue();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Works queued behind a workqueue's {@code maxActive} cannot start, so they do not raise the
     * target of a pool whose only counted worker is in a block: the monitor admits what waits on
     * the inbound stack before it decides (those works go inactive), where counting them as
     * waiting raised the target for nothing (and at the ceiling made the pool stop counting). The
     * pool's usual block is made long first, so that the block is not taken out as a stall
     * meanwhile; every work runs once the block ends. Without the fast lane: works offered to the
     * lane's ring count as waiting until a worker takes them (the lock does not drain the ring),
     * so there one raise wakes a worker, whose take parks them inactive.
     */
    @Test
    void worksBeyondMaxActiveDoNotRaiseTheTargetOfACountingPool() throws Exception {
        EngineProbe.forceCountedBlocks(true);
        try (Cmwq c = EngineProbe.withLane(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("one at a time").maxActive(1).build();
            countWithALongUsualBlock(c, wq, 300_000);
            var e = c.engine();
            CountDownLatch blocking = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            wq.queue(new Work("blocker", () -> {
                blocking.countDown();
                TestSupport.blockOn(release);
            }));
            assertThat(blocking.await(30, TimeUnit.SECONDS)).isTrue();
            long raisedBefore = EngineProbe.targetRaised(e);
            long detectedBefore = EngineProbe.blocksDetected(e) + EngineProbe.countedBlocksReleased(e);
            for (int i = 0; i < 3; i++) {
                wq.queue(new Work(ran::incrementAndGet));
            }
            long looks = EngineProbe.monitorLooks(e);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> EngineProbe.monitorLooks(e) >= looks + 20);
            long raised = EngineProbe.targetRaised(e) - raisedBefore;
            long detected = EngineProbe.blocksDetected(e) + EngineProbe.countedBlocksReleased(e) - detectedBefore;
            release.countDown();
            wq.flush();
            assertThat(detected).as("the block taken out as a stall (the test needs it counted)").isZero();
            assertThat(raised).as("target raised for works that could not start:\n" + EngineProbe.demandEstimates(e)).isZero();
            assertThat(ran.get()).isEqualTo(3);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A counted block shows as a blocked worker in the pool's statistics, and as counted in its
     * running count (under the kernel's rule the count would be 0 while the work waits); a wait
     * for a future in the same pool shows as blocked and not counted. After each, the pool is at
     * rest.
     */
    @Test
    void aCountedBlockShowsAsBlockedAndCounted() throws Exception {
        EngineProbe.forceCountedBlocks(true);
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("stats").build();
            awaitCounting(c, wq);
            long announcedBefore = wq.stats().blocksAnnounced();
            CountDownLatch released = new CountDownLatch(1);
            wq.queue(new Work("waiter", () -> TestSupport.blockOn(released)));
            try {
                Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    PoolStats p = c.poolStats().get(0);
                    assertThat(p.blocked()).as("blocked workers").isEqualTo(1);
                    assertThat(p.nrRunning()).as("counted workers").isEqualTo(1);
                });
            } finally {
                released.countDown();
            }
            wq.flush();
            assertThat(wq.stats().blocksAnnounced()).as("announced blocks").isEqualTo(announcedBefore + 1);
            // a wait for a future (which a work may complete) always leaves the count
            java.util.concurrent.CompletableFuture<Void> future = new java.util.concurrent.CompletableFuture<>();
            wq.queue(new Work("future waiter", () -> Blocking.join(future)));
            try {
                Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    PoolStats p = c.poolStats().get(0);
                    assertThat(p.blocked()).as("blocked workers").isEqualTo(1);
                    assertThat(p.nrRunning()).as("counted workers").isZero();
                });
            } finally {
                future.complete(null);
            }
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Every pool counting blocks, on two CPUs: parents submit children to an executor view and
     * wait for their futures, directly (a wait for a work, never counted) or inside
     * {@code Blocking.call} (counted; a child run in place meanwhile, a help, suspends the
     * parent's counted block and resumes it), children sleep announced or not at
     * all, some parents flush a second workqueue. Every child runs exactly once, every parent ends,
     * and the pools come back to rest with their counts at zero (a block counted twice or lost
     * leaves a count behind).
     */
    @Test
    void helpFuturesAndFlushesKeepTheCountsExactWhileBlocksAreCounted() throws Exception {
        EngineProbe.forceCountedBlocks(true);
        int parents = 60;
        int children = 5;
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("tree").build();
            Workqueue side = c.workqueue("side").build();
            awaitCounting(c, wq);
            ExecutorService es = wq.asExecutorService();
            AtomicIntegerArray runs = new AtomicIntegerArray(parents * children);
            List<Future<?>> roots = new ArrayList<>();
            for (int p = 0; p < parents; p++) {
                int parent = p;
                roots.add(es.submit(() -> {
                    List<Future<?>> mine = new ArrayList<>();
                    for (int k = 0; k < children; k++) {
                        int id = parent * children + k;
                        mine.add(es.submit(() -> {
                            runs.incrementAndGet(id);
                            ThreadLocalRandom r = ThreadLocalRandom.current();
                            TestSupport.spin(r.nextInt(50_000));
                            if (r.nextBoolean()) {
                                sleepAnnounced(r.nextInt(1_000));
                            }
                        }));
                    }
                    sleepAnnounced(ThreadLocalRandom.current().nextInt(500));
                    for (Future<?> f : mine) {
                        if (ThreadLocalRandom.current().nextBoolean()) {
                            f.get(60, TimeUnit.SECONDS); // a wait for a work: never counted
                        } else {
                            // announced as a block outside the pools, so counted: a help inside it
                            // suspends and resumes the counted block
                            Blocking.call(() -> f.get(60, TimeUnit.SECONDS));
                        }
                    }
                    if (parent % 10 == 0) {
                        side.queue(new Work(() -> sleepAnnounced(200)));
                        side.flush(); // from a work: a wait for another workqueue's works
                    }
                    return null;
                }));
            }
            for (Future<?> f : roots) {
                f.get(120, TimeUnit.SECONDS);
            }
            for (int i = 0; i < runs.length(); i++) {
                assertThat(runs.get(i)).as("runs of child " + i).isEqualTo(1);
            }
            assertThat(EngineProbe.countedBlockPools(c.engine())).as("pools still counting blocks").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
