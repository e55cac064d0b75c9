package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A pool that needs a new worker while a sibling pool of the same priority holds two or more idle
 * ones gets the thread of one of them (the sibling keeps one), instead of a new thread: the idle
 * worker retires as it would after its idle timeout, and its thread serves the needy pool under
 * the new worker's name.
 */
class HandOffTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    /**
     * Queues {@code n} works on {@code cpu}, each of which records its thread and blocks
     * (announced: the pool needs another worker for its next work) until {@code release} opens,
     * and waits until all of them have started.
     *
     * @return the threads they run on
     */
    private static Set<Thread> startBlocked(Workqueue wq, int cpu, int n, CountDownLatch release)
            throws InterruptedException {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        CountDownLatch started = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            assertThat(wq.queueOn(cpu, new Work(() -> {
                threads.add(Thread.currentThread());
                started.countDown();
                TestSupport.blockOn(release);
            }))).isTrue();
        }
        assertThat(started.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("%d works started on CPU %d", n, cpu).isTrue();
        return threads;
    }

    @Test
    void aPoolThatNeedsAWorkerTakesAnIdleThreadOfASiblingThatCanSpareOne() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        // idle workers kept for an hour: with the default timeout (300 s) the surplus rule retires
        // CPU 1's idle workers beyond its recent need after a half-life of 5 s, and on a loaded
        // machine (one CI run beside a stress run) the test took that long, so CPU 0's first
        // need found one idle worker there, not two, and made a thread
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().name("handoff").cpus(2).jmx(false).threadFactory(factory)
                .idleTimeout(Duration.ofHours(1)).build())) {
            Workqueue wq = c.workqueue("blocking").build();
            // CPU 1: three works blocked at once need three workers; released, all three go idle
            CountDownLatch release1 = new CountDownLatch(1);
            Set<Thread> cpu1Threads = startBlocked(wq, 1, 3, release1);
            release1.countDown();
            wq.flush();
            // every CPU 1 worker idle: the three, and on a loaded machine maybe an idle reserve
            // its pool made while all three were blocked (needReserve), which a wait for exactly
            // three idle workers never saw end (one loaded CI run)
            int cpu1Idle = awaitAllIdle(c, "cpu1", 3);
            Set<Thread> cpu1Idlers = Set.copyOf(EngineProbe.workerThreads(c.engine(), "cpu1")); // a reserve's too
            assertThat(cpu1Threads).hasSize(3);
            int made = factory.created();
            long handOffs = EngineProbe.threadHandOffs(c.engine());

            // CPU 0: two blocked works at once need two workers: both are threads of CPU 1's
            CountDownLatch release0 = new CountDownLatch(1);
            try {
                Set<Thread> cpu0Threads = startBlocked(wq, 0, 2, release0);
                assertThat(cpu1Idlers).as("CPU 0's works run on CPU 1's former threads").containsAll(cpu0Threads);
                assertThat(cpu0Threads).hasSize(2).allSatisfy(t -> assertThat(t.getName()).contains("cpu0-"));
                assertThat(EngineProbe.workerThreads(c.engine(), "cpu0")).containsAll(cpu0Threads);
                // the manager counts a hand-off after it returns, and the handed thread may
                // start the work first: the counts are awaited, not read at once. CPU 0 may add
                // an idle reserve for its next block: a third hand-off if CPU 1 had an idle
                // reserve of its own too (a loaded machine: 4 idle there, one CI run), else a
                // thread made; never both, and CPU 1 keeps its last idle worker
                Awaitility.await().atMost(BOUND).untilAsserted(() -> {
                    long handed = EngineProbe.threadHandOffs(c.engine()) - handOffs;
                    assertThat(handed).as("hand-offs to CPU 0").isBetween(2L, 3L);
                    assertThat(idle(c, "cpu1")).as("CPU 1 gave %d of its %d idle workers", handed, cpu1Idle)
                            .isEqualTo(cpu1Idle - (int) handed);
                });
                long handed = EngineProbe.threadHandOffs(c.engine()) - handOffs;
                assertThat(handed + factory.created() - made).as("workers handed or made for CPU 0").isBetween(2L, 3L);
                assertThat(idle(c, "cpu1")).as("CPU 1 keeps its last idle worker").isPositive();
            } finally {
                release0.countDown();
            }
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A pool never gives its last idle worker: a sibling that needs one more worker than it can
     * spare makes a thread.
     */
    @Test
    void aPoolKeepsItsLastIdleWorker() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().name("handoff-keep").cpus(2).jmx(false).threadFactory(factory)
                .idleTimeout(Duration.ofHours(1)).build())) { // no retirement between the steps (see above)
            Workqueue wq = c.workqueue("blocking").build();
            startBlocked(wq, 1, 1, new CountDownLatch(0)); // blocks, announced, and returns at once
            wq.flush();
            // every CPU 1 worker idle: one, or on a loaded machine also an idle reserve its pool
            // made while the announced block lasted (needReserve); a wait for exactly one idle
            // worker timed out once in about twenty runs
            int cpu1Idle = awaitAllIdle(c, "cpu1", 1);
            Set<Thread> cpu1Idlers = Set.copyOf(EngineProbe.workerThreads(c.engine(), "cpu1"));
            int made = factory.created();
            long handOffs = EngineProbe.threadHandOffs(c.engine());

            // CPU 0 needs one worker more than CPU 1 can spare: as many blocked works at once as
            // CPU 1 has idle workers
            CountDownLatch release0 = new CountDownLatch(1);
            try {
                Set<Thread> cpu0Threads = startBlocked(wq, 0, cpu1Idle, release0);
                Awaitility.await().atMost(BOUND).untilAsserted(() ->
                        assertThat(EngineProbe.threadHandOffs(c.engine()) - handOffs).isEqualTo(cpu1Idle - 1));
                assertThat(idle(c, "cpu1")).as("CPU 1 kept the last of its %d idle workers", cpu1Idle).isEqualTo(1);
                assertThat(cpu0Threads).as("a thread made for CPU 0").filteredOn(t -> !cpu1Idlers.contains(t)).isNotEmpty();
                // one thread made for the work CPU 1 could not spare a worker for, and maybe an
                // idle reserve for CPU 0's next block, which CPU 1 cannot spare either
                assertThat(factory.created() - made).as("threads made for CPU 0").isBetween(1, 2);
            } finally {
                release0.countDown();
            }
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Threads handed back and forth between the pools while works block and queue on both: every
     * queued work runs once, no worker thread dies, the live workers are the engine's thread
     * count, and the pools end at rest.
     */
    @Test
    void handOffsRacingBlocksAndQueuesLoseNothing() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        java.util.Queue<Throwable> died = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (Cmwq c = Cmwq.builder().name("handoff-stress").cpus(2).jmx(false)
                .threadFactory(TestSupport.recordingDeaths(died)).stallWindow(Duration.ofMillis(1)).build()) {
            Workqueue wq = c.workqueue("mixed").build();
            LongAdder runs = new LongAdder();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> producers = new ArrayList<>();
            LongAdder queued = new LongAdder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2L * scale);
            for (int cpu = 0; cpu < 2; cpu++) {
                int home = cpu;
                Thread t = new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (!stop.get() && System.nanoTime() < deadline) {
                        // bursts of blocking works on one pool, then the other: each burst needs
                        // workers the other pool has just left idle
                        int target = (home + r.nextInt(2)) & 1;
                        int burst = 1 + r.nextInt(6);
                        List<Work> works = new ArrayList<>();
                        for (int i = 0; i < burst; i++) {
                            long sleepMicros = r.nextInt(500);
                            Work w = new Work(() -> {
                                try {
                                    Blocking.sleep(Duration.ofNanos(sleepMicros * 1000));
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                runs.increment();
                            });
                            works.add(w);
                            assertThat(wq.queueOn(target, w)).isTrue();
                            queued.increment();
                        }
                        for (Work w : works) {
                            w.flush();
                        }
                    }
                }, "producer-" + cpu);
                producers.add(t);
                t.start();
            }
            for (Thread t : producers) {
                t.join(TimeUnit.SECONDS.toMillis(60L * scale));
                assertThat(t.isAlive()).as("a producer is stuck").isFalse();
            }
            stop.set(true);
            wq.flush();
            System.out.printf("hand-off stress: %d runs, %d threads handed over, %d live%n", runs.sum(),
                    EngineProbe.threadHandOffs(c.engine()), c.threads());
            assertThat(runs.sum()).as("every queued work ran once").isEqualTo(queued.sum());
            assertThat(died).as("worker threads that died").isEmpty();
            TestSupport.assertPoolsAtRest(c);
            int workers = EngineProbe.poolCounts(c.engine()).stream().mapToInt(EngineProbe.PoolCounts::workers).sum();
            assertThat(workers).as("workers in the pools == the engine's live threads").isEqualTo(c.threads());
            assertThat(EngineProbe.threadHandOffs(c.engine())).as("threads handed over").isPositive();
        }
    }

    /**
     * Waits until every worker of {@code pool} is idle, and at least {@code atLeast} of them
     * (on a loaded machine the pool may have made an idle reserve besides), and returns how many.
     */
    private static int awaitAllIdle(Cmwq c, String pool, int atLeast) {
        Awaitility.await().atMost(BOUND).until(() -> idle(c, pool) >= atLeast && idle(c, pool) == workers(c, pool));
        return idle(c, pool);
    }

    private static int workers(Cmwq c, String pool) {
        return count(c, pool, EngineProbe.PoolCounts::workers);
    }

    private static int idle(Cmwq c, String pool) {
        return count(c, pool, EngineProbe.PoolCounts::idle);
    }

    /** One of the counts of the pool named {@code pool}. */
    private static int count(Cmwq c, String pool, java.util.function.ToIntFunction<EngineProbe.PoolCounts> which) {
        return EngineProbe.poolCounts(c.engine()).stream().filter(p -> p.name().equals(pool)).mapToInt(which).sum();
    }
}
