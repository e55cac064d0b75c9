package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.blockOn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Freezable workqueues: freeze, thaw, the JVM-wide freeze, and their races with queueing. */
class FreezeTest {

    private static Thread start(String name, Runnable action) {
        Thread t = new Thread(action, name);
        t.start();
        return t;
    }

    private static void awaitParked(Thread t) {
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }

    /**
     * Pushes a marker work through every pool of {@code c} on a workqueue that is not frozen and
     * waits for it: whatever a pool would wrongly have started before the marker, it has started
     * by then.
     */
    private static void passMarkers(Cmwq c) {
        Workqueue probe = c.workqueue("marker").build();
        for (int cpu = 0; cpu < c.cpus(); cpu++) {
            Work m = new Work(() -> {});
            probe.queueOn(cpu, m);
            m.flush();
        }
        Work u = new Work(() -> {});
        Workqueue unbound = c.workqueue("marker-unbound").unbound().build();
        unbound.queue(u);
        u.flush();
        probe.close();
        unbound.close();
    }

    @Test
    void freezeTakesBackUnstartedWorksWaitsForTheRunningOneAndThawRunsEverything() throws Exception {
        // the running work spins instead of blocking, so the pool's only worker stays on it and
        // the works behind it sit unstarted in the worklist; one thread in all, so that a false
        // block detection of the spinner on a busy machine cannot give the pool a second worker
        // that starts them (a loaded suite run hung here with one, after some thirty passed)
        AtomicBoolean spin = new AtomicBoolean(true);
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).cpuIntensiveThreshold(Duration.ofHours(1)).build()) {
            try {
                freezeWhileOneRuns(c, spin);
            } finally {
                spin.set(false); // whatever failed: close() would wait for the spinner for good
            }
        }
    }

    /** The body of the test above; {@code spin} holds its first work on the CPU until released. */
    private static void freezeWhileOneRuns(Cmwq c, AtomicBoolean spin) throws Exception {
        Workqueue wq = c.workqueue("freezable").freezable().build();
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean runningDone = new AtomicBoolean();
        wq.queue(new Work(() -> {
            started.countDown();
            while (spin.get()) {
                Thread.onSpinWait();
            }
            runningDone.set(true);
        }));
        started.await(30, TimeUnit.SECONDS);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 5; i++) {
            wq.execute(ran::incrementAndGet);
        }
        assertThat(EngineProbe.active(wq.core)).as("1 running + 5 unstarted in the worklist").isEqualTo(6);
        AtomicBoolean frozeReturned = new AtomicBoolean();
        AtomicBoolean runningDoneAtReturn = new AtomicBoolean();
        Thread freezer = start("freezer", () -> {
            wq.freeze();
            runningDoneAtReturn.set(runningDone.get());
            frozeReturned.set(true);
        });
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> EngineProbe.inactive(wq.core) == 5);
        assertThat(wq.isFrozen()).isTrue();
        assertThat(EngineProbe.active(wq.core)).as("only the running work is still active").isEqualTo(1);
        awaitParked(freezer);
        assertThat(frozeReturned).as("freeze waits for the running work").isFalse();
        spin.set(false);
        freezer.join(30_000);
        assertThat(frozeReturned).isTrue();
        assertThat(runningDoneAtReturn).isTrue();
        // frozen: queueing goes on, nothing starts
        for (int i = 0; i < 5; i++) {
            wq.execute(ran::incrementAndGet);
        }
        passMarkers(c);
        assertThat(ran.get()).as("works started while frozen").isZero();
        assertThat(EngineProbe.inactive(wq.core)).isEqualTo(10);
        wq.thaw();
        assertThat(wq.isFrozen()).isFalse();
        wq.flush();
        assertThat(ran.get()).isEqualTo(10);
        TestSupport.assertPoolsAtRest(c);
    }

    @Test
    void anOrderedQueueRunsItsPendingWorksInOrderAfterTheThaw() throws Exception {
        // one thread for the whole Cmwq, held by another queue's work: the ordered queue's first
        // work sits active but unstarted in the unbound worklist when the freeze comes
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).build()) {
            Workqueue other = c.workqueue("other").unbound().build();
            Workqueue ordered = c.workqueue("ordered").ordered().freezable().build();
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            other.execute(() -> {
                holding.countDown();
                blockOn(release);
            });
            blockOn(holding);
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 20; i++) {
                int n = i;
                ordered.execute(() -> order.add(n));
            }
            assertThat(EngineProbe.active(ordered.core)).as("the head is active, unstarted").isEqualTo(1);
            ordered.freeze(); // nothing of it runs, so it returns at once
            assertThat(EngineProbe.inactive(ordered.core)).isEqualTo(20);
            for (int i = 20; i < 40; i++) {
                int n = i;
                ordered.execute(() -> order.add(n));
            }
            release.countDown();
            other.flush();
            // the one thread now serves the unbound pool; a marker through it (no bound markers:
            // the thread cap of 1 leaves no thread for a bound pool)
            Work marker = new Work(() -> {});
            other.queue(marker);
            marker.flush();
            assertThat(order).as("ran while frozen").isEmpty();
            ordered.thaw();
            ordered.flush();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                expected.add(i);
            }
            assertThat(order).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void delayedWorksThatFallDueWhileFrozenRunAfterTheThaw() {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("delayed").freezable().build();
            wq.freeze();
            AtomicInteger ran = new AtomicInteger();
            DelayedWork dw = new DelayedWork(ran::incrementAndGet);
            assertThat(wq.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
            // the timer fires into the frozen queue: the work is held, still pending
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> EngineProbe.inactive(wq.core) == 1);
            passMarkers(c);
            assertThat(ran.get()).isZero();
            assertThat(dw.isPending()).isTrue();
            assertThat(wq.queueDelayed(dw, Duration.ofMillis(1))).as("still pending: not queued twice").isFalse();
            wq.thaw();
            dw.flush();
            assertThat(ran.get()).isEqualTo(1);
        }
    }

    @Test
    void theJvmWideFreezeHoldsOnlyFreezableQueuesAndNewOnesStartFrozen() {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue freezable = c.workqueue("freezable").freezable().build();
            Workqueue plain = c.workqueue("plain").build();
            AtomicInteger frozenRan = new AtomicInteger();
            AtomicInteger plainRan = new AtomicInteger();
            AtomicInteger systemRan = new AtomicInteger();
            Workqueues.freezeAll();
            try {
                assertThat(Workqueues.isFrozenAll()).isTrue();
                assertThat(freezable.isFrozen()).isTrue();
                assertThat(Workqueues.systemFreezable().isFrozen()).isTrue();
                assertThat(plain.isFrozen()).isFalse();
                Workqueue builtDuring = c.workqueue("built-during").freezable().build();
                assertThat(builtDuring.isFrozen()).as("built during a JVM-wide freeze").isTrue();
                freezable.execute(frozenRan::incrementAndGet);
                builtDuring.execute(frozenRan::incrementAndGet);
                Workqueues.systemFreezable().execute(systemRan::incrementAndGet);
                Work p = new Work(plainRan::incrementAndGet);
                plain.queue(p);
                p.flush(); // a queue that is not freezable runs as usual
                passMarkers(c);
                assertThat(plainRan.get()).isEqualTo(1);
                assertThat(frozenRan.get()).isZero();
                // its own freeze outlives the JVM-wide one
                freezable.freeze();
                Workqueues.thawAll();
                assertThat(builtDuring.isFrozen()).isFalse();
                assertThat(freezable.isFrozen()).isTrue();
                builtDuring.flush();
                Workqueues.systemFreezable().flush();
                assertThat(frozenRan.get()).isEqualTo(1);
                assertThat(systemRan.get()).isEqualTo(1);
                freezable.thaw();
                freezable.flush();
                assertThat(frozenRan.get()).isEqualTo(2);
                builtDuring.close();
            } finally {
                Workqueues.thawAll();
            }
            assertThat(Workqueues.isFrozenAll()).isFalse();
        }
    }

    @Test
    void aTimedFreezeGivesUpWaitingButStaysFrozen() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("slow").freezable().build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wq.execute(() -> {
                started.countDown();
                blockOn(release);
            });
            blockOn(started);
            AtomicInteger ran = new AtomicInteger();
            assertThat(wq.freeze(Duration.ofMillis(50))).isFalse();
            assertThat(wq.isFrozen()).isTrue();
            wq.execute(ran::incrementAndGet);
            release.countDown();
            assertThat(wq.freeze(Duration.ofSeconds(30))).isTrue();
            assertThat(Workqueues.freezeAll(Duration.ofSeconds(30))).isTrue();
            Workqueues.thawAll();
            passMarkers(c);
            assertThat(ran.get()).as("its own freeze still holds it").isZero();
            wq.thaw();
            wq.flush();
            assertThat(ran.get()).isEqualTo(1);
        }
    }

    @Test
    void setMaxActiveWhileFrozenTakesEffectAtTheThaw() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("limits").unbound().maxActive(1).freezable().build();
            wq.freeze();
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger now = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            for (int i = 0; i < 3; i++) {
                wq.execute(() -> {
                    max.accumulateAndGet(now.incrementAndGet(), Math::max);
                    blockOn(release);
                    now.decrementAndGet();
                });
            }
            wq.setMaxActive(3);
            passMarkers(c);
            assertThat(max.get()).as("started while frozen").isZero();
            wq.thaw();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> now.get() == 3);
            release.countDown();
            wq.flush();
            assertThat(max.get()).isEqualTo(3);
        }
    }

    @Test
    void waitingOnAFrozenWorkDoesNotRunItInPlace() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue frozen = c.workqueue("frozen").freezable().build();
            Workqueue outer = c.workqueue("outer").build();
            AtomicInteger ran = new AtomicInteger();
            Work held = new Work(ran::incrementAndGet);
            frozen.freeze();
            frozen.queue(held);
            AtomicInteger ranBeforeThaw = new AtomicInteger(-1);
            CountDownLatch waiting = new CountDownLatch(1);
            Work waiter = new Work(() -> {
                waiting.countDown();
                held.flush(); // must wait for the thaw, not help
                ranBeforeThaw.set(ran.get());
            });
            outer.queue(waiter);
            blockOn(waiting);
            passMarkers(c);
            assertThat(ran.get()).isZero();
            frozen.thaw();
            waiter.flush();
            assertThat(ran.get()).isEqualTo(1);
            assertThat(ranBeforeThaw.get()).isEqualTo(1);
        }
    }

    @Test
    void misuseFailsFast() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue plain = c.workqueue("plain").build();
            assertThatThrownBy(plain::freeze).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not freezable");
            plain.thaw(); // not frozen: nothing to do
            Workqueue wq = c.workqueue("freezable").freezable().build();
            assertThat(wq.isFreezable()).isTrue();
            assertThat(plain.isFreezable()).isFalse();
            assertThatThrownBy(() -> wq.freeze(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.freeze(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Workqueues.freezeAll(null)).isInstanceOf(NullPointerException.class);
            AtomicReference<Throwable> own = new AtomicReference<>();
            AtomicReference<Throwable> all = new AtomicReference<>();
            Work w = new Work(() -> {
                try {
                    wq.freeze();
                } catch (Throwable t) {
                    own.set(t);
                }
                try {
                    Workqueues.freezeAll();
                } catch (Throwable t) {
                    all.set(t);
                }
            });
            wq.queue(w);
            w.flush();
            assertThat(own.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("wait for itself");
            assertThat(all.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("wait for itself");
            assertThat(wq.isFrozen()).isFalse();
            assertThat(Workqueues.isFrozenAll()).isFalse();
        }
    }

    /** Spins until {@code n} more works were queued, the backlog is full, or the producers are done. */
    private static void awaitQueued(AtomicInteger queued, int n, AtomicInteger producersDone, int producers,
            java.util.concurrent.Semaphore backlog) {
        int target = queued.get() + n;
        while (queued.get() < target && producersDone.get() < producers && backlog.availablePermits() > 0) {
            Thread.onSpinWait();
        }
    }

    /**
     * Producers queue plain and delayed works to a bound, an unbound and an ordered freezable
     * workqueue while a controller freezes and thaws them (each on its own, and JVM-wide).
     * Invariants: no work starts between a freeze's return and the next thaw; when a freeze
     * returns, no work of the queue is running; the ordered queue runs each producer's works in
     * the order queued; every work runs exactly once.
     */
    @Test
    void stressFreezeAndThawRacingQueueingStartNothingWhileFrozenAndLoseNothing() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int producers = 3;
        int targetRounds = 30 * scale;
        // producers are held to a backlog; a round lets through about 600 works, more when the
        // controller thread is slow to be scheduled, so the capacity leaves a wide margin
        int backlogSize = 3000;
        int capacity = 4 * 700 * targetRounds + backlogSize;
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue[] queues = {
                c.workqueue("bound").freezable().build(),
                c.workqueue("unbound").unbound().maxActive(4).freezable().build(),
                c.workqueue("ordered").ordered().freezable().build(),
            };
            AtomicBoolean frozen = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            java.util.concurrent.Semaphore backlog = new java.util.concurrent.Semaphore(backlogSize);
            AtomicInteger startedWhileFrozen = new AtomicInteger();
            AtomicInteger runningAtFreeze = new AtomicInteger();
            AtomicInteger[] running = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
            AtomicIntegerArray runs = new AtomicIntegerArray(producers * capacity);
            int[] produced = new int[producers];
            int[] lastOrdered = new int[producers];
            java.util.Arrays.fill(lastOrdered, -1);
            AtomicInteger orderViolations = new AtomicInteger();
            AtomicInteger queued = new AtomicInteger();
            AtomicInteger producersDone = new AtomicInteger();
            Thread[] threads = new Thread[producers];
            for (int p = 0; p < producers; p++) {
                int producer = p;
                threads[p] = start("producer-" + p, () -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    int i = 0;
                    while (i < capacity && !stop.get()) {
                        try {
                            if (!backlog.tryAcquire(1, TimeUnit.MILLISECONDS)) {
                                continue; // frozen and full: look at stop again
                            }
                        } catch (InterruptedException e) {
                            break;
                        }
                        int id = producer * capacity + i;
                        int q = i % 3;
                        int seq = i;
                        Runnable body = () -> {
                            running[q].incrementAndGet();
                            if (frozen.get()) {
                                startedWhileFrozen.incrementAndGet();
                            }
                            if (q == 2) { // ordered: one at a time, so plain fields are fine
                                if (seq <= lastOrdered[producer]) {
                                    orderViolations.incrementAndGet();
                                }
                                lastOrdered[producer] = seq;
                            }
                            if (r.nextInt(8) == 0) {
                                TestSupport.spin(20_000);
                            }
                            runs.incrementAndGet(id);
                            running[q].decrementAndGet();
                            backlog.release();
                        };
                        if (q != 2 && r.nextInt(10) == 0) {
                            queues[q].queueDelayed(new DelayedWork(body), Duration.ofNanos(r.nextInt(500_000)));
                        } else {
                            queues[q].execute(body);
                        }
                        queued.incrementAndGet();
                        i++;
                    }
                    produced[producer] = i;
                    producersDone.incrementAndGet();
                });
            }
            int rounds = 0;
            for (; rounds < targetRounds && producersDone.get() < producers; rounds++) {
                boolean jvmWide = (rounds & 1) == 1;
                if (jvmWide) {
                    Workqueues.freezeAll();
                } else {
                    for (Workqueue wq : queues) {
                        wq.freeze();
                    }
                }
                for (AtomicInteger n : running) {
                    if (n.get() != 0) {
                        runningAtFreeze.incrementAndGet();
                    }
                }
                frozen.set(true);
                // stay frozen while the producers queue a few hundred more works
                awaitQueued(queued, 300, producersDone, producers, backlog);
                frozen.set(false);
                if (jvmWide) {
                    Workqueues.thawAll();
                } else {
                    for (Workqueue wq : queues) {
                        wq.thaw();
                    }
                }
                awaitQueued(queued, 300, producersDone, producers, backlog); // and some while thawed
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join(120_000);
                assertThat(t.isAlive()).isFalse();
            }
            for (Workqueue wq : queues) {
                wq.drain();
                assertThat(wq.isFrozen()).isFalse();
            }
            // a loaded machine may let the producers finish first; enough rounds must have raced
            assertThat(rounds).as("freeze/thaw rounds").isGreaterThanOrEqualTo(Math.min(targetRounds, 10));
            assertThat(startedWhileFrozen.get()).as("works started while frozen").isZero();
            assertThat(runningAtFreeze.get()).as("works running when a freeze returned").isZero();
            assertThat(orderViolations.get()).as("ordered works out of order").isZero();
            for (int p = 0; p < producers; p++) {
                for (int i = 0; i < produced[p]; i++) {
                    assertThat(runs.get(p * capacity + i)).as("runs of work %d of producer %d", i, p).isEqualTo(1);
                }
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
