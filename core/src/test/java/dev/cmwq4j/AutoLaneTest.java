package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The adaptive fast lane ({@code cmwq4j.fastLane=auto}; ARCHITECTURE 6, <i>The fast lane</i>): a
 * pool gets its ring only after {@code AUTO_LANE_DRAINS} drains in a row that sent no work to an
 * inactive list. A flood beyond the limits never gives it one; works that a worker keeps up with
 * do, and the works queued across the switch still run in queueing order, each once, with every
 * run counted after a flush.
 */
class AutoLaneTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    private static Cmwq autoInstance(String name) {
        return EngineProbe.withAutoLane(() -> Cmwq.builder().name(name).cpus(1).jmx(false)
                .cpuIntensiveThreshold(Duration.ofHours(1)).build());
    }

    /**
     * One CPU; an outside thread queues no-op works, the next as soon as the last has run, so
     * the worker keeps up and each of its drains admits one: a lone work listed, as a lone chain
     * leaves, but a producer's tiny one, and such drains count too. The pool gets its ring (before, it
     * never did under such a producer: JMH {@code external}'s slow JVMs), the works run each
     * once and in queueing order, some in the lane, and a flush counts every run.
     */
    @Test
    void tinyWorksFromAProducerTheWorkerKeepsUpWithTurnTheLaneOn() throws Exception {
        try (Cmwq c = autoInstance("auto-producer")) {
            Workqueue wq = c.workqueue("produced").build();
            int max = 2_000_000;
            AtomicInteger ran = new AtomicInteger();
            AtomicInteger outOfOrder = new AtomicInteger();
            int[] last = {-1};
            java.util.Set<Thread> runners = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Work[] works = new Work[4];
            int[] number = new int[works.length];
            for (int i = 0; i < works.length; i++) {
                int slot = i;
                works[i] = new Work(() -> {
                    runners.add(Thread.currentThread());
                    int k = number[slot];
                    synchronized (last) {
                        if (k != last[0] + 1) {
                            outOfOrder.incrementAndGet();
                        }
                        last[0] = k;
                    }
                    ran.incrementAndGet();
                });
            }
            int queued = 0;
            long deadline = System.nanoTime() + BOUND.toNanos();
            // a thousand works at least once the ring is there, and on until one started in the
            // lane (looked at every thousand): a work starts there only if it reaches the ring
            // while the worker is still on a CPU, and on a loaded machine the producer may be off
            // its CPU (or take turns with the worker on one) until the worker has parked, after
            // every work for a while: each queue then wakes it through an admission, which lists
            // the ring's work. A CI run beside two busy loops saw no lane start in the thousand
            // works after the ring, which was all the loop queued then
            int ringAt = -1;
            boolean laneSeen = false;
            long stopQueueing = System.nanoTime() + BOUND.toNanos() / 2; // the wait below keeps the whole bound
            while (queued < max && System.nanoTime() - stopQueueing < 0
                    && (ringAt < 0 || queued < Math.max(10_000, ringAt + 1_000) || !laneSeen)) {
                if (ringAt < 0 && EngineProbe.poolsWithRing(c.engine()) > 0) {
                    ringAt = queued;
                }
                if (ringAt >= 0 && !laneSeen && queued % 1_000 == 0) {
                    laneSeen = EngineProbe.laneStarts(c.engine()) > 0;
                }
                while (queued - ran.get() >= 1) { // the last one ran: the worker keeps up
                    Thread.onSpinWait();
                    assertThat(System.nanoTime() - deadline).as("outstanding works ran within the bound").isNegative();
                }
                int slot = queued % works.length;
                number[slot] = queued;
                assertThat(wq.queue(works[slot])).as("a slot's previous work has ended").isTrue();
                queued++;
            }
            wq.flush();
            assertThat(EngineProbe.poolsWithRing(c.engine())).as("pools with a ring, after " + queued + " works")
                    .isEqualTo(1);
            assertThat(EngineProbe.laneStarts(c.engine())).as("works started in the lane").isPositive();
            assertThat(ran.get()).as("works run, each once").isEqualTo(queued);
            if (runners.size() == 1) {
                // one worker ran them all (see the test below: a second one's overlapping runs
                // record no start order)
                assertThat(outOfOrder.get()).as("works run out of queueing order").isZero();
            }
            assertThat(wq.stats().total()).as("runs counted after the flush").isEqualTo(queued);
        }
    }

    /**
     * One CPU; a driver work queues one numbered work and then itself, 2,000 times: every run's
     * end drains two works, within the limits, so the pool gets its ring a few hundred rounds in,
     * and the rest of the numbered works go through it. They run in queueing order, each once;
     * some start in the lane; a flush counts every run.
     */
    @Test
    void worksAWorkerKeepsUpWithTurnTheLaneOnAndKeepTheirOrder() throws Exception {
        int n = 2_000;
        try (Cmwq c = autoInstance("auto-on")) {
            assertThat(EngineProbe.poolsWithRing(c.engine())).as("rings before any work").isZero();
            Workqueue wq = c.workqueue("driven").build();
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            java.util.Set<Thread> runners = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Work[] numbered = new Work[n];
            for (int i = 0; i < n; i++) {
                int k = i;
                numbered[i] = new Work(() -> {
                    runners.add(Thread.currentThread());
                    order.add(k);
                });
            }
            AtomicInteger next = new AtomicInteger();
            CountDownLatch driven = new CountDownLatch(1);
            Work[] driver = new Work[1];
            driver[0] = new Work("driver", () -> {
                int k = next.getAndIncrement();
                wq.queue(numbered[k]);
                if (k + 1 < n) {
                    wq.queue(driver[0]);
                } else {
                    driven.countDown();
                }
            });
            wq.queue(driver[0]);
            assertThat(driven.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            wq.flush();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expected.add(i);
            }
            assertThat(order).as("numbered works, each once").containsExactlyInAnyOrderElementsOf(expected);
            if (runners.size() == 1) {
                // one worker ran them all (on a loaded machine the monitor may take a preempted
                // worker for blocked, or raise the pool's target, and wake another: two runs then
                // overlap, and the order they record is not the order they started in)
                assertThat(order).as("numbered works, in queueing order").isEqualTo(expected);
            }
            assertThat(EngineProbe.poolsWithRing(c.engine())).as("pools with a ring").isEqualTo(1);
            assertThat(EngineProbe.laneStarts(c.engine())).as("works started in the lane").isPositive();
            assertThat(wq.stats().total()).as("runs counted after the flush").isEqualTo(2L * n);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * One CPU; 50,000 works queued from outside as fast as the test thread can, to a workqueue
     * of {@code maxActive} 4: the worker drains at most runs' ends, and every drain past the first
     * few sends works to the inactive list, so the streak never lasts and the pool gets no ring
     * (with the inactive lists not looked at, the hundreds of drains of this flood give it one);
     * all the works run, each once, on the locked path.
     */
    @Test
    void aFloodBeyondTheLimitsLeavesTheLaneOff() throws Exception {
        int n = 50_000;
        try (Cmwq c = autoInstance("auto-flood")) {
            Workqueue wq = c.workqueue("flood").maxActive(4).build();
            // each once; not their order: on a loaded machine the monitor may take a preempted
            // worker for blocked and wake another, and two runs then overlap
            java.util.concurrent.atomic.AtomicIntegerArray runs = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            CountDownLatch ran = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                int k = i;
                wq.queue(new Work(() -> {
                    runs.incrementAndGet(k);
                    ran.countDown();
                }));
            }
            assertThat(ran.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(EngineProbe.poolsWithRing(c.engine())).as("pools with a ring after a flood").isZero();
            assertThat(EngineProbe.inactiveAdds(c.engine())).as("works the flood sent to an inactive list").isPositive();
            for (int i = 0; i < n; i++) {
                assertThat(runs.get(i)).as("runs of work %d", i).isEqualTo(1);
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * One CPU; two outside producers each queue 20,000 numbered works, at most 8 of their own
     * outstanding, so the worker keeps up and the pool gets its ring while both queue: each
     * producer's works run in its queueing order, each once (a work pushed onto the stack before
     * the ring came must be admitted before the ring's; stamped with a stale position instead,
     * it ran after newer ones), and a flush counts every run.
     */
    @Test
    void eachProducersWorksKeepTheirOrderAcrossTheSwitch() throws Exception {
        int perProducer = 20_000;
        int producers = 2;
        try (Cmwq c = autoInstance("auto-switch")) {
            Workqueue wq = c.workqueue("switched").build();
            int[] lastRun = new int[producers];
            java.util.Arrays.fill(lastRun, -1);
            AtomicInteger outOfOrder = new AtomicInteger();
            java.util.Set<Thread> runners = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicInteger[] outstanding = new AtomicInteger[producers];
            CountDownLatch ran = new CountDownLatch(producers * perProducer);
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int me = p;
                outstanding[p] = new AtomicInteger();
                threads.add(new Thread(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        int k = i;
                        while (outstanding[me].get() >= 8) {
                            Thread.onSpinWait();
                        }
                        outstanding[me].incrementAndGet();
                        wq.queue(new Work(() -> {
                            runners.add(Thread.currentThread());
                            synchronized (lastRun) {
                                if (k != lastRun[me] + 1) {
                                    outOfOrder.incrementAndGet();
                                }
                                lastRun[me] = k;
                            }
                            outstanding[me].decrementAndGet();
                            ran.countDown();
                        }));
                    }
                }, "producer-" + p));
            }
            threads.forEach(Thread::start);
            assertThat(ran.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            for (Thread t : threads) {
                t.join(BOUND.toMillis());
            }
            wq.flush();
            if (runners.size() == 1) { // one worker ran them all (see the first test)
                assertThat(outOfOrder.get()).as("works run out of their producer's order").isZero();
                assertThat(lastRun).containsOnly(perProducer - 1);
            }
            assertThat(wq.stats().total()).as("runs, each counted once").isEqualTo((long) producers * perProducer);
            assertThat(EngineProbe.poolsWithRing(c.engine())).as("pools with a ring").isEqualTo(1);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
