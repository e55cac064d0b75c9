package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.AccountingProbe;
import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A work held running on one workqueue while it is queued, moved ({@code modDelayed}) and
 * cancelled on others (issue 20). A new instance queued during the run and popped by another
 * worker is handed off to the worker that runs the work ({@code WorkNode.HANDOFF}); these tests
 * make that happen with latches, then check that every workqueue's counts come back to zero, that
 * each run is counted by the workqueue it was queued on, and that every flush returns.
 *
 * <p>Two of them hold a thread, with the handoff seam ({@code Seam.onHandoffPwqRead}), right
 * after it read the pwq of a handed-off instance and before it acted on it, while the work moves
 * on to another workqueue and is handed off again with the same state word: the interleaving of
 * issue 20, which the OS scheduler produces only when it preempts a thread at that instruction.
 * Before the fix, the held thread ended the instance in the workqueue it had read: one count went
 * to -1, another stayed at 1, and a flush of the latter never returned.
 */
class CrossQueueHandoffTest {
    private static final long BOUND_SECONDS = 30;

    /** A work body whose k-th run (from 0) signals its start and waits for its release. */
    private static final class Gated implements Runnable {
        final CountDownLatch[] started;
        final CountDownLatch[] release;
        final Thread[] thread;
        final String[] queueName;
        final AtomicInteger runs = new AtomicInteger();

        Gated(int n) {
            started = new CountDownLatch[n];
            release = new CountDownLatch[n];
            thread = new Thread[n];
            queueName = new String[n];
            for (int i = 0; i < n; i++) {
                started[i] = new CountDownLatch(1);
                release[i] = new CountDownLatch(1);
            }
        }

        @Override
        public void run() {
            int k = runs.getAndIncrement();
            if (k >= started.length) {
                return;
            }
            thread[k] = Thread.currentThread();
            queueName[k] = EngineProbe.currentWorkqueue().spec().name();
            started[k].countDown();
            TestSupport.blockOn(release[k]);
        }

        void awaitStarted(int k) throws InterruptedException {
            await(started[k], "run " + k + " to start");
        }

        void releaseAll() {
            for (CountDownLatch l : release) {
                l.countDown();
            }
        }
    }

    /** Holds one chosen thread, once, at the handoff seam until released. */
    private static final class SeamGate implements Runnable {
        volatile Thread target;
        final AtomicBoolean used = new AtomicBoolean();
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);

        @Override
        public void run() {
            if (Thread.currentThread() == target && used.compareAndSet(false, true)) {
                reached.countDown();
                try {
                    resume.await(BOUND_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * A cancel reads the pwq of the instance handed off from workqueue B; held there, the runner
     * takes that instance and runs it, and a new instance queued on C is handed off in turn. The
     * cancel must take C's instance and end it in C.
     */
    @Test
    void cancelHeldAfterReadingOneQueuesHandoffCancelsTheNextQueuesHandoffInItsOwnQueue() throws Exception {
        Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("xqh-").build();
        Gated body = new Gated(2);
        SeamGate gate = new SeamGate();
        boolean ok = false;
        try {
            Workqueue a = c.workqueue("A-ordered").ordered().build();
            Workqueue b = c.workqueue("B-high").highPriority().build();
            Workqueue q = c.workqueue("C-max1").maxActive(1).build();
            DelayedWork w = new DelayedWork(body);
            AccountingProbe.onHandoffPwqRead(gate);

            assertThat(a.queue(w)).isTrue();
            body.awaitStarted(0);
            assertThat(b.queue(w)).isTrue();
            awaitHandedOff(w, "B's instance handed to the runner on A");

            boolean[] cancelled = new boolean[1];
            Thread canceller = new Thread(() -> cancelled[0] = w.cancel(), "xqh-canceller");
            canceller.setDaemon(true);
            gate.target = canceller;
            canceller.start();
            await(gate.reached, "the cancel to read the handed-off instance's pwq");

            body.release[0].countDown(); // the runner takes B's instance and runs it
            body.awaitStarted(1);
            assertThat(q.queue(w)).isTrue();
            awaitHandedOff(w, "C's instance handed to the runner, with the same state word");
            gate.resume.countDown();
            canceller.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
            assertThat(canceller.isAlive()).as("cancel returned").isFalse();
            assertThat(cancelled[0]).as("the cancel took C's instance").isTrue();
            assertNoNegativeCount(a, b, q);

            body.release[1].countDown();
            awaitAtRest(a, b, q);
            flushWithinBound(a, b, q);
            assertThat(body.runs).hasValue(2);
            assertThat(body.queueName).containsExactly("A-ordered", "B-high");
            assertThat(a.stats().total()).isEqualTo(1);
            assertThat(b.stats().total()).isEqualTo(1);
            assertThat(q.stats().total()).isZero();
            ok = true;
        } finally {
            AccountingProbe.onHandoffPwqRead(null);
            gate.resume.countDown();
            body.releaseAll();
            closeIfSound(c, ok);
        }
    }

    /**
     * The runner reads the pwq of the instance handed off from workqueue B; held there,
     * modDelayed on C takes that instance back and queues it on C, where it is handed off again.
     * The runner must run it as C's work and end it in C.
     */
    @Test
    void runnerHeldAfterReadingOneQueuesHandoffRunsTheMovedInstanceAsTheOtherQueuesWork() throws Exception {
        Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("xqh-").build();
        Gated body = new Gated(2);
        SeamGate gate = new SeamGate();
        boolean ok = false;
        try {
            Workqueue a = c.workqueue("A-ordered").ordered().build();
            Workqueue b = c.workqueue("B-high").highPriority().build();
            Workqueue q = c.workqueue("C-max1").maxActive(1).build();
            DelayedWork w = new DelayedWork(body);
            AccountingProbe.onHandoffPwqRead(gate);

            assertThat(a.queue(w)).isTrue();
            body.awaitStarted(0);
            gate.target = body.thread[0];
            assertThat(b.queue(w)).isTrue();
            awaitHandedOff(w, "B's instance handed to the runner on A");
            body.release[0].countDown(); // run 0 ends; the runner reads B's pwq and is held
            await(gate.reached, "the runner to read the handed-off instance's pwq");

            assertThat(q.modDelayed(w, Duration.ZERO)).as("it was pending").isTrue();
            awaitHandedOff(w, "the moved instance handed to the runner again, with the same state word");
            gate.resume.countDown();
            body.awaitStarted(1);
            body.release[1].countDown();

            awaitAtRest(a, b, q);
            flushWithinBound(a, b, q);
            assertThat(body.runs).hasValue(2);
            assertThat(body.queueName).containsExactly("A-ordered", "C-max1");
            assertThat(a.stats().total()).isEqualTo(1);
            assertThat(b.stats().total()).isZero();
            assertThat(q.stats().total()).isEqualTo(1);
            ok = true;
        } finally {
            AccountingProbe.onHandoffPwqRead(null);
            gate.resume.countDown();
            body.releaseAll();
            closeIfSound(c, ok);
        }
    }

    /**
     * Without any held thread: during one run on A, the work is queued on B (handed off), moved to
     * C by modDelayed (handed off again), cancelled, armed on C's timer, moved to B, and runs
     * there. After each step the in-flight count of each workqueue is exactly what it holds.
     */
    @Test
    void workQueuedMovedAndCancelledAcrossQueuesDuringItsRunIsCountedWhereItIs() throws Exception {
        Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("xqh-").build();
        Gated body = new Gated(2);
        boolean ok = false;
        try {
            Workqueue a = c.workqueue("A-ordered").ordered().build();
            Workqueue b = c.workqueue("B-high").highPriority().build();
            Workqueue q = c.workqueue("C-max1").maxActive(1).build();
            DelayedWork w = new DelayedWork(body);

            assertThat(a.queue(w)).isTrue();
            body.awaitStarted(0);
            assertThat(b.queue(w)).isTrue();
            awaitHandedOff(w, "B's instance handed to the runner on A");
            assertInFlight(a, 1, b, 1, q, 0);

            assertThat(q.modDelayed(w, Duration.ZERO)).as("it was pending").isTrue();
            awaitHandedOff(w, "the instance moved to C handed to the runner");
            assertInFlight(a, 1, b, 0, q, 1);

            assertThat(w.cancel()).isTrue();
            assertInFlight(a, 1, b, 0, q, 0);

            assertThat(q.modDelayed(w, Duration.ofHours(1))).as("it was idle: armed on C").isFalse();
            assertThat(AccountingProbe.armed(q.core)).isEqualTo(1);
            assertThat(b.modDelayed(w, Duration.ZERO)).as("it was armed").isTrue();
            assertThat(AccountingProbe.armed(q.core)).isZero();
            awaitHandedOff(w, "the instance moved from C's timer to B handed to the runner");
            assertInFlight(a, 1, b, 1, q, 0);

            body.release[0].countDown();
            body.awaitStarted(1);
            body.release[1].countDown();
            awaitAtRest(a, b, q);
            flushWithinBound(a, b, q);
            assertThat(body.queueName).containsExactly("A-ordered", "B-high");
            assertThat(a.stats().total()).isEqualTo(1);
            assertThat(b.stats().total()).isEqualTo(1);
            assertThat(q.stats().total()).isZero();
            ok = true;
        } finally {
            body.releaseAll();
            closeIfSound(c, ok);
        }
    }

    // ------------------------------------------------------------------------------------------

    private static void await(CountDownLatch l, String what) throws InterruptedException {
        if (!l.await(BOUND_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("timed out waiting for " + what);
        }
    }

    private static void awaitHandedOff(Work w, String what) {
        Awaitility.await(what).atMost(Duration.ofSeconds(BOUND_SECONDS)).pollInterval(Duration.ofMillis(1))
                .until(() -> AccountingProbe.isHandedOff(w.node));
    }

    private static void assertInFlight(Workqueue a, int na, Workqueue b, int nb, Workqueue q, int nq) {
        assertThat(new long[] {a.stats().inFlight(), b.stats().inFlight(), q.stats().inFlight()})
                .as("in flight in %s, %s, %s", a.name(), b.name(), q.name())
                .containsExactly(na, nb, nq);
    }

    private static void assertNoNegativeCount(Workqueue... queues) {
        for (Workqueue q : queues) {
            assertThat(AccountingProbe.anyNegative(q.core)).as(AccountingProbe.describe(q.core)).isFalse();
        }
    }

    /**
     * Every count of every queue back to zero (the last run's end is counted just after it); fails
     * at once on a negative count.
     */
    private static void awaitAtRest(Workqueue... queues) {
        for (Workqueue q : queues) {
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_SECONDS)).pollInterval(Duration.ofMillis(1))
                    .failFast("negative count", () -> assertNoNegativeCount(queues))
                    .untilAsserted(() -> assertThat(AccountingProbe.atRest(q.core))
                            .as(AccountingProbe.describe(q.core)).isTrue());
        }
    }

    /** Flushes each queue on a helper thread; fails, with its accounting, if one does not return. */
    private static void flushWithinBound(Workqueue... queues) throws InterruptedException {
        for (Workqueue q : queues) {
            Thread t = new Thread(q::flush, "xqh-flush-" + q.name());
            t.setDaemon(true);
            t.start();
            t.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
            if (t.isAlive()) {
                throw new AssertionError("flush of " + q.name() + " did not return: " + AccountingProbe.describe(q.core));
            }
        }
    }

    /** Closes {@code c} unless the test failed: close drains, and a broken count never drains. */
    private static void closeIfSound(Cmwq c, boolean sound) {
        if (sound) {
            c.close();
        }
    }
}
