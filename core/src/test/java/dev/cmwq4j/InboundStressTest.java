package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The lock-free queue path (issue 16): queuers push onto a pool's inbound stack without the pool
 * lock, and whoever next takes the lock admits what is there. Each test races that path against
 * what must see every queue that returned before it: a flush, a cancel, {@code maxActive}, a
 * closing drain and an executor view's {@code shutdownNow}; and each checks an invariant that a
 * lost, doubled or late-admitted work would break. Workers going idle and being woken between
 * bursts exercise the wake-up (the pusher's read of the running count against the idle worker's
 * read of the stack): a lost wake-up shows up as a flush that never returns.
 *
 * <p>Size: {@code cmwq4j.stress.scale} (1 by default, 50 with {@code -Pstress}).
 */
class InboundStressTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final Duration BOUND = Duration.ofSeconds(60);

    /**
     * Producers queue pre-built works in bursts while a flusher flushes the workqueue: every work
     * queued before a flush began has run when it returns (flush colours assigned at admission
     * must still cover it), every queue that returned true runs exactly once, and the statistics
     * after the last flush count exactly the runs.
     */
    @Test
    void flushSeesEveryQueueThatReturnedAndNothingIsLostOrRunTwice() throws Exception {
        int producers = 3;
        int perProducer = 20_000 * SCALE;
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            for (int maxActive : new int[] {256, 2}) {
                Workqueue wq = c.workqueue("inbound-" + maxActive).maxActive(maxActive).build();
                AtomicLongArray runs = new AtomicLongArray(producers * 64);
                AtomicLongArray accepted = new AtomicLongArray(producers * 64);
                // per work: the sequence number of its last accepted instance, and the one its last run saw
                AtomicLongArray lastAccepted = new AtomicLongArray(producers * 64);
                AtomicLongArray lastRun = new AtomicLongArray(producers * 64);
                Work[] works = new Work[producers * 64];
                for (int i = 0; i < works.length; i++) {
                    int id = i;
                    works[i] = new Work(() -> {
                        runs.incrementAndGet(id);
                        lastRun.accumulateAndGet(id, seqOf(id), Math::max);
                    });
                }
                // seq: each producer numbers its queues; the work records it through this table
                AtomicLongArray seqTable = new AtomicLongArray(works.length);
                seqs = seqTable;
                AtomicInteger flushViolations = new AtomicInteger();
                AtomicInteger flushes = new AtomicInteger();
                CountDownLatch producing = new CountDownLatch(producers);
                List<Thread> threads = new ArrayList<>();
                for (int p = 0; p < producers; p++) {
                    int me = p;
                    threads.add(new Thread(() -> {
                        SplittableRandom rnd = new SplittableRandom(me);
                        long seq = 0;
                        for (int i = 0; i < perProducer; i++) {
                            int id = me * 64 + rnd.nextInt(64);
                            seq++;
                            seqTable.set(id, seq);
                            if (wq.queue(works[id])) {
                                accepted.incrementAndGet(id);
                                lastAccepted.set(id, seq);
                            }
                            if ((i & 1023) == 0) {
                                Thread.yield(); // let the pool run dry and go idle now and then
                            }
                        }
                        producing.countDown();
                    }));
                }
                Thread flusher = new Thread(() -> {
                    while (producing.getCount() > 0) {
                        long[] before = new long[works.length];
                        for (int i = 0; i < works.length; i++) {
                            before[i] = lastAccepted.get(i);
                        }
                        wq.flush();
                        flushes.incrementAndGet();
                        for (int i = 0; i < works.length; i++) {
                            // the instance accepted last before the flush has run: its run read a
                            // sequence number at least as new (the producer writes it first)
                            if (lastRun.get(i) < before[i]) {
                                flushViolations.incrementAndGet();
                            }
                        }
                    }
                });
                threads.forEach(Thread::start);
                flusher.start();
                for (Thread t : threads) {
                    t.join(BOUND.toMillis());
                    assertThat(t.isAlive()).as("producer stuck").isFalse();
                }
                flusher.join(BOUND.toMillis());
                assertThat(flusher.isAlive()).as("a flush never returned (lost wake-up?)").isFalse();
                wq.flush();
                long total = 0;
                for (int i = 0; i < works.length; i++) {
                    assertThat(runs.get(i)).as("runs of work %d", i).isEqualTo(accepted.get(i));
                    total += runs.get(i);
                }
                assertThat(flushViolations.get()).as("flushes that returned before a work queued earlier ran")
                        .isZero();
                assertThat(wq.stats().total()).as("statistics after a flush").isEqualTo(total);
                assertThat(wq.stats().inFlight()).isZero();
                wq.close();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Bursts from outside, each awaited through a latch only (no flush, which would take the pool
     * lock and admit the stack itself): the workers run dry and go idle between bursts, so each
     * burst must wake one. A push that neither wakes a worker nor is seen by the worker going
     * idle leaves its burst unrun, and the latch times out.
     */
    @Test
    void everyBurstWakesAWorkerWithNoOneElseTakingTheLock() throws Exception {
        int bursts = 2_000 * SCALE;
        // a monitor that ticks rarely: its look would otherwise admit a stranded burst in time
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).monitorTick(Duration.ofMinutes(2), Duration.ofMinutes(2))
                .build()) {
            Workqueue wq = c.workqueue("bursts").build();
            SplittableRandom rnd = new SplittableRandom(7);
            for (int b = 0; b < bursts; b++) {
                int size = 1 + rnd.nextInt(4);
                CountDownLatch done = new CountDownLatch(size);
                for (int i = 0; i < size; i++) {
                    wq.execute(done::countDown);
                }
                assertThat(done.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("burst %d ran", b).isTrue();
                if ((b & 7) == 0) {
                    Thread.yield();
                }
            }
            wq.close();
        }
    }

    /** Per-work sequence numbers of the running test (written by the producer before it queues). */
    private static volatile AtomicLongArray seqs;

    private static long seqOf(int id) {
        return seqs.get(id);
    }

    /**
     * Producers queue and cancel the same works while the pool admits them: each instance either
     * ran or was cancelled (a cancel that returned true), never both, and none is left pending.
     */
    @Test
    void cancelRacingAdmissionTakesEachInstanceOnce() throws Exception {
        int threads = 3;
        int ops = 20_000 * SCALE;
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("cancel-race").build();
            AtomicIntegerArray runs = new AtomicIntegerArray(32);
            AtomicIntegerArray queued = new AtomicIntegerArray(32);
            AtomicIntegerArray cancelled = new AtomicIntegerArray(32);
            Work[] works = new Work[32];
            for (int i = 0; i < works.length; i++) {
                int id = i;
                works[i] = new Work(() -> runs.incrementAndGet(id));
            }
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                ts.add(new Thread(() -> {
                    SplittableRandom rnd = new SplittableRandom(100 + me);
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < ops; i++) {
                        int id = rnd.nextInt(works.length);
                        if (rnd.nextBoolean()) {
                            if (wq.queue(works[id])) {
                                queued.incrementAndGet(id);
                            }
                        } else if (works[id].cancel()) {
                            cancelled.incrementAndGet(id);
                        }
                    }
                }));
            }
            ts.forEach(Thread::start);
            for (Thread t : ts) {
                t.join(BOUND.toMillis());
                assertThat(t.isAlive()).isFalse();
            }
            wq.flush();
            for (int i = 0; i < works.length; i++) {
                assertThat(works[i].isPending()).isFalse();
                assertThat(runs.get(i) + cancelled.get(i)).as("work %d: runs + cancels", i).isEqualTo(queued.get(i));
            }
            assertThat(wq.stats().inFlight()).isZero();
            wq.close();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * {@code maxActive(1)} with pushes from several threads: never two works of the workqueue at
     * once, and every one runs (inactive works are still activated). Unbound: one pool workqueue,
     * so the limit is the workqueue's (a bound workqueue's is per CPU, as the kernel's).
     */
    @Test
    void maxActiveHoldsAcrossThePushPath() throws Exception {
        int threads = 3;
        int each = 5_000 * SCALE;
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("one-at-a-time").unbound().maxActive(1).build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            AtomicLong ran = new AtomicLong();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ts.add(new Thread(() -> {
                    for (int i = 0; i < each; i++) {
                        wq.execute(() -> {
                            conc.enter();
                            ran.incrementAndGet();
                            conc.exit();
                        });
                    }
                }));
            }
            ts.forEach(Thread::start);
            for (Thread t : ts) {
                t.join(BOUND.toMillis());
            }
            wq.flush();
            assertThat(ran.get()).isEqualTo((long) threads * each);
            assertThat(conc.max()).as("works of a maxActive(1) queue at once").isEqualTo(1);
            wq.close();
        }
    }

    /**
     * Producers execute through an executor view while another thread calls {@code shutdownNow}:
     * every task is exactly one of ran, returned by shutdownNow, or rejected; none runs after it
     * was returned; and the view terminates.
     */
    @Test
    void shutdownNowReturnsEveryUnstartedTaskExactlyOnce() throws Exception {
        int rounds = 30 * SCALE;
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("view").build();
            for (int r = 0; r < rounds; r++) {
                ExecutorService es = wq.asExecutorService();
                int producers = 2;
                int each = 2_000;
                int total = producers * each;
                AtomicIntegerArray state = new AtomicIntegerArray(total); // 1 ran, 2 returned, 3 rejected
                AtomicInteger doubled = new AtomicInteger();
                List<Runnable> tasks = new ArrayList<>();
                for (int i = 0; i < total; i++) {
                    int id = i;
                    tasks.add(new Runnable() {
                        @Override
                        public void run() {
                            if (!state.compareAndSet(id, 0, 1)) {
                                doubled.incrementAndGet();
                            }
                        }

                        @Override
                        public String toString() {
                            return "task" + id;
                        }
                    });
                }
                CountDownLatch halfway = new CountDownLatch(1);
                List<Thread> ts = new ArrayList<>();
                for (int p = 0; p < producers; p++) {
                    int base = p * each;
                    ts.add(new Thread(() -> {
                        for (int i = 0; i < each; i++) {
                            if (i == each / 2) {
                                halfway.countDown();
                            }
                            try {
                                es.execute(tasks.get(base + i));
                            } catch (RejectedExecutionException e) {
                                if (!state.compareAndSet(base + i, 0, 3)) {
                                    doubled.incrementAndGet();
                                }
                            }
                        }
                    }));
                }
                ts.forEach(Thread::start);
                halfway.await(BOUND.toSeconds(), TimeUnit.SECONDS);
                List<Runnable> returned = es.shutdownNow();
                for (Runnable t : returned) {
                    int id = Integer.parseInt(t.toString().substring(4));
                    if (!state.compareAndSet(id, 0, 2)) {
                        doubled.incrementAndGet();
                    }
                }
                for (Thread t : ts) {
                    t.join(BOUND.toMillis());
                }
                assertThat(es.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS)).as("terminated").isTrue();
                wq.flush();
                assertThat(doubled.get()).as("tasks in two outcomes (ran after being returned?)").isZero();
                for (int i = 0; i < total; i++) {
                    assertThat(state.get(i)).as("outcome of task %d", i).isNotZero();
                }
            }
            wq.close();
        }
    }

    /**
     * The seal of a closing drain against a push, step by step (seams hold the queuer): the
     * queuer passes the open check, the close then finds nothing and closes, the queuer pushes,
     * and before it reads the seal another workqueue's queue on the same pool admits the pool's
     * inbound stack. The late node must be held, not queued: it never runs, and the queuer takes
     * it back and is rejected. (Without the hold, the admission queues it and the pool's worker
     * runs it after the close returned.)
     */
    @Test
    void aPushAfterTheSealIsHeldAndTakenBackNeverRun() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue closing = c.workqueue("closing").build();
            Workqueue other = c.workqueue("other").build();
            AtomicInteger ran = new AtomicInteger();
            Work late = new Work(ran::incrementAndGet);
            CountDownLatch beforePush = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            CountDownLatch afterPush = new CountDownLatch(1);
            CountDownLatch admitted = new CountDownLatch(1);
            Thread[] queuer = new Thread[1];
            java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
            queuer[0] = new Thread(() -> {
                try {
                    closing.queue(late);
                    outcome.set(new AssertionError("queue returned normally"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            }, "late-queuer");
            dev.cmwq4j.internal.AccountingProbe.onPush(phase -> {
                if (Thread.currentThread() != queuer[0]) {
                    return;
                }
                try {
                    if (phase == 0) {
                        beforePush.countDown();
                        assertThat(closed.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    } else {
                        afterPush.countDown();
                        assertThat(admitted.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            try {
                queuer[0].start();
                assertThat(beforePush.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                closing.close(); // nothing in flight: it seals and closes
                closed.countDown();
                assertThat(afterPush.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                // another queue on the same pool takes its lock, which admits the late node too;
                // its flush returns after its work ran, and the pool runs in queueing order
                CountDownLatch otherRan = new CountDownLatch(1);
                other.queue(new Work(otherRan::countDown));
                assertThat(otherRan.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                other.flush();
                assertThat(ran.get()).as("the late work ran after its workqueue closed").isZero();
                admitted.countDown();
                queuer[0].join(BOUND.toMillis());
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onPush(null);
                closed.countDown();
                admitted.countDown();
            }
            assertThat(outcome.get()).isInstanceOf(RejectedExecutionException.class);
            assertThat(late.isPending()).isFalse();
            assertThat(ran.get()).isZero();
            assertThat(closing.stats().inFlight()).isZero();
        }
    }
    /**
     * Two closers, step by step (seams hold each thread where the race needs it). Closer A seals,
     * and its count under the pool locks finds a straggler S0 (past the open check before A
     * began) that pushed right after, so A unseals the pwqs; it is held before it clears the seal
     * flag. Closer B is started then. Before the closing drains were serialized, B sealed and
     * closed meanwhile; A then cleared the flag, and a queuer S, past the open check before
     * either closer began, pushed, read no seal, returned true, and left its node held for good
     * in the pwq B had sealed: an accepted work never run. Now B waits for A's drain, and S's work
     * runs before the queue is closed.
     */
    @Test
    void aSecondCloserWaitsSoNeitherUndoesTheOthersSeal() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("two-closers").build();
            CountDownLatch sRan = new CountDownLatch(1);
            CountDownLatch s0Ran = new CountDownLatch(1);
            Work ws = new Work("s", sRan::countDown);
            Work ws0 = new Work("s0", s0Ran::countDown);
            CountDownLatch sHeld = new CountDownLatch(1);
            CountDownLatch releaseS = new CountDownLatch(1);
            CountDownLatch releaseS0 = new CountDownLatch(1);
            CountDownLatch s0Held = new CountDownLatch(1);
            CountDownLatch pushS0 = new CountDownLatch(1);
            CountDownLatch s0Pushed = new CountDownLatch(1);
            CountDownLatch aUnsealed = new CountDownLatch(1);
            CountDownLatch clearA = new CountDownLatch(1);
            CountDownLatch aCleared = new CountDownLatch(1);
            CountDownLatch releaseA = new CountDownLatch(1);
            java.util.concurrent.ConcurrentHashMap<String, Object> outcome = new java.util.concurrent.ConcurrentHashMap<>();
            Thread[] t = new Thread[4]; // S, S0, A, B
            t[0] = new Thread(() -> outcome.put("s", queueOutcome(wq, ws)), "S");
            t[1] = new Thread(() -> outcome.put("s0", queueOutcome(wq, ws0)), "S0");
            t[2] = new Thread(() -> outcome.put("a", closeOutcome(wq)), "closer-A");
            t[3] = new Thread(() -> outcome.put("b", closeOutcome(wq)), "closer-B");
            dev.cmwq4j.internal.AccountingProbe.onPush(phase -> {
                Thread me = Thread.currentThread();
                if (me == t[0] && phase == 0) { // S: past the open check, not pushed yet
                    sHeld.countDown();
                    awaitOrFail(releaseS);
                } else if (me == t[1] && phase == 0) { // S0: past the open check, not pushed yet
                    s0Held.countDown();
                    awaitOrFail(pushS0);
                } else if (me == t[1]) { // S0: pushed, seal not read yet
                    s0Pushed.countDown();
                    awaitOrFail(releaseS0);
                }
            });
            dev.cmwq4j.internal.AccountingProbe.onSeal(phase -> {
                if (Thread.currentThread() != t[2]) {
                    return;
                }
                if (phase == 0 && pushS0.getCount() > 0) {
                    pushS0.countDown(); // the straggler pushes between seal and count
                    awaitOrFail(s0Pushed);
                } else if (phase == 1 && aUnsealed.getCount() > 0) {
                    aUnsealed.countDown(); // the pwqs unsealed, the seal still set
                    awaitOrFail(clearA);
                } else if (phase == 2 && aCleared.getCount() > 0) {
                    aCleared.countDown(); // the seal cleared
                    awaitOrFail(releaseA);
                }
            });
            try {
                t[0].start();
                t[1].start();
                assertThat(sHeld.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(s0Held.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                t[2].start();
                assertThat(aUnsealed.await(BOUND.toSeconds(), TimeUnit.SECONDS))
                        .as("A's count found the straggler and unsealed the pwqs").isTrue();
                t[3].start();
                // B either waits for A's drain, or (unserialized) seals and closes meanwhile
                org.awaitility.Awaitility.await().atMost(BOUND).until(() -> outcome.containsKey("b")
                        || dev.cmwq4j.internal.AccountingProbe.waitsToClose(wq.core, t[3]));
                clearA.countDown();
                assertThat(aCleared.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                releaseS.countDown(); // S pushes now, with A's seal cleared
                t[0].join(BOUND.toMillis());
                assertThat(t[0].isAlive()).isFalse();
                releaseS0.countDown();
                releaseA.countDown();
                for (Thread th : t) {
                    th.join(BOUND.toMillis());
                    assertThat(th.isAlive()).as(th.getName() + " returned").isFalse();
                }
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onPush(null);
                dev.cmwq4j.internal.AccountingProbe.onSeal(null);
                releaseS.countDown();
                pushS0.countDown();
                releaseS0.countDown();
                clearA.countDown();
                releaseA.countDown();
            }
            assertThat(outcome.get("a")).isEqualTo("closed");
            assertThat(outcome.get("b")).isEqualTo("closed");
            assertThat(wq.isClosed()).isTrue();
            for (String q : new String[] {"s", "s0"}) {
                Object o = outcome.get(q);
                CountDownLatch ran = q.equals("s") ? sRan : s0Ran;
                if (Boolean.TRUE.equals(o)) {
                    assertThat(ran.getCount()).as(q + "'s queue returned true: it ran before the close returned").isZero();
                } else {
                    assertThat(o).as(q + "'s queue").isInstanceOf(RejectedExecutionException.class);
                    assertThat(ran.getCount()).as(q + " was rejected: it never ran").isOne();
                }
            }
            assertThat(outcome.get("s")).as("S pushed while no seal was set: accepted").isEqualTo(Boolean.TRUE);
            assertThat(wq.stats().inFlight()).isZero();
        }
    }

    /**
     * A drain counts the pwqs one by one. A chain that moves from a pwq not yet counted to one
     * counted already, and ends there before its first pwq is counted, made both counts 0 while
     * its successor was in flight: {@code drain} returned before the chain ended (and a closing
     * drain sealed the queue and rejected the chain's next queue). Step by step with the count
     * seam: W1 (CPU 1) is waited for by the drain's flush and queues W1p on CPU 1 after the flip;
     * right after the drain counted CPU 0, W1p queues W0 on CPU 0 and ends; the drain counts CPU 1
     * next. Now the drain's second pass sees CPU 0's insert count move, and it waits for W0.
     */
    @Test
    void aDrainWaitsForAChainThatCrossedPoolsBetweenItsCounts() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("crossing").build();
            CountDownLatch flipped = new CountDownLatch(1);
            CountDownLatch hop = new CountDownLatch(1);
            CountDownLatch w0Started = new CountDownLatch(1);
            CountDownLatch releaseW0 = new CountDownLatch(1);
            CountDownLatch hookDone = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean w0Ran = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.ConcurrentHashMap<String, Object> outcome = new java.util.concurrent.ConcurrentHashMap<>();
            Work w0 = new Work("w0", () -> {
                w0Started.countDown();
                awaitOrFail(releaseW0);
                w0Ran.set(true);
            });
            Work w1p = new Work("w1p", () -> {
                awaitOrFail(hop);
                outcome.put("w0-queued", wq.queueOn(0, w0));
            });
            Work w1 = new Work("w1", () -> {
                awaitOrFail(flipped);
                outcome.put("w1p-queued", wq.queueOn(1, w1p));
            });
            Thread[] drainer = new Thread[1];
            drainer[0] = new Thread(() -> {
                try {
                    wq.drain();
                    outcome.put("w0-ran-at-return", w0Ran.get());
                } catch (Throwable t) {
                    outcome.put("drain", t);
                }
            }, "drainer");
            dev.cmwq4j.internal.AccountingProbe.onCount(index -> {
                if (Thread.currentThread() != drainer[0] || index != 0 || once.getAndSet(true)) {
                    return;
                }
                hop.countDown(); // W1p queues W0 on CPU 0 (counted already) and ends
                try {
                    assertThat(w0Started.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    org.awaitility.Awaitility.await().atMost(BOUND)
                            .until(() -> wq.stats().inFlight() == 1); // W1p accounted: W0 alone
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                } finally {
                    hookDone.countDown();
                }
            });
            try {
                assertThat(wq.queueOn(1, w1)).isTrue();
                drainer[0].start();
                org.awaitility.Awaitility.await().atMost(BOUND).until(() -> {
                    Thread.State st = drainer[0].getState();
                    return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING;
                }); // in the flush, past its flip, waiting for W1
                flipped.countDown();
                assertThat(hookDone.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                // the drain either returned (too early) or waits for W0
                org.awaitility.Awaitility.await().atMost(BOUND).until(() -> {
                    Thread.State st = drainer[0].getState();
                    return st == Thread.State.TERMINATED || st == Thread.State.WAITING
                            || st == Thread.State.TIMED_WAITING;
                });
                releaseW0.countDown();
                drainer[0].join(BOUND.toMillis());
                assertThat(drainer[0].isAlive()).isFalse();
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onCount(null);
                flipped.countDown();
                hop.countDown();
                releaseW0.countDown();
            }
            assertThat(outcome.get("w1p-queued")).isEqualTo(Boolean.TRUE);
            assertThat(outcome.get("w0-queued")).isEqualTo(Boolean.TRUE);
            assertThat(outcome.get("drain")).isNull();
            assertThat(outcome.get("w0-ran-at-return")).as("the drain returned after W0 ran").isEqualTo(Boolean.TRUE);
            wq.close();
        }
    }

    /**
     * A modDelayed that takes a queued work back to arm it, against a close, step by step (the
     * arming seam holds it between the take-back and the arming). The take-back gives up the
     * work's slot and colour; until the arming counts it, the close found nothing in flight and
     * returned, and the arming was then rejected: a work queued before the close never ran. Now
     * the work counts as armed while it moves, the close waits, and the work runs before the
     * close returns.
     */
    @Test
    void aCloseWaitsForAWorkThatModDelayedTakesBackToArm() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("moving").maxActive(1).build();
            CountDownLatch gateRunning = new CountDownLatch(1);
            CountDownLatch releaseGate = new CountDownLatch(1);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch releaseMod = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.ConcurrentHashMap<String, Object> outcome = new java.util.concurrent.ConcurrentHashMap<>();
            DelayedWork w = new DelayedWork(() -> ran.set(true));
            assertThat(wq.queue(new Work(() -> {
                gateRunning.countDown();
                awaitOrFail(releaseGate);
            }))).isTrue();
            assertThat(gateRunning.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(wq.queue(w)).isTrue(); // inactive behind the gate (maxActive 1)
            Thread[] t = new Thread[2];
            t[0] = new Thread(() -> outcome.put("mod", queueOutcomeOf(() -> wq.modDelayed(w, Duration.ofMillis(5)))), "modder");
            t[1] = new Thread(() -> {
                outcome.put("close", closeOutcome(wq));
                outcome.put("ran-at-close", ran.get());
            }, "closer");
            dev.cmwq4j.internal.AccountingProbe.onArm(phase -> {
                if (phase == 0 && Thread.currentThread() == t[0]) { // taken back, not armed yet
                    held.countDown();
                    awaitOrFail(releaseMod);
                }
            });
            try {
                t[0].start();
                assertThat(held.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                releaseGate.countDown();
                t[1].start();
                // the close either returned (too early) or waits for the moving work
                org.awaitility.Awaitility.await().atMost(BOUND).until(() -> {
                    Thread.State st = t[1].getState();
                    return outcome.containsKey("close") || st == Thread.State.WAITING
                            || st == Thread.State.TIMED_WAITING;
                });
                releaseMod.countDown();
                for (Thread th : t) {
                    th.join(BOUND.toMillis());
                    assertThat(th.isAlive()).as(th.getName() + " returned").isFalse();
                }
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onArm(null);
                releaseGate.countDown();
                releaseMod.countDown();
            }
            assertThat(outcome.get("mod")).as("modDelayed found it pending").isEqualTo(Boolean.TRUE);
            assertThat(outcome.get("close")).isEqualTo("closed");
            assertThat(outcome.get("ran-at-close")).as("the work queued before the close ran before it returned")
                    .isEqualTo(Boolean.TRUE);
        }
    }

    private static Object queueOutcomeOf(java.util.concurrent.Callable<Boolean> call) {
        try {
            return call.call();
        } catch (Throwable e) {
            return e;
        }
    }

    private static Object queueOutcome(Workqueue wq, Work w) {
        try {
            return wq.queue(w);
        } catch (Throwable e) {
            return e;
        }
    }

    private static Object closeOutcome(Workqueue wq) {
        try {
            wq.close();
            return "closed";
        } catch (Throwable e) {
            return e;
        }
    }

    private static void awaitOrFail(CountDownLatch latch) {
        try {
            if (!latch.await(BOUND.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("seam hold not released");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The seal of a closing drain against the arming of a delayed work, step by step (a seam
     * holds the queuer): the queuer passes the open check, the close then finds nothing and
     * closes, and the queuer arms a work due at once. It must be rejected and never run. (When
     * the seal was read after the timer was scheduled, the timer could fire first and queue the
     * work to the sealed pool workqueue, which held it for good, while the queuer, unable to
     * disarm it, reported it queued: an accepted work that never ran, FaultsTest's
     * queue-racing-close flake.)
     */
    @Test
    void anArmingAfterTheSealIsRejectedEvenIfItsTimerWouldFireAtOnce() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue closing = c.workqueue("closing").build();
            AtomicInteger ran = new AtomicInteger();
            DelayedWork late = new DelayedWork(ran::incrementAndGet);
            CountDownLatch beforeArm = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            Thread[] queuer = new Thread[1];
            java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
            queuer[0] = new Thread(() -> {
                try {
                    closing.queueDelayed(late, Duration.ofNanos(1));
                    outcome.set(new AssertionError("queueDelayed returned normally"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            }, "late-armer");
            dev.cmwq4j.internal.AccountingProbe.onArm(phase -> {
                if (Thread.currentThread() != queuer[0]) {
                    return;
                }
                try {
                    if (phase == 0) {
                        beforeArm.countDown();
                        assertThat(closed.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    } else {
                        // armed after the close: let its timer fire before the queuer goes on
                        Awaitility.await().atMost(BOUND)
                                .until(() -> dev.cmwq4j.internal.AccountingProbe.armed(closing.core) == 0);
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            try {
                queuer[0].start();
                assertThat(beforeArm.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                closing.close(); // nothing in flight: it seals and closes
                closed.countDown();
                queuer[0].join(BOUND.toMillis());
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onArm(null);
                closed.countDown();
            }
            assertThat(outcome.get()).isInstanceOf(RejectedExecutionException.class);
            assertThat(late.isPending()).as("the late work is left pending").isFalse();
            assertThat(ran.get()).isZero();
            assertThat(dev.cmwq4j.internal.AccountingProbe.armed(closing.core)).isZero();
            assertThat(closing.stats().inFlight()).isZero();
        }
    }
}
