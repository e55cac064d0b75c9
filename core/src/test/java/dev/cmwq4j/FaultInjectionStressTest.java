package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults as inputs, at random and all at once: works throw Errors (including ones that cannot
 * even be logged) and exceptions, interrupt themselves, and wait for children that they may help;
 * the failure handler throws OutOfMemoryError an eighth of the time; the thread factory fails
 * most (85%) of its creations under a small thread cap, so memReclaim queues are rescued (and their rescued
 * works fail too). Four producers queue and cancel meanwhile; with announced blocks counted (the
 * default) and by the kernel's rule. Checked afterwards:
 * <ul>
 *   <li>nothing lost or duplicated: per work, runs == successful queues - successful cancels;
 *   <li>no work ran concurrently with itself;
 *   <li>no work stays pending or RUNNING; every flush returns (bounded: a hang fails);
 *   <li>pools back at rest, their locks free (the at-rest check takes every pool lock).
 * </ul>
 * Size: {@code cmwq4j.stress.scale} (1 by default, 50 with {@code -Pstress}) times 4 threads x
 * 2 500 operations. The seed is printed; {@code -Dcmwq4j.stress.seed=N} replays the producers'
 * choices (the faults inside works are random per run).
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultInjectionStressTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 2_500 * SCALE;
    private static final int PARENTS = 24;
    /** Each parent may queue and wait for its own child, so both are tracked. */
    private static final int WORKS = 2 * PARENTS;

    private final AtomicIntegerArray queued = new AtomicIntegerArray(WORKS);
    private final AtomicIntegerArray cancelled = new AtomicIntegerArray(WORKS);
    private final AtomicIntegerArray ran = new AtomicIntegerArray(WORKS);
    private final AtomicIntegerArray inside = new AtomicIntegerArray(WORKS);
    private final AtomicLong overlaps = new AtomicLong();
    private final AtomicLong handlerCalls = new AtomicLong();

    @org.junit.jupiter.params.ParameterizedTest(name = "counted blocks {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void randomFaultsEverywhereLoseNothingAndLeaveTheEngineAtRest(boolean countedBlocks) throws Exception {
        long seed = Long.getLong("cmwq4j.stress.seed", System.nanoTime());
        System.out.println("FaultInjectionStressTest seed " + seed + " (replay: -Dcmwq4j.stress.seed=" + seed + ")");
        FaultyThreadFactory threads = new FaultyThreadFactory();
        try (Cmwq c = EngineProbe.withCountedBlocks(countedBlocks, () -> Cmwq.builder().cpus(2).maxThreads(10).createCooldown(Duration.ofMillis(5))
                .threadFactory(threads).failureHandler((w, t) -> {
                    handlerCalls.incrementAndGet();
                    if (ThreadLocalRandom.current().nextInt(8) == 0) { // each one is logged
                        throw new OutOfMemoryError("injected into the failure handler");
                    }
                }).build())) {
            List<Workqueue> queues = List.of(
                    c.workqueue("bound").build(),
                    c.workqueue("unbound").unbound().build(),
                    c.workqueue("ordered").ordered().build(),
                    c.workqueue("two").maxActive(2).build(),
                    c.workqueue("high").highPriority().build(),
                    c.workqueue("reclaim").memReclaim().build());
            // from now on (the rescuer of "reclaim" exists), most creations fail; JUnit would
            // take an OutOfMemoryError that reached the test thread for a real one and stop
            threads.failRandomly(0.85);
            Work[] works = new Work[WORKS];
            Workqueue[] home = new Workqueue[WORKS];
            for (int i = 0; i < PARENTS; i++) {
                home[i] = queues.get(i % queues.size());
                home[PARENTS + i] = home[i].isOrdered() ? queues.get(0) : home[i]; // a child behind an ordered parent would be a flush deadlock
            }
            for (int i = 0; i < WORKS; i++) {
                int k = i;
                works[i] = new Work(() -> run(k, works, home));
            }
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<Void>> producers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                SplittableRandom rnd = new SplittableRandom(seed + t);
                producers.add(CompletableFuture.runAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int op = 0; op < OPS_PER_THREAD; op++) {
                        int i = rnd.nextInt(PARENTS);
                        switch (rnd.nextInt(8)) {
                            case 0 -> {
                                if (works[i].cancel()) {
                                    cancelled.incrementAndGet(i);
                                }
                            }
                            case 1 -> works[i].flush();
                            default -> {
                                if (home[i].queue(works[i])) {
                                    queued.incrementAndGet(i);
                                }
                            }
                        }
                    }
                }, runnable -> new Thread(runnable, "producer").start()));
            }
            start.countDown();
            CompletableFuture.allOf(producers.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
            CompletableFuture.runAsync(() -> {
                for (Workqueue wq : queues) {
                    wq.flush();
                }
                for (Work w : works) {
                    w.flush();
                }
            }).get(5, TimeUnit.MINUTES); // a work left RUNNING, or a lock left held, hangs this
            threads.recover();
            for (int i = 0; i < WORKS; i++) {
                assertThat(works[i].isPending() || works[i].isRunning()).as("work %d at rest", i).isFalse();
                assertThat(ran.get(i)).as("work %d: runs == queued - cancelled", i)
                        .isEqualTo(queued.get(i) - cancelled.get(i));
            }
            assertThat(overlaps.get()).as("concurrent runs of one work").isZero();
            CompletableFuture.runAsync(() -> TestSupport.assertPoolsAtRest(c)).get(2, TimeUnit.MINUTES);
            long runs = 0;
            for (int i = 0; i < WORKS; i++) {
                runs += ran.get(i);
            }
            long maydays = 0;
            long rescued = 0;
            for (Workqueue wq : queues) {
                maydays += wq.stats().maydays();
                rescued += wq.stats().rescued();
            }
            System.out.printf("FaultInjectionStressTest: %d operations, %d runs, %d failures handled, %d thread"
                    + " creations refused, %d created, %d maydays, %d rescued%n", (long) THREADS * OPS_PER_THREAD, runs,
                    handlerCalls.get(), threads.failures(), threads.created(), maydays, rescued);
        }
    }

    /** The action of work {@code k}: count, then misbehave at random. */
    private void run(int k, Work[] works, Workqueue[] home) {
        if (inside.incrementAndGet(k) != 1) {
            overlaps.incrementAndGet();
        }
        ran.incrementAndGet(k);
        try {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            switch (rnd.nextInt(10)) {
                case 0 -> throw new FaultsTest.NastyError();
                case 1 -> throw new IllegalStateException("injected failure of work " + k);
                case 2 -> throw new StackOverflowError("injected");
                case 3 -> Thread.currentThread().interrupt();
                case 4, 5 -> {
                    if (k < PARENTS) { // wait for the child: helped if it has not started
                        int child = PARENTS + k;
                        if (home[child].queue(works[child])) {
                            queued.incrementAndGet(child);
                        }
                        works[child].flush();
                    }
                }
                case 6 -> TestSupport.spin(20_000);
                case 7 -> {
                    try {
                        Blocking.sleep(Duration.ofNanos(200_000)); // announced: the pool wants a thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                default -> { }
            }
        } finally {
            inside.decrementAndGet(k);
        }
    }
}
