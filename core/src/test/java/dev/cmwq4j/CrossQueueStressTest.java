package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.AccountingProbe;
import dev.cmwq4j.internal.EngineProbe;
import dev.cmwq4j.internal.WorkqueueCore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Works that move between workqueues of every kind (issue 20): a few delayed works, hammered by
 * several threads with {@code queue}, {@code queueOn}, {@code queueDelayed}, {@code modDelayed},
 * {@code cancel}, {@code cancelSync}, and flushes of works and of workqueues, where each call
 * picks its workqueue at random among a bound, an unbound, an ordered, a {@code maxActive(1)}, a
 * high-priority bound and a high-priority unbound one. So the same work is queued, re-armed,
 * cancelled and run on different workqueues over time, and a call on one workqueue often races a
 * run, a timer or a pending instance of the same work on another.
 *
 * <p>The test runs in rounds. During a round the main thread watches: every pool workqueue's
 * active count and in-flight count per flush color must never be negative, and no call may stay
 * in the engine for more than {@link #HANG_SECONDS} (a flush that never returns fails the test
 * with a dump of every queue's accounting, every work's state and the actors' stacks). After the
 * actors of a round finish, every work is flushed until idle (bounded too), then:
 * <ul>
 *   <li>every workqueue is at rest: nothing active, inactive, in flight or armed, in any pwq;
 *   <li>every pool is at rest ({@link TestSupport#assertPoolsAtRest});
 *   <li>per work, runs plus successful cancels equal the calls that queued a new instance, and
 *       never outnumber those made before them;
 *   <li>no work ran concurrently with itself, and the ordered and {@code maxActive(1)} queues never
 *       ran two works of one pool workqueue at once.
 * </ul>
 *
 * <p>Size: {@code cmwq4j.stress.scale} rounds (1 by default, 50 with {@code -Pstress}) of
 * {@link #OPS_PER_ROUND} operations; {@code -Dcmwq4j.stress.seconds=N} runs rounds for N seconds
 * instead. The seed is printed; {@code -Dcmwq4j.stress.seed=S} replays the same mix of calls (the
 * threads' interleaving is the machine's).
 */
class CrossQueueStressTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final long SECONDS = Long.getLong("cmwq4j.stress.seconds", 0);
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 10_000;
    static final int OPS_PER_ROUND = THREADS * OPS_PER_THREAD;
    private static final int WORKS = 6;
    /** The bound on any one call, and on the end-of-round flushes. */
    private static final long HANG_SECONDS = 60;

    /** Event kinds, in the low bits of a recorded stamp. */
    private static final int QUEUED = 0;
    private static final int RAN = 1;
    private static final int CANCELLED = 2;

    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger limitViolations = new AtomicInteger();
    private final AtomicLong runs = new AtomicLong();
    /** Running works per pwq of the ordered and maxActive(1) queues (each allows one at a time). */
    private final ConcurrentHashMap<Object, AtomicInteger> oneAtATime = new ConcurrentHashMap<>();

    private Workqueue[] queues;
    private DelayedWork[] works;
    private AtomicBoolean[] busy;
    private List<ConcurrentLinkedQueue<Long>> events;

    /** What one actor is doing now, for the hang check and the report. */
    private static final class Actor {
        final int id;
        Thread thread;
        /** The call in progress (null between calls); written by the actor. */
        volatile String op;
        /** System.nanoTime() when {@link #op} began; written by the actor before op. */
        volatile long since;
        volatile Throwable failure;

        Actor(int id) {
            this.id = id;
        }
    }

    @Test
    void worksMovingBetweenEveryKindOfWorkqueueKeepExactAccounting() throws Exception {
        long seed = Long.getLong("cmwq4j.stress.seed", System.nanoTime());
        System.out.println("CrossQueueStressTest seed " + seed + " (replay: -Dcmwq4j.stress.seed=" + seed + ")");
        Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("xq-").build();
        boolean clean = false;
        try {
            queues = new Workqueue[] {
                c.workqueue("bound").build(),
                c.workqueue("unbound").unbound().build(),
                c.workqueue("ordered").ordered().build(),
                c.workqueue("max1").maxActive(1).build(),
                c.workqueue("high").highPriority().build(),
                c.workqueue("high-unbound").highPriority().unbound().build(),
            };
            works = new DelayedWork[WORKS];
            busy = new AtomicBoolean[WORKS];
            events = new ArrayList<>();
            for (int i = 0; i < WORKS; i++) {
                int id = i;
                busy[i] = new AtomicBoolean();
                ConcurrentLinkedQueue<Long> mine = new ConcurrentLinkedQueue<>();
                events.add(mine);
                works[i] = new DelayedWork(() -> run(id, mine));
            }

            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(SECONDS);
            long ops = 0;
            int round = 0;
            while (SECONDS > 0 ? System.nanoTime() - deadline < 0 : round < SCALE) {
                runRound(c, seed, round);
                ops += OPS_PER_ROUND;
                round++;
            }
            long ms = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
            System.out.printf("CrossQueueStressTest: %d rounds, %d operations by %d threads in %d ms (%d ops/s),"
                    + " %d runs; peak %d threads%n", round, ops, THREADS, ms, ops * 1000 / ms, runs.get(), c.peakThreads());
            assertThat(runs.get()).isPositive();
            clean = true;
        } finally {
            if (clean) {
                c.close();
            }
            // otherwise leave it: close drains, and a queue whose accounting broke never drains
            // (its threads are daemons)
        }
    }

    private void runRound(Cmwq c, long seed, int round) throws Exception {
        for (ConcurrentLinkedQueue<Long> e : events) {
            e.clear();
        }
        long roundSeed = seed + 1_000_003L * round;
        Actor[] actors = new Actor[THREADS];
        CountDownLatch done = new CountDownLatch(THREADS);
        for (int t = 0; t < THREADS; t++) {
            Actor a = new Actor(t);
            actors[t] = a;
            SplittableRandom rnd = new SplittableRandom(roundSeed + 7919L * t);
            a.thread = new Thread(() -> {
                try {
                    for (int i = 0; i < OPS_PER_THREAD; i++) {
                        step(a, rnd, c);
                    }
                } catch (Throwable e) {
                    a.failure = e;
                } finally {
                    a.op = null;
                    done.countDown();
                }
            }, "xq-actor-" + t);
            a.thread.setDaemon(true);
        }
        for (Actor a : actors) {
            a.thread.start();
        }
        // Watch the round: no negative count at any time, and no call that never returns.
        while (!done.await(20, TimeUnit.MILLISECONDS)) {
            checkNoNegativeCount(seed, round, actors);
            for (Actor a : actors) {
                String op = a.op;
                if (op != null && System.nanoTime() - a.since > TimeUnit.SECONDS.toNanos(HANG_SECONDS)) {
                    throw new AssertionError(report("actor " + a.id + " stuck in " + op + " for over " + HANG_SECONDS
                            + " s", seed, round, actors));
                }
            }
        }
        for (Actor a : actors) {
            if (a.failure != null) {
                throw new AssertionError(report("actor " + a.id + " failed", seed, round, actors), a.failure);
            }
        }
        checkNoNegativeCount(seed, round, actors);
        quiesce(seed, round, actors);
        checkNoNegativeCount(seed, round, actors);

        // a run's accounting ends just after its state word says so, and a timer's just after it
        // queued its work: wait (bounded) for the last of them
        for (Workqueue q : queues) {
            try {
                org.awaitility.Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                        .atMost(Duration.ofSeconds(HANG_SECONDS)).until(() -> AccountingProbe.atRest(q.core));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(report("workqueue " + q.name() + " not at rest after every work is idle",
                        seed, round, actors));
            }
        }
        TestSupport.assertPoolsAtRest(c);
        assertThat(overlaps).as("concurrent runs of one work (seed %d, round %d)", seed, round).hasValue(0);
        assertThat(limitViolations).as("two works of an ordered or maxActive(1) pwq at once (seed %d, round %d)",
                seed, round).hasValue(0);
        for (int i = 0; i < WORKS; i++) {
            checkEvents(i, seed, round);
        }
    }

    /** Fails at once, with the accounting of every queue, if any count is below zero. */
    private void checkNoNegativeCount(long seed, int round, Actor[] actors) {
        for (Workqueue q : queues) {
            if (AccountingProbe.anyNegative(q.core)) {
                throw new AssertionError(report("negative count in workqueue " + q.name(), seed, round, actors));
            }
        }
    }

    /**
     * Flushes every work (firing armed timers) and every workqueue until no work is pending or
     * running, on a helper thread, bounded by {@link #HANG_SECONDS}.
     */
    private void quiesce(long seed, int round, Actor[] actors) throws Exception {
        AtomicBoolean idle = new AtomicBoolean();
        AtomicLong passes = new AtomicLong();
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                while (!idle.get()) {
                    for (Work w : works) {
                        w.flush();
                    }
                    for (Workqueue q : queues) {
                        q.flush();
                    }
                    passes.incrementAndGet();
                    boolean all = true;
                    for (Work w : works) {
                        all &= !w.isPending() && !w.isRunning();
                    }
                    idle.set(all);
                }
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "xq-quiesce");
        t.setDaemon(true);
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
        if (t.isAlive()) {
            throw new AssertionError(report("end-of-round flushes did not return within " + HANG_SECONDS + " s ("
                    + passes.get() + " passes done); quiescing thread:" + stack(t), seed, round, actors));
        }
        if (failure[0] != null) {
            throw new AssertionError(report("end-of-round flush failed", seed, round, actors), failure[0]);
        }
    }

    /** Per work: runs + cancels never outnumber the queues before them, and end equal to them. */
    private void checkEvents(int i, long seed, int round) {
        long[] ev = events.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
        long q = 0;
        long r = 0;
        long x = 0;
        for (long e : ev) {
            switch ((int) (e & 3)) {
                case QUEUED -> q++;
                case RAN -> r++;
                default -> x++;
            }
            if (r + x > q) {
                throw new AssertionError("seed " + seed + ", round " + round + ": work " + i
                        + ": a run or cancel without an earlier queue at stamp " + (e >> 2) + " (queued " + q
                        + ", ran " + r + ", cancelled " + x + ")");
            }
        }
        assertThat(r + x).as("seed %d, round %d, work %d: runs + cancels == new instances", seed, round, i)
                .isEqualTo(q);
    }

    private void run(int id, ConcurrentLinkedQueue<Long> mine) {
        long start = clock.incrementAndGet();
        if (busy[id].getAndSet(true)) {
            overlaps.incrementAndGet();
        }
        mine.add(start << 2 | RAN);
        runs.incrementAndGet();
        Object pwq = EngineProbe.currentOneAtATimeSlot();
        AtomicInteger slot = pwq != null ? oneAtATime.computeIfAbsent(pwq, k -> new AtomicInteger()) : null;
        if (slot != null && slot.incrementAndGet() > 1) {
            limitViolations.incrementAndGet();
        }
        try {
            switch (id % 3) {
                case 0 -> Blocking.run(() -> TestSupport.spin(20_000)); // an announced "block"
                case 1 -> TestSupport.spin(5_000);
                default -> Thread.onSpinWait();
            }
        } finally {
            if (slot != null) {
                slot.decrementAndGet();
            }
            busy[id].set(false);
        }
    }

    /** One random call on a random work, on a random workqueue. */
    private void step(Actor a, SplittableRandom rnd, Cmwq c) {
        int id = rnd.nextInt(WORKS);
        DelayedWork w = works[id];
        Workqueue q = queues[rnd.nextInt(queues.length)];
        int op = rnd.nextInt(100);
        ConcurrentLinkedQueue<Long> mine = events.get(id);
        if (op < 20) {
            boolean on = !q.isUnbound() && rnd.nextBoolean();
            int cpu = rnd.nextInt(c.cpus());
            begin(a, on ? "queueOn" : "queue", q, id);
            long stamp = clock.incrementAndGet();
            if (on ? q.queueOn(cpu, w) : q.queue(w)) {
                mine.add(stamp << 2 | QUEUED);
            }
        } else if (op < 32) {
            Duration delay = Duration.ofNanos(1 + rnd.nextInt(1_000_000));
            begin(a, "queueDelayed", q, id);
            long stamp = clock.incrementAndGet();
            if (q.queueDelayed(w, delay)) {
                mine.add(stamp << 2 | QUEUED);
            }
        } else if (op < 50) {
            // half of them with no delay: taken back from wherever it is pending and queued at once
            Duration delay = rnd.nextBoolean() ? Duration.ZERO : Duration.ofNanos(1 + rnd.nextInt(1_000_000));
            begin(a, "modDelayed", q, id);
            long stamp = clock.incrementAndGet();
            if (!q.modDelayed(w, delay)) {
                mine.add(stamp << 2 | QUEUED);
            }
        } else if (op < 62) {
            begin(a, "cancel", null, id);
            if (w.cancel()) {
                mine.add(clock.incrementAndGet() << 2 | CANCELLED);
            }
        } else if (op < 68) {
            begin(a, "cancelSync", null, id);
            if (w.cancelSync()) {
                mine.add(clock.incrementAndGet() << 2 | CANCELLED);
            }
        } else if (op < 82) {
            begin(a, "work flush", null, id);
            w.flush();
        } else if (op < 92) {
            begin(a, "workqueue flush", q, -1);
            q.flush();
        } else {
            Thread.onSpinWait();
        }
        a.op = null;
    }

    private static void begin(Actor a, String op, Workqueue q, int work) {
        a.since = System.nanoTime();
        a.op = op + (q == null ? "" : " on " + q.name()) + (work < 0 ? "" : " of work " + work);
    }

    /** Everything a hang or a broken count needs to be understood. */
    private String report(String what, long seed, int round, Actor[] actors) {
        StringBuilder sb = new StringBuilder(what);
        sb.append("\n  seed ").append(seed).append(" (replay: -Dcmwq4j.stress.seed=").append(seed)
                .append("), round ").append(round);
        for (Workqueue q : queues) {
            sb.append("\n  ").append(AccountingProbe.describe(q.core));
        }
        for (int i = 0; i < works.length; i++) {
            sb.append("\n  work ").append(i).append(": ").append(AccountingProbe.describe(works[i].node));
        }
        for (Actor a : actors) {
            sb.append("\n  actor ").append(a.id).append(": ").append(a.op == null ? "between calls" : a.op)
                    .append(stack(a.thread));
        }
        return sb.toString();
    }

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("\n      at ").append(e);
        }
        return sb.toString();
    }
}
