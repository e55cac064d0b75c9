package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.blockOn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Helping: a worker that waits for a work that has not started runs it in place, when the
 * queue's rules allow it (not ordered, within maxActive, never concurrently with itself).
 */
class HelpingTest {

    /** Runs {@code body} as a work of {@code wq} and waits for it; rethrows what it threw. */
    private static void inWork(Workqueue wq, Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Work w = new Work(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        wq.queue(w);
        w.flush();
        if (failure.get() != null) {
            throw new AssertionError("the work failed", failure.get());
        }
    }

    @Test
    void flushOfAnUnstartedWorkRunsItInPlaceAndCountsItInItsWorkqueue() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue outerWq = c.workqueue("outer").build();
            Workqueue innerWq = c.workqueue("inner").build();
            AtomicReference<Thread> inner = new AtomicReference<>();
            AtomicReference<Thread> outer = new AtomicReference<>();
            Work innerWork = new Work(() -> inner.set(Thread.currentThread()));
            inWork(outerWq, () -> {
                outer.set(Thread.currentThread());
                innerWq.queue(innerWork);
                assertThat(innerWork.flush()).isTrue();
                assertThat(inner.get()).as("ran before flush returned").isNotNull();
            });
            assertThat(inner.get()).isSameAs(outer.get());
            assertThat(innerWork.isPending()).isFalse();
            // the helped work ended in its own workqueue: flush, drain and the counts are exact
            innerWq.flush();
            innerWq.drain();
            assertThat(EngineProbe.active(innerWq.core)).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A work of a CPU-intensive workqueue stays out of its pool's running count for its whole run,
     * also after it helped a work inside an announced block: the helped run is counted, and the
     * outer run resumes CPU-intensive, not blocked (whose end would count it again for the rest
     * of its run, holding its pool's only running slot). The worker's own state is read, not the
     * pool's counts: the outer run being uncounted, the queue of the inner work wakes or creates
     * another worker, which may be counted for a moment, or even take the inner work first (then
     * nothing was helped, and the round is tried again).
     */
    @Test
    void aCpuIntensiveRunStaysUncountedAfterAHelpInsideABlock() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue heavy = c.workqueue("heavy").cpuIntensive().build();
            Workqueue light = c.workqueue("light").build();
            boolean helped = false;
            for (int round = 0; round < 20 && !helped; round++) {
                AtomicReference<String> during = new AtomicReference<>();
                HelpRound r = helpInsideABlock(heavy, light, () -> during.set(EngineProbe.currentWorkerState()));
                assertThat(r.before()).as("a CPU-intensive run").isEqualTo("CPU_INTENSIVE");
                if (!r.helped()) {
                    continue; // another worker took the inner work before the flush: no help this round
                }
                helped = true;
                assertThat(during.get()).as("the helped run is counted").isEqualTo("RUNNING");
                assertThat(r.after()).as("resumed after the help, in the block").isEqualTo("CPU_INTENSIVE");
                assertThat(r.afterBlock()).as("after the block's end").isEqualTo("CPU_INTENSIVE");
            }
            assertThat(helped).as("some round helped the inner work in place").isTrue();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * The same, with a detection in the window between the helped run's end and the outer run's
     * return to CPU-intensive: a test hook on the pool lock the helped run's end takes (an
     * admission of a work the helped run queued) takes the worker out as the monitor does. The
     * outer run still resumes CPU-intensive; left DETECTED, the monitor would count it again once
     * it saw it running. Without the fast lane, whose ring the lock does not drain (rounds whose
     * inner work another worker took, or whose queued work a spinning idle worker admitted first,
     * are tried again).
     */
    @Test
    void aCpuIntensiveRunDetectedAsItsHelpEndsResumesCpuIntensive() {
        try (Cmwq c = EngineProbe.withLane(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue heavy = c.workqueue("heavy").cpuIntensive().build();
            Workqueue light = c.workqueue("light").build();
            AtomicReference<Thread> detectOn = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean detected = new java.util.concurrent.atomic.AtomicBoolean();
            EngineProbe.onAdmit(() -> {
                if (Thread.currentThread() == detectOn.get() && detected.compareAndSet(false, true)) {
                    detectOn.set(null);
                    EngineProbe.detectCurrentWorker();
                }
            });
            try {
                boolean tried = false;
                for (int round = 0; round < 20 && !tried; round++) {
                    detected.set(false);
                    HelpRound r = helpInsideABlock(heavy, light, () -> {
                        light.queue(new Work(() -> { })); // admitted when the helped run's end takes the lock
                        detectOn.set(Thread.currentThread());
                    });
                    detectOn.set(null);
                    light.flush();
                    if (!r.helped() || !detected.get()) {
                        continue; // nothing helped, or no detection in the window: this round tested nothing
                    }
                    tried = true;
                    assertThat(r.after()).as("resumed after a help whose end was detected").isEqualTo("CPU_INTENSIVE");
                }
                assertThat(tried).as("some round helped in place and was detected in the window").isTrue();
            } finally {
                EngineProbe.onAdmit(null);
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /** What one {@link #helpInsideABlock} round saw: whether the inner work ran in place, and the outer worker's states. */
    private record HelpRound(boolean helped, String before, String after, String afterBlock) {}

    /**
     * One round: a work of {@code heavy} queues a work of {@code light} that runs {@code
     * innerBody}, inside {@code Blocking.run}, and flushes it; the outer work reads its worker's
     * state before the block, after the flush and after the block.
     */
    private static HelpRound helpInsideABlock(Workqueue heavy, Workqueue light, Runnable innerBody) {
        AtomicReference<Thread> inner = new AtomicReference<>();
        AtomicReference<Thread> outer = new AtomicReference<>();
        AtomicReference<String> before = new AtomicReference<>();
        AtomicReference<String> after = new AtomicReference<>();
        AtomicReference<String> afterBlock = new AtomicReference<>();
        Work innerWork = new Work(() -> {
            inner.set(Thread.currentThread());
            innerBody.run();
        });
        inWork(heavy, () -> {
            outer.set(Thread.currentThread());
            before.set(EngineProbe.currentWorkerState());
            Blocking.run(() -> {
                light.queue(innerWork);
                innerWork.flush();
                after.set(EngineProbe.currentWorkerState());
            });
            afterBlock.set(EngineProbe.currentWorkerState());
        });
        return new HelpRound(inner.get() == outer.get(), before.get(), after.get(), afterBlock.get());
    }

    @Test
    void futureGetOfASubmittedTaskRunsItInPlace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("view").build();
            ExecutorService es = wq.asExecutorService();
            Future<Thread> outer = es.submit(() -> {
                Future<Thread> inner = es.submit(Thread::currentThread);
                Thread ran = inner.get();
                assertThat(ran).isSameAs(Thread.currentThread());
                return ran;
            });
            assertThat(outer.get(30, TimeUnit.SECONDS)).isNotNull();
            es.shutdown();
            assertThat(es.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void worksOfAnOrderedQueueAreNotHelped() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue outerWq = c.workqueue("outer").build();
            Workqueue ordered = c.workqueue("ordered").ordered().build();
            AtomicReference<Thread> inner = new AtomicReference<>();
            Work innerWork = new Work(() -> inner.set(Thread.currentThread()));
            inWork(outerWq, () -> {
                ordered.queue(innerWork);
                innerWork.flush();
                assertThat(inner.get()).isNotSameAs(Thread.currentThread());
            });
        }
    }

    @Test
    void inactiveWorksBeyondMaxActiveAreNotHelped() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue outerWq = c.workqueue("outer").build();
            Workqueue limited = c.workqueue("limited").unbound().maxActive(1).build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blockerStarted = new CountDownLatch(1);
            AtomicInteger concurrent = new AtomicInteger();
            AtomicInteger maxConcurrent = new AtomicInteger();
            Runnable track = () -> maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            limited.execute(() -> {
                track.run();
                blockerStarted.countDown();
                blockOn(release);
                concurrent.decrementAndGet();
            });
            blockOn(blockerStarted);
            AtomicReference<Thread> inner = new AtomicReference<>();
            Work innerWork = new Work(() -> {
                track.run();
                inner.set(Thread.currentThread());
                concurrent.decrementAndGet();
            });
            inWork(outerWq, () -> {
                limited.queue(innerWork); // inactive: the blocker holds the only active slot
                assertThat(EngineProbe.inactive(limited.core)).isEqualTo(1);
                release.countDown();       // the flush below must wait for the slot, not take it
                innerWork.flush();
                assertThat(inner.get()).isNotSameAs(Thread.currentThread());
            });
            assertThat(maxConcurrent.get()).as("maxActive 1 was never exceeded").isEqualTo(1);
        }
    }

    @Test
    void aWorkRunningElsewhereIsNotRunAgainInPlace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("wq").build();
            CountDownLatch firstStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            List<Thread> runners = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger runs = new AtomicInteger();
            Work shared = new Work(() -> {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                runners.add(Thread.currentThread());
                if (runs.incrementAndGet() == 1) {
                    firstStarted.countDown();
                    blockOn(release);
                }
                inside.decrementAndGet();
            });
            wq.queueOn(0, shared);
            blockOn(firstStarted);
            inWork(wq, () -> {
                assertThat(wq.queueOn(0, shared)).isTrue(); // pending again while the first run runs
                release.countDown();
                shared.flush(); // may not run it here while the first run is not over
            });
            assertThat(runs.get()).isEqualTo(2);
            assertThat(overlaps.get()).isZero();
        }
    }

    @Test
    void aHelpedWorkThatFlushesTheWaitingWorkFailsFast() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("wq").build();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Work[] outer = new Work[1];
            Work inner = new Work(() -> {
                try {
                    outer[0].flush(); // outer is running on this very thread, below us
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            outer[0] = new Work(() -> {
                wq.queue(inner);
                inner.flush();
            });
            wq.queue(outer[0]);
            outer[0].flush();
            assertThat(failure.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("on itself");
        }
    }

    @Test
    void aHelpedWorkThatFlushesTheWaitingWorksQueueFailsFast() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue outerWq = c.workqueue("outer").build();
            Workqueue innerWq = c.workqueue("inner").build();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Work inner = new Work(() -> {
                try {
                    outerWq.flush(); // would wait for the outer work, which waits for us
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            inWork(outerWq, () -> {
                innerWq.queue(inner);
                inner.flush();
            });
            assertThat(failure.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("flushes its own workqueue");
        }
    }

    @Test
    void chainsDeeperThanTheHelpingLimitStillComplete() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("deep").build();
            int depth = 3 * EngineProbe.DEFAULT_MAX_HELP_DEPTH;
            java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicInteger ran = new AtomicInteger();
            Work[] chain = new Work[depth];
            for (int i = depth - 1; i >= 0; i--) {
                Work next = i + 1 < depth ? chain[i + 1] : null;
                chain[i] = new Work(() -> {
                    threads.add(Thread.currentThread());
                    ran.incrementAndGet();
                    if (next != null) {
                        wq.queue(next);
                        next.flush();
                    }
                });
            }
            wq.queue(chain[0]);
            chain[0].flush();
            assertThat(ran.get()).isEqualTo(depth);
            // helping ran up to MAX_DEPTH levels per thread; without it, one thread per level
            assertThat(threads.size()).isLessThan(depth / 8);
        }
    }

    /**
     * A chain of works on one workqueue with maxActive 2, each queueing the next and flushing it,
     * far deeper than maxActive and than the helping depth: each waiter lends its slot to the work
     * it waits for (in place, or to another worker past the depth bound), so the chain completes,
     * and never more than 2 works of the queue execute (rather than wait) at once.
     */
    @Test
    void aChainOnOneQueueDeeperThanMaxActiveCompletesOnBorrowedSlots() {
        for (boolean unbound : new boolean[] {true, false}) {
            try (Cmwq c = Cmwq.builder().cpus(2).build()) {
                Workqueue.Builder b = c.workqueue("chain").maxActive(2);
                Workqueue wq = (unbound ? b.unbound() : b).build();
                int depth = 3 * EngineProbe.DEFAULT_MAX_HELP_DEPTH + 10;
                AtomicInteger executing = new AtomicInteger();
                AtomicInteger maxExecuting = new AtomicInteger();
                AtomicInteger ran = new AtomicInteger();
                Work[] chain = new Work[depth];
                for (int i = depth - 1; i >= 0; i--) {
                    Work next = i + 1 < depth ? chain[i + 1] : null;
                    chain[i] = new Work(() -> {
                        maxExecuting.accumulateAndGet(executing.incrementAndGet(), Math::max);
                        ran.incrementAndGet();
                        if (next != null) {
                            wq.queue(next);
                            executing.decrementAndGet();
                            next.flush();
                            maxExecuting.accumulateAndGet(executing.incrementAndGet(), Math::max);
                        }
                        executing.decrementAndGet();
                    });
                }
                wq.queue(chain[0]);
                chain[0].flush();
                assertThat(ran.get()).isEqualTo(depth);
                assertThat(maxExecuting.get()).as("works of the queue executing at once").isBetween(1, 2);
                wq.drain();
                assertThat(EngineProbe.active(wq.core)).isZero();
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }

    /**
     * Parents on a bound queue fan out children to an unbound queue with maxActive 3 and to a
     * bound queue, and wait for them through Work.flush, Future.get and CompletableFuture.join,
     * while plain producers keep the unbound queue full. A shared work is flushed by many parents
     * at once. Invariants: the unbound queue never runs more than 3 works at once, the shared
     * work never runs concurrently with itself, every child runs exactly once, and the pools end
     * at rest with exact counts.
     */
    @Test
    void stressHelpingKeepsMaxActiveAndNonReentrancyAndLosesNothing() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int parents = 400 * scale;
        int children = 6;
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue parentWq = c.workqueue("parents").build();
            Workqueue boundKids = c.workqueue("bound-kids").build();
            Workqueue limitedKids = c.workqueue("limited-kids").unbound().maxActive(3).build();
            // not parentWq: with every active slot of parentWq taken by a waiting parent, a work
            // queued there behind them could never start (the kernel's maxActive deadlock)
            Workqueue sharedWq = c.workqueue("shared").build();
            ExecutorService boundView = boundKids.asExecutorService();
            AtomicInteger limitedNow = new AtomicInteger();
            AtomicInteger limitedMax = new AtomicInteger();
            AtomicIntegerArray childRuns = new AtomicIntegerArray(parents * children);
            AtomicInteger sharedInside = new AtomicInteger();
            AtomicInteger sharedOverlaps = new AtomicInteger();
            AtomicInteger sharedRuns = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            Work shared = new Work(() -> {
                if (sharedInside.incrementAndGet() > 1) {
                    sharedOverlaps.incrementAndGet();
                }
                TestSupport.spin(2_000);
                sharedRuns.incrementAndGet();
                sharedInside.decrementAndGet();
            });
            CountDownLatch done = new CountDownLatch(parents);
            for (int p = 0; p < parents; p++) {
                int base = p * children;
                parentWq.execute(() -> {
                    try {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        List<Work> works = new ArrayList<>();
                        List<Future<?>> futures = new ArrayList<>();
                        List<java.util.concurrent.CompletableFuture<?>> cfs = new ArrayList<>();
                        for (int k = 0; k < children; k++) {
                            int id = base + k;
                            long spin = r.nextInt(20_000);
                            Runnable body = () -> {
                                TestSupport.spin(spin);
                                childRuns.incrementAndGet(id);
                            };
                            switch (k % 3) {
                                case 0 -> {
                                    Work w = new Work(() -> {
                                        int now = limitedNow.incrementAndGet();
                                        limitedMax.accumulateAndGet(now, Math::max);
                                        body.run();
                                        limitedNow.decrementAndGet();
                                    });
                                    limitedKids.queue(w);
                                    works.add(w);
                                }
                                case 1 -> futures.add(boundView.submit(body));
                                default -> cfs.add(boundKids.runAsync(body));
                            }
                        }
                        sharedWq.queue(shared);
                        shared.flush();
                        for (Work w : works) {
                            w.flush();
                        }
                        for (Future<?> f : futures) {
                            f.get();
                        }
                        for (java.util.concurrent.CompletableFuture<?> f : cfs) {
                            f.join();
                        }
                    } catch (Throwable t) {
                        failures.incrementAndGet();
                        t.printStackTrace();
                    } finally {
                        done.countDown();
                    }
                });
            }
            assertThat(done.await(120, TimeUnit.SECONDS)).as("all parents finished").isTrue();
            parentWq.flush();
            boundKids.flush();
            limitedKids.flush();
            assertThat(failures.get()).isZero();
            assertThat(limitedMax.get()).as("most works of the maxActive-3 queue at once").isBetween(1, 3);
            assertThat(sharedOverlaps.get()).as("concurrent runs of one work").isZero();
            assertThat(sharedRuns.get()).isPositive();
            for (int i = 0; i < parents * children; i++) {
                assertThat(childRuns.get(i)).as("runs of child %d", i).isEqualTo(1);
            }
            for (Workqueue wq : List.of(parentWq, boundKids, limitedKids, sharedWq)) {
                wq.drain();
                assertThat(EngineProbe.active(wq.core)).as(wq.name() + " active").isZero();
                assertThat(EngineProbe.inactive(wq.core)).as(wq.name() + " inactive").isZero();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
