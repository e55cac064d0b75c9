package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A waiter lends its {@code maxActive} slot to the work it waits for when both are works of one
 * workqueue, also when a steal put them in different pool workqueues: a stolen work is accounted
 * to its victim's pwq, and the works it queues go to its thief's pool. Before, only a waiter of
 * the awaited work's own pwq lent, and a stolen waiter whose work sat inactive behind the
 * thief's pwq's full slots waited for good (a 1,000-deep {@code supplyAsync} chain on the system
 * workqueue hung once in a few hundred runs on a loaded machine).
 */
class StolenWaiterLendTest {

    /**
     * Waits at most 60 s for {@code latch}, as an announced block: its worker is replaced at once
     * on an engine built with the kernel's rule for announced blocks ({@code
     * withCountedBlocks(false, ..)}), which the tests whose holders must be replaced use.
     */
    private static void awaitAnnounced(CountDownLatch latch) {
        Blocking.run(() -> {
            try {
                latch.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Fills CPU 1's two slots of {@code wq} (maxActive 2) with works held until {@code until}; returns once both run. */
    private static void holdCpu1Slots(Workqueue wq, CountDownLatch until) throws InterruptedException {
        CountDownLatch holdersStarted = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            wq.queueOn(1, new Work("holder" + i, () -> {
                holdersStarted.countDown();
                awaitAnnounced(until);
            }));
        }
        assertThat(holdersStarted.await(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aStolenWorkWaitingForAnInactiveWorkOfItsThiefsPwqLendsItsSlot() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().name("lend").cpus(2).jmx(false)
                .simulate(true, false)
                // the long run below is never CPU-intensive (and, spinning, never seen blocked):
                // only a thief runs the work queued behind it; a stall window short enough that
                // the second slot holder's thread is created without a long wait
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).stallWindow(Duration.ofMillis(50))
                .build())) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("slots").maxActive(2).build();
            CountDownLatch waiterDone = new CountDownLatch(1);
            // CPU 1's two slots, held until the waiter is done (bounded: the engine unwinds if not)
            holdCpu1Slots(wq, waiterDone);
            AtomicReference<String> waiterThread = new AtomicReference<>();
            AtomicReference<String> awaitedThread = new AtomicReference<>();
            Work awaited = new Work("awaited", () -> awaitedThread.set(Thread.currentThread().getName()));
            Work waiter = new Work("waiter", () -> {
                waiterThread.set(Thread.currentThread().getName());
                wq.queue(awaited); // from the thief: onto CPU 1's pool, inactive behind the holders
                awaited.flush(); // waits for it: lends this work's slot (of CPU 0's pwq)
                waiterDone.countDown();
            });
            Work longRun = new Work("long", () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (waiterDone.getCount() > 0 && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                }
            });
            wq.queueOn(0, new Work("starter", () -> {
                // from CPU 0's worker: both onto CPU 0's pool, not pinned; the waiter behind the long run
                wq.queue(longRun);
                wq.queue(waiter);
            }));
            assertThat(waiterDone.await(30, TimeUnit.SECONDS))
                    .as("the waiter ended (awaited ran on %s)", awaitedThread.get()).isTrue();
            assertThat(waiterThread.get()).as("the waiter was stolen by CPU 1's pool").contains("-cpu1-");
            assertThat(awaitedThread.get()).as("the awaited work ran").isNotNull();
            wq.flush();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(6);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Under maxActive 1, work A (CPU 0) queues B on CPU 0 while B's earlier instance runs on CPU 1,
     * then flushes B: B waits inactive behind A's slot, and A cannot run it in place (its earlier
     * instance runs), so A lends it its slot. Before, the in-place take was the only way: A waited
     * for B, B for A's slot, for good.
     */
    @Test
    void aWaiterLendsItsSlotToAWorkWhoseEarlierInstanceRunsElsewhere() throws Exception {
        lendToAWorkWhoseEarlierInstanceRunsElsewhere(false);
    }

    /**
     * As above, with the workqueue frozen while B holds A's lent slot and thawed after B's earlier
     * instance ended: the freeze takes B back (off the worklist, or at its hand-off), and the thaw
     * lends it the slot again. Before, the freeze dropped the lent slot from the active count
     * while A still held its own, the thaw activated nothing for B, and A and B waited for each
     * other for good (and the engine's close waited for A: the timeout reports it).
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS,
            threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aThawGivesBackTheSlotAFreezeTookFromALentWork() throws Exception {
        lendToAWorkWhoseEarlierInstanceRunsElsewhere(true);
    }

    private static void lendToAWorkWhoseEarlierInstanceRunsElsewhere(boolean freezeWhileLent) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).cpuIntensiveThreshold(Duration.ofMinutes(10)).build()) {
            Workqueue.Builder b1 = c.workqueue("one-slot").maxActive(1);
            Workqueue wq = (freezeWhileLent ? b1.freezable() : b1).build();
            CountDownLatch firstRunning = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger bRuns = new java.util.concurrent.atomic.AtomicInteger();
            Work b = new Work("b", () -> {
                if (bRuns.incrementAndGet() == 1) {
                    firstRunning.countDown();
                    awaitAnnounced(releaseFirst);
                }
            });
            assertThat(wq.queueOn(1, b)).isTrue();
            assertThat(firstRunning.await(30, TimeUnit.SECONDS)).isTrue();
            AtomicReference<Thread> aThread = new AtomicReference<>();
            CountDownLatch aDone = new CountDownLatch(1);
            assertThat(wq.queueOn(0, new Work("a", () -> {
                aThread.set(Thread.currentThread());
                wq.queueOn(0, b); // pending while its first instance runs on CPU 1: inactive here
                b.flush();
                aDone.countDown();
            }))).isTrue();
            try {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                    Thread t = aThread.get();
                    return t != null && (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
                }); // A waits for B
                if (freezeWhileLent) {
                    // A, B's first instance and B on A's lent slot
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                            .until(() -> EngineProbe.active(wq.core) == 3);
                    assertThat(wq.freeze(Duration.ofMillis(20))).as("A and B's first instance still run").isFalse();
                }
            } finally {
                releaseFirst.countDown(); // B's first instance ends
            }
            if (freezeWhileLent) {
                // B's first instance ended, and B waits, taken back, for the thaw: A alone is active
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                        .until(() -> EngineProbe.active(wq.core) == 1);
                assertThat(EngineProbe.inactive(wq.core)).as("B, taken back").isEqualTo(1);
                assertThat(bRuns.get()).isEqualTo(1);
                wq.thaw();
            }
            assertThat(aDone.await(30, TimeUnit.SECONDS)).as("A's flush of B returned").isTrue();
            assertThat(bRuns.get()).isEqualTo(2);
            wq.flush();
            assertThat(EngineProbe.active(wq.core)).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A waiter lends its slot to a work pinned to another CPU too: only running it in place is
     * ruled out by the pin: a waiter on CPU 0, its awaited work queued with queueOn(1) behind CPU 1's
     * full slots. Before, a pinned work got neither, and the waiter hung.
     */
    @Test
    void aWaiterLendsItsSlotToAWorkPinnedToAnotherCpu() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().name("lend-pinned").cpus(2).jmx(false).simulate(true, false)
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).stallWindow(Duration.ofMillis(50)).build())) {
            EngineProbe.setCpusSaturated(c.engine(), false);
            Workqueue wq = c.workqueue("slots").maxActive(2).build();
            CountDownLatch waiterDone = new CountDownLatch(1);
            holdCpu1Slots(wq, waiterDone);
            AtomicReference<String> awaitedThread = new AtomicReference<>();
            Work awaited = new Work("awaited", () -> awaitedThread.set(Thread.currentThread().getName()));
            Work waiter = new Work("waiter", () -> {
                wq.queueOn(1, awaited); // pinned to CPU 1, inactive behind the holders
                awaited.flush();
                waiterDone.countDown();
            });
            wq.queueOn(0, waiter);
            assertThat(waiterDone.await(30, TimeUnit.SECONDS))
                    .as("the waiter ended (awaited ran on %s)", awaitedThread.get()).isTrue();
            assertThat(awaitedThread.get()).as("the pinned work ran on its CPU").contains("-cpu1-");
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
