package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timers of {@link DelayedWork}: queueDelayed, modDelayed, cancel, flush, and their cost. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DelayedWorkTest {
    private static final long MS = 1_000_000L;

    private static Cmwq newCmwq(int cpus) {
        return Cmwq.builder().cpus(cpus).threadNamePrefix("delayed-").build();
    }

    /** A delayed work that records how often it ran and when it last started. */
    private static final class Probe {
        final AtomicInteger runs = new AtomicInteger();
        final AtomicLong startedAt = new AtomicLong();
        final CountDownLatch ran = new CountDownLatch(1);
        final DelayedWork work = new DelayedWork(() -> {
            startedAt.set(System.nanoTime());
            runs.incrementAndGet();
            ran.countDown();
        });

        boolean awaitRun() throws InterruptedException {
            return ran.await(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A Cmwq has one thread besides its workers: the monitor, which also fires the timers. A
     * delayed work falls due while the monitor watches a pool whose worker blocked (unannounced),
     * and it still runs.
     */
    @Test
    void oneServiceThreadWatchesAndFiresTimers() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("svc-").build()) {
            Workqueue wq = c.workqueue("svc").build();
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                blocked.countDown();
                try {
                    release.await(); // not announced: only the monitor can see it
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ofMillis(20))).isTrue();
            assertThat(p.awaitRun()).as("the delayed work ran while a worker was blocked").isTrue();
            java.util.List<String> names = Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName).filter(n -> n.startsWith("svc-")).toList();
            assertThat(names).as("threads of this Cmwq").filteredOn("svc-monitor"::equals).hasSize(1);
            assertThat(names).as("the rest are workers").allMatch(n -> n.matches("svc-(monitor|(cpu\\d+H?|unboundH?)-\\d+)"));
            release.countDown();
        }
    }

    @Test
    void firesNoEarlierThanAsked() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("no-earlier").build();
            long[] delaysMs = {1, 20, 50, 120};
            Probe[] probes = new Probe[delaysMs.length];
            long[] queuedAt = new long[delaysMs.length];
            for (int i = 0; i < delaysMs.length; i++) {
                probes[i] = new Probe();
                queuedAt[i] = System.nanoTime();
                assertThat(wq.queueDelayed(probes[i].work, Duration.ofMillis(delaysMs[i]))).isTrue();
            }
            for (int i = 0; i < delaysMs.length; i++) {
                assertThat(probes[i].awaitRun()).as("delay %d ms fired", delaysMs[i]).isTrue();
                long elapsed = probes[i].startedAt.get() - queuedAt[i];
                assertThat(elapsed).as("delay %d ms: elapsed %d ns", delaysMs[i], elapsed)
                        .isGreaterThanOrEqualTo(delaysMs[i] * MS);
                assertThat(probes[i].runs).hasValue(1);
            }
        }
    }

    @Test
    void fiftyMillisecondDelayWithTimeUnitOverload() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("time-unit").build();
            Probe p = new Probe();
            long t0 = System.nanoTime();
            assertThat(wq.queueDelayed(p.work, 50, TimeUnit.MILLISECONDS)).isTrue();
            // (no isPending check here: a test thread descheduled for 50 ms would see it run;
            // queueDelayedReturnsFalseWhileArmed checks the armed state)
            assertThat(p.awaitRun()).isTrue();
            assertThat(p.startedAt.get() - t0).isGreaterThanOrEqualTo(50 * MS);
            // And on an explicit CPU.
            Probe q = new Probe();
            long t1 = System.nanoTime();
            assertThat(wq.queueDelayedOn(0, q.work, Duration.ofMillis(50))).isTrue();
            assertThat(q.awaitRun()).isTrue();
            assertThat(q.startedAt.get() - t1).isGreaterThanOrEqualTo(50 * MS);
        }
    }

    @Test
    void modDelayedMovesAnArmedTimerLater() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("mod-later").build();
            Probe p = new Probe();
            // a second, so that a test thread descheduled between the calls still finds it armed
            assertThat(wq.queueDelayed(p.work, Duration.ofSeconds(1))).isTrue();
            long t0 = System.nanoTime();
            assertThat(wq.modDelayed(p.work, Duration.ofMillis(1500))).as("was pending").isTrue();
            assertThat(p.work.isPending()).isTrue();
            assertThat(p.awaitRun()).isTrue();
            assertThat(p.startedAt.get() - t0).as("fired no earlier than the new deadline")
                    .isGreaterThanOrEqualTo(1500 * MS);
            wq.flush();
            assertThat(p.runs).hasValue(1);
        }
    }

    @Test
    void modDelayedMovesAnArmedTimerEarlier() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("mod-earlier").build();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ofSeconds(30))).isTrue();
            long t0 = System.nanoTime();
            assertThat(wq.modDelayed(p.work, Duration.ofMillis(50))).isTrue();
            assertThat(p.awaitRun()).as("fired long before the original 30 s").isTrue();
            long elapsed = p.startedAt.get() - t0;
            assertThat(elapsed).isGreaterThanOrEqualTo(50 * MS).isLessThan(10_000 * MS);
            wq.flush();
            assertThat(p.runs).hasValue(1);
            assertThat(p.work.isPending()).isFalse();
        }
    }

    @Test
    void modDelayedWithZeroRunsItNow() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("mod-zero").build();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ofSeconds(30))).isTrue();
            assertThat(wq.modDelayed(p.work, Duration.ZERO)).isTrue();
            assertThat(p.awaitRun()).isTrue();
            wq.flush();
            assertThat(p.runs).hasValue(1);
            assertThat(p.work.isPending()).isFalse();
        }
    }

    /**
     * modDelayed on another workqueue moves an armed timer there, as the kernel's
     * mod_delayed_work_on does: the work fires on the workqueue the call named. It used to move
     * the timer in place and fire on the workqueue that had armed it.
     */
    @Test
    void modDelayedOnAnotherWorkqueueMovesTheArmedWorkThere() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue a = c.workqueue("arming").build();
            Workqueue b = c.workqueue("moving-to").build();
            Probe p = new Probe();
            assertThat(a.queueDelayed(p.work, Duration.ofHours(1))).isTrue();
            assertThat(b.modDelayed(p.work, Duration.ofMillis(10))).as("was pending").isTrue();
            assertThat(p.awaitRun()).isTrue();
            a.flush();
            b.flush();
            assertThat(b.stats().total()).as("ran on the workqueue modDelayed named").isEqualTo(1);
            assertThat(a.stats().total()).isZero();
            assertThat(p.runs).hasValue(1);
            a.drain(); // nothing left armed for the first
        }
    }

    /**
     * modDelayed's look at where the timer is armed and its move of the timer are one step: a
     * timer that fires between them, its work then armed again for another workqueue, is not
     * moved where that other arming put it. Replayed with the seam between the look and the move
     * ({@code Seam.onModDelayed}): the call on {@code a} finds the work armed for {@code a} and
     * stops; meanwhile a flush fires the timer (the work runs on {@code a}) and {@code b} arms it
     * again; then the call goes on. Linearizable, it finds the work pending on {@code b} and moves
     * it to {@code a} with its own delay, as the kernel's {@code mod_delayed_work_on} does. Before
     * the check moved inside the timer lock ({@code Timer.rescheduleIfFor}), the move took
     * {@code b}'s arming: the second run was on {@code b}.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void modDelayedDoesNotMoveATimerArmedElsewhereBetweenItsLookAndItsMove() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue a = c.workqueue("mod-target").build();
            Workqueue b = c.workqueue("armed-meanwhile").build();
            java.util.Queue<String> ranOn = new java.util.concurrent.ConcurrentLinkedQueue<>();
            DelayedWork w = new DelayedWork(() -> {
                var wq = dev.cmwq4j.internal.EngineProbe.currentWorkqueue();
                ranOn.add(wq == a.core ? "a" : wq == b.core ? "b" : String.valueOf(wq));
            });
            assertThat(a.queueDelayed(w, Duration.ofHours(1))).isTrue();
            CountDownLatch paused = new CountDownLatch(1);
            CountDownLatch resume = new CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Boolean> mod = new java.util.concurrent.CompletableFuture<>();
            Thread modder = new Thread(() -> {
                try {
                    mod.complete(a.modDelayed(w, Duration.ofMillis(20)));
                } catch (Throwable t) {
                    mod.completeExceptionally(t);
                }
            }, "modder");
            dev.cmwq4j.internal.EngineProbe.onModDelayed(() -> {
                if (Thread.currentThread() == modder) {
                    paused.countDown();
                    try {
                        if (!resume.await(60, TimeUnit.SECONDS)) {
                            throw new AssertionError("not resumed within 60 s");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            try {
                modder.start();
                assertThat(paused.await(30, TimeUnit.SECONDS)).as("modDelayed found the work on the timer").isTrue();
                // the timer fires meanwhile (a flush fires it now): the first instance runs on a
                assertThat(w.flush()).isTrue();
                assertThat(ranOn).containsExactly("a");
                // and the work is armed again, for b
                assertThat(b.queueDelayed(w, Duration.ofHours(1))).isTrue();
                resume.countDown();
                assertThat(mod.get(30, TimeUnit.SECONDS)).as("was pending (armed for b)").isTrue();
            } finally {
                resume.countDown();
                dev.cmwq4j.internal.EngineProbe.onModDelayed(null);
                modder.join(30_000);
            }
            // taken off b's timer and armed on a with the call's 20 ms: runs there, once
            await().atMost(Duration.ofSeconds(30)).until(() -> ranOn.size() >= 2);
            assertThat(w.flush()).as("idle: nothing to wait for").isFalse();
            a.flush();
            b.flush();
            assertThat(ranOn).as("workqueue of each run").containsExactly("a", "a");
            assertThat(dev.cmwq4j.internal.AccountingProbe.armed(a.core)).as("armed for a").isZero();
            assertThat(dev.cmwq4j.internal.AccountingProbe.armed(b.core)).as("armed for b").isZero();
            assertThat(a.stats().total()).isEqualTo(2);
            assertThat(b.stats().total()).isZero();
            b.drain(); // nothing left armed for b
            a.drain();
        }
    }

    @Test
    void modDelayedArmsAnIdleWork() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("mod-idle").build();
            Probe p = new Probe();
            long t0 = System.nanoTime();
            assertThat(wq.modDelayed(p.work, Duration.ofMillis(500))).as("was not pending").isFalse();
            assertThat(p.work.isPending()).isTrue(); // armed for half a second: a stall would not fire it
            assertThat(p.awaitRun()).isTrue();
            assertThat(p.startedAt.get() - t0).isGreaterThanOrEqualTo(500 * MS);
            wq.flush();
            assertThat(p.runs).hasValue(1);
        }
    }

    /** A work already queued (not started) is taken back and re-armed by modDelayed. */
    @Test
    void modDelayedTakesBackAQueuedInstanceAndRearmsIt() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("mod-queued").maxActive(1).build();
            CountDownLatch gateStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wq.execute(() -> {
                gateStarted.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(gateStarted.await(10, TimeUnit.SECONDS)).isTrue();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ZERO)).isTrue(); // queued behind the gate
            assertThat(p.work.isPending()).isTrue();
            long t0 = System.nanoTime();
            assertThat(wq.modDelayed(p.work, Duration.ofMillis(300))).isTrue();
            release.countDown();
            assertThat(p.awaitRun()).isTrue();
            assertThat(p.startedAt.get() - t0).isGreaterThanOrEqualTo(300 * MS);
            wq.flush();
            assertThat(p.runs).hasValue(1);
        }
    }

    @Test
    void cancelStopsAnArmedTimer() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("cancel").build();
            Probe cancelled = new Probe();
            // a second: a test thread descheduled before the cancel still finds it armed
            assertThat(wq.queueDelayed(cancelled.work, Duration.ofSeconds(1))).isTrue();
            assertThat(cancelled.work.cancel()).isTrue();
            assertThat(cancelled.work.isPending()).isFalse();
            assertThat(cancelled.work.cancel()).as("nothing left to cancel").isFalse();

            // A sentinel armed well after the cancelled deadline: once it ran, the cancelled one
            // would have fired long before.
            Probe sentinel = new Probe();
            assertThat(wq.queueDelayed(sentinel.work, Duration.ofMillis(1300))).isTrue();
            assertThat(sentinel.awaitRun()).isTrue();
            wq.flush();
            assertThat(cancelled.runs).hasValue(0);
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                    .until(() -> cancelled.runs.get() == 0);
            // flush of a cancelled work does not wait (or run it).
            cancelled.work.flush();
            assertThat(cancelled.runs).hasValue(0);

            // A cancelled work can be armed again and then runs once.
            assertThat(wq.queueDelayed(cancelled.work, Duration.ofMillis(10))).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> cancelled.runs.get() == 1);
            await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5))
                    .until(() -> cancelled.runs.get() == 1);
        }
    }

    @Test
    void cancelSyncStopsAnArmedTimer() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("cancel-sync").build();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ofSeconds(1))).isTrue(); // still armed after a stall
            assertThat(p.work.cancelSync()).isTrue();
            assertThat(p.work.isPending()).isFalse();
            assertThat(p.work.isRunning()).isFalse();
            Probe sentinel = new Probe();
            wq.queueDelayed(sentinel.work, Duration.ofMillis(1250));
            assertThat(sentinel.awaitRun()).isTrue();
            assertThat(p.runs).hasValue(0);
        }
    }

    @Test
    void queueDelayedReturnsFalseWhileArmed() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("armed-pending").build();
            Probe p = new Probe();
            assertThat(wq.queueDelayed(p.work, Duration.ofSeconds(1))).isTrue(); // still armed after a stall
            assertThat(p.work.isPending()).isTrue();
            assertThat(wq.queueDelayed(p.work, Duration.ofMillis(10))).isFalse();
            assertThat(wq.queueDelayed(p.work, Duration.ZERO)).isFalse();
            assertThat(wq.queue(p.work)).isFalse();
            assertThat(wq.queueOn(0, p.work)).isFalse();
            assertThat(p.awaitRun()).isTrue();
            wq.flush();
            assertThat(p.runs).as("the rejected calls did not add runs").hasValue(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> !p.work.isRunning());
            // Idle again: it can be armed anew.
            assertThat(wq.queueDelayed(p.work, Duration.ofMillis(5))).isTrue();
            p.work.flush();
            assertThat(p.runs).hasValue(2);
        }
    }

    @Test
    void flushFiresAnArmedTimerNowAndWaits() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("flush-fires").build();
            Probe p = new Probe();
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            DelayedWork slow = new DelayedWork(() -> {
                ranOn.set(Thread.currentThread());
                p.runs.incrementAndGet();
            });
            assertThat(wq.queueDelayed(slow, Duration.ofSeconds(30))).isTrue();
            long t0 = System.nanoTime();
            assertThat(slow.flush()).as("had to wait").isTrue();
            long elapsed = System.nanoTime() - t0;
            // flush returned only after the run ended, and long before the 30 s deadline.
            assertThat(p.runs).hasValue(1);
            assertThat(slow.isPending()).isFalse();
            assertThat(slow.isRunning()).isFalse();
            assertThat(elapsed).isLessThan(10_000 * MS);
            assertThat(ranOn.get()).isNotSameAs(Thread.currentThread());
            // Nothing left on the timer: it does not run a second time.
            Probe sentinel = new Probe();
            wq.queueDelayed(sentinel.work, Duration.ofMillis(100));
            assertThat(sentinel.awaitRun()).isTrue();
            assertThat(p.runs).hasValue(1);
            assertThat(slow.flush()).as("idle: nothing to wait for").isFalse();
        }
    }

    @Test
    void flushWaitsForAShortTimerToo() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("flush-short").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork d = new DelayedWork(runs::incrementAndGet);
            wq.queueDelayed(d, Duration.ofMillis(20));
            d.flush();
            assertThat(runs).hasValue(1);
        }
    }

    @Test
    void tenThousandArmedDelayedWorksNeedFewThreadsAndAllFire() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("many-timers").build();
            int n = 10_000;
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            CountDownLatch all = new CountDownLatch(n);
            DelayedWork[] works = new DelayedWork[n];
            for (int i = 0; i < n; i++) {
                int id = i;
                works[i] = new DelayedWork(() -> {
                    runs.incrementAndGet(id);
                    all.countDown();
                });
            }
            int threadsBefore = Thread.activeCount();
            for (int i = 0; i < n; i++) {
                // Deadlines spread over 500..1000 ms, so they are all armed at once for a while.
                assertThat(wq.queueDelayed(works[i], Duration.ofMillis(500 + (i * 7919L) % 500))).isTrue();
            }
            int pendingNow = 0;
            for (DelayedWork w : works) {
                if (w.isPending()) {
                    pendingNow++;
                }
            }
            assertThat(pendingNow).isGreaterThan(n / 2);
            assertThat(c.threads()).isLessThan(16);
            assertThat(all.await(20, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            for (int i = 0; i < n; i++) {
                assertThat(runs.get(i)).as("runs of delayed work %d", i).isEqualTo(1);
            }
            // A handful of workers per CPU at most, not one per timer.
            assertThat(c.peakThreads()).as("peak worker threads").isLessThanOrEqualTo(4 * c.cpus() + 4);
            assertThat(Thread.activeCount() - threadsBefore).isLessThan(50);
        }
    }
}
