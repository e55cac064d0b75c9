package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cmwq4j.internal.AccountingProbe;
import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The fast lane (issue 16; ARCHITECTURE 6, "The fast lane"): works a pool's workers take from
 * its ring without the lock and run uncounted, until a lock holder counts them (the conversion).
 * Each test builds its instance with the lane on, whatever the run's {@code -DfastLane} says,
 * and pins one promise the lane must keep where it is taken: every run counted after a flush, a
 * flush that waits for a fast run in progress, statistics exact after a flush, FIFO across the
 * ring and the stack, a work never beside itself, {@code maxActive}, and {@code shutdownNow}
 * returning every unstarted task.
 */
class FastLaneTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    /**
     * An instance with the lane (unless {@code -DlaneOff=true}) whose announced blocks follow the
     * kernel's rule: a test's blocked works are replaced at once, and what it checks runs in the
     * lane of the worker that replaced them (a counted block, ARCHITECTURE 2, waits for the
     * monitor's rescue, and the runs behind it may take the locked path: once in a loaded CI run,
     * no link of a chain ran in the lane).
     */
    private static Cmwq laneInstance(String name, int cpus) {
        return laneInstance(name, cpus, false);
    }

    /** {@link #laneInstance(String, int)}, with announced blocks counted or not. */
    private static Cmwq laneInstance(String name, int cpus, boolean countedBlocks) {
        Cmwq c = EngineProbe.withLane(!Boolean.getBoolean("laneOff"), () -> EngineProbe.withCountedBlocks(countedBlocks,
                () -> Cmwq.builder().name(name).cpus(cpus).jmx(false).build()));
        assertThat(EngineProbe.hasLane(c.engine())).isEqualTo(!Boolean.getBoolean("laneOff"));
        return c;
    }

    /**
     * Two works queue each other 20,000 times: the hops run in the lane, each runs once, neither
     * overlaps itself, and after a flush the statistics count every run with nothing in flight.
     */
    @Test
    void aPingPongChainRunsInTheLaneAndAFlushCountsEveryRun() throws Exception {
        int hops = 20_000;
        try (Cmwq c = laneInstance("lane-chain", 1)) {
            Workqueue wq = c.workqueue("ping-pong").build();
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            Work[] pair = new Work[2];
            AtomicIntegerArray inside = new AtomicIntegerArray(2);
            for (int i = 0; i < 2; i++) {
                int me = i;
                pair[i] = new Work(() -> {
                    if (inside.incrementAndGet(me) != 1) {
                        overlaps.incrementAndGet();
                    }
                    if (runs.incrementAndGet() < hops) {
                        wq.queue(pair[1 - me]);
                    } else {
                        done.countDown();
                    }
                    inside.decrementAndGet(me);
                });
            }
            wq.queue(pair[0]);
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(runs.get()).isEqualTo(hops);
            assertThat(overlaps.get()).as("runs that overlapped their own work").isZero();
            assertThat(EngineProbe.laneStarts(c.engine())).as("works started in the lane").isPositive();
            WorkqueueStats s = wq.stats();
            assertThat(s.total()).as("runs counted after the flush").isEqualTo(hops);
            assertThat(s.inFlight()).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A work running in the lane (uncounted) when a flush comes: the flush counts it (a
     * conversion) and returns only after it ends. Without the conversion the flush found
     * nothing in flight and returned at once. The work blocks announced, so that no monitor
     * look converts it first; if some lock of the pool admitted it before the lane took it, the
     * round is run again (a few times at most on a loaded machine).
     */
    @Test
    void aFlushWaitsForAFastRunInProgress() throws Exception {
        try (Cmwq c = laneInstance("lane-flush", 1)) {
            Workqueue wq = c.workqueue("flushed").build();
            int rounds = 0;
            boolean inLane = false;
            while (!inLane) {
                assertThat(rounds++).as("rounds until the held work ran in the lane").isLessThan(20);
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                Work held = new Work("held", () -> {
                    started.countDown();
                    Blocking.run(() -> TestSupport.awaitQuietly(release, BOUND.toSeconds()));
                });
                try {
                    long laneBefore = EngineProbe.laneStarts(c.engine());
                    // queued from a running work, so its worker takes it from the ring after that run
                    wq.queue(new Work("starter", () -> wq.queue(held)));
                    assertThat(started.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    inLane = EngineProbe.inLaneRun(c.engine(), held.node)
                            || EngineProbe.laneStarts(c.engine()) - laneBefore >= 1;
                    if (inLane) {
                        CompletableFuture<Void> flush = CompletableFuture.runAsync(wq::flush);
                        Awaitility.await().atMost(BOUND).until(() -> EngineProbe.conversions(c.engine()) > 0);
                        // a flush that missed the run would have returned right after its count
                        assertThatThrownBy(() -> flush.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
                        release.countDown();
                        flush.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                    }
                } finally {
                    release.countDown();
                }
                wq.flush();
            }
            assertThat(wq.stats().total()).isEqualTo(2L * rounds);
            assertThat(wq.stats().inFlight()).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Chains of two workqueues alternate on each worker (so the workers' statistics buffers
     * change workqueue and fold), on two CPUs: after the flushes, each workqueue's statistics
     * count exactly the runs it had, also while the instance keeps running other works.
     */
    @Test
    void statisticsAfterAFlushCountEveryFastRun() throws Exception {
        try (Cmwq c = laneInstance("lane-stats", 2)) {
            Workqueue a = c.workqueue("a").build();
            Workqueue b = c.workqueue("b").build();
            int chains = 8;
            int perChain = 5_000;
            CountDownLatch done = new CountDownLatch(chains);
            AtomicLong ranA = new AtomicLong();
            AtomicLong ranB = new AtomicLong();
            for (int i = 0; i < chains; i++) {
                AtomicInteger left = new AtomicInteger(perChain);
                Work[] w = new Work[2];
                w[0] = new Work(() -> {
                    ranA.incrementAndGet();
                    if (left.decrementAndGet() > 0) {
                        b.queue(w[1]);
                    } else {
                        done.countDown();
                    }
                });
                w[1] = new Work(() -> {
                    ranB.incrementAndGet();
                    if (left.decrementAndGet() > 0) {
                        a.queue(w[0]);
                    } else {
                        done.countDown();
                    }
                });
                a.queue(w[0]);
            }
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            a.flush();
            b.flush();
            assertThat(ranA.get() + ranB.get()).isEqualTo((long) chains * perChain);
            assertThat(a.stats().total()).as("a's runs").isEqualTo(ranA.get());
            assertThat(b.stats().total()).as("b's runs").isEqualTo(ranB.get());
            assertThat(a.stats().inFlight() + b.stats().inFlight()).isZero();
            assertThat(EngineProbe.laneStarts(c.engine())).isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Six workqueues whose works alternate on the workers, more than a worker's statistics buffer
     * holds (four), so the lane folds a slot under the lock at most switches: while chains run,
     * snapshots taken one after another never go back and never count more runs than have run
     * (a fold that a snapshot saw twice, or not at all, would show as one or the other), and each
     * counts as many latencies and run times as runs (a buffer read while its owner wrote it
     * would not); after a flush of each, every run is counted once.
     */
    @Test
    void statisticsStayExactWhenMoreWorkqueuesAlternateThanABufferHolds() throws Exception {
        try (Cmwq c = laneInstance("lane-stats-many", 2)) {
            int queues = EngineProbe.FAST_STATS_SLOTS + 2;
            Workqueue[] wqs = new Workqueue[queues];
            for (int i = 0; i < queues; i++) {
                wqs[i] = c.workqueue("q" + i).build();
            }
            int chains = 4;
            int perChain = 6_000;
            AtomicLong ran = new AtomicLong();
            CountDownLatch done = new CountDownLatch(chains);
            for (int ch = 0; ch < chains; ch++) {
                AtomicInteger left = new AtomicInteger(perChain);
                Work[] hop = new Work[queues];
                for (int i = 0; i < queues; i++) {
                    int next = (i + 1) % queues;
                    hop[i] = new Work(() -> {
                        ran.incrementAndGet();
                        if (left.decrementAndGet() > 0) {
                            wqs[next].queue(hop[next]);
                        } else {
                            done.countDown();
                        }
                    });
                }
                wqs[ch % queues].queue(hop[ch % queues]);
            }
            long previous = 0;
            int snapshots = 0;
            while (done.getCount() > 0) {
                long total = 0;
                for (Workqueue wq : wqs) {
                    dev.cmwq4j.WorkqueueStats st = wq.stats();
                    // one snapshot reads a run's count and its two histograms together: a read
                    // that met a buffer being written would show them apart
                    assertThat(st.queueLatency().count()).as("latencies of %s, snapshot %d", wq, snapshots)
                            .isEqualTo(st.total());
                    assertThat(st.executionTime().count()).as("run times of %s, snapshot %d", wq, snapshots)
                            .isEqualTo(st.total());
                    total += st.total();
                }
                long ranAfter = ran.get();
                assertThat(total).as("runs counted, snapshot %d", snapshots).isGreaterThanOrEqualTo(previous)
                        .isLessThanOrEqualTo(ranAfter);
                previous = total;
                snapshots++;
            }
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            long total = 0;
            for (Workqueue wq : wqs) {
                wq.flush();
                total += wq.stats().total();
                assertThat(wq.stats().inFlight()).isZero();
            }
            assertThat(ran.get()).isEqualTo((long) chains * perChain);
            assertThat(total).as("runs counted after the flushes").isEqualTo(ran.get());
            assertThat(EngineProbe.laneStarts(c.engine())).isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A fast run's queue latency counts from its pool's first clock read after its offer, as a
     * locked run's counts from the lock hold that admits it. A running work queues 40 works that
     * spin 200 us each, on one CPU; they wait in the ring behind each other. The k-th waited
     * through the k-1 before it, so at least 35 of them record a latency of 200 us or more
     * (each was admitted by the front work's end at the latest, and the third one started 400 us
     * of spinning later); and none records more than it truly waited (from before its queue to
     * its action's start). Before the lane kept this clock, every fast run recorded 0.
     */
    @Test
    void aFastRunsLatencyCountsItsWaitInTheRing() throws Exception {
        int n = 40;
        long spinNanos = 200_000;
        try (Cmwq c = laneInstance("lane-latency", 1)) {
            Workqueue wq = c.workqueue("waiting").build();
            long[] queuedAt = new long[n];
            long[] startedAt = new long[n];
            CountDownLatch done = new CountDownLatch(n);
            Work[] works = new Work[n];
            for (int i = 0; i < n; i++) {
                int k = i;
                works[i] = new Work(() -> {
                    startedAt[k] = System.nanoTime();
                    for (long t = startedAt[k]; System.nanoTime() - t < spinNanos; ) {
                        Thread.onSpinWait();
                    }
                    done.countDown();
                });
            }
            long laneBefore = EngineProbe.laneStarts(c.engine());
            long[] frontWait = new long[1];
            long frontQueuedAt = System.nanoTime();
            wq.queue(new Work("front", () -> {
                // its own latency is in the histogram too: a wake-up, unbounded on a busy machine
                frontWait[0] = System.nanoTime() - frontQueuedAt;
                for (int i = 0; i < n; i++) {
                    queuedAt[i] = System.nanoTime();
                    wq.queue(works[i]);
                }
            }));
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(EngineProbe.laneStarts(c.engine()) - laneBefore).as("works started in the lane").isPositive();
            DurationHistogram latency = wq.stats().queueLatency();
            assertThat(latency.count()).isEqualTo(n + 1);
            long atLeast200us = 0;
            for (int b = DurationHistogram.bucketOf(spinNanos); b < DurationHistogram.BUCKETS; b++) {
                atLeast200us += latency.bucketCount(b);
            }
            // bucketOf(200 us) holds from 131 us: the works from the third on are all in or above it
            assertThat(atLeast200us).as("works that recorded their wait behind the others").isGreaterThanOrEqualTo(n - 5);
            long longestTrueWait = frontWait[0];
            for (int i = 0; i < n; i++) {
                longestTrueWait = Math.max(longestTrueWait, startedAt[i] - queuedAt[i]);
            }
            assertThat(latency.maxNanos()).as("never more than a work truly waited").isLessThanOrEqualTo(longestTrueWait);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * FIFO within a priority level across the ring and the stack: a running work queues 400
     * works in turn to a workqueue whose works take the ring and to a freezable one (whose works
     * take the stack), all NORMAL, on one CPU. They run in exactly the order they were queued:
     * the drain merges the ring with the stack by the ring position each push read.
     */
    @Test
    void worksRunInQueueOrderAcrossTheRingAndTheStack() throws Exception {
        try (Cmwq c = laneInstance("lane-fifo", 1)) {
            Workqueue lane = c.workqueue("lane").build();
            Workqueue stack = c.workqueue("stack").freezable().build();
            int n = 400;
            List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch done = new CountDownLatch(n);
            lane.queue(new Work("producer", () -> {
                for (int i = 0; i < n; i++) {
                    int id = i;
                    Work w = new Work(() -> {
                        ran.add(id);
                        done.countDown();
                    });
                    // runs of three to the ring, then one or two to the stack, so both hold
                    // stretches of several works between the other's
                    Workqueue to = (i % 5) < 3 ? lane : stack;
                    to.queue(w);
                }
            }));
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expected.add(i);
            }
            assertThat(ran).as("run order").containsExactlyElementsOf(expected);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Works that requeue themselves from their own runs and from outside threads at once, on two
     * CPUs with announced blocks (so that workers come and go): no work ever runs beside itself,
     * and every accepted instance runs (a taken work whose last instance still runs elsewhere is
     * handed back and handed off, never started beside it).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "counted blocks {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aWorkNeverRunsBesideItselfInTheLane(boolean countedBlocks) throws Exception {
        try (Cmwq c = laneInstance("lane-nonreentrant", 2, countedBlocks)) {
            Workqueue wq = c.workqueue("requeued").build();
            int works = 6;
            AtomicIntegerArray inside = new AtomicIntegerArray(works);
            AtomicInteger overlaps = new AtomicInteger();
            AtomicLong accepted = new AtomicLong();
            AtomicLong runs = new AtomicLong();
            Work[] w = new Work[works];
            AtomicIntegerArray selfLeft = new AtomicIntegerArray(works);
            for (int i = 0; i < works; i++) {
                int me = i;
                selfLeft.set(me, 3_000);
                w[i] = new Work(() -> {
                    if (inside.incrementAndGet(me) != 1) {
                        overlaps.incrementAndGet();
                    }
                    if (runs.incrementAndGet() % 29 == 0) {
                        // a block: another worker takes the lane meanwhile, maybe this work's next instance
                        Blocking.run(() -> LockSupport.parkNanos(500_000));
                    }
                    inside.decrementAndGet(me);
                    if (selfLeft.decrementAndGet(me) > 0 && wq.queue(w[me])) {
                        accepted.incrementAndGet();
                    }
                });
            }
            for (int i = 0; i < works; i++) {
                if (wq.queue(w[i])) {
                    accepted.incrementAndGet();
                }
            }
            Thread[] outside = new Thread[2];
            for (int t = 0; t < outside.length; t++) {
                outside[t] = new Thread(() -> {
                    for (int k = 0; k < 20_000; k++) {
                        if (wq.queue(w[k % works])) {
                            accepted.incrementAndGet();
                        }
                    }
                });
                outside[t].start();
            }
            for (Thread t : outside) {
                t.join(BOUND.toMillis());
            }
            Awaitility.await().atMost(BOUND).until(() -> {
                wq.flush();
                return runs.get() == accepted.get();
            });
            // The count above is read inside the works, before their ends: the last runs (requeued
            // after the flush began) may still be finishing, and their statistics come with their
            // ends. A drain waits for every run and requeue to end; then the counts are exact.
            wq.drain();
            assertThat(runs.get()).as("runs").isEqualTo(accepted.get());
            assertThat(overlaps.get()).as("runs beside their own work").isZero();
            assertThat(wq.stats().total()).as("runs counted").isEqualTo(runs.get());
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * {@code maxActive} bounds the lane: on two CPUs, workqueues with limits of 1 to 4 each get
     * eight works that requeue themselves, queued from outside threads too, and that block now and
     * then (announced, so that other workers take the lane meanwhile); at no moment do more of
     * one workqueue's works run than its limit, and every accepted instance runs (those beyond
     * the limit wait inactive and are activated).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "counted blocks {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void maxActiveIsNeverExceededInTheLane(boolean countedBlocks) throws Exception {
        try (Cmwq c = laneInstance("lane-max-active", 2, countedBlocks)) {
            int queues = 4;
            int perQueue = 8;
            Workqueue[] wqs = new Workqueue[queues];
            AtomicIntegerArray running = new AtomicIntegerArray(queues);
            AtomicIntegerArray peak = new AtomicIntegerArray(queues);
            AtomicLong accepted = new AtomicLong();
            AtomicLong runs = new AtomicLong();
            Work[][] works = new Work[queues][perQueue];
            for (int q = 0; q < queues; q++) {
                int me = q;
                wqs[q] = c.workqueue("limited-" + (q + 1)).maxActive(q + 1).build();
                for (int i = 0; i < perQueue; i++) {
                    int id = i;
                    AtomicInteger left = new AtomicInteger(300);
                    works[q][i] = new Work(() -> {
                        int now = running.incrementAndGet(me);
                        peak.accumulateAndGet(me, now, Math::max);
                        if (runs.incrementAndGet() % 23 == 0) {
                            Blocking.run(() -> LockSupport.parkNanos(300_000));
                        }
                        running.decrementAndGet(me);
                        if (left.decrementAndGet() > 0 && wqs[me].queue(works[me][id])) {
                            accepted.incrementAndGet();
                        }
                    });
                }
            }
            for (int q = 0; q < queues; q++) {
                for (Work w : works[q]) {
                    if (wqs[q].queue(w)) {
                        accepted.incrementAndGet();
                    }
                }
            }
            Thread[] outside = new Thread[2];
            for (int t = 0; t < outside.length; t++) {
                int seed = t;
                outside[t] = new Thread(() -> {
                    for (int k = 0; k < 20_000; k++) {
                        int q = (k + seed) % queues;
                        if (wqs[q].queue(works[q][k % perQueue])) {
                            accepted.incrementAndGet();
                        }
                    }
                });
                outside[t].start();
            }
            for (Thread t : outside) {
                t.join(BOUND.toMillis());
            }
            Awaitility.await().atMost(BOUND).until(() -> {
                for (Workqueue wq : wqs) {
                    wq.flush();
                }
                return runs.get() == accepted.get();
            });
            for (int q = 0; q < queues; q++) {
                // bound workqueues: maxActive per CPU index, two here
                assertThat(peak.get(q)).as("peak of a workqueue with maxActive " + (q + 1) + " per CPU, on 2")
                        .isLessThanOrEqualTo(2 * (q + 1));
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A worker in the lane takes a work whose limit is full: two works of a workqueue with
     * {@code maxActive} 2 are blocked (announced) on one CPU, and a chain of another workqueue,
     * running in the lane on a third worker, queues a third work of the limited one onto the
     * ring. The taker must not start it beside the two (the lane's bound: active plus the pool's
     * workers within the limit); it hands it back, and it waits inactive until one of the two
     * ends.
     */
    @Test
    void aFullLimitSendsATakenWorkBackToWaitInactive() throws Exception {
        try (Cmwq c = laneInstance("lane-full-limit", 1)) {
            Workqueue limited = c.workqueue("limited").maxActive(2).build();
            Workqueue chain = c.workqueue("chain").build();
            CountDownLatch blocked = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger running = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            CountDownLatch thirdRan = new CountDownLatch(1);
            Runnable held = () -> {
                peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                blocked.countDown();
                Blocking.run(() -> TestSupport.awaitQuietly(release, BOUND.toSeconds()));
                running.decrementAndGet();
            };
            Work third = new Work("third", () -> {
                peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                running.decrementAndGet();
                thirdRan.countDown();
            });
            try {
                limited.queue(new Work("first", held));
                limited.queue(new Work("second", held));
                assertThat(blocked.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                runChainInLane(c, chain, () -> limited.queue(third));
                assertThat(thirdRan.getCount()).as("the third work ran beside the two").isEqualTo(1);
            } finally {
                release.countDown();
            }
            assertThat(thirdRan.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the third work ran at last").isTrue();
            limited.flush();
            assertThat(peak.get()).isLessThanOrEqualTo(2);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A worker in the lane takes a work whose earlier instance still runs: the work is blocked
     * (announced) on one CPU, and a chain running in the lane on another worker queues it again
     * onto the ring. The taker must not start it beside itself: it hands it back, and the
     * instance is handed off to the worker running the earlier one, after it.
     */
    @Test
    void aTakenWorkWhoseEarlierInstanceRunsIsHandedOff() throws Exception {
        try (Cmwq c = laneInstance("lane-hand-off", 1)) {
            Workqueue wq = c.workqueue("requeued").build();
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("blocking", () -> {
                if (inside.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                if (runs.incrementAndGet() == 1) {
                    blocked.countDown();
                    Blocking.run(() -> TestSupport.awaitQuietly(release, BOUND.toSeconds()));
                }
                inside.decrementAndGet();
            });
            try {
                wq.queue(w);
                assertThat(blocked.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                AtomicBoolean requeued = new AtomicBoolean();
                runChainInLane(c, wq, () -> requeued.set(wq.queue(w)));
                assertThat(requeued.get()).as("queued again while its earlier instance is blocked").isTrue();
                assertThat(runs.get()).as("the second instance ran beside the first").isEqualTo(1);
            } finally {
                release.countDown();
            }
            Awaitility.await().atMost(BOUND).until(() -> runs.get() == 2);
            wq.flush();
            assertThat(overlaps.get()).as("runs beside their own work").isZero();
            assertThat(wq.stats().total()).isEqualTo(2 + 200);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Priority across the ring and the worklist: LOW works listed (a lock of the pool admitted
     * them) and NORMAL works in the ring behind them, on one CPU. The NORMAL works run first, as
     * without the lane: the worker's drain admits the ring ahead of listed works of a lower
     * level. (Found by a review: the lane ran the listed LOW works first, since they are older.)
     */
    @Test
    void normalWorksInTheRingRunBeforeListedLowWorks() throws Exception {
        try (Cmwq c = laneInstance("lane-levels", 1)) {
            Workqueue wq = c.workqueue("levels").build();
            List<String> ran = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch done = new CountDownLatch(6);
            wq.queue(new Work("producer", () -> {
                for (int i = 1; i <= 3; i++) {
                    String id = "L" + i;
                    wq.queue(new Work(id, () -> {
                        ran.add(id);
                        done.countDown();
                    }), Priority.LOW);
                }
                wq.stats(); // a lock of the pool (as the monitor's, a kick's): lists the LOW works
                for (int i = 1; i <= 3; i++) {
                    String id = "N" + i;
                    wq.queue(new Work(id, () -> {
                        ran.add(id);
                        done.countDown();
                    })); // NORMAL, from a running work: onto the ring
                }
            }));
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(ran).containsExactly("N1", "N2", "N3", "L1", "L2", "L3");
        }
    }

    /**
     * A drain's two passes see a chain that hops between the pools through the lane between
     * them (found by a review: a work offered to a ring, run in the lane and ended between its
     * pool's two counts left no trace in the insert counts, and the drain returned while the
     * chain's next work was queued). The chain c0 -> c1 (CPU 1) -> c2 (CPU 0) -> c3 (CPU 1) ->
     * c4 (CPU 0) is stepped through the drain's counts (the count seam after each pool of the
     * first pass, the admit seam in the second pass's lock of CPU 0), with works of a freezable
     * workqueue (which take the stack) keeping each pool's worker busy while the next link
     * waits in its ring. The drain returns only after c4 ran.
     */
    @Test
    void aDrainSeesAChainThatHopsThroughTheLaneBetweenItsCounts() throws Exception {
        try (Cmwq c = EngineProbe.withLane(true, () -> Cmwq.builder().name("lane-drain").cpus(2).jmx(false)
                .cpuIntensiveThreshold(Duration.ofHours(1)).monitorTick(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .build())) {
            Workqueue wq = c.workqueue("hops").build();
            Workqueue busy = c.workqueue("busy").freezable().build();
            AtomicBoolean flipped = new AtomicBoolean();
            AtomicBoolean hop = new AtomicBoolean();
            AtomicBoolean afterQ1 = new AtomicBoolean();
            AtomicBoolean freeP = new AtomicBoolean();
            AtomicBoolean freeQ = new AtomicBoolean();
            AtomicBoolean freeP2 = new AtomicBoolean();
            AtomicBoolean busyQStarted = new AtomicBoolean();
            AtomicBoolean busyP2Started = new AtomicBoolean();
            AtomicBoolean c2Started = new AtomicBoolean();
            AtomicBoolean c3Done = new AtomicBoolean();
            AtomicBoolean c4Ran = new AtomicBoolean();
            Map<String, Object> outcome = new ConcurrentHashMap<>();
            Work c4 = new Work("c4", () -> c4Ran.set(true));
            Work c3 = new Work("c3", () -> {
                outcome.put("c4-queued", wq.queueOn(0, c4));
                c3Done.set(true);
            });
            Work c2 = new Work("c2", () -> {
                c2Started.set(true);
                spinUntil(afterQ1::get);
                outcome.put("c3-queued", wq.queueOn(1, c3));
            });
            Work c1 = new Work("c1", () -> {
                spinUntil(hop::get);
                outcome.put("c2-queued", wq.queueOn(0, c2));
            });
            Work c0 = new Work("c0", () -> {
                spinUntil(flipped::get);
                outcome.put("c1-queued", wq.queueOn(1, c1));
            });
            Work busyP = new Work("busyP", () -> spinUntil(freeP::get));
            Work busyQ = new Work("busyQ", () -> {
                busyQStarted.set(true);
                spinUntil(freeQ::get);
            });
            Work busyP2 = new Work("busyP2", () -> {
                busyP2Started.set(true);
                spinUntil(freeP2::get);
            });
            Work busyLast = new Work("busyLast", () -> { });
            AtomicInteger phase = new AtomicInteger();
            Thread drainer = new Thread(() -> {
                try {
                    wq.drain();
                    outcome.put("c4-ran-at-return", c4Ran.get());
                } catch (Throwable t) {
                    outcome.put("drain", t);
                }
            }, "drainer");
            AccountingProbe.onCount(index -> {
                if (Thread.currentThread() != drainer) {
                    return;
                }
                if (index == 0 && phase.compareAndSet(0, 1)) {
                    busy.queueOn(1, busyQ); // CPU 1 busy with c1: onto its stack
                    hop.set(true); // c1 queues c2 to CPU 0's ring (busy with busyP) and ends
                    spinUntil(busyQStarted::get);
                    freeP.set(true); // CPU 0's worker takes c2 in the lane
                    spinUntil(c2Started::get);
                } else if (index == 1 && phase.compareAndSet(1, 2)) {
                    busy.queueOn(0, busyP2); // CPU 0 busy with c2: onto its stack
                    afterQ1.set(true); // c2 queues c3 to CPU 1's ring (busy with busyQ) and ends
                    spinUntil(busyP2Started::get);
                    busy.queueOn(0, busyLast, Priority.LOW); // admitted by the second pass's lock of CPU 0
                    phase.set(3);
                }
            });
            EngineProbe.onAdmit(() -> {
                if (Thread.currentThread() != drainer || !phase.compareAndSet(3, 4)) {
                    return;
                }
                // in the second pass's lock of CPU 0: CPU 1's worker takes c3 in the lane, c3
                // queues c4 to CPU 0's ring, and its run ends before the pass reads CPU 1
                freeQ.set(true);
                spinUntil(() -> c3Done.get() && !EngineProbe.inLaneRun(c.engine(), c3.node));
            });
            try {
                assertThat(busy.queueOn(0, busyP)).isTrue();
                assertThat(wq.queueOn(1, c0)).isTrue();
                drainer.start();
                Awaitility.await().atMost(BOUND).until(() -> {
                    Thread.State st = drainer.getState();
                    return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING;
                }); // in the drain's flush, waiting for c0
                flipped.set(true);
                // the chain's last steps hold CPU 0's worker until the release below, so a drain
                // that waits for c4 (as it must) is still waiting here; one that missed it returned
                // already. Either way the verdict is whether c4 had run when the drain returned.
                drainer.join(500);
            } finally {
                freeP.set(true);
                freeQ.set(true);
                freeP2.set(true);
                hop.set(true);
                afterQ1.set(true);
                flipped.set(true);
                drainer.join(BOUND.toMillis());
                AccountingProbe.onCount(null);
                EngineProbe.onAdmit(null);
            }
            assertThat(phase.get()).as("the steps all ran").isEqualTo(4);
            assertThat(outcome.get("drain")).isNull();
            assertThat(outcome.get("c4-ran-at-return")).as("c4 had run when the drain returned").isEqualTo(Boolean.TRUE);
        }
    }

    /** Spins until {@code s} holds, failing after the test bound (conditions other threads set in microseconds). */
    private static void spinUntil(java.util.function.BooleanSupplier s) {
        long end = System.nanoTime() + BOUND.toNanos();
        while (!s.getAsBoolean()) {
            Thread.onSpinWait();
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("condition not met within " + BOUND);
            }
        }
    }

    /**
     * Runs a chain of 200 links on {@code chain}, the 50th of which runs {@code atHop50} (from a
     * running work: what it queues goes onto the ring, with no kick, for this worker's lane), and
     * checks that links ran in the lane.
     */
    private static void runChainInLane(Cmwq c, Workqueue chain, Runnable atHop50) throws InterruptedException {
        CountDownLatch chainDone = new CountDownLatch(1);
        AtomicInteger hops = new AtomicInteger();
        Work[] link = new Work[1];
        link[0] = new Work("link", () -> {
            int h = hops.incrementAndGet();
            if (h == 50) {
                atHop50.run();
            }
            if (h < 200) {
                chain.queue(link[0]);
            } else {
                chainDone.countDown();
            }
        });
        long laneBefore = EngineProbe.laneStarts(c.engine());
        chain.queue(link[0]);
        assertThat(chainDone.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(EngineProbe.laneStarts(c.engine()) - laneBefore).as("links run in the lane").isPositive();
    }

    /**
     * {@code shutdownNow} on an executor view whose tasks run in the lane: every task either ran
     * or is in the returned list, none is both, and none is lost.
     */
    @Test
    void shutdownNowReturnsEveryUnstartedTaskInTheLane() throws Exception {
        try (Cmwq c = laneInstance("lane-shutdown-now", 2)) {
            ExecutorService ex = c.workqueue("view").build().asExecutorService();
            int n = 20_000;
            Set<Runnable> ran = ConcurrentHashMap.newKeySet();
            List<Runnable> tasks = new ArrayList<>();
            CountDownLatch some = new CountDownLatch(1_000);
            for (int i = 0; i < n; i++) {
                Runnable[] self = new Runnable[1];
                self[0] = () -> {
                    ran.add(self[0]);
                    some.countDown();
                    TestSupport.spin(2_000);
                };
                tasks.add(self[0]);
            }
            // submitted from a task of the view, so that its worker takes them from the ring
            CountDownLatch submitted = new CountDownLatch(1);
            ex.execute(() -> {
                for (Runnable r : tasks) {
                    ex.execute(r);
                }
                submitted.countDown();
            });
            assertThat(submitted.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(some.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            List<Runnable> returned = ex.shutdownNow();
            assertThat(ex.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            Set<Runnable> back = new HashSet<>(returned);
            assertThat(back).as("returned once each").hasSize(returned.size());
            for (Runnable r : back) {
                assertThat(ran).as("a returned task that ran").doesNotContain(r);
            }
            assertThat(ran.size() + back.size()).as("ran or returned").isEqualTo(n);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
