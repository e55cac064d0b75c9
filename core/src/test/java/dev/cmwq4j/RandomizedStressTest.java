package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import dev.cmwq4j.internal.WorkqueueCore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A randomized mix of {@code queue}, {@code queueOn}, {@code queueDelayed}, {@code modDelayed},
 * {@code cancel}, {@code cancelSync}, {@code flush} (of works and of workqueues), {@code drain} and
 * {@code setMaxActive} on shared works, from several threads, over bound, unbound, limited and
 * ordered workqueues at once. It checks:
 * <ul>
 *   <li>every {@code queue} that returned true (and every {@code queueDelayed} that returned true,
 *       and every {@code modDelayed} that found the work idle) yields exactly one run that starts
 *       after it, unless cancelled: per work, ordering all events by a global clock, runs plus
 *       cancels never outnumber the queues before them, and in the end they equal them;
 *   <li>no work runs concurrently with itself;
 *   <li>{@code maxActive} is never exceeded, including while it changes;
 *   <li>every flush, drain and cancelSync returns (the test's timeout catches a hang).
 * </ul>
 * Size: {@code cmwq4j.stress.scale} (1 by default, 50 with {@code -Pstress}) times 4 threads x
 * 10 000 operations. The seed is printed, and {@code -Dcmwq4j.stress.seed=N} replays a mix.
 */
@Timeout(value = 120, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // 10^8 operations take ~20 min on a busy machine
class RandomizedStressTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 10_000 * SCALE;
    private static final int WORKS = 12;
    private static final int DELAYED = 8;

    /** Event kinds, in the low bits of a recorded stamp. */
    private static final int QUEUED = 0;
    private static final int RAN = 1;
    private static final int CANCELLED = 2;

    /** A workqueue whose maxActive changes; the bound a run checks itself against. */
    private static final class Limited {
        final Workqueue wq;
        /** Limit per pool; bound workqueues may run this many per CPU. */
        final int perPoolFactor;
        final AtomicInteger running = new AtomicInteger();
        /** The highest limit that may still be in effect for a running work; volatile. */
        volatile int bound;

        Limited(Workqueue wq, int perPoolFactor) {
            this.wq = wq;
            this.perPoolFactor = perPoolFactor;
            this.bound = wq.maxActive();
        }
    }

    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger limitViolations = new AtomicInteger();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong ops = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    @Test
    void randomMixKeepsEveryInvariant() throws Exception {
        long seed = Long.getLong("cmwq4j.stress.seed", System.nanoTime());
        System.out.println("RandomizedStressTest seed " + seed + " (replay: -Dcmwq4j.stress.seed=" + seed + ")");
        try (Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("stress-").build()) {
            Workqueue bound = c.workqueue("bound").build();
            Workqueue unbound = c.workqueue("unbound").unbound().build();
            Workqueue ordered = c.workqueue("ordered").ordered().build();
            Limited limitedUnbound = new Limited(c.workqueue("limited-unbound").unbound().maxActive(2).build(), 1);
            Limited limitedBound = new Limited(c.workqueue("limited-bound").maxActive(1).build(), c.cpus());
            Limited orderedLimit = new Limited(ordered, 1);
            Workqueue[] queues = {bound, unbound, ordered, limitedUnbound.wq, limitedBound.wq};
            Map<WorkqueueCore, Limited> limits = new IdentityHashMap<>();
            for (Limited l : List.of(limitedUnbound, limitedBound, orderedLimit)) {
                limits.put(l.wq.core, l);
            }

            int n = WORKS + DELAYED;
            Work[] works = new Work[n];
            AtomicBoolean[] busy = new AtomicBoolean[n];
            List<ConcurrentLinkedQueue<Long>> events = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                busy[i] = new AtomicBoolean();
                ConcurrentLinkedQueue<Long> mine = new ConcurrentLinkedQueue<>();
                events.add(mine);
                Runnable body = () -> run(id, busy[id], mine, limits);
                works[i] = i < WORKS ? new Work(body) : new DelayedWork(body);
            }

            Thread[] actors = new Thread[THREADS];
            Throwable[] failures = new Throwable[THREADS];
            for (int t = 0; t < THREADS; t++) {
                int me = t;
                SplittableRandom rnd = new SplittableRandom(seed + 7919L * t);
                actors[t] = new Thread(() -> {
                    try {
                        for (int i = 0; i < OPS_PER_THREAD; i++) {
                            step(me, rnd, c, queues, works, events, limitedUnbound, limitedBound);
                            ops.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failures[me] = e;
                    }
                }, "stress-actor-" + t);
            }
            long t0 = System.nanoTime();
            for (Thread a : actors) {
                a.start();
            }
            // A hang fails with the engine's state instead of waiting for the timeout.
            long lastOps = -1;
            for (Thread a : actors) {
                while (a.isAlive()) {
                    a.join(20_000);
                    long now = ops.get();
                    if (a.isAlive() && now == lastOps) {
                        throw new AssertionError("no progress for 20 s: " + describe(queues, works));
                    }
                    lastOps = now;
                }
            }
            for (Throwable f : failures) {
                if (f != null) {
                    throw new AssertionError("an actor failed", f);
                }
            }

            // Quiesce: fire armed timers, flush everything until every work is idle.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (Work w : works) {
                    w.flush();
                }
                for (Workqueue q : queues) {
                    q.flush();
                }
                return Arrays.stream(works).noneMatch(w -> w.isPending() || w.isRunning());
            });
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;

            assertThat(overlaps).as("concurrent runs of one work").hasValue(0);
            assertThat(limitViolations).as("runs beyond maxActive").hasValue(0);
            long queued = 0;
            long cancelled = 0;
            for (int i = 0; i < n; i++) {
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
                        throw new AssertionError("work " + i + ": a run or cancel without an earlier queue at stamp "
                                + (e >> 2) + " (queued " + q + ", ran " + r + ", cancelled " + x + ")");
                    }
                }
                assertThat(r + x).as("work %d: runs + cancels == successful queues", i).isEqualTo(q);
                queued += q;
                cancelled += x;
            }
            System.out.printf("RandomizedStressTest: %d operations by %d threads in %d ms: %d instances queued,"
                    + " %d runs, %d cancelled, %d rejected while draining; peak %d threads%n",
                    ops.get(), THREADS, elapsedMs, queued, runs.get(), cancelled, rejected.get(), c.peakThreads());
            assertThat(runs.get()).isPositive();
            assertThat(cancelled).as("the mix really cancels").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /** Internal state of every workqueue and work, for a hang report. */
    private static String describe(Workqueue[] queues, Work[] works) {
        StringBuilder sb = new StringBuilder();
        for (Workqueue q : queues) {
            sb.append("\n  ").append(q.name()).append(": ").append(field(q.core, "delayedPending"))
                    .append(" armed, ").append(field(q.core, "flushWaiterCount")).append(" waiters, lifecycle ")
                    .append(field(q.core, "lifecycle")).append(", active ").append(EngineProbe.active(q.core));
        }
        for (int i = 0; i < works.length; i++) {
            dev.cmwq4j.internal.WorkNode n = works[i].node;
            sb.append("\n  work ").append(i).append(": state ").append(field(n, "state")).append(", where ")
                    .append(field(n, "where")).append(", queued ").append(field(n, "queued")).append(", resolved ")
                    .append(field(n, "resolved"));
        }
        return sb.toString();
    }

    private static Object field(Object o, String name) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                java.lang.reflect.Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (ReflectiveOperationException | RuntimeException e) {
                return "?" + e;
            }
        }
        return "?";
    }

    private void run(int id, AtomicBoolean busy, ConcurrentLinkedQueue<Long> events, Map<WorkqueueCore, Limited> limits) {
        long start = clock.incrementAndGet();
        if (busy.getAndSet(true)) {
            overlaps.incrementAndGet();
        }
        events.add(start << 2 | RAN);
        runs.incrementAndGet();
        WorkqueueCore core = EngineProbe.currentWorkqueue();
        Limited lim = core == null ? null : limits.get(core);
        if (lim != null && lim.running.incrementAndGet() > lim.bound * lim.perPoolFactor) {
            limitViolations.incrementAndGet();
        }
        try {
            switch (id % 4) {
                case 0 -> Blocking.run(() -> TestSupport.spin(20_000)); // an announced "block"
                case 1 -> TestSupport.spin(5_000);
                default -> Thread.onSpinWait();
            }
        } finally {
            if (lim != null) {
                lim.running.decrementAndGet();
            }
            busy.set(false);
        }
    }

    private void step(int me, SplittableRandom rnd, Cmwq c, Workqueue[] queues, Work[] works,
            List<ConcurrentLinkedQueue<Long>> events, Limited limitedUnbound, Limited limitedBound) {
        int id = rnd.nextInt(works.length);
        Work w = works[id];
        Workqueue q = queues[rnd.nextInt(queues.length)];
        int op = rnd.nextInt(100);
        try {
            if (op < 30) {
                long stamp = clock.incrementAndGet();
                boolean ok = rnd.nextBoolean() || q.isUnbound() ? q.queue(w) : q.queueOn(rnd.nextInt(c.cpus()), w);
                if (ok) {
                    events.get(id).add(stamp << 2 | QUEUED);
                }
            } else if (op < 45 && w instanceof DelayedWork d) {
                Duration delay = Duration.ofNanos(rnd.nextInt(2_000_000));
                long stamp = clock.incrementAndGet();
                boolean newInstance = op < 38 ? q.queueDelayed(d, delay) : !q.modDelayed(d, delay);
                if (newInstance) {
                    events.get(id).add(stamp << 2 | QUEUED);
                }
            } else if (op < 60) {
                if (w.cancel()) {
                    events.get(id).add(clock.incrementAndGet() << 2 | CANCELLED);
                }
            } else if (op < 66) {
                if (w.cancelSync()) {
                    events.get(id).add(clock.incrementAndGet() << 2 | CANCELLED);
                }
            } else if (op < 80) {
                w.flush();
            } else if (op < 90) {
                q.flush();
            } else if (op < 93) {
                q.drain();
            } else if (op < 97 && me == 0) {
                // only actor 0 changes limits, so the bound a run checks against stays sound
                changeLimit(rnd.nextBoolean() ? limitedUnbound : limitedBound, 1 + rnd.nextInt(3));
            } else {
                Thread.onSpinWait();
            }
        } catch (RejectedExecutionException e) {
            rejected.incrementAndGet(); // the workqueue was draining: nothing was queued
        }
    }

    /**
     * Raising: the bound first, then the limit. Lowering: the limit, then a flush (works activated
     * under the old limit were queued before it), then the bound.
     */
    private static void changeLimit(Limited l, int max) {
        int old = l.wq.maxActive();
        if (max >= old) {
            l.bound = max;
            l.wq.setMaxActive(max);
        } else {
            l.wq.setMaxActive(max);
            l.wq.flush();
            l.bound = max;
        }
    }
}
