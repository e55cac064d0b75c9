package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Lends and their ends race with queueing, running, cancelling and each other: waiters at random
 * thread priorities flush works, cancel them synchronously, flush whole workqueues and time out on
 * futures, while works of one queue wait for works of another (chains through waiting workers,
 * across pools), behind {@code maxActive} and in an ordered queue. Checked at the end:
 * <ul>
 *   <li>no run lost or doubled: every successful queue of a work is matched by one run or one
 *       cancel, and no work ever ran concurrently with itself;
 *   <li>order: the ordered queue ran in queueing order; in a control queue nobody waits on
 *       (one slot, one CPU), works of one priority ran in queueing order;
 *   <li>every lend was taken back: each work's counts are zero, and the pools are at rest.
 * </ul>
 */
class PriorityInheritanceStressTest {
    private static final Priority[] LEVELS = Priority.values();

    /** A reusable work that counts its runs and checks that it never overlaps itself. */
    private static final class Counted {
        final Work work;
        final AtomicInteger queued = new AtomicInteger();
        final AtomicInteger cancelled = new AtomicInteger();
        final AtomicInteger runs = new AtomicInteger();
        final AtomicBoolean inside = new AtomicBoolean();

        Counted(AtomicInteger overlaps, Runnable body) {
            work = new Work(() -> {
                if (inside.getAndSet(true)) {
                    overlaps.incrementAndGet();
                }
                runs.incrementAndGet();
                try {
                    body.run();
                } finally {
                    inside.set(false);
                }
            });
        }
    }

    @Test
    void lendsRacingWithQueueingRunningAndCancellingLoseNothingKeepOrderAndAreAllTakenBack() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2L * scale);
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue low = c.workqueue("low").priority(Priority.LOW).maxActive(2).build();
            Workqueue plain = c.workqueue("plain").build();
            Workqueue high = c.workqueue("high").highPriority().build();
            Workqueue ordered = c.workqueue("ordered").ordered().priority(Priority.LOW).build();
            Workqueue control = c.workqueue("control").maxActive(1).build();
            ExecutorService lowView = low.asExecutorService();
            ExecutorService orderedView = ordered.asExecutorService();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();

            // low: leaves. plain and high: some wait for a low work from inside their run.
            List<Counted> lows = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                lows.add(new Counted(overlaps, () -> TestSupport.spin(ThreadLocalRandom.current().nextInt(2_000, 20_000))));
            }
            List<Counted> mids = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                boolean waits = i % 3 == 0;
                mids.add(new Counted(overlaps, () -> {
                    TestSupport.spin(ThreadLocalRandom.current().nextInt(1_000, 10_000));
                    if (waits) {
                        lows.get(ThreadLocalRandom.current().nextInt(lows.size())).work.flush();
                    }
                }));
            }
            List<Counted> all = new ArrayList<>(lows);
            all.addAll(mids);

            // ordered: one-shot tasks with a sequence, queued by one thread; futures are waited on
            AtomicInteger orderedNext = new AtomicInteger();
            ConcurrentLinkedQueue<Integer> orderedRuns = new ConcurrentLinkedQueue<>();
            List<Future<?>> orderedFutures = java.util.Collections.synchronizedList(new ArrayList<>());
            // control: one producer, queued on CPU 0 with mixed priorities, never waited on
            ConcurrentLinkedQueue<int[]> controlRuns = new ConcurrentLinkedQueue<>();
            AtomicInteger controlQueued = new AtomicInteger();

            List<Future<?>> lowFutures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            // producers of reusable works, at random priorities
            for (int p = 0; p < 2; p++) {
                threads.add(new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; System.nanoTime() < deadline; i++) {
                        Counted w = all.get(r.nextInt(all.size()));
                        Workqueue q = lows.contains(w) ? low : r.nextBoolean() ? plain : high;
                        boolean ok = r.nextInt(4) == 0 ? q.queue(w.work) : q.queue(w.work, LEVELS[r.nextInt(4)]);
                        if (ok) {
                            w.queued.incrementAndGet();
                        }
                        if ((i & 15) == 0 && lowFutures.size() < 20_000) {
                            lowFutures.add(lowView.submit(() -> TestSupport.spin(5_000)));
                        }
                        if ((i & 63) == 0) {
                            Thread.yield();
                        }
                    }
                }, "producer-" + p));
            }
            // the ordered queue's and the control queue's single producer
            threads.add(new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    if (orderedNext.get() - orderedRuns.size() > 200 || controlQueued.get() - controlRuns.size() > 200) {
                        Thread.yield(); // bounded backlogs
                        continue;
                    }
                    int seq = orderedNext.getAndIncrement();
                    orderedFutures.add(orderedView.submit(() -> {
                        orderedRuns.add(seq);
                        TestSupport.spin(2_000);
                    }));
                    int level = r.nextInt(4);
                    int cseq = controlQueued.getAndIncrement();
                    control.queueOn(0, new Work(() -> controlRuns.add(new int[] {level, cseq})), LEVELS[level]);
                    if ((i & 31) == 0) {
                        Thread.yield();
                    }
                }
            }, "ordered-producer"));
            // waiters: random thread priorities, random waits
            for (int t = 0; t < 3; t++) {
                Thread w = new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (System.nanoTime() < deadline) {
                        Thread.currentThread().setPriority(1 + r.nextInt(10));
                        try {
                            switch (r.nextInt(6)) {
                                case 0, 1 -> all.get(r.nextInt(all.size())).work.flush();
                                case 2 -> {
                                    Counted w2 = all.get(r.nextInt(all.size()));
                                    if (w2.work.cancelSync()) {
                                        w2.cancelled.incrementAndGet();
                                    }
                                }
                                case 3 -> (r.nextBoolean() ? low : plain).flush();
                                case 4 -> timedGet(lowFutures, r);
                                default -> timedGet(orderedFutures, r);
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                }, "waiter-" + t);
                threads.add(w);
            }
            for (Thread t : threads) {
                t.setUncaughtExceptionHandler((th, e) -> failure.compareAndSet(null, e));
                t.start();
            }
            for (Thread t : threads) {
                t.join(TimeUnit.MINUTES.toMillis(5));
                assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
            }
            assertThat(failure.get()).isNull();

            // everything queued runs (or was cancelled); then check the invariants
            for (Future<?> f : lowFutures) {
                f.get(2, TimeUnit.MINUTES);
            }
            for (Future<?> f : orderedFutures) {
                f.get(2, TimeUnit.MINUTES);
            }
            for (Workqueue q : List.of(low, plain, high, ordered, control)) {
                q.drain();
            }
            assertThat(overlaps.get()).as("a work ran concurrently with itself").isZero();
            for (Counted w : all) {
                assertThat(w.runs.get() + w.cancelled.get()).as("runs + cancels of " + w.work)
                        .isEqualTo(w.queued.get());
                assertThat(EngineProbe.lentCounts(w.work.node)).as("lends left on " + w.work).isZero();
            }
            List<Integer> seqs = new ArrayList<>(orderedRuns);
            assertThat(seqs).hasSize(orderedNext.get()).isSorted();
            List<int[]> controls = new ArrayList<>(controlRuns);
            assertThat(controls).hasSize(controlQueued.get());
            int[] lastOfLevel = {-1, -1, -1, -1};
            for (int[] run : controls) {
                assertThat(run[1]).as("FIFO within priority " + LEVELS[run[0]]).isGreaterThan(lastOfLevel[run[0]]);
                lastOfLevel[run[0]] = run[1];
            }
            TestSupport.assertPoolsAtRest(c);
            System.out.printf("priority stress: %d runs, %d cancelled, %d ordered, %d control, %d futures%n",
                    all.stream().mapToInt(w -> w.runs.get()).sum(), all.stream().mapToInt(w -> w.cancelled.get()).sum(),
                    seqs.size(), controls.size(), lowFutures.size());
        }
    }

    /** A get with a short timeout on a random future: lends that end while the task is pending. */
    private static void timedGet(List<Future<?>> futures, ThreadLocalRandom r) throws Exception {
        Future<?> f;
        synchronized (futures) {
            if (futures.isEmpty()) {
                return;
            }
            f = futures.get(futures.size() - 1 - r.nextInt(Math.min(futures.size(), 64)));
        }
        try {
            f.get(r.nextInt(10, 300), TimeUnit.MICROSECONDS);
        } catch (TimeoutException e) {
            // the usual outcome: the lend ended with the wait
        }
    }

    @Test
    void aWaitThatLendsNothingLeavesNoTrace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("w").priority(Priority.LOW).build();
            Work w = new Work(() -> TestSupport.spin(1_000));
            Thread lowThread = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    wq.queue(w);
                    w.flush();
                }
            });
            lowThread.setPriority(Thread.MIN_PRIORITY); // lends LOW: nothing
            lowThread.start();
            lowThread.join(Duration.ofMinutes(1).toMillis());
            assertThat(EngineProbe.lentCounts(w.node)).isZero();
            assertThat(EngineProbe.effectivePriority(w.node)).isEqualTo(Priority.LOW.ordinal());
        }
    }
}
