package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults are inputs too: extreme arguments, Errors and interrupts must leave the engine
 * consistent. One regression test per defect found by driving the library as a hostile user.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultsTest {

    /**
     * A delay of Long.MAX_VALUE ns made a deadline that sorted before the works already due, so
     * the timer parked on it and fired nothing else: not the due works, not a new 10 ms one, and
     * not the manager passes that create threads.
     */
    @Test
    void aHugeDelayHoldsBackNoOtherTimer() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("timers").build();
            int n = 20;
            CountDownLatch due = new CountDownLatch(n);
            for (int i = 0; i < n / 2; i++) {
                assertThat(wq.queueDelayed(new DelayedWork(due::countDown), Duration.ofMillis(1 + i % 3))).isTrue();
            }
            DelayedWork huge = new DelayedWork(() -> { });
            assertThat(wq.queueDelayed(huge, Duration.ofNanos(Long.MAX_VALUE))).isTrue();
            DelayedWork hugeToo = new DelayedWork(() -> { });
            assertThat(wq.queueDelayed(hugeToo, Long.MAX_VALUE, TimeUnit.DAYS)).as("saturates").isTrue();
            DelayedWork hugest = new DelayedWork(() -> { });
            assertThat(wq.queueDelayed(hugest, Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
            for (int i = n / 2; i < n; i++) {
                assertThat(wq.queueDelayed(new DelayedWork(due::countDown), Duration.ofMillis(10))).isTrue();
            }
            assertThat(due.await(30, TimeUnit.SECONDS)).as("every short timer fired beside the huge ones").isTrue();
            // thread creation waits on the timer too (the stall window): four overlapping blocks
            // need four workers on this one-CPU instance
            assertThat(TestSupport.blockAllAtOnce(wq, 4, 30)).as("the pool still grows").isTrue();
            assertThat(huge.isPending()).isTrue();
            assertThat(huge.cancel()).isTrue();
            assertThat(hugeToo.cancel()).isTrue();
            assertThat(hugest.cancel()).isTrue();
            CountDownLatch after = new CountDownLatch(1);
            assertThat(wq.queueDelayed(new DelayedWork(after::countDown), Duration.ofMillis(5))).isTrue();
            assertThat(after.await(30, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> wq.queueDelayed(new DelayedWork(() -> { }), -1, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        }
    }

    /** An Error whose every rendering throws another such Error: logging it fails too. */
    static final class NastyError extends Error {
        NastyError() {
            super(null, null, false, false);
        }

        @Override
        public String getMessage() {
            throw new NastyError();
        }

        @Override
        public String toString() {
            throw new NastyError();
        }
    }

    /**
     * Errors on the failure path: a handler that throws OutOfMemoryError, and (with no handler)
     * an error that the logger cannot render, so that the log call behind a failed handler throws
     * too. The work's state must still be resolved: its maxActive slot and flush colour released,
     * nothing left RUNNING, the pool at rest and still working.
     */
    @Test
    void errorsOnTheFailurePathLeaveNothingRunning() throws Exception {
        java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
        try (Cmwq withHandler = Cmwq.builder().cpus(1).failureHandler((w, t) -> {
            handled.incrementAndGet();
            throw new OutOfMemoryError("injected: the failure handler ran out of memory");
        }).build(); Cmwq noHandler = Cmwq.builder().cpus(1).build()) {
            for (Cmwq c : java.util.List.of(withHandler, noHandler)) {
                Workqueue one = c.workqueue("one-at-a-time").maxActive(1).build();
                Workqueue ordered = c.workqueue("ordered").ordered().build();
                for (Workqueue wq : java.util.List.of(one, ordered)) {
                    int n = 20;
                    java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
                    Work[] works = new Work[n];
                    for (int i = 0; i < n; i++) {
                        int k = i;
                        works[i] = new Work(() -> {
                            ran.incrementAndGet();
                            if (k % 2 == 0) {
                                throw new NastyError();
                            }
                            throw new IllegalStateException("injected failure " + k);
                        });
                        assertThat(wq.queue(works[i])).isTrue();
                    }
                    wq.flush(); // every slot and colour released, or this hangs
                    assertThat(ran.get()).as(wq.name() + ": every failing work ran").isEqualTo(n);
                    for (Work w : works) {
                        assertThat(w.isPending()).isFalse();
                        w.flush();
                    }
                    assertThat(wq.stats().inFlight()).isZero();
                    CountDownLatch after = new CountDownLatch(1);
                    assertThat(wq.queue(new Work(after::countDown))).isTrue();
                    assertThat(after.await(30, TimeUnit.SECONDS)).as("the queue still works").isTrue();
                }
                TestSupport.assertPoolsAtRest(c);
            }
            assertThat(handled.get()).isEqualTo(40);
        }
    }

    /**
     * A ThreadFactory that returns a thread it already started: a clear creation failure (the
     * thread runs nothing of the pool, and the thread count never goes negative), and the pool
     * gets its worker once the factory behaves.
     */
    @Test
    void aFactoryThatReturnsAStartedThreadIsACreationFailure() throws Exception {
        java.util.concurrent.atomic.AtomicInteger bad = new java.util.concurrent.atomic.AtomicInteger(3);
        java.util.concurrent.ConcurrentLinkedQueue<Thread> started = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.ThreadFactory factory = r -> {
            Thread t = new Thread(r);
            if (bad.getAndDecrement() > 0) {
                t.start();
                started.add(t);
            }
            return t;
        };
        try (Cmwq c = Cmwq.builder().cpus(1).threadFactory(factory).createCooldown(Duration.ofMillis(10)).build()) {
            Workqueue wq = c.workqueue("late").build();
            CountDownLatch ran = new CountDownLatch(1);
            assertThat(wq.queue(new Work(ran::countDown))).isTrue();
            assertThat(ran.await(30, TimeUnit.SECONDS)).as("ran once the factory behaved").isTrue();
            assertThat(started).hasSize(3);
            for (Thread t : started) {
                t.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(t.isAlive()).as("a rejected thread ran nothing of the pool").isFalse();
            }
            assertThat(c.threads()).isEqualTo(1);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * Anything thrown on the queue path after the claim gives the claim up: the queue call throws,
     * and the work is not left pending for good (every later queue refused it). Injected at the
     * push seam before the push, once: an unchecked exception stands for a bug in the path (the
     * index out of bounds of CrossInstanceTest was one; only StackOverflowError and out of memory
     * were undone before).
     */
    @Test
    void anExceptionOnTheQueuePathAfterTheClaimLeavesTheWorkQueueable() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            Work w = new Work("w", ran::countDown);
            dev.cmwq4j.internal.AccountingProbe.onPush(TestSupport.throwOnce(0, Thread.currentThread(),
                    () -> new IllegalStateException("injected on the queue path")));
            try {
                assertThatThrownBy(() -> wq.queue(w)).isInstanceOf(IllegalStateException.class)
                        .hasMessage("injected on the queue path");
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onPush(null);
            }
            // (left claimed, it refused this queue, and a cancel of it spun for good)
            assertThat(wq.queue(w)).as("queueable again").isTrue();
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(wq.stats().inFlight()).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A close that throws between setting the seal and clearing it (out of memory injected at the
     * seal seam, once) leaves the queue open and unsealed: works queue and run, a delayed work
     * fires, and a later close succeeds. Before, the lifecycle went back to OPEN with the seal
     * still set: every queue was refused as "closed meanwhile".
     */
    @Test
    void aCloseThatThrowsAfterSealingLeavesTheQueueOpenUnsealedAndNotClosing() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("q").build();
            dev.cmwq4j.internal.AccountingProbe.onSeal(TestSupport.throwOnce(0, Thread.currentThread(),
                    () -> new OutOfMemoryError("injected after the seal")));
            try {
                assertThatThrownBy(wq::close).isInstanceOf(OutOfMemoryError.class);
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onSeal(null);
            }
            assertThat(wq.isClosed()).isFalse();
            CountDownLatch ran = new CountDownLatch(2);
            assertThat(wq.queue(new Work(ran::countDown))).as("queued after the failed close").isTrue();
            assertThat(wq.queueDelayed(new DelayedWork(ran::countDown), Duration.ofMillis(1))).isTrue();
            assertThat(ran.await(30, TimeUnit.SECONDS)).as("both ran").isTrue();
            // the failed close does not leave the queue closing: a periodic task re-arms (before,
            // it ran once and stopped, as in a close)
            CountDownLatch periodic = new CountDownLatch(3);
            java.util.concurrent.ScheduledFuture<?> f = wq.asScheduledExecutorService()
                    .scheduleWithFixedDelay(periodic::countDown, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(periodic.await(30, TimeUnit.SECONDS)).as("the periodic task ran three times").isTrue();
            f.cancel(false);
            assertThat(wq.core.isClosing()).as("closing, after the failed close").isFalse();
            wq.close();
            assertThat(wq.isClosed()).isTrue();
            assertThat(wq.core.isClosing()).isTrue();
            assertThatThrownBy(() -> wq.queue(new Work(() -> { })))
                    .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A worker thread that throws as it starts, before it serves its pool (out of memory in its
     * first allocations, injected three times), is a creation failure: the pool's counts are
     * undone, another thread is made after the back-off, the works queued meanwhile run, and the
     * pool ends at rest with one worker. Before, the pool kept the first one counted as a running
     * worker that never came: no queue kicked it, and nothing ran.
     */
    @Test
    void aWorkerThreadThatFailsAsItStartsIsACreationFailure() throws Exception {
        String prefix = "fails-at-start-" + System.nanoTime() + "-";
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(3);
        dev.cmwq4j.internal.EngineProbe.onWorkerStart(
                outOfMemoryOnThreadsOf(prefix, toFail, "injected: a worker thread's first allocation"));
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadNamePrefix(prefix)
                .createCooldown(Duration.ofMillis(10)).build()) {
            Workqueue wq = c.workqueue("after-failed-starts").build();
            assertThat(hundredWorksRan(wq)).as("the works ran once a thread started").isTrue();
            assertThat(toFail.get()).as("three starts failed, then one served").isNegative();
            wq.close();
            TestSupport.assertPoolsAtRest(c);
            assertThat(c.threads()).as("worker threads alive").isEqualTo(1);
        } finally {
            dev.cmwq4j.internal.EngineProbe.onWorkerStart(null);
        }
    }

    /**
     * An Error thrown by a worker's own bookkeeping, between works (injected at its work loop's
     * look at the pool, three times), ends that worker's thread, and the worker leaves its pool
     * as if retired: out of the running count, its works kicked to another. The works queued
     * around it all run, and the pool ends at rest. Before, the dead worker stayed counted as
     * running and, on one CPU, nothing else ran.
     */
    @Test
    void aWorkerWhoseBookkeepingThrowsLeavesItsPoolConsistent() throws Exception {
        String prefix = "fails-in-loop-" + System.nanoTime() + "-";
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(3);
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> died = new java.util.concurrent.ConcurrentLinkedQueue<>();
        dev.cmwq4j.internal.EngineProbe.onWorkLoop(
                outOfMemoryOnThreadsOf(prefix, toFail, "injected: the engine's own bookkeeping"));
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadNamePrefix(prefix)
                .threadFactory(TestSupport.recordingDeaths(died)).build()) {
            Workqueue wq = c.workqueue("after-loop-errors").build();
            assertThat(hundredWorksRan(wq)).as("the works ran on the workers that followed").isTrue();
            assertThat(toFail.get()).as("three loops threw").isNegative();
            wq.flush();
            assertThat(wq.stats().total()).isEqualTo(100);
            wq.close();
            TestSupport.assertPoolsAtRest(c);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> died.size() >= 3);
            assertThat(died).as("threads ended by the injected error").hasSize(3)
                    .allMatch(t -> t instanceof OutOfMemoryError);
        } finally {
            dev.cmwq4j.internal.EngineProbe.onWorkLoop(null);
        }
    }

    /**
     * A seam hook that throws an {@code OutOfMemoryError} with {@code message} on a thread named
     * with {@code prefix}, as long as {@code toFail} counts down above zero.
     */
    private static Runnable outOfMemoryOnThreadsOf(String prefix, java.util.concurrent.atomic.AtomicInteger toFail,
            String message) {
        return () -> {
            if (Thread.currentThread().getName().startsWith(prefix) && toFail.getAndDecrement() > 0) {
                throw new OutOfMemoryError(message);
            }
        };
    }

    /**
     * A seam hook that throws an {@code OutOfMemoryError} with {@code message} on the thread that
     * {@code runner} holds, where {@code where} says (checked after the thread, before the count),
     * as long as {@code toFail} counts down above zero.
     */
    private static Runnable outOfMemoryOn(java.util.concurrent.atomic.AtomicReference<Thread> runner,
            java.util.function.BooleanSupplier where, java.util.concurrent.atomic.AtomicInteger toFail, String message) {
        return () -> {
            if (Thread.currentThread() == runner.get() && where.getAsBoolean() && toFail.getAndDecrement() > 0) {
                throw new OutOfMemoryError(message);
            }
        };
    }

    /** A one-CPU engine with the fast lane on and announced blocks not counted (they would keep works off the lane). */
    private static Cmwq laneEngineWithoutCountedBlocks(String name) {
        return EngineProbe.withLane(true, () -> EngineProbe.withCountedBlocks(false,
                () -> Cmwq.builder().name(name).cpus(1).jmx(false).build()));
    }

    /**
     * Out of memory as the manager grows a pool's worker list for a new worker (injected once)
     * is a creation failure: nothing was counted yet, another thread is made after the back-off,
     * and the works run. The list used to be grown after the counts: the pool kept a counted
     * running worker that never came, and on one CPU nothing ran.
     */
    @Test
    void outOfMemoryGrowingTheWorkerListIsACreationFailure() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        dev.cmwq4j.internal.EngineProbe.onWorkerList(phase -> {
            if (phase == 0 && toFail.getAndDecrement() > 0) {
                throw new OutOfMemoryError("injected: growing the worker list");
            }
        });
        try (Cmwq c = Cmwq.builder().cpus(1).createCooldown(Duration.ofMillis(10)).jmx(false).build()) {
            Workqueue wq = c.workqueue("grow").build();
            assertThat(hundredWorksRan(wq)).as("ran once a worker could be made").isTrue();
            assertThat(toFail.get()).as("the fault was injected").isNegative();
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        } finally {
            dev.cmwq4j.internal.EngineProbe.onWorkerList(null);
        }
    }

    /**
     * Out of memory in an admission of the drain at a run's end (injected once, on the worker
     * thread): the finished run is ended first, so a flush of its queue returns, and the work
     * being admitted still runs (the service thread admits what the throw left). One CPU, no
     * lane: a work of one queue runs while a work of another is queued behind it; its end drains
     * that one. The drain used to come first: the throw took the finished run's end with it, and
     * the flush of its queue waited for good.
     */
    @Test
    void anAdmissionThatThrowsAtARunsEndLeavesTheRunEnded() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.concurrent.atomic.AtomicReference<Thread> runner = new java.util.concurrent.atomic.AtomicReference<>();
        try (Cmwq c = EngineProbe.withLane(false,
                () -> Cmwq.builder().name("drain-oom").cpus(1).jmx(false).build())) {
            Workqueue first = c.workqueue("drain-oom-first").build();
            Workqueue second = c.workqueue("drain-oom-second").build();
            EngineProbe.onAdmit(outOfMemoryOn(runner, () -> true, toFail, "injected: an admission at a run's end"));
            // rounds until the worker's own drain admits the second work (the service thread,
            // nudged by the push, may admit it first)
            for (int round = 0; round < 200 && toFail.get() > 0; round++) {
                CountDownLatch running = new CountDownLatch(1);
                java.util.concurrent.atomic.AtomicBoolean queued = new java.util.concurrent.atomic.AtomicBoolean();
                CountDownLatch ran = new CountDownLatch(2);
                first.execute(() -> {
                    runner.set(Thread.currentThread());
                    running.countDown();
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (!queued.get() && System.nanoTime() - until < 0) {
                        Thread.onSpinWait(); // ends within a microsecond of the push, before a look
                    }
                    runner.set(Thread.currentThread()); // (a new worker after a throw: the next round's)
                    ran.countDown();
                });
                assertThat(running.await(20, TimeUnit.SECONDS)).isTrue();
                second.execute(ran::countDown);
                queued.set(true);
                assertThat(ran.await(20, TimeUnit.SECONDS)).as("round %d: both works ran", round).isTrue();
                java.util.concurrent.CompletableFuture.runAsync(first::flush).get(60, TimeUnit.SECONDS);
                java.util.concurrent.CompletableFuture.runAsync(second::flush).get(60, TimeUnit.SECONDS);
            }
            assertThat(toFail.get()).as("the fault was injected (the hook ran once it could throw)").isNotPositive();
            EngineProbe.onAdmit(null);
            assertAtRestAndRunning(c, first);
        } finally {
            EngineProbe.onAdmit(null);
        }
    }

    /**
     * Out of memory in an admission on the worker that ends a run of one pool and takes the
     * instance of the same work handed to it from another pool (queued again on a high-priority
     * workqueue while it ran on a normal one): the instance taken runs, the finished run is
     * ended in its own pool, and both flushes return. Two places: the work inbound on the
     * handed instance's pool (the take's lock drained before its start and both ends) or on the
     * finished run's pool (its end's lock drained before the end, after the handed instance
     * started). Each throw used to leave the handed instance never run, and the flushes hung.
     * Each round needs its pools at the kernel's rule as it starts, so that the work queued last
     * waits for the runner, the pool's one counted worker: no target hold, or a target the
     * monitor raised in one round (the runner's latch wait is a block it detects) let a second
     * worker admit that work in the next, and rounds went by without the runner's admission.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "inbound on the handed instance''s pool: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void anAdmissionThatThrowsAroundAHandOffLosesNoRun(boolean onHandedPool) throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.concurrent.atomic.AtomicReference<Thread> runner = new java.util.concurrent.atomic.AtomicReference<>();
        EngineProbe.targetHold(Duration.ZERO);
        try (Cmwq c = EngineProbe.withLane(false,
                () -> Cmwq.builder().name("handoff-oom").cpus(1).jmx(false).build())) {
            Workqueue normal = c.workqueue("handoff-oom-normal").build();
            Workqueue high = c.workqueue("handoff-oom-high").highPriority().build();
            EngineProbe.onAdmit(outOfMemoryOn(runner, () -> true, toFail, "injected: an admission around a hand-off"));
            // rounds until the runner admits the work queued last (the service thread may first)
            for (int round = 0; round < 200 && toFail.get() > 0; round++) {
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch otherRan = new CountDownLatch(1);
                java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
                Work w = new Work(() -> {
                    if (runs.incrementAndGet() == 1) {
                        runner.set(Thread.currentThread());
                        started.countDown();
                        TestSupport.awaitQuietly(release, 60);
                    }
                });
                assertThat(normal.queueOn(0, w)).isTrue();
                assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(high.queueOn(0, w)).isTrue();
                org.awaitility.Awaitility.await("the high instance handed to the runner").atMost(Duration.ofSeconds(20))
                        .pollInterval(Duration.ofMillis(1)).until(() -> dev.cmwq4j.internal.AccountingProbe.isHandedOff(w.node));
                CountDownLatch holderRuns = new CountDownLatch(1);
                CountDownLatch releaseHolder = new CountDownLatch(1);
                if (onHandedPool) {
                    // a counted worker on the high pool: the next queue there is left inbound
                    high.queueOn(0, new Work(() -> {
                        holderRuns.countDown();
                        TestSupport.awaitQuietly(releaseHolder, 60);
                    }));
                    assertThat(holderRuns.await(20, TimeUnit.SECONDS)).isTrue();
                    high.queueOn(0, new Work(otherRan::countDown));
                } else {
                    normal.queueOn(0, new Work(otherRan::countDown)); // the runner is the normal pool's counted worker
                }
                release.countDown();
                org.awaitility.Awaitility.await("round " + round + ": the handed instance ran").atMost(Duration.ofSeconds(20))
                        .until(() -> runs.get() == 2);
                releaseHolder.countDown();
                assertThat(otherRan.await(20, TimeUnit.SECONDS)).as("round %d: the work queued last ran", round).isTrue();
                java.util.concurrent.CompletableFuture.runAsync(normal::flush).get(60, TimeUnit.SECONDS);
                java.util.concurrent.CompletableFuture.runAsync(high::flush).get(60, TimeUnit.SECONDS);
                assertThat(runs.get()).as("round %d: the work ran twice", round).isEqualTo(2);
            }
            assertThat(toFail.get()).as("the fault was injected (the hook ran once it could throw)").isNotPositive();
            EngineProbe.onAdmit(null);
            assertAtRestAndRunning(c, normal);
            assertAtRestAndRunning(c, high);
        } finally {
            EngineProbe.onAdmit(null);
            EngineProbe.targetHold(null);
        }
    }

    /**
     * Out of memory in an admission as a thief ends a stolen run (the victim's lock, whose drain
     * used to come before the end): the run is ended first, so every work of the backlog runs
     * and the flush returns. Two CPUs, a backlog of 1 ms works queued on CPU 0, a feeder keeping
     * CPU 0's inbound stack busy; the fault is injected once in an admission made by a thread
     * inside {@code Stealing.runChain} but outside a run.
     */
    @Test
    void anAdmissionThatThrowsAtAThiefsRunEndLeavesTheRunEnded() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        try (Cmwq c = EngineProbe.withLane(false,
                () -> Cmwq.builder().name("thief-oom").cpus(2).jmx(false).simulate(true, false).build())) {
            EngineProbe.setCpusSaturated(c.engine(), false); // creations and steals not held back by the machine's load
            Workqueue backlog = c.workqueue("thief-oom-backlog").build();
            Workqueue feed = c.workqueue("thief-oom-feed").build();
            EngineProbe.onAdmit(() -> {
                if (onStackOutsideARun("runChain") && toFail.getAndDecrement() > 0) {
                    throw new OutOfMemoryError("injected: an admission at a thief's run end");
                }
            });
            int n = 400;
            CountDownLatch ran = new CountDownLatch(n);
            backlog.queueOn(0, new Work(() -> {
                for (int i = 0; i < n; i++) {
                    backlog.queue(new Work(() -> {
                        TestSupport.spin(1_000_000L);
                        ran.countDown();
                    }));
                }
            }));
            Thread feeder = new Thread(() -> {
                while (!stop.get() && toFail.get() > 0) {
                    feed.queueOn(0, new Work(() -> { }));
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000); // pacing, not a wait for anything
                }
            }, "thief-oom-feeder");
            feeder.start();
            try {
                assertThat(ran.await(60, TimeUnit.SECONDS)).as("every work of the backlog ran").isTrue();
            } finally {
                stop.set(true);
                feeder.join();
            }
            assertThat(toFail.get()).as("the fault was injected (a thief's end admitted)").isNotPositive();
            EngineProbe.onAdmit(null);
            java.util.concurrent.CompletableFuture.runAsync(backlog::flush).get(60, TimeUnit.SECONDS);
            java.util.concurrent.CompletableFuture.runAsync(feed::flush).get(60, TimeUnit.SECONDS);
            assertAtRestAndRunning(c, backlog);
        } finally {
            EngineProbe.onAdmit(null);
        }
    }

    /**
     * Out of memory in an admission as a lane run that a flush converted (counted it under the
     * lock) ends: the end gives the count back before the drain, so the flush returns. The run
     * queues a work of another workqueue as it ends, for that drain. It used to drain first: the
     * throw left the run counted for good, and the flush hung.
     */
    @Test
    void anAdmissionThatThrowsEndingAConvertedLaneRunLeavesTheRunEnded() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.concurrent.atomic.AtomicReference<Thread> runner = new java.util.concurrent.atomic.AtomicReference<>();
        try (Cmwq c = laneEngineWithoutCountedBlocks("converted-oom")) {
            Workqueue wq = c.workqueue("converted-oom").build();
            Workqueue other = c.workqueue("converted-oom-other").build();
            EngineProbe.onAdmit(outOfMemoryOn(runner, () -> onStackOutsideARun("fastEnd"), toFail,
                    "injected: an admission ending a converted lane run"));
            // rounds until the held work ran in the lane and its end admitted
            for (int round = 0; round < 40 && toFail.get() > 0; round++) {
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch otherRan = new CountDownLatch(1);
                Work held = new Work("held", () -> {
                    runner.set(Thread.currentThread());
                    started.countDown();
                    Blocking.run(() -> TestSupport.awaitQuietly(release, 60));
                    other.queue(new Work(otherRan::countDown)); // for the drain of the run's end
                });
                long laneBefore = EngineProbe.laneStarts(c.engine());
                long conversionsBefore = EngineProbe.conversions(c.engine());
                // queued from a running work, so its worker takes it from the ring after that run
                wq.queue(new Work("starter", () -> wq.queue(held)));
                assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
                boolean inLane = EngineProbe.inLaneRun(c.engine(), held.node)
                        || EngineProbe.laneStarts(c.engine()) - laneBefore >= 1;
                java.util.concurrent.CompletableFuture<Void> flush = java.util.concurrent.CompletableFuture.runAsync(wq::flush);
                if (inLane) {
                    org.awaitility.Awaitility.await("the flush converted the lane run").atMost(Duration.ofSeconds(20))
                            .until(() -> EngineProbe.conversions(c.engine()) > conversionsBefore);
                }
                release.countDown();
                flush.get(60, TimeUnit.SECONDS);
                assertThat(otherRan.await(20, TimeUnit.SECONDS)).as("round %d: the work queued at the end ran", round).isTrue();
            }
            assertThat(toFail.get()).as("the fault was injected (a converted run's end admitted)").isNotPositive();
            EngineProbe.onAdmit(null);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onAdmit(null);
        }
    }

    /**
     * Out of memory in an admission as a lane run with an instance handed to it ends
     * ({@code Worker.endWithHandoff}): its first lock, which converts the run, used to drain
     * before the run was ended or the handed instance taken, so a throw left the run counted and
     * the handed instance never run, and the flush hung. A work of another (freezable: inbound
     * stack, not the lane's ring) workqueue is queued as the first run ends; the fault
     * is injected once in an admission on the runner within {@code endWithHandoff}, outside a
     * run (now the drain after the hand-off is taken, {@code drainAfterHandoff}). The handed
     * run's own end locks with its drain after the end, as {@code process} does; no test here
     * reaches it with something inbound (a work queued in the handed run is admitted by its
     * queuer: the lane worker is not in the running count that spares a queuer the admission).
     */
    @Test
    void anAdmissionThatThrowsEndingALaneRunWithAHandOffLosesNoRun() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.concurrent.atomic.AtomicReference<Thread> runner = new java.util.concurrent.atomic.AtomicReference<>();
        try (Cmwq c = laneEngineWithoutCountedBlocks("lane-handoff-oom")) {
            Workqueue wq = c.workqueue("lane-handoff-oom").build();
            Workqueue other = c.workqueue("lane-handoff-oom-other").freezable().build();
            EngineProbe.onAdmit(outOfMemoryOn(runner, () -> onStackOutside("endWithHandoff", "runOne"), toFail,
                    "injected: an admission ending a lane run with a hand-off"));
            // rounds until the run took the lane and the work queued as it ends was left inbound
            // (announced blocks not counted: a pool that counts them runs its works on the locked path)
            for (int round = 0; round < 200 && toFail.get() > 0; round++) {
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch back = new CountDownLatch(1);
                java.util.concurrent.atomic.AtomicBoolean queued = new java.util.concurrent.atomic.AtomicBoolean();
                CountDownLatch otherRan = new CountDownLatch(1);
                java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
                Work w = new Work("handed", () -> {
                    if (runs.incrementAndGet() == 1) {
                        runner.set(Thread.currentThread());
                        started.countDown();
                        Blocking.run(() -> TestSupport.awaitQuietly(release, 60)); // lets the next instance be handed
                        back.countDown();
                        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        while (!queued.get() && System.nanoTime() - until < 0) {
                            Thread.onSpinWait(); // counted and on the CPU: the queue below leaves its work inbound
                        }
                    }
                });
                // queued from a running work, so its worker takes it from the ring after that run
                wq.queue(new Work("starter", () -> wq.queue(w)));
                assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(wq.queue(w)).isTrue(); // its next instance, handed to the runner
                org.awaitility.Awaitility.await("the next instance handed to the runner").atMost(Duration.ofSeconds(20))
                        .pollInterval(Duration.ofMillis(1)).until(() -> dev.cmwq4j.internal.AccountingProbe.isHandedOff(w.node));
                release.countDown();
                assertThat(back.await(20, TimeUnit.SECONDS)).isTrue();
                other.queue(new Work(otherRan::countDown)); // for the drain as the run ends
                queued.set(true);
                org.awaitility.Awaitility.await("round " + round + ": the handed instance ran").atMost(Duration.ofSeconds(20))
                        .until(() -> runs.get() == 2);
                assertThat(otherRan.await(20, TimeUnit.SECONDS)).as("round %d: the work queued at the end ran", round).isTrue();
                java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
                java.util.concurrent.CompletableFuture.runAsync(other::flush).get(60, TimeUnit.SECONDS);
            }
            assertThat(toFail.get()).as("the fault was injected (a lane run's end with a hand-off admitted)").isNotPositive();
            EngineProbe.onAdmit(null);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onAdmit(null);
        }
    }

    /**
     * A kick the service thread makes again (a queuer's kick could not arm the manager) and that
     * fails there too, for as long as the error lasts, in an unbound pool (which the monitor's
     * look does not keep awake): the service thread retries at its tick. Its retry used to nudge
     * itself, which cut its next nap at once: about 760,000 manager requests a second on that
     * thread. Counted over half a second of the fault; a busy machine only lowers the count.
     * Once the fault is lifted every work gets its worker.
     */
    @Test
    void aServiceThreadWhoseKickKeepsFailingRetriesAtItsTick() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong serviceRequests = new java.util.concurrent.atomic.AtomicLong();
        try (Cmwq c = Cmwq.builder().name("request-loop").cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("request-loop").unbound().build();
            EngineProbe.onManagerRequest(() -> {
                if (Thread.currentThread().getName().endsWith("-monitor")) {
                    serviceRequests.incrementAndGet();
                }
                if (failing.get()) {
                    throw new OutOfMemoryError("injected: arming the manager, for as long as it lasts");
                }
            });
            int blockers = 4;
            CountDownLatch allBlocked = new CountDownLatch(blockers);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < blockers; i++) {
                wq.execute(() -> {
                    allBlocked.countDown();
                    TestSupport.blockOn(release); // each needs a worker of its own
                });
            }
            org.awaitility.Awaitility.await("the service thread makes the failed kick again").atMost(Duration.ofSeconds(20))
                    .until(() -> serviceRequests.get() > 0);
            long before = serviceRequests.get();
            long from = System.nanoTime();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // the window counted
            long retries = serviceRequests.get() - before;
            long window = System.nanoTime() - from;
            failing.set(false);
            assertThat(allBlocked.await(30, TimeUnit.SECONDS)).as("every work got a worker once the fault was lifted").isTrue();
            release.countDown();
            EngineProbe.onManagerRequest(null);
            // a tick is 250 us at least: a tenth of that allows ten requests a tick
            assertThat(retries).as("the service thread's requests in %d ms of the fault", window / 1_000_000)
                    .isLessThan(window / 25_000);
            java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onManagerRequest(null);
        }
    }

    /**
     * Whether the calling thread is inside {@code method} of the engine but not inside a run
     * ({@code Worker.runOne}) or a hand-off's end ({@code Worker.endCounted}) below it: where a
     * test injects a fault into one window of the engine's own bookkeeping.
     */
    private static boolean onStackOutsideARun(String method) {
        return onStackOutside(method, "runOne", "endCounted");
    }

    /** Whether the calling thread is inside {@code method} but not inside any of {@code below} within it. */
    private static boolean onStackOutside(String method, String... below) {
        java.util.List<String> excluded = java.util.List.of(below);
        return StackWalker.getInstance().walk(frames -> {
            boolean in = false;
            for (StackWalker.StackFrame f : (Iterable<StackWalker.StackFrame>) frames::iterator) {
                String m = f.getMethodName();
                if (excluded.contains(m)) {
                    return false; // innermost first: one of them below the method
                }
                if (m.equals(method)) {
                    in = true;
                    break;
                }
            }
            return in;
        });
    }

    /**
     * Out of memory as a kick asks the manager for a worker (arming its timer entry grows the
     * timer's heap when it is full), injected on every queuer and worker that asks:
     * the kick is made again by the service thread (its request seen inside
     * {@code Monitor.admitWanted}), so nothing throws to a queuer or out of an announced block,
     * and every work that needs a worker of its own gets one. It used to reach
     * the caller: a queue that had queued its work threw, or a work's {@code Blocking} call did.
     */
    @Test
    void aManagerRequestThatCannotBeArmedIsMadeByTheServiceThread() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        java.util.Queue<Throwable> thrown = new java.util.concurrent.ConcurrentLinkedQueue<>();
        int blockers = 4;
        try (Cmwq c = EngineProbe.withLane(false,
                () -> Cmwq.builder().name("request-oom").cpus(1).jmx(false).build())) {
            Workqueue wq = c.workqueue("request-oom").build();
            java.util.concurrent.atomic.AtomicBoolean remade = new java.util.concurrent.atomic.AtomicBoolean();
            EngineProbe.onManagerRequest(() -> {
                if (Thread.currentThread().getName().endsWith("-monitor")) {
                    if (onStackOutside("admitWanted")) {
                        remade.set(true); // the kick made again, not a need the monitor found later
                    }
                } else {
                    toFail.decrementAndGet();
                    throw new OutOfMemoryError("injected: arming the manager"); // on every queuer and worker
                }
            });
            CountDownLatch allBlocked = new CountDownLatch(blockers);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch ran = new CountDownLatch(blockers);
            for (int i = 0; i < blockers; i++) {
                try {
                    wq.execute(() -> {
                        try {
                            allBlocked.countDown();
                            TestSupport.blockOn(release); // each needs a worker of its own to start
                        } catch (Throwable t) {
                            thrown.add(t);
                        }
                        ran.countDown();
                    });
                } catch (Throwable t) {
                    thrown.add(t);
                }
            }
            boolean together = allBlocked.await(30, TimeUnit.SECONDS);
            release.countDown();
            assertThat(thrown).as("nothing thrown to a queuer or out of a block").isEmpty();
            assertThat(together).as("all %d blocked at once: each got a worker", blockers).isTrue();
            assertThat(toFail.get()).as("the fault was injected").isNotPositive();
            assertThat(remade).as("the service thread made the failed kick again").isTrue();
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            EngineProbe.onManagerRequest(null);
            java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onManagerRequest(null);
        }
    }

    /**
     * Out of memory in the kick for a work that a run's end activates (injected once, on a
     * worker thread): the finished run's colour is counted out first, so a flush of the queue
     * returns, and every work runs once. Three works on a queue of {@code maxActive} 1, one CPU:
     * the first's end activates the second. The colour used to be counted after the activation:
     * the throw left it counted, and the flush waited for good.
     */
    @Test
    void aKickThatThrowsAsARunEndsLeavesNoColourCounted() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        try (Cmwq c = EngineProbe.withLane(false,
                () -> Cmwq.builder().name("activate-oom").cpus(1).jmx(false).build())) {
            Workqueue wq = c.workqueue("activate-oom").maxActive(1).build();
            EngineProbe.onActivationKick(outOfMemoryOnThreadsOf("cmwq4j-activate-oom-cpu", toFail, "injected: the kick for an activated work"));
            CountDownLatch firstRuns = new CountDownLatch(1);
            CountDownLatch othersQueued = new CountDownLatch(1);
            CountDownLatch ran = new CountDownLatch(3);
            java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
            wq.execute(() -> {
                firstRuns.countDown();
                TestSupport.awaitQuietly(othersQueued, 60); // the others wait inactive behind it
                runs.incrementAndGet();
                ran.countDown();
            });
            assertThat(firstRuns.await(20, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 2; i++) {
                wq.execute(() -> {
                    runs.incrementAndGet();
                    ran.countDown();
                });
            }
            othersQueued.countDown();
            assertThat(ran.await(20, TimeUnit.SECONDS)).as("every work ran").isTrue();
            assertThat(toFail.get()).as("the fault was injected (the hook ran once it could throw)").isNotPositive();
            java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
            assertThat(runs.get()).as("each once").isEqualTo(3);
            EngineProbe.onActivationKick(null);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onActivationKick(null);
        }
    }

    /**
     * Out of memory as a worker leaves the running count for a CPU-intensive run (injected once,
     * where it looks for a kick for its pool's other works, after the count changed): the run
     * goes on. Ten works of a CPU-intensive workqueue on one CPU each run once, a flush returns,
     * and the pool is at rest and runs works. The throw used to leave {@code runOne} before the
     * work's run: started, never run, and the flush waited for good.
     */
    @Test
    void anErrorLeavingTheCountForACpuIntensiveRunLosesNoWork() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        try (Cmwq c = Cmwq.builder().name("hog-oom").cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("hog-oom").cpuIntensive().build();
            EngineProbe.onLeftCount(outOfMemoryOnThreadsOf("cmwq4j-hog-oom-cpu", toFail, "injected: leaving the count"));
            int n = 10;
            CountDownLatch ran = new CountDownLatch(n);
            java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
            for (int i = 0; i < n; i++) {
                wq.execute(() -> {
                    runs.incrementAndGet();
                    ran.countDown();
                });
            }
            assertThat(ran.await(20, TimeUnit.SECONDS)).as("every work ran").isTrue();
            java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
            assertThat(runs.get()).as("each once").isEqualTo(n);
            assertThat(toFail.get()).as("the fault was injected").isNegative();
            EngineProbe.onLeftCount(null);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onLeftCount(null);
        }
    }

    /**
     * Out of memory as a worker asks an idle sibling for a thief (injected once, on a worker
     * thread), between the start of a work and its run (the locked path's {@code process}, the
     * lane's loop): a thief is an optimization, and its failure must not cost the work that just
     * started. Twenty works of 200 us from outside, on two CPUs, each runs once, a flush returns,
     * and the pools are at rest and run works.
     */
    @Test
    void anErrorAskingForAThiefLosesNoWork() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        try (Cmwq c = Cmwq.builder().name("thief-oom").cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("thief-oom").build();
            EngineProbe.onAskForThief(outOfMemoryOnThreadsOf("cmwq4j-thief-oom-cpu", toFail, "injected: asking for a thief"));
            for (int round = 0; round < 50 && toFail.get() > 0; round++) {
                int n = 20;
                CountDownLatch ran = new CountDownLatch(n);
                java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
                for (int i = 0; i < n; i++) {
                    wq.execute(() -> {
                        long until = System.nanoTime() + 200_000;
                        while (System.nanoTime() - until < 0) {
                            Thread.onSpinWait();
                        }
                        runs.incrementAndGet();
                        ran.countDown();
                    });
                }
                assertThat(ran.await(20, TimeUnit.SECONDS)).as("round %d: every work ran", round).isTrue();
                java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
                assertThat(runs.get()).as("round %d: each once", round).isEqualTo(n);
            }
            assertThat(toFail.get()).as("the fault was injected").isNegative();
            EngineProbe.onAskForThief(null);
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onAskForThief(null);
        }
    }

    /**
     * Out of memory for a slot of a lane worker's statistics buffer (injected once, at its first
     * fast run's end): the run's statistics are lost, and the worker's thread ends on the error,
     * nothing else. A chain of 200 hops in the lane runs every hop once, a flush returns, the
     * statistics miss at most that one run, and the pool is at rest and runs works. Two faults
     * this found: the slot used to be made before the mark's CAS, with the run still named by
     * the mark, so the throw left a later lock holder to count the ended run as running, with
     * nothing to count it out; and the leaving worker's kick did not see the chain's successor,
     * still in the ring (its leave does not admit), so it waited for the service thread's next
     * timer.
     */
    @Test
    void outOfMemoryForALaneStatisticsSlotLosesOnlyThatRunsStatistics() throws Exception {
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        Cmwq c = EngineProbe.withLane(true,
                () -> Cmwq.builder().name("slot-oom").cpus(1).jmx(false).build());
        EngineProbe.onFastSlot(TestSupport.failOnce(toFail,
                () -> new OutOfMemoryError("injected: a statistics slot")));
        try (c) {
            Workqueue wq = c.workqueue("slot-oom").build();
            int hops = 200;
            java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(hops);
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            Work[] w = new Work[1];
            w[0] = new Work(() -> {
                ran.incrementAndGet();
                if (left.decrementAndGet() > 0) {
                    wq.queue(w[0]);
                } else {
                    done.countDown();
                }
            });
            wq.queue(w[0]);
            // milliseconds when the leave has the ring admitted; without, the successor waited for
            // the service thread's next timer (30 s here, or for good with none armed)
            assertThat(done.await(20, TimeUnit.SECONDS)).as("the chain ended").isTrue();
            assertThat(toFail.get()).as("the fault was injected").isNegative();
            assertThat(EngineProbe.laneStarts(c.engine())).as("ran in the lane").isPositive();
            java.util.concurrent.CompletableFuture<Void> flushed = java.util.concurrent.CompletableFuture.runAsync(wq::flush);
            flushed.get(60, TimeUnit.SECONDS);
            assertThat(ran.get()).isEqualTo(hops);
            assertThat(wq.stats().total()).as("runs counted").isBetween((long) hops - 1, (long) hops);
            assertThat(wq.stats().inFlight()).isZero();
            assertAtRestAndRunning(c, wq);
        } finally {
            EngineProbe.onFastSlot(null);
        }
    }

    /**
     * Out of memory as a retiring worker is taken off its pool's worker list (injected once): the
     * thread still unlocks its pool as it ends, the counts say one worker fewer, and the pool goes
     * on (a queue admits, a new worker runs the works). The list copy used to come first and
     * throw past the unlock: the thread ended holding the pool lock, and every queue to that pool
     * (and the service thread) waited for it for good.
     */
    @Test
    void outOfMemoryTakingARetiringWorkerOffTheListStillUnlocksItsPool() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("retire").build();
            assertThat(hundredWorksRan(wq)).isTrue();
            TestSupport.assertPoolsAtRest(c);
            java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
            dev.cmwq4j.internal.EngineProbe.onWorkerList(phase -> {
                if (phase == 1 && toFail.getAndDecrement() > 0) {
                    throw new OutOfMemoryError("injected: taking a worker off the list");
                }
            });
            try {
                assertThat(dev.cmwq4j.internal.EngineProbe.retireOneIdleEverywhere(c.engine())).isPositive();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> toFail.get() <= 0); // injected
            } finally {
                dev.cmwq4j.internal.EngineProbe.onWorkerList(null);
            }
            // from another thread, bounded: with the lock left held, this queue never returned
            java.util.concurrent.CompletableFuture<Boolean> ran = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try {
                            return hundredWorksRan(wq);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            assertThat(ran.get(90, TimeUnit.SECONDS)).as("works queued after the retirement ran").isTrue();
            wq.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A block announced near the end of a stack may overflow in its bookkeeping (statistics, the
     * JFR event), after the worker's state left RUNNING (injected once at that point): the worker
     * has left the running count all the same, so the run's end counts it back once, and the pool
     * is at rest afterwards and runs what comes. The count used to be left after the statistics:
     * the throw skipped it, the run's end counted the worker again on top, and the pool kept a
     * phantom running worker (on one CPU, nothing queued later ran).
     */
    @Test
    void aBlockWhoseBookkeepingOverflowsLeavesNoPhantomRunningWorker() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).jmx(false).build())) {
            Workqueue wq = c.workqueue("overflowing-block").build();
            BlockOutcome block = emptyBlockInAWork(c, wq, dev.cmwq4j.internal.EngineProbe::onBlockBegins,
                    () -> new StackOverflowError("injected: an announced block's bookkeeping"));
            assertThat(block.thrown()).isInstanceOf(StackOverflowError.class);
            assertAtRestAndRunning(c, wq);
        }
    }

    /**
     * An announced block whose entry throws (its bookkeeping, injected once after the worker's
     * state changed) never began for its caller, who does not end it: the entry ends it. For the
     * rest of the run the worker shows as running and counted, not blocked, and the run's next
     * block is a block of its own (blocked while it lasts, counted or not as the mode says). Both
     * modes: a pool that counts its blocks (the entry had set the counted block) and one under the
     * kernel's rule (the entry had left the running count). Left open, the failed block lasted
     * until the run's end: the worker showed as blocked (counted as off the CPU, or out of the
     * count) while it ran, and the next block was taken for a nested one.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "counted blocks: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aBlockWhoseEntryThrowsEndsThere(boolean counted) throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(counted, () -> Cmwq.builder().cpus(1).jmx(false).build())) {
            Workqueue wq = c.workqueue("failed-entry").build();
            java.util.concurrent.atomic.AtomicReference<PoolStats> inNext = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicReference<PoolStats> afterNext = new java.util.concurrent.atomic.AtomicReference<>();
            BlockOutcome block = emptyBlockInAWork(c, wq, dev.cmwq4j.internal.EngineProbe::onBlockBegins,
                    () -> new OutOfMemoryError("injected: an announced block's bookkeeping"), () -> {
                        Blocking.run(() -> inNext.set(c.poolStats().get(0)));
                        afterNext.set(c.poolStats().get(0));
                    });
            assertThat(block.thrown()).isInstanceOf(OutOfMemoryError.class);
            assertThat(block.after().blocked()).as("blocked after the failed entry: " + block.after()).isZero();
            assertThat(block.after().nrRunning()).as("counted after the failed entry: " + block.after()).isEqualTo(1);
            assertThat(inNext.get().blocked()).as("blocked in the next block: " + inNext.get()).isEqualTo(1);
            assertThat(inNext.get().nrRunning()).as("counted in the next block: " + inNext.get()).isEqualTo(counted ? 1 : 0);
            assertThat(afterNext.get().blocked()).as("blocked after the next block: " + afterNext.get()).isZero();
            assertThat(afterNext.get().nrRunning()).as("counted after the next block: " + afterNext.get()).isEqualTo(1);
            assertAtRestAndRunning(c, wq);
        }
    }

    /**
     * A block's end whose bookkeeping throws (its JFR event and profile, injected once after the
     * worker's state is back to RUNNING) still counts the worker again: the rest of the run is
     * counted, and the pool ends at rest with a count of zero. The count came after that
     * bookkeeping: the throw skipped it, the run's end did not recount a worker it found RUNNING,
     * and the pool ran one below its count for good (at -1 once idle). Under the kernel's rule,
     * where a block's end counts the worker again.
     */
    @Test
    void aBlockWhoseEndThrowsCountsTheWorkerAgain() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).jmx(false).build())) {
            Workqueue wq = c.workqueue("failed-end").build();
            BlockOutcome block = emptyBlockInAWork(c, wq, dev.cmwq4j.internal.EngineProbe::onBlockOver,
                    () -> new OutOfMemoryError("injected: the end of a block's bookkeeping"));
            assertThat(block.thrown()).isInstanceOf(OutOfMemoryError.class);
            assertThat(block.after().nrRunning()).as("counted after the block's end: " + block.after()).isEqualTo(1);
            assertThat(block.after().blocked()).as("blocked after the block's end: " + block.after()).isZero();
            assertAtRestAndRunning(c, wq);
        }
    }

    /**
     * A detection whose statistics throw (injected once on the service thread, after the worker's
     * state says it is out of the count) still takes the worker out of the running count and
     * kicks the pool: works that wait for their turn behind blocked ones start while those wait,
     * and the pool ends at rest with a count of zero. Works that wait unannounced are queued one
     * at a time until the fault is injected: each starts on a free worker at once, or, once every
     * worker waits, after the service thread raised the pool's target for it (up to the ceiling,
     * {@code EngineProbe.MAX_TARGET}) or took one of them out (the detection). The count and
     * the kick came after the statistics: the throw skipped both, the work queued last never
     * started while the others waited, and the detected worker's recount left its pool one above
     * its count for good. Under the kernel's rule, without the fast lane.
     */
    @Test
    void aDetectionWhoseStatisticsThrowStillUncountsTheWorker() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false,
                () -> EngineProbe.withLane(false, () -> Cmwq.builder().cpus(1).jmx(false).build()))) {
            Workqueue wq = c.workqueue("failed-detection").build();
            java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
            CountDownLatch release = new CountDownLatch(1);
            dev.cmwq4j.internal.EngineProbe.onMonitorUncount(TestSupport.failOnce(toFail, () -> new OutOfMemoryError("injected: a detection's statistics")));
            int waiters = 0;
            try {
                while (toFail.get() > 0 && waiters < 3 * EngineProbe.MAX_TARGET) {
                    CountDownLatch started = new CountDownLatch(1);
                    wq.queue(new Work("waiter " + waiters, () -> {
                        started.countDown();
                        try {
                            release.await(60, TimeUnit.SECONDS); // unannounced: the monitor detects it
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }));
                    waiters++;
                    boolean began = started.await(30, TimeUnit.SECONDS);
                    assertThat(began).as("waiter %d started while the others waited (fault injected: %s)",
                            waiters, toFail.get() <= 0).isTrue();
                }
            } finally {
                release.countDown();
                dev.cmwq4j.internal.EngineProbe.onMonitorUncount(null);
            }
            wq.flush();
            assertThat(toFail.get()).as("the fault was injected").isLessThanOrEqualTo(0);
            assertAtRestAndRunning(c, wq);
        }
    }

    /**
     * A wait for a work running elsewhere is a join (the pool counts its joiners, which hold the
     * creation of a thread for the join window); if the wait's entry throws (injected once), the
     * join ends with it: the pool counts no joiner while the waiting work goes on. It used to
     * count one until that work's end.
     */
    @Test
    void aJoinWhoseEntryThrowsLeavesNoJoiner() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("failed-join").build();
            var es = wq.asExecutorService();
            CountDownLatch awaitedStarted = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.Future<?> awaited = es.submit(() -> {
                awaitedStarted.countDown();
                while (!release.get()) {
                    Thread.onSpinWait();
                }
            });
            assertThat(awaitedStarted.await(30, TimeUnit.SECONDS)).isTrue();
            java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
            java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicInteger joinersAfter = new java.util.concurrent.atomic.AtomicInteger(-1);
            dev.cmwq4j.internal.EngineProbe.onBlockBegins(TestSupport.failOnce(toFail, () -> new OutOfMemoryError("injected: a join's bookkeeping")));
            try {
                wq.queue(new Work(() -> {
                    try {
                        awaited.get();
                    } catch (Throwable t) {
                        thrown.set(t);
                    }
                    int joiners = 0;
                    for (var p : EngineProbe.poolCounts(c.engine())) {
                        joiners += p.joining();
                    }
                    joinersAfter.set(joiners);
                    release.set(true);
                }));
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(release::get);
            } finally {
                release.set(true);
                dev.cmwq4j.internal.EngineProbe.onBlockBegins(null);
            }
            wq.flush();
            assertThat(thrown.get()).isInstanceOf(OutOfMemoryError.class);
            assertThat(joinersAfter.get()).as("joiners counted after the failed entry").isZero();
            assertAtRestAndRunning(c, wq);
        }
    }

    /**
     * A delayed queue that throws after its claim and before its timer is armed (a stack overflow
     * injected at the arming seam, once; the timer itself refuses to arm without stack to spare)
     * gives the claim up: the work is queueable again, runs, a cancel returns at once, and a drain
     * does not wait for it. It used to stay claimed for good: every queue refused it, a cancel
     * spun, a drain waited.
     */
    @Test
    void aDelayedQueueThatThrowsBeforeArmingLeavesTheWorkQueueable() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("delayed-fault").build();
            CountDownLatch ran = new CountDownLatch(1);
            DelayedWork d = new DelayedWork(ran::countDown);
            dev.cmwq4j.internal.AccountingProbe.onArm(TestSupport.throwOnce(0, Thread.currentThread(),
                    () -> new StackOverflowError("injected: arming a delayed work")));
            try {
                assertThatThrownBy(() -> wq.queueDelayed(d, Duration.ofMillis(1))).isInstanceOf(StackOverflowError.class);
            } finally {
                dev.cmwq4j.internal.AccountingProbe.onArm(null);
            }
            // (left claimed, it refused this queue, and a cancel of it spun for good)
            assertThat(wq.queueDelayed(d, Duration.ofMillis(1))).as("queueable again").isTrue();
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            wq.drain(); // returns: no armed count was left behind by the failed queue
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * A woken worker of an unbound pool whose thread throws as it relocks (out of memory in the
     * admission its lock makes; injected once) gives its waker's count back: the work that woke
     * it runs on the next worker, and the pool ends at rest. The count stayed, and the pool took
     * one more pending work for served for good: that work never ran, nor a lone work after it.
     */
    @Test
    void aWokenUnboundWorkerThatDiesBeforeItServesGivesItsWakeBack() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            for (Workqueue wq : new Workqueue[] {c.workqueue("unbound").unbound().build(),
                    c.workqueue("ordered").ordered().build()}) {
                assertThat(hundredWorksRan(wq)).isTrue(); // a worker, now idle and parked
                wq.flush();
                TestSupport.assertPoolsAtRest(c);
                java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
                dev.cmwq4j.internal.EngineProbe.onIdleRelock(() -> {
                    if (Thread.currentThread().getName().contains("unbound") && toFail.getAndDecrement() > 0) {
                        throw new OutOfMemoryError("injected: an idle worker's relock");
                    }
                });
                CountDownLatch ran = new CountDownLatch(1);
                try {
                    wq.queue(new Work(ran::countDown));
                    assertThat(ran.await(30, TimeUnit.SECONDS)).as("the work that woke the dead worker ran").isTrue();
                } finally {
                    dev.cmwq4j.internal.EngineProbe.onIdleRelock(null);
                }
                assertThat(toFail.get()).as("the fault was injected").isNotPositive();
                wq.flush();
                TestSupport.assertPoolsAtRest(c);
                assertThat(hundredWorksRan(wq)).isTrue();
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }

    /**
     * A drain whose admission throws at the second node of its batch (out of memory injected
     * there, once) leaves the rest of the batch in the pool's {@code admitting} list: those works
     * still run, once each, with no further queue, and the pool ends at rest. The batch is the one
     * a lingering worker's relock admits (its works pushed while the worker lingered, counted as
     * running, so no queuer took the lock); its first node is a work of a frozen workqueue, held
     * inactive, so nothing is listed when the worker's thread ends on the error, and its leave
     * kicks no one. The works left behind were invisible to {@code hasWork()} and to the monitor,
     * and nobody took the pool lock again: they waited for the next queue to that pool.
     */
    @Test
    void worksAThrowingAdmissionLeftBehindRunWithoutAnotherQueue() throws Exception {
        String name = "admit-left-" + System.nanoTime();
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> died = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<Thread> lingerer = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger admitted = new java.util.concurrent.atomic.AtomicInteger();
        try (Cmwq c = Cmwq.builder().name(name).cpus(1).jmx(false).simulate(true, false)
                .threadFactory(TestSupport.recordingDeaths(died)).build()) {
            dev.cmwq4j.internal.EngineProbe.setCpusSaturated(c.engine(), false); // the worker lingers
            Workqueue frozen = c.workqueue("frozen").freezable().build();
            Workqueue wq = c.workqueue("left-behind").build();
            frozen.freeze();
            int n = 5; // the batch: node 0 is frozen's (held inactive), nodes 1-4 are wq's
            java.util.concurrent.atomic.AtomicIntegerArray runs = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            CountDownLatch leftBehindRan = new CountDownLatch(n - 1);
            Work[] works = new Work[n];
            for (int i = 0; i < n; i++) {
                int index = i;
                works[i] = new Work("batch-" + i, () -> {
                    runs.incrementAndGet(index);
                    if (index > 0) {
                        leftBehindRan.countDown();
                    }
                });
            }
            dev.cmwq4j.internal.EngineProbe.onAdmit(() -> {
                if (Thread.currentThread() == lingerer.get() && admitted.incrementAndGet() == 2) {
                    throw new OutOfMemoryError("injected: the second admission of a drained batch");
                }
            });
            dev.cmwq4j.internal.EngineProbe.onLinger(() -> {
                // only this engine's worker, once; it is counted as running, so these queues push
                // and take no lock, and the lock it takes as its linger ends admits them as one batch
                if (Thread.currentThread().getName().contains(name) && first.compareAndSet(true, false)) {
                    assertThat(frozen.queue(works[0])).isTrue();
                    for (int i = 1; i < n; i++) {
                        assertThat(wq.queue(works[i])).isTrue();
                    }
                    lingerer.set(Thread.currentThread());
                }
            });
            try {
                wq.queue(new Work("before", () -> { }));
                assertThat(leftBehindRan.await(30, TimeUnit.SECONDS))
                        .as("the works left in admitting ran, with no other queue (admissions the fault counted: %d,"
                                + " threads ended: %s)", admitted.get(), died).isTrue();
            } finally {
                dev.cmwq4j.internal.EngineProbe.onLinger(null);
                dev.cmwq4j.internal.EngineProbe.onAdmit(null);
                if (leftBehindRan.getCount() > 0) {
                    frozen.thaw(); // else the close waits for the frozen work, and hides the failure
                }
            }
            assertThat(admitted.get()).as("the admission of the batch's second node threw").isEqualTo(2);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !died.isEmpty());
            assertThat(died).as("the lingering worker's thread ended on the injected error").hasSize(1)
                    .allMatch(t -> t instanceof OutOfMemoryError);
            assertThat(runs.get(0)).as("the frozen workqueue's work waits for the thaw").isZero();
            frozen.thaw();
            frozen.flush();
            wq.flush();
            for (int i = 0; i < n; i++) {
                assertThat(runs.get(i)).as("runs of batch node %d", i).isEqualTo(1);
            }
            TestSupport.assertPoolsAtRest(c);
        } finally {
            dev.cmwq4j.internal.EngineProbe.onLinger(null);
            dev.cmwq4j.internal.EngineProbe.onAdmit(null);
        }
    }

    /** What an empty announced block in a work threw, and its pool's statistics right after it. */
    private record BlockOutcome(Throwable thrown, PoolStats after) {}

    /** {@link #emptyBlockInAWork(Cmwq, Workqueue, Runnable)}, with nothing after the block. */
    private static BlockOutcome emptyBlockInAWork(Cmwq c, Workqueue wq,
            java.util.function.Consumer<Runnable> seam, java.util.function.Supplier<? extends Error> fault) {
        return emptyBlockInAWork(c, wq, seam, fault, () -> { });
    }

    /**
     * Runs an empty announced block in a work of {@code wq} (on {@code c}'s one pool), with
     * {@code fault} thrown once at {@code seam} (an {@code EngineProbe} hook installer), then
     * {@code then} in the same work, and flushes: what the block threw (null if nothing), and the
     * pool's statistics taken in the work right after the block, its worker still running.
     */
    private static BlockOutcome emptyBlockInAWork(Cmwq c, Workqueue wq, java.util.function.Consumer<Runnable> seam,
            java.util.function.Supplier<? extends Error> fault, Runnable then) {
        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<PoolStats> after = new java.util.concurrent.atomic.AtomicReference<>();
        seam.accept(TestSupport.failOnce(new java.util.concurrent.atomic.AtomicInteger(1), fault));
        try {
            wq.queue(new Work(() -> {
                try {
                    Blocking.run(() -> { });
                } catch (Throwable t) {
                    thrown.set(t);
                }
                after.set(c.poolStats().get(0));
                then.run();
            }));
            wq.flush();
        } finally {
            seam.accept(null);
        }
        return new BlockOutcome(thrown.get(), after.get());
    }

    /** The pools are at rest, then run a hundred works of {@code wq}, and are at rest again. */
    private static void assertAtRestAndRunning(Cmwq c, Workqueue wq) throws InterruptedException {
        TestSupport.assertPoolsAtRest(c);
        assertThat(hundredWorksRan(wq)).isTrue();
        TestSupport.assertPoolsAtRest(c);
    }

    /** Queues 100 tasks on {@code wq}; whether all ran within 60 s. */
    private static boolean hundredWorksRan(Workqueue wq) throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(100);
        for (int i = 0; i < 100; i++) {
            wq.execute(ran::countDown);
        }
        return ran.await(60, TimeUnit.SECONDS);
    }

    /**
     * An interrupt that reaches a worker after its work ended belongs to no one: the idle worker
     * clears it and parks (it used to spin on parkNanos), and the next work starts uninterrupted.
     */
    @Test
    void anInterruptAfterTheWorkEndedIsNotKept() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("late-interrupt").build();
            java.util.concurrent.atomic.AtomicReference<Thread> worker = new java.util.concurrent.atomic.AtomicReference<>();
            CountDownLatch ran = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                worker.set(Thread.currentThread());
                ran.countDown();
            }));
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            TestSupport.assertPoolsAtRest(c); // the work has ended, its worker is idle
            Thread t = worker.get();
            t.interrupt();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
                    !t.isInterrupted() && t.getState() == Thread.State.TIMED_WAITING);
            java.util.concurrent.atomic.AtomicBoolean sawInterrupt = new java.util.concurrent.atomic.AtomicBoolean(true);
            CountDownLatch next = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                sawInterrupt.set(Thread.currentThread().isInterrupted());
                next.countDown();
            }));
            assertThat(next.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(sawInterrupt.get()).as("the next work started interrupted").isFalse();
        }
    }

    /**
     * shutdownNow interrupts the tasks that still run, and no one else: it read a task's runner
     * and interrupted it a moment later, when that worker may already run another work.
     */
    @Test
    void shutdownNowInterruptsOnlyItsOwnRunningTasks() throws Exception {
        int rounds = 3000 * Integer.getInteger("cmwq4j.stress.scale", 1);
        long deadline = System.nanoTime() + STRESS_BUDGET_NANOS;
        java.util.concurrent.atomic.AtomicInteger stray = new java.util.concurrent.atomic.AtomicInteger();
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("mixed").build();
            Work[] unrelated = new Work[8];
            for (int i = 0; i < unrelated.length; i++) {
                unrelated[i] = new Work(() -> {
                    if (Thread.currentThread().isInterrupted()) {
                        stray.incrementAndGet();
                    }
                    TestSupport.spin(2_000);
                    if (Thread.interrupted()) {
                        stray.incrementAndGet();
                    }
                });
            }
            for (int r = 0; moreRounds(r, 3000, rounds, deadline); r++) {
                java.util.concurrent.ExecutorService es = wq.asExecutorService();
                for (int k = 0; k < 2; k++) {
                    es.execute(() -> TestSupport.spin(1_000));
                }
                for (Work w : unrelated) {
                    wq.queue(w);
                }
                es.shutdownNow();
            }
            wq.flush();
        }
        assertThat(stray.get()).as("unrelated works that saw an interrupt").isZero();
    }

    /** After Cmwq.close(): building a workqueue is rejected, and so is queueing; no MBean stays. */
    @Test
    void aClosedCmwqRejectsNewWorkqueuesAndWorks() throws Exception {
        String name = "closed-" + System.nanoTime();
        Cmwq c = Cmwq.builder().name(name).cpus(1).build();
        Workqueue before = c.workqueue("before").build();
        c.close();
        assertThatThrownBy(() -> c.workqueue("after").build())
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> before.queue(new Work(() -> { })))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        assertThatThrownBy(() -> before.queueDelayed(new DelayedWork(() -> { }), Duration.ofMillis(1)))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        assertThat(server.queryNames(new javax.management.ObjectName("dev.cmwq4j:cmwq=" + name + ",*"), null))
                .as("MBeans left behind").isEmpty();
    }

    /**
     * queue() racing Cmwq.close(): each call is either rejected or its work runs before close()
     * returns. Immediate and delayed works, from two producers.
     */
    @Test
    void queueRacingCloseIsRejectedOrRuns() throws Exception {
        int rounds = 60 * Integer.getInteger("cmwq4j.stress.scale", 1);
        long deadline = System.nanoTime() + STRESS_BUDGET_NANOS;
        for (int r = 0; moreRounds(r, 60, rounds, deadline); r++) {
            Cmwq c = Cmwq.builder().cpus(2).jmx(false).build();
            Workqueue bound = c.workqueue("bound").build();
            Workqueue unbound = c.workqueue("unbound").unbound().build();
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            CountDownLatch producing = new CountDownLatch(2);
            Thread[] producers = new Thread[2];
            for (int k = 0; k < producers.length; k++) {
                Workqueue wq = k == 0 ? bound : unbound;
                int kind = k;
                producers[k] = new Thread(() -> {
                    producing.countDown();
                    for (int i = 0; ; i++) {
                        try {
                            boolean ok = (kind + i) % 3 == 0
                                    ? wq.queueDelayed(new DelayedWork(ran::incrementAndGet), Duration.ofNanos(i % 50 * 1000))
                                    : wq.queue(new Work(ran::incrementAndGet));
                            assertThat(ok).isTrue();
                            accepted.incrementAndGet();
                        } catch (java.util.concurrent.RejectedExecutionException e) {
                            return;
                        }
                    }
                }, "producer-" + k);
                producers[k].start();
            }
            assertThat(producing.await(30, TimeUnit.SECONDS)).isTrue();
            c.close();
            int ranAtClose = ran.get();
            for (Thread t : producers) {
                t.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(t.isAlive()).as("a producer still accepted after close").isFalse();
            }
            assertThat(ranAtClose).as("round %d: every accepted work ran before close() returned", r)
                    .isEqualTo(accepted.get());
        }
    }

    /** The README's probe pattern: each function synchronizes on its own cookie. */
    static long probePattern(AsyncDomain d, int n) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(n);
        long[] lastSeen = {0};
        java.util.concurrent.atomic.AtomicLong outOfOrder = new java.util.concurrent.atomic.AtomicLong();
        for (int i = 0; i < n; i++) {
            d.schedule(cookie -> {
                d.synchronizeCookie(cookie);
                synchronized (lastSeen) {
                    if (cookie != lastSeen[0] + 1) {
                        outOfOrder.incrementAndGet();
                    }
                    lastSeen[0] = cookie;
                }
                done.countDown();
            });
        }
        assertThat(done.await(120, TimeUnit.SECONDS)).as("all %d probes finished", n).isTrue();
        d.synchronizeFull();
        return outOfOrder.get();
    }

    /**
     * AsyncDomain woke every waiter at each completion of the oldest function: the probe pattern
     * was quadratic (5,000 functions: 6.3 s at the default maxActive, 0.23 s at 8). Now a waiter
     * is woken once, when its wait is over.
     */
    @Test
    void anAsyncDomainWakesOnlyTheWaitersItSatisfies() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            AsyncDomain d = new AsyncDomain("probes", c.workqueue("probes").unbound().build());
            int n = 2000;
            assertThat(probePattern(d, n)).as("probes that registered out of cookie order").isZero();
            assertThat(d.wakeups()).as("wake-ups of %d functions that each waited at most once", n)
                    .isLessThanOrEqualTo(n);
        }
    }

    /**
     * The probe pattern's cost: 5,000 functions at the default maxActive (256) within 2x the time
     * at maxActive 8. Wall time: tagged timing ({@code mvn -B test -Ptiming}).
     */
    @Test
    @org.junit.jupiter.api.Tag("timing")
    void theProbePatternAtDefaultMaxActiveIsWithinTwiceMaxActive8() throws Exception {
        // the default domain (Workqueues.systemUnbound(), maxActive 256) against a queue of the
        // same shared instance limited to 8
        Workqueue eight = Workqueue.builder("probes-8").unbound().maxActive(8).build();
        try {
            int n = 5000;
            long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
            for (int round = 0; round < 3; round++) {
                for (int k = 0; k < 2; k++) {
                    long t0 = System.nanoTime();
                    probePattern(k == 0 ? new AsyncDomain("probes") : new AsyncDomain("probes-8", eight), n);
                    best[k] = Math.min(best[k], System.nanoTime() - t0);
                }
            }
            System.out.printf("async probe pattern, %d functions: maxActive %d %.3f s, maxActive 8 %.3f s (best of 3)%n",
                    n, Workqueue.DEFAULT_MAX_ACTIVE, best[0] / 1e9, best[1] / 1e9);
            assertThat(best[0]).isLessThanOrEqualTo(2 * best[1]);
        } finally {
            eight.close();
        }
    }

    /**
     * A work of an ordered queue that waits for a future whose task is queued behind it on the
     * same queue fails fast, as Work.flush does, whatever the kind of wait: it used to hang.
     */
    @Test
    void futureWaitsOnAnOrderedQueueFailFast() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue ordered = c.workqueue("ordered").ordered().build();
            java.util.concurrent.ExecutorService es = ordered.asExecutorService();
            java.util.List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.List<java.util.function.Consumer<Workqueue>> waits = java.util.List.of(
                    wq -> wq.supplyAsync(() -> 1).join(),
                    wq -> {
                        try {
                            wq.supplyAsync(() -> 1).get();
                        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                            throw new AssertionError(e);
                        }
                    },
                    wq -> {
                        try {
                            wq.runAsync(() -> { }).get(1, TimeUnit.HOURS);
                        } catch (InterruptedException | java.util.concurrent.ExecutionException
                                | java.util.concurrent.TimeoutException e) {
                            throw new AssertionError(e);
                        }
                    },
                    wq -> {
                        try {
                            es.submit(() -> 1).get();
                        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                            throw new AssertionError(e);
                        }
                    },
                    wq -> {
                        try {
                            es.submit(() -> 1).get(1, TimeUnit.HOURS);
                        } catch (InterruptedException | java.util.concurrent.ExecutionException
                                | java.util.concurrent.TimeoutException e) {
                            throw new AssertionError(e);
                        }
                    });
            for (var wait : waits) {
                CountDownLatch done = new CountDownLatch(1);
                ordered.queue(new Work(() -> {
                    try {
                        wait.accept(ordered);
                        messages.add("returned");
                    } catch (IllegalStateException e) {
                        messages.add(e.getMessage());
                    } finally {
                        done.countDown();
                    }
                }));
                assertThat(done.await(30, TimeUnit.SECONDS)).as("failed fast instead of hanging").isTrue();
                ordered.flush(); // the task behind it still runs
            }
            assertThat(messages).hasSize(waits.size())
                    .allSatisfy(m -> assertThat(m).contains("ordered workqueue 'ordered'").contains("queued behind it"));
        }
    }

    /** A future's task that waits for its own future fails fast. */
    @Test
    void aTaskThatJoinsItsOwnFutureFailsFast() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("self").build();
            java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CompletableFuture<Integer>> self =
                    new java.util.concurrent.atomic.AtomicReference<>();
            CountDownLatch published = new CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Integer> f = wq.supplyAsync(() -> {
                try {
                    assertThat(published.await(30, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return self.get().join();
            });
            self.set(f);
            published.countDown();
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("on itself");
        }
    }

    /**
     * A work re-queued on a freezable queue while it runs, whose new instance another worker has
     * already handed to the running one, must not start once the queue freezes: it used to run
     * right after the current run, during the freeze() call.
     */
    @Test
    void aFreezeHoldsBackAHandedOffInstance() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("freezable").freezable().build();
            CountDownLatch firstRunning = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
            Work w = new Work(() -> {
                if (runs.incrementAndGet() == 1) {
                    firstRunning.countDown();
                    TestSupport.blockOn(release); // announced: the pool gets another worker
                }
            });
            assertThat(wq.queue(w)).isTrue();
            assertThat(firstRunning.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(wq.queue(w)).isTrue(); // the second instance, while the first runs
            // another worker pops it and hands it to the running one
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> dev.cmwq4j.internal.NodeProbe.handedOff(w.node));
            Thread freezer = new Thread(wq::freeze, "freezer");
            freezer.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(wq::isFrozen);
            release.countDown();
            freezer.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(freezer.isAlive()).as("freeze returned").isFalse();
            assertThat(runs.get()).as("runs when the freeze returned").isEqualTo(1);
            assertThat(w.isPending()).isTrue();
            wq.thaw();
            w.flush();
            assertThat(runs.get()).as("the held instance ran after the thaw").isEqualTo(2);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * cancel(true) on a task whose get() is helping another task (running it in place) interrupts
     * the cancelled task, not the helped one: the helped run used to receive the interrupt and
     * consume it, and the cancelled task went on uninterrupted.
     */
    @Test
    void cancelWithInterruptWhileHelpingReachesTheCancelledTask() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            java.util.concurrent.ExecutorService es = c.workqueue("view").build().asExecutorService();
            CountDownLatch helpedRunning = new CountDownLatch(1);
            CountDownLatch cancelled = new CountDownLatch(1);
            CountDownLatch outerDone = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<Thread> outerThread = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicReference<Thread> helpedThread = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean helpedSawInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicBoolean outerSawInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.Future<?> outer = es.submit(() -> {
                outerThread.set(Thread.currentThread());
                try {
                    java.util.concurrent.Future<?> helped = es.submit(() -> {
                        helpedThread.set(Thread.currentThread());
                        helpedRunning.countDown();
                        while (cancelled.getCount() > 0) { // not interruptible: look afterwards
                            Thread.onSpinWait();
                        }
                        helpedSawInterrupt.set(Thread.currentThread().isInterrupted());
                    });
                    helped.get(); // runs it in place: this pool's only worker is this one
                    outerSawInterrupt.set(Thread.currentThread().isInterrupted());
                } catch (InterruptedException e) {
                    outerSawInterrupt.set(true);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError(e);
                } finally {
                    outerDone.countDown();
                }
            });
            assertThat(helpedRunning.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(helpedThread.get()).as("the helped task runs in the waiter's frame").isSameAs(outerThread.get());
            assertThat(outer.cancel(true)).isTrue();
            cancelled.countDown();
            assertThat(outerDone.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(helpedSawInterrupt.get()).as("the helped task saw the interrupt").isFalse();
            assertThat(outerSawInterrupt.get()).as("the cancelled task saw the interrupt").isTrue();
        }
    }

    /** The recursion of {@link #aStackOverflowNearAHelpedRunLeavesNothingRunning}. */
    private static void deepThenFlush(Work[] targets, int[] next) {
        try {
            deepThenFlush(targets, next);
        } catch (StackOverflowError e) {
            // near the bottom of the stack: wait for (and maybe help) the next target, then let
            // the error climb one frame, where the next target is tried with a little more stack
            if (next[0] < targets.length) {
                Work t = targets[next[0]++];
                try {
                    t.flush();
                } catch (StackOverflowError again) {
                    // expected down here
                }
            }
            throw e;
        }
    }

    /**
     * A work that, deep in a recursion, flushes works it could help, catching the resulting
     * StackOverflowErrors: no work may stay RUNNING (20-40 helped works did, half of the runs,
     * and Workqueue.flush and close hung).
     */
    @Test
    void aStackOverflowNearAHelpedRunLeavesNothingRunning() throws Exception {
        for (int round = 0; round < 4; round++) {
            try (Cmwq c = Cmwq.builder().cpus(1).build()) {
                Workqueue wq = c.workqueue("deep").build();
                java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
                Work[] targets = new Work[40];
                CountDownLatch outerDone = new CountDownLatch(1);
                wq.queue(new Work(() -> {
                    for (int i = 0; i < targets.length; i++) {
                        targets[i] = new Work(ran::incrementAndGet);
                        wq.queue(targets[i]); // pending behind this one: a flush may help it
                    }
                    try {
                        deepThenFlush(targets, new int[1]);
                    } catch (StackOverflowError e) {
                        // climbed all the way up
                    } finally {
                        outerDone.countDown();
                    }
                }));
                if (!outerDone.await(60, TimeUnit.SECONDS)) {
                    StringBuilder sb = new StringBuilder("round " + round + ": the outer work did not end\n");
                    Thread.getAllStackTraces().forEach((t, st) -> {
                        sb.append(t.getName()).append(' ').append(t.getState()).append('\n');
                        for (int k = 0; k < Math.min(st.length, 40); k++) {
                            sb.append("    at ").append(st[k]).append('\n');
                        }
                    });
                    System.out.println(sb);
                    throw new AssertionError(sb.toString());
                }
                java.util.concurrent.CompletableFuture<Void> flushed =
                        java.util.concurrent.CompletableFuture.runAsync(wq::flush);
                try {
                    flushed.get(60, TimeUnit.SECONDS); // hung when a helped work stayed RUNNING
                } catch (java.util.concurrent.TimeoutException e) {
                    StringBuilder sb = new StringBuilder("round " + round + ": Workqueue.flush hung\n");
                    for (int i = 0; i < targets.length; i++) {
                        sb.append("target ").append(i).append(" pending=").append(targets[i].isPending())
                                .append(" running=").append(targets[i].isRunning()).append('\n');
                    }
                    sb.append(c.poolStats()).append('\n');
                    Thread.getAllStackTraces().forEach((t, st) -> {
                        if (t.getName().startsWith("pool") || t.getName().contains("cmwq")) {
                            sb.append(t.getName()).append(' ').append(t.getState()).append('\n');
                            for (StackTraceElement el : st) {
                                sb.append("    at ").append(el).append('\n');
                            }
                        }
                    });
                    System.out.println(sb);
                    throw new AssertionError(sb.toString(), e);
                }
                for (Work t : targets) {
                    assertThat(t.isPending() || t.isRunning()).as("round %d: %s", round, t).isFalse();
                }
                assertThat(ran.get()).as("round %d: every target ran once", round).isEqualTo(targets.length);
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }

    /**
     * Queueing from the end of a stack: on its way back up from a StackOverflowError, a thread
     * queues one fresh work per frame, so that the frames nearest the bottom overflow at every
     * depth of the queueing path (the claim, the push, the admission, the kick), one depth per
     * frame. Whatever depth the Error hits, the engine stays consistent: no pool lock stays held,
     * a work whose queue returned true runs exactly once, one whose queue threw runs at most once,
     * every flush returns and the pools come back to rest. (Before: within the first round a pool
     * lock stayed held by the queueing thread, and every later queue, worker and flush of the
     * pool waited for it.) Not checked: a work whose queue threw between its claim and its push
     * can stay pending (ARCHITECTURE §10).
     */
    @Test
    void aStackOverflowWhileQueueingLosesNothing() throws Exception {
        for (int round = 0; round < 4; round++) {
            try (Cmwq c = Cmwq.builder().cpus(2).build()) {
                Workqueue wq = c.workqueue("deep-queue").build();
                int perPass = 256;
                int passes = 12;
                int total = perPass * passes;
                java.util.concurrent.atomic.AtomicIntegerArray ran = new java.util.concurrent.atomic.AtomicIntegerArray(total);
                int[] outcome = new int[total]; // 1 accepted, 2 refused, 3 threw; written by the queueing thread
                Work[] works = new Work[total];
                for (int i = 0; i < total; i++) {
                    int k = i;
                    works[i] = new Work(() -> ran.incrementAndGet(k));
                }
                Throwable[] unexpected = new Throwable[1];
                Thread deep = new Thread(null, () -> {
                    try {
                        for (int pass = 0; pass < passes; pass++) {
                            queueWhileUnwinding(wq, works, outcome, new int[] {pass * perPass}, (pass + 1) * perPass);
                            wq.flush(); // back at rest: the next pass's queues admit on this thread again
                        }
                    } catch (Throwable t) {
                        unexpected[0] = t;
                    }
                }, "deep-queuer", 256 * 1024);
                deep.start();
                deep.join(TimeUnit.SECONDS.toMillis(60));
                if (deep.isAlive()) {
                    StringBuilder sb = new StringBuilder("round " + round + ": the queueing thread did not finish\n");
                    sb.append(c.poolStats()).append('\n');
                    Thread.getAllStackTraces().forEach((t, st) -> {
                        if (t.getName().contains("cmwq4j") || t.getName().equals("deep-queuer")) {
                            sb.append(t.getName()).append(' ').append(t.getState()).append('\n');
                            for (int k = 0; k < Math.min(st.length, 20); k++) {
                                sb.append("    at ").append(st[k]).append('\n');
                            }
                        }
                    });
                    System.out.println(sb);
                    throw new AssertionError(sb.toString());
                }
                assertThat(unexpected[0]).as("round %d: what the queueing thread threw outside the overflows", round)
                        .isNull();
                java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
                int threw = 0;
                for (int i = 0; i < total; i++) {
                    if (outcome[i] != 3) {
                        assertThat(works[i].isPending()).as("round %d: work %d pending after the flush", round, i).isFalse();
                    }
                    if (outcome[i] == 1) {
                        assertThat(ran.get(i)).as("round %d: accepted work %d runs once", round, i).isEqualTo(1);
                    } else if (outcome[i] == 3) {
                        threw++;
                        assertThat(ran.get(i)).as("round %d: work %d whose queue threw", round, i).isLessThanOrEqualTo(1);
                    } else {
                        assertThat(outcome[i]).as("round %d: work %d: a fresh work is never refused", round, i).isZero();
                        assertThat(ran.get(i)).as("round %d: work %d never queued", round, i).isZero();
                    }
                }
                assertThat(threw).as("round %d: queues that overflowed (the test reached the queueing path)", round)
                        .isPositive();
                CountDownLatch after = new CountDownLatch(1);
                wq.queue(new Work(after::countDown));
                assertThat(after.await(60, TimeUnit.SECONDS)).as("round %d: a later work runs", round).isTrue();
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }

    /**
     * Freeze and thaw at every depth of a stack's end, on the way up from an overflow: each call
     * either happens whole or throws before it changes anything, so once the thread is back at
     * rest a last thaw leaves the workqueue running its works. A thaw that overflowed half way
     * left the pwqs frozen with the queue saying thawed, and every later thaw returned at once
     * (8 works never ran, in every round of a review's runs).
     */
    @Test
    void aFreezeOrThawAtTheEndOfAStackHappensWholeOrNotAtAll() throws Exception {
        for (int round = 0; round < 4; round++) {
            try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
                Workqueue wq = c.workqueue("deep-thaw").freezable().build();
                CountDownLatch ran = new CountDownLatch(8);
                Throwable[] unexpected = new Throwable[1];
                Thread deep = new Thread(null, () -> {
                    try {
                        wq.freeze();
                        for (int i = 0; i < 8; i++) {
                            wq.queue(new Work(ran::countDown)); // held inactive by the freeze
                        }
                        freezeAndThawWhileUnwinding(wq, new int[] {0});
                        wq.thaw(); // back at rest: whatever the frames above did, this one thaws
                    } catch (Throwable t) {
                        unexpected[0] = t;
                    }
                }, "deep-thawer", 256 * 1024);
                deep.start();
                deep.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(deep.isAlive()).isFalse();
                assertThat(unexpected[0]).as("round %d: thrown outside the overflows", round).isNull();
                assertThat(wq.isFrozen()).isFalse();
                assertThat(ran.await(30, TimeUnit.SECONDS)).as("round %d: the works ran after the thaw", round).isTrue();
                wq.flush();
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }

    private static void freezeAndThawWhileUnwinding(Workqueue wq, int[] depth) {
        try {
            freezeAndThawWhileUnwinding(wq, depth);
        } catch (StackOverflowError e) {
            // the bottom: freeze and thaw from here up
        }
        if (depth[0]++ < 2000) {
            try {
                if ((depth[0] & 1) == 0) {
                    wq.thaw();
                } else {
                    wq.freeze(Duration.ZERO);
                }
            } catch (StackOverflowError e) {
                // refused whole, or (before) half done
            }
        }
    }

    private static void queueWhileUnwinding(Workqueue wq, Work[] works, int[] outcome, int[] next, int end) {
        try {
            queueWhileUnwinding(wq, works, outcome, next, end);
        } catch (StackOverflowError e) {
            // the bottom: queue from here up
        }
        int k = next[0];
        if (k < end) {
            next[0] = k + 1;
            try {
                outcome[k] = wq.queue(works[k]) ? 1 : 2;
            } catch (StackOverflowError e) {
                outcome[k] = 3;
            }
        }
    }

    /**
     * The scaled race rounds ({@code -Pstress}) fit in the class timeout: every round up to
     * {@code base} runs, more (up to {@code max}) only while the budget lasts. A hang still fails
     * on the timeout; a slow, shared machine just runs fewer extra rounds.
     */
    private static boolean moreRounds(int r, int base, int max, long deadline) {
        return r < base || (r < max && System.nanoTime() - deadline < 0);
    }

    /** How long the scaled rounds of one test may take, well inside the 120 s class timeout. */
    private static final long STRESS_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(80);
}
