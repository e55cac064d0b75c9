package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.blockOn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Workqueue.supplyAsync / runAsync futures and Blocking.join. */
class CompletableFutureTest {

    @Test
    void supplyAsyncCompletesWithTheResultOrTheException() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("cf").build();
            assertThat(wq.supplyAsync(() -> 42).get(30, TimeUnit.SECONDS)).isEqualTo(42);
            AtomicInteger ran = new AtomicInteger();
            wq.runAsync(ran::incrementAndGet).get(30, TimeUnit.SECONDS);
            assertThat(ran.get()).isEqualTo(1);
            CompletableFuture<Integer> failing = wq.supplyAsync(() -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(failing::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
            assertThatThrownBy(failing::get).isInstanceOf(ExecutionException.class)
                    .hasRootCauseMessage("boom");
            // stored as CompletableFuture.supplyAsync stores it: what handle, whenComplete and
            // exceptionally see is the same for both (they used to see the bare exception here)
            CompletableFuture<Integer> jdk = CompletableFuture.supplyAsync(() -> {
                throw new IllegalStateException("boom");
            }, wq);
            for (CompletableFuture<Integer> f : java.util.List.of(failing, jdk)) {
                Throwable seen = f.handle((v, t) -> t).get(30, TimeUnit.SECONDS);
                assertThat(seen).isInstanceOf(CompletionException.class)
                        .hasCauseInstanceOf(IllegalStateException.class);
                assertThat(f.exceptionally(t -> t instanceof CompletionException ? 1 : 0).get(30, TimeUnit.SECONDS))
                        .isOne();
                assertThat(f.exceptionNow()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
                assertThat(f.isCompletedExceptionally()).isTrue();
            }
        }
    }

    /**
     * The acceptance test: a chain 1,000 deep on the system workqueue, each stage
     * submitting the next and joining it, completes. Without helping and announced joins this
     * needs a thread per stage (or deadlocks on a fixed pool).
     */
    @Test
    void aChainThousandDeepJoiningOnTheSystemWorkqueueCompletes() throws Exception {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        Workqueue system = Workqueues.system();
        int before = system.cmwq().threads();
        CompletableFuture<Integer> top = stage(system, 1000, threads);
        assertThat(top.get(60, TimeUnit.SECONDS)).isEqualTo(1000);
        int workers = system.cmwq().peakThreads();
        System.out.printf("1000-deep CompletableFuture chain on Workqueues.system(): %d distinct threads ran"
                + " stages; shared Cmwq workers alive before %d, peak so far %d (helping depth %d)%n",
                threads.size(), before, workers, EngineProbe.DEFAULT_MAX_HELP_DEPTH);
        // helping runs MAX_DEPTH stages nested per thread; one thread per stage would be 1000
        assertThat(threads.size()).isLessThanOrEqualTo(1000 / EngineProbe.DEFAULT_MAX_HELP_DEPTH + 4);
    }

    /**
     * The same chain, again and again on the system workqueue: stealing moves stages between the
     * pools (a stolen stage is accounted to its victim's pwq, its child goes to the thief's), and
     * a waiter must lend its slot across them ({@link StolenWaiterLendTest}); before it did, one
     * run in a few hundred hung for good on a loaded machine, every stage waiting, nothing
     * pending, one stage inactive. Rounds: 20, times {@code cmwq4j.stress.scale} (-Pstress: 50).
     */
    @Test
    void aThousandDeepChainRepeatedNeverHangs() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        Workqueue system = Workqueues.system();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        for (int round = 0; round < 20 * scale; round++) {
            assertThat(stage(system, 1000, threads).get(60, TimeUnit.SECONDS)).as("round %d", round).isEqualTo(1000);
        }
    }

    private static CompletableFuture<Integer> stage(Workqueue wq, int depth, Set<Thread> threads) {
        return wq.supplyAsync(() -> {
            threads.add(Thread.currentThread());
            return depth == 1 ? 1 : stage(wq, depth - 1, threads).join() + 1;
        });
    }

    @Test
    void joinOfAnUnstartedTaskFromAWorkRunsItInPlace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("help").build();
            CompletableFuture<Boolean> sameThread = wq.supplyAsync(() -> {
                Thread me = Thread.currentThread();
                return wq.supplyAsync(Thread::currentThread).join() == me;
            });
            assertThat(sameThread.get(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** A derived stage waits for its source's task: a join from a work runs that task in place. */
    @Test
    void joiningADerivedStageFromAWorkRunsItsSourceInPlace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("derived").build();
            AtomicReference<Long> announced = new AtomicReference<>();
            long detectedBefore = EngineProbe.blocksDetected(c.engine());
            CompletableFuture<Boolean> outer = wq.supplyAsync(() -> {
                // the source task sits behind us on our one-CPU pool, not started: the join helps
                Thread me = Thread.currentThread();
                CompletableFuture<Thread> derived = wq.supplyAsync(Thread::currentThread).thenApply(t -> t);
                long before = EngineProbe.blocksAnnounced(c.engine());
                Thread ranOn = derived.join();
                announced.set(EngineProbe.blocksAnnounced(c.engine()) - before);
                return ranOn == me;
            });
            assertThat(outer.get(30, TimeUnit.SECONDS)).as("source ran in place").isTrue();
            assertThat(announced.get()).as("blocks announced during the join").isZero();
            assertThat(EngineProbe.blocksDetected(c.engine()) - detectedBefore)
                    .as("blocks the monitor had to detect").isZero();
        }
    }

    /** A derived stage whose source task runs on another worker: the join is an announced block. */
    @Test
    void joiningADerivedStageWhoseSourceRunsElsewhereIsAnAnnouncedBlock() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("derived").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch sourceStarted = new CountDownLatch(1);
            long detectedBefore = EngineProbe.blocksDetected(c.engine());
            CompletableFuture<Integer> source = wq.supplyAsync(() -> {
                Blocking.run(() -> { // announced: the pool may run the outer work meanwhile
                    sourceStarted.countDown();
                    blockOn(release); // nested in the announced block: not counted again
                });
                return 1;
            });
            sourceStarted.await();
            long before = EngineProbe.blocksAnnounced(c.engine());
            CompletableFuture<Integer> outer = wq.supplyAsync(() -> source.thenApply(x -> x + 1).join());
            // the outer work's join is announced (it cannot help a running task); then release
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> EngineProbe.blocksAnnounced(c.engine()) - before >= 1);
            release.countDown();
            assertThat(outer.get(30, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(EngineProbe.blocksDetected(c.engine()) - detectedBefore)
                    .as("blocks the monitor had to detect").isZero();
        }
    }

    @Test
    void derivedAsyncStagesRunOnTheWorkqueue() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("cf-test-").build()) {
            Workqueue wq = c.workqueue("async-stages").build();
            String thread = wq.supplyAsync(() -> 1)
                    .thenApplyAsync(x -> Thread.currentThread().getName())
                    .get(30, TimeUnit.SECONDS);
            assertThat(thread).startsWith("cf-test-");
        }
    }

    /**
     * The minimal stage of a workqueue future keeps the workqueue as its default executor, and so
     * does the future its toCompletableFuture gives; the JDK's minimal stage ran its *Async stages
     * on the common pool. It still refuses what is not a CompletionStage method, as the JDK's does,
     * and so do the stages derived from it.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS,
            threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aMinimalStageRunsItsAsyncStagesOnTheWorkqueueAndRefusesCompletion() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadNamePrefix("cf-minimal-").build()) {
            Workqueue wq = c.workqueue("minimal").build();
            CompletionStage<Integer> minimal = wq.supplyAsync(() -> 1).minimalCompletionStage();
            String thread = minimal.thenApplyAsync(x -> Thread.currentThread().getName())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(thread).as("the thread of a minimal stage's thenApplyAsync").startsWith("cf-minimal-");

            CompletableFuture<Integer> full = minimal.toCompletableFuture();
            assertThat(full.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(full.thenApplyAsync(x -> Thread.currentThread().getName()).get(30, TimeUnit.SECONDS))
                    .as("the thread of its toCompletableFuture's thenApplyAsync").startsWith("cf-minimal-");
            assertThat(full.complete(2)).as("already complete").isFalse();

            CompletableFuture<Integer> refusing = (CompletableFuture<Integer>) minimal;
            assertThatThrownBy(() -> refusing.complete(2)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> refusing.obtrudeValue(2)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(refusing::join).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(refusing::isDone).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> refusing.cancel(true)).isInstanceOf(UnsupportedOperationException.class);
            CompletableFuture<Integer> derived = (CompletableFuture<Integer>) minimal.thenApply(x -> x + 1);
            assertThatThrownBy(() -> derived.complete(5)).isInstanceOf(UnsupportedOperationException.class);
            assertThat(derived.toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(minimal.toCompletableFuture().join()).as("the refused calls changed nothing").isEqualTo(1);
        }
    }

    /**
     * A failure reaches a minimal stage as a CompletionException with the cause, as the JDK's
     * relays it, and its *Async handlers run on the workqueue.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS,
            threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aMinimalStageOfAFailedFutureFailsAndHandlesOnTheWorkqueue() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadNamePrefix("cf-minimal-").build()) {
            Workqueue wq = c.workqueue("minimal-failed").build();
            CompletionStage<Integer> minimal = wq.<Integer>supplyAsync(() -> {
                throw new IllegalStateException("boom");
            }).minimalCompletionStage();
            assertThatThrownBy(() -> minimal.toCompletableFuture().join())
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(IllegalStateException.class).hasMessage("boom");
            assertThatThrownBy(() -> minimal.toCompletableFuture().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalStateException.class).hasMessage("boom");
            String handled = minimal.handleAsync((v, e) -> Thread.currentThread().getName() + " " + e.getCause().getMessage())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(handled).startsWith("cf-minimal-").endsWith(" boom");
        }
    }

    @Test
    void cancelBeforeTheStartCancelsTheTask() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("cancel").unbound().maxActive(1).build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            wq.execute(() -> {
                started.countDown();
                blockOn(release);
            });
            blockOn(started);
            AtomicInteger ran = new AtomicInteger();
            CompletableFuture<Void> f = wq.runAsync(ran::incrementAndGet);
            assertThat(f.cancel(false)).isTrue();
            assertThat(EngineProbe.inactive(wq.core)).as("its task left the queue").isZero();
            release.countDown();
            wq.flush();
            assertThat(ran.get()).isZero();
            assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
        }
    }

    @Test
    void blockingJoinIsAnAnnouncedBlock() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("blocking-join").build();
            CompletableFuture<Integer> plain = new CompletableFuture<>();
            AtomicReference<Long> announced = new AtomicReference<>();
            CountDownLatch joining = new CountDownLatch(1);
            Work w = new Work(() -> {
                long before = EngineProbe.blocksAnnounced(c.engine());
                joining.countDown();
                int v = Blocking.join(plain);
                announced.set(EngineProbe.blocksAnnounced(c.engine()) - before);
                assertThat(v).isEqualTo(7);
            });
            wq.queue(w);
            joining.await(30, TimeUnit.SECONDS);
            // another work of the same one-CPU pool runs while the first is joined
            CompletableFuture<Void> completer = wq.runAsync(() -> plain.complete(7));
            completer.get(30, TimeUnit.SECONDS);
            w.flush();
            assertThat(announced.get()).isPositive();
            assertThat(Blocking.join(CompletableFuture.completedFuture(3))).isEqualTo(3);
            assertThatThrownBy(() -> Blocking.join(CompletableFuture.failedFuture(new IllegalStateException("x"))))
                    .isInstanceOf(CompletionException.class);
        }
    }

    @Test
    void badInputIsRejected() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("bad").build();
            assertThatThrownBy(() -> wq.supplyAsync(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.runAsync(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> Blocking.join(null)).isInstanceOf(NullPointerException.class);
            wq.close();
            assertThatThrownBy(() -> wq.supplyAsync(() -> 1))
                    .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        }
    }

    @Test
    void aFutureWithATimeoutFromAWorkTimesOut() {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("timeout").build();
            CompletableFuture<Integer> never = new CompletableFuture<>();
            CompletableFuture<Integer> derived = wq.supplyAsync(() -> 1).thenCompose(x -> never);
            CompletableFuture<Throwable> outcome = wq.supplyAsync(() -> {
                try {
                    derived.get(20, TimeUnit.MILLISECONDS);
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            assertThat(outcome.join()).isInstanceOf(java.util.concurrent.TimeoutException.class);
            never.complete(0);
        }
    }
}
