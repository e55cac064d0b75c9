package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A chain's successor started in its predecessor's slot (issue 16; ARCHITECTURE 6, "A chain's
 * successor"): a run that queued one work of its own pwq onto a pool with nothing else waiting
 * hands its slot to that work, which the worker takes off the inbound stack and starts in its
 * end-of-run lock hold, without admitting it. Each test pins one
 * promise that the shortcut must keep, with a workload where it is taken: the runs and the
 * statistics after a flush, FIFO against a work queued earlier, a flush that must not wait for
 * later links, a freeze that stops the chain, and {@code maxActive} with its inactive works in
 * order.
 */
class SlotPassTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    /**
     * Two works queue each other (ping-pong) 20,000 times: every hop runs once, neither work
     * overlaps itself, slots were passed, and after a flush the statistics count every run and
     * nothing is in flight.
     */
    @Test
    void aPingPongChainPassesItsSlotAndEveryRunIsCounted() throws Exception {
        int hops = 20_000;
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("ping-pong").build();
            long passesBefore = EngineProbe.slotPasses(c.engine());
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            Work[] pair = new Work[2];
            AtomicInteger[] inside = {new AtomicInteger(), new AtomicInteger()};
            for (int i = 0; i < 2; i++) {
                int me = i;
                pair[i] = new Work(() -> {
                    if (inside[me].incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    int r = runs.incrementAndGet();
                    if (r < hops) {
                        wq.queue(pair[1 - me]);
                    } else {
                        done.countDown();
                    }
                    inside[me].decrementAndGet();
                });
            }
            wq.queue(pair[0]);
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("chain ended").isTrue();
            wq.flush();
            assertThat(runs.get()).isEqualTo(hops);
            assertThat(overlaps.get()).as("a work overlapping itself").isZero();
            assertThat(EngineProbe.slotPasses(c.engine()) - passesBefore).as("slots passed on").isPositive();
            assertThat(wq.stats().total()).as("statistics after a flush").isEqualTo(hops);
            assertThat(wq.stats().inFlight()).isZero();
            wq.close();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * While a link of a chain runs, another thread queues a work C and the link waits until that
     * queue has returned, then queues its successor B: C was queued first, on the same pool, so it
     * runs first. C is still on the pool's inbound stack when B is pushed, or, in the second
     * variant, already listed (the link reads the statistics, which takes the pool lock and
     * admits the stack). 300 rounds each whose B and C ran on one worker (see below).
     */
    @Test
    void aWorkQueuedBeforeTheSuccessorRunsBeforeIt() throws Exception {
        for (boolean listFirst : new boolean[] {false, true}) {
            successorRunsAfterAnEarlierWork(listFirst);
        }
    }

    private static void successorRunsAfterAnEarlierWork(boolean listFirst) throws Exception {
        int rounds = 300; // checked on one worker
        int maxRounds = 3000;
        // One worker, or B could start beside C on a second one and record first. The link
        // waits for C's queue on the CPU (a spin, not a join), and the stall window and the
        // CPU-intensive threshold, out of reach, keep the spin from being taken for a block or a
        // hog. A second worker comes all the same on a loaded machine: the monitor raises the
        // pool's target when its look finds the counted worker off the CPU while C waits (a lock
        // wait, a preemption read as one), and the pool keeps a worker for it. Beside four
        // spinning processes, 37 rounds in one run of 300 (and, in CI, one round of 300 that
        // recorded B first) ran B and C on two workers. Their order there is a race between two
        // threads, not the pool's FIFO: such rounds are counted apart, and the rounds go on until
        // 300 of them ran B and C on one worker, where the FIFO is checked.
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).stallWindow(Duration.ofHours(1))
                .cpuIntensiveThreshold(Duration.ofHours(1)).build()) {
            Workqueue wq = c.workqueue("fifo").build();
            List<String> order = new ArrayList<>(); // appended by the single CPU's works only
            List<Thread> ranOn = new ArrayList<>(); // the worker of each entry of order
            Object orderLock = new Object();
            AtomicInteger outOfOrder = new AtomicInteger();
            AtomicInteger twoWorkers = new AtomicInteger();
            List<String> twoWorkerRounds = new ArrayList<>();
            int oneWorker = 0;
            for (int r = 0; oneWorker < rounds && r < maxRounds; r++) {
                CountDownLatch both = new CountDownLatch(2);
                Work b = new Work(() -> {
                    synchronized (orderLock) {
                        order.add("B");
                        ranOn.add(Thread.currentThread());
                    }
                    both.countDown();
                });
                Work cw = new Work(() -> {
                    synchronized (orderLock) {
                        order.add("C");
                        ranOn.add(Thread.currentThread());
                    }
                    both.countDown();
                });
                AtomicReference<Throwable> failed = new AtomicReference<>();
                AtomicBoolean cQueued = new AtomicBoolean();
                Work a = new Work(() -> {
                    new Thread(() -> {
                        wq.queue(cw);
                        cQueued.set(true);
                    }).start();
                    long deadline = System.nanoTime() + BOUND.toNanos();
                    while (!cQueued.get()) { // C's queue has returned: it happened before B's
                        if (System.nanoTime() - deadline > 0) {
                            failed.set(new AssertionError("C was not queued"));
                            break;
                        }
                        Thread.onSpinWait();
                    }
                    if (listFirst) {
                        wq.stats(); // locks the pool: C is listed now
                    }
                    wq.queue(b);
                });
                synchronized (orderLock) {
                    order.clear();
                    ranOn.clear();
                }
                wq.queue(a);
                assertThat(both.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("round %d ran", r).isTrue();
                assertThat(failed.get()).isNull();
                synchronized (orderLock) {
                    if (ranOn.get(0) != ranOn.get(1)) {
                        twoWorkers.incrementAndGet();
                        if (twoWorkerRounds.size() < 10) {
                            twoWorkerRounds.add("round " + r + ": " + order + " on " + ranOn.get(0).getName() + ", "
                                    + ranOn.get(1).getName());
                        }
                    } else {
                        oneWorker++;
                        if (!order.equals(List.of("C", "B"))) {
                            outOfOrder.incrementAndGet();
                        }
                    }
                }
            }
            String variant = listFirst ? "listed" : "inbound";
            assertThat(outOfOrder.get()).as("rounds where the successor ran before a work queued earlier on the same"
                    + " worker (%s); %d rounds on two workers, the first: %s", variant, twoWorkers.get(),
                    twoWorkerRounds).isZero();
            assertThat(oneWorker).as("rounds on one worker (%s) in %d; %d on two, the first: %s", variant, maxRounds,
                    twoWorkers.get(), twoWorkerRounds).isEqualTo(rounds);
            wq.close();
        }
    }

    /**
     * A work that queues itself again at every run, forever: a flush waits only for the
     * instances queued before it, so it returns although the chain never stops (its successors
     * carry the new colour, which a slot of the old one cannot take), and each instance queued
     * before the flush has run when it returns. 50 flushes.
     */
    @Test
    void aFlushReturnsWhileAChainGoesOnAndCoversWhatWasQueuedBefore() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("endless").build();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong queued = new AtomicLong();
            AtomicLong ran = new AtomicLong();
            Work[] self = new Work[1];
            self[0] = new Work(() -> {
                ran.incrementAndGet();
                if (!stop.get() && wq.queue(self[0])) {
                    queued.incrementAndGet();
                }
            });
            long passesBefore = EngineProbe.slotPasses(c.engine());
            assertThat(wq.queue(self[0])).isTrue();
            queued.incrementAndGet();
            try {
                assertTimeoutPreemptively(BOUND, () -> {
                    for (int i = 0; i < 50; i++) {
                        // every instance counted as queued before the flush has run when it returns
                        long before = queued.get();
                        wq.flush();
                        assertThat(ran.get()).as("runs after flush %d", i).isGreaterThanOrEqualTo(before);
                    }
                }, "a flush never returned while the chain went on");
            } finally {
                stop.set(true); // an endless chain would hold the closing drain forever
            }
            flushTwice(wq); // the chain has stopped: every instance queued has run
            assertThat(ran.get()).isEqualTo(queued.get());
            assertThat(wq.stats().total()).as("statistics after a flush").isEqualTo(ran.get());
            assertThat(EngineProbe.slotPasses(c.engine()) - passesBefore).as("slots passed on").isPositive();
            wq.close();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A link starts a flush from another thread and waits until that flush waits (its colour
     * flip is done), then queues its successor, which blocks until the flush has returned: the
     * successor was queued after the flush began, so the flush must not wait for it, though it
     * takes the finished link's slot's pool, and the slot itself may not carry it over in the
     * old colour. A flush that did would never return.
     */
    @Test
    void aFlushDoesNotWaitForASuccessorQueuedAfterIt() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("flush-then-successor").build();
            CountDownLatch flushed = new CountDownLatch(1);
            CountDownLatch successorRan = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread flusher = new Thread(() -> {
                wq.flush();
                flushed.countDown();
            });
            Work successor = new Work(() -> {
                try {
                    flushed.await(BOUND.toSeconds(), TimeUnit.SECONDS); // the flush must return without us
                } catch (InterruptedException e) {
                    failed.set(e);
                }
                successorRan.countDown();
            });
            Work link = linkQueueingAfter(wq, flusher, () -> awaitWaitingIn(flusher, "waitUntil"), successor, failed);
            wq.queue(link);
            assertThat(flushed.await(BOUND.toSeconds(), TimeUnit.SECONDS))
                    .as("the flush returned without waiting for the work queued after it").isTrue();
            assertThat(successorRan.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(failed.get()).isNull();
            wq.close();
        }
    }

    /**
     * A link starts a freeze from another thread and waits until the workqueue reports itself
     * frozen (every pool has stopped starting its works), then queues its successor: the
     * successor must not start before the thaw, though it is alone behind a finished run whose
     * slot it could take.
     */
    @Test
    void aFreezeHoldsASuccessorQueuedAfterIt() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("freeze-then-successor").freezable().build();
            CountDownLatch frozenReturned = new CountDownLatch(1);
            AtomicInteger startedWhileFrozen = new AtomicInteger();
            CountDownLatch successorRan = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread freezer = new Thread(() -> {
                wq.freeze();
                frozenReturned.countDown();
            });
            Work successor = new Work(() -> {
                if (wq.isFrozen()) {
                    startedWhileFrozen.incrementAndGet();
                }
                successorRan.countDown();
            });
            Work link = linkQueueingAfter(wq, freezer, () -> Awaitility.await().atMost(BOUND).until(wq::isFrozen),
                    successor, failed);
            wq.queue(link);
            assertThat(frozenReturned.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(successor.isPending()).as("held while frozen").isTrue();
            wq.thaw();
            assertThat(successorRan.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("ran after the thaw").isTrue();
            assertThat(startedWhileFrozen.get()).as("successor started while frozen").isZero();
            assertThat(failed.get()).isNull();
            wq.close();
        }
    }

    /**
     * The successor a link queues is a work whose previous instance still runs on the other CPU:
     * it may not start in the link's slot (it would run beside itself); it is handed to the
     * worker running it and runs there once that instance ends. 200 rounds.
     */
    @Test
    void aSuccessorStillRunningElsewhereIsHandedToItsRunner() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("still-running").build();
            for (int r = 0; r < 200; r++) {
                AtomicInteger inside = new AtomicInteger();
                AtomicInteger overlaps = new AtomicInteger();
                AtomicInteger runs = new AtomicInteger();
                CountDownLatch firstStarted = new CountDownLatch(1);
                CountDownLatch linkRan = new CountDownLatch(1);
                CountDownLatch twice = new CountDownLatch(2);
                Work x = new Work(() -> {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    if (runs.incrementAndGet() == 1) {
                        firstStarted.countDown();
                        // the second instance is queued meanwhile; stay running until CPU 0 has
                        // dealt with it (handed it here) and gone quiet
                        TestSupport.blockOn(linkRan);
                        Awaitility.await().atMost(BOUND).pollInterval(Duration.ofMillis(1)).until(() -> quiet(c, 0));
                    }
                    inside.decrementAndGet();
                    twice.countDown();
                });
                Work link = new Work(() -> {
                    wq.queue(x); // onto this worker's pool, CPU 0, while x runs on CPU 1
                    linkRan.countDown();
                });
                assertThat(wq.queueOn(1, x)).isTrue();
                assertThat(firstStarted.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(wq.queueOn(0, link)).isTrue();
                assertThat(twice.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("round %d: both instances ran", r)
                        .isTrue();
                assertThat(overlaps.get()).as("round %d: x beside itself", r).isZero();
            }
            wq.flush();
            assertThat(wq.stats().total()).isEqualTo(600);
            wq.close();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Waits for a chain told to stop: a link that read the stop flag before it was set may queue
     * its successor after the first flush's colour flip; that flush waits for the link, so the
     * successor is queued when it returns, and the second flush waits for it (it sees the flag
     * and queues nothing).
     */
    static void flushTwice(Workqueue wq) {
        wq.flush();
        wq.flush();
    }

    /** The normal-priority pool of {@code cpu} runs nothing and has nothing pending (racy). */
    private static boolean quiet(Cmwq c, int cpu) {
        for (PoolStats p : c.poolStats()) {
            if (p.cpu() == cpu && !p.highPriority()) {
                return p.nrRunning() == 0 && p.pending() == 0;
            }
        }
        throw new AssertionError("no pool of cpu " + cpu);
    }

    /**
     * A link that starts {@code other} (a thread that flushes or freezes the workqueue), waits
     * with {@code awaitItsEffect} until that has taken effect, then queues {@code successor}; a
     * throw while it waits goes to {@code failed}.
     */
    private static Work linkQueueingAfter(Workqueue wq, Thread other, Runnable awaitItsEffect, Work successor,
            AtomicReference<Throwable> failed) {
        return new Work(() -> {
            other.start();
            try {
                awaitItsEffect.run();
            } catch (Throwable t) {
                failed.set(t);
            }
            wq.queue(successor);
        });
    }

    /** Waits until {@code t} is parked with a frame of a method named {@code method} on its stack. */
    private static void awaitWaitingIn(Thread t, String method) {
        Awaitility.await().atMost(BOUND).until(() -> {
            Thread.State st = t.getState();
            if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
                return false;
            }
            for (StackTraceElement e : t.getStackTrace()) {
                if (e.getMethodName().equals(method) && e.getClassName().startsWith("dev.cmwq4j.internal.")) {
                    return true;
                }
            }
            return false;
        });
    }

    /**
     * An endless chain on a freezable workqueue: once {@code freeze()} has returned no link
     * starts until the thaw, the chain then resumes, and no run was lost or doubled.
     */
    @Test
    void freezeStopsAChainAndThawResumesIt() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("freezable-chain").freezable().build();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean frozen = new AtomicBoolean();
            AtomicInteger ranWhileFrozen = new AtomicInteger();
            AtomicLong queued = new AtomicLong();
            AtomicLong ran = new AtomicLong();
            Work[] self = new Work[1];
            self[0] = new Work(() -> {
                if (frozen.get()) {
                    ranWhileFrozen.incrementAndGet();
                }
                ran.incrementAndGet();
                if (!stop.get() && wq.queue(self[0])) {
                    queued.incrementAndGet();
                }
            });
            assertThat(wq.queue(self[0])).isTrue();
            queued.incrementAndGet();
            try {
                assertTimeoutPreemptively(BOUND, () -> freezeAndThawTwentyTimes(wq, self[0], ran, frozen),
                        "a freeze never returned while the chain went on");
            } finally {
                stop.set(true);
                frozen.set(false);
                wq.thaw();
            }
            flushTwice(wq);
            assertThat(ranWhileFrozen.get()).as("links started after freeze() returned").isZero();
            assertThat(ran.get()).isEqualTo(queued.get());
            assertThat(wq.stats().total()).isEqualTo(ran.get());
            wq.close();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    private static void freezeAndThawTwentyTimes(Workqueue wq, Work chain, AtomicLong ran, AtomicBoolean frozen) {
            for (int i = 0; i < 20; i++) {
                long r0 = ran.get();
                Awaitility.await().atMost(BOUND).until(() -> ran.get() > r0 + 100);
                wq.freeze();
                frozen.set(true);
                // the pending instance stays pending: the chain has stopped, not ended
                assertThat(chain.isPending()).as("pending while frozen, round %d", i).isTrue();
                frozen.set(false);
                wq.thaw();
            }
    }

    /**
     * Three self-requeueing chains on a workqueue with {@code maxActive} 1 on one CPU: the works
     * beyond the limit wait on the inactive list in queueing order, so a chain's successor queues
     * behind the other two chains' works and may not take its predecessor's slot. The runs
     * therefore rotate A, B, C, A, B, C...: no chain runs twice while another waits, and never
     * two at once.
     */
    @Test
    void withMaxActiveOneChainsTakeTurnsInQueueingOrder() throws Exception {
        int perChain = 2_000;
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("turns").maxActive(1).freezable().build();
            int[] order = new int[3 * perChain];
            AtomicInteger n = new AtomicInteger();
            AtomicInteger active = new AtomicInteger();
            AtomicInteger overLimit = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(3);
            Work[] chains = new Work[3];
            int[] left = {perChain, perChain, perChain};
            for (int i = 0; i < 3; i++) {
                int me = i;
                chains[i] = new Work(() -> {
                    if (active.incrementAndGet() > 1) {
                        overLimit.incrementAndGet();
                    }
                    order[n.getAndIncrement()] = me;
                    if (--left[me] > 0) {
                        wq.queue(chains[me]);
                    } else {
                        done.countDown();
                    }
                    active.decrementAndGet();
                });
            }
            wq.freeze(); // queue all three before any runs: the rotation starts in order
            for (Work w : chains) {
                wq.queue(w);
            }
            wq.thaw();
            assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("chains ended").isTrue();
            assertThat(overLimit.get()).as("runs beyond maxActive").isZero();
            for (int i = 0; i < order.length; i++) {
                assertThat(order[i]).as("run %d", i).isEqualTo(i % 3);
            }
            wq.close();
        }
    }
}
