package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The join window ({@link Cmwq.Builder#joinWindow}): a worker that waits for a work running on
 * another thread, or for a lock whose owner runs, costs no new thread until the window is over.
 * Each case has a control with the window off, where the same wait makes the pool start the next
 * work meanwhile.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JoinWindowTest {
    /** How long the tests watch for something that must not happen: 1500 stall windows. */
    private static final long QUIET_MS = 300;

    private static Cmwq newCmwq(Duration joinWindow) {
        return Cmwq.builder().cpus(2).stallWindow(Duration.ofNanos(200_000)).joinWindow(joinWindow)
                .threadNamePrefix("join-").build();
    }

    /** A work on CPU 1 that spins (on the CPU, never blocked) until released. */
    private static final class Spinner {
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicBoolean release = new AtomicBoolean();
        /** The thread that runs it (named after its pool: join-cpu0-N, join-cpu1-N). */
        final AtomicReference<Thread> runner = new AtomicReference<>();
        final Runnable body = () -> {
            runner.set(Thread.currentThread());
            started.countDown();
            while (!release.get()) {
                Thread.onSpinWait();
            }
        };
        final Work work = new Work(body);
    }

    /**
     * A work on CPU 0 flushes a work running on CPU 1, then another work is queued on CPU 0.
     * With a long join window it waits for the flusher's thread; with none, a new thread runs it
     * while the flush still waits.
     */
    private static void flushOfRunningWork(Duration joinWindow, boolean expectNewThread) throws Exception {
        try (Cmwq c = newCmwq(joinWindow)) {
            Workqueue wq = c.workqueue("join").build();
            Spinner child = new Spinner();
            assertThat(wq.queueOn(1, child.work)).isTrue();
            assertThat(child.started.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch flushing = new CountDownLatch(1);
            AtomicReference<Thread> parentThread = new AtomicReference<>();
            AtomicBoolean parentDone = new AtomicBoolean();
            assertThat(wq.queueOn(0, new Work(() -> {
                parentThread.set(Thread.currentThread());
                flushing.countDown();
                child.work.flush(); // a join: the child runs on CPU 1
                parentDone.set(true);
            }))).isTrue();
            assertThat(flushing.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch nextRan = new CountDownLatch(1);
            AtomicReference<Thread> nextThread = new AtomicReference<>();
            AtomicBoolean parentDoneWhenNextRan = new AtomicBoolean();
            assertThat(wq.queueOn(0, new Work(() -> {
                nextThread.set(Thread.currentThread());
                parentDoneWhenNextRan.set(parentDone.get());
                nextRan.countDown();
            }))).isTrue();
            try {
                if (expectNewThread) {
                    assertThat(nextRan.await(10, TimeUnit.SECONDS)).as("next work ran during the flush").isTrue();
                    assertThat(parentDoneWhenNextRan).as("the flush was still waiting").isFalse();
                } else {
                    assertThat(nextRan.await(QUIET_MS, TimeUnit.MILLISECONDS))
                            .as("no thread made for a join inside the window").isFalse();
                    assertThat(workers(c, "cpu0")).as("cpu0 workers during the join").isEqualTo(1);
                }
            } finally {
                child.release.set(true);
            }
            assertThat(nextRan.await(10, TimeUnit.SECONDS)).isTrue();
            if (!expectNewThread) {
                assertThat(nextThread.get()).as("the flusher's thread ran it after the join")
                        .isSameAs(parentThread.get());
                assertThat(parentDoneWhenNextRan).isTrue();
            }
            wq.flush();
        }
    }

    private static int workers(Cmwq c, String pool) {
        return c.poolStats().stream().filter(p -> p.name().equals(pool)).findFirst().orElseThrow().workers();
    }

    @Test
    void flushOfARunningWorkMakesNoThreadWithinTheJoinWindow() throws Exception {
        flushOfRunningWork(Duration.ofSeconds(30), false);
    }

    @Test
    void controlWithoutJoinWindowTheSameFlushGetsANewThread() throws Exception {
        flushOfRunningWork(Duration.ZERO, true);
    }

    /** The executor view's Future.get of a task running elsewhere is a join too. */
    @Test
    void futureGetOfARunningTaskIsAJoin() throws Exception {
        try (Cmwq c = newCmwq(Duration.ofSeconds(30))) {
            Workqueue wq = c.workqueue("join-es").build();
            ExecutorService es = wq.asExecutorService();
            Spinner child = new Spinner();
            AtomicReference<Future<?>> childFuture = new AtomicReference<>();
            // a work on CPU 1 submits the child, which lands in CPU 1's pool and usually runs
            // there next; on a busy machine CPU 0's worker may steal it first (it is not pinned)
            assertThat(wq.queueOn(1, new Work(() -> childFuture.set(es.submit(child.body))))).isTrue();
            assertThat(child.started.await(10, TimeUnit.SECONDS)).isTrue();
            // the waiter and the next work go to the other pool than the child's: a join there
            int other = child.runner.get().getName().contains("cpu0") ? 1 : 0;
            CountDownLatch waiting = new CountDownLatch(1);
            assertThat(wq.queueOn(other, new Work(() -> {
                waiting.countDown();
                try {
                    childFuture.get().get(); // a join: the task runs on the other CPU
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }))).isTrue();
            assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch nextRan = new CountDownLatch(1);
            assertThat(wq.queueOn(other, new Work(nextRan::countDown))).isTrue();
            try {
                assertThat(nextRan.await(QUIET_MS, TimeUnit.MILLISECONDS)).as("no thread for the join").isFalse();
            } finally {
                child.release.set(true);
            }
            assertThat(nextRan.await(10, TimeUnit.SECONDS)).isTrue();
            wq.flush();
        }
    }

    /**
     * A work BLOCKED on a monitor whose owner spins on the CPU is left alone for the join window
     * (no detection, no target raise), and is detected once the window is over: the next work
     * then starts while the owner still holds the monitor.
     */
    @Test
    void monitorWaitForARunningOwnerIsDetectedOnlyAfterTheJoinWindow() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).stallWindow(Duration.ofNanos(200_000))
                .joinWindow(Duration.ofMillis(1500)).build()) {
            Workqueue wq = c.workqueue("join-lock").build();
            Object lock = new Object();
            CountDownLatch held = new CountDownLatch(1);
            AtomicBoolean release = new AtomicBoolean();
            Thread owner = new Thread(() -> {
                synchronized (lock) {
                    held.countDown();
                    while (!release.get()) {
                        Thread.onSpinWait(); // RUNNABLE the whole time
                    }
                }
            }, "join-lock-owner");
            owner.start();
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch entering = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                entering.countDown();
                synchronized (lock) {
                    lock.hashCode();
                }
            }));
            assertThat(entering.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch nextRan = new CountDownLatch(1);
            wq.queue(new Work(nextRan::countDown));
            var m = c.engine();
            try {
                assertThat(nextRan.await(QUIET_MS, TimeUnit.MILLISECONDS)).as("left alone in the window").isFalse();
                assertThat(EngineProbe.blocksDetected(m) + EngineProbe.targetRaised(m)).as("detections and raises").isZero();
                assertThat(nextRan.await(20, TimeUnit.SECONDS)).as("detected after the window").isTrue();
                assertThat(owner.isAlive()).as("the owner still held the monitor").isTrue();
                assertThat(EngineProbe.blocksDetected(m)).isGreaterThanOrEqualTo(1);
            } finally {
                release.set(true);
                owner.join();
            }
            wq.flush();
        }
    }

    /**
     * Joins of every kind racing with helping, ends and each other: 4 producers queue parents
     * that each submit 4 children through the executor view and wait for them, wait for a
     * {@code supplyAsync} future, and flush a work shared by all parents. Every child and every
     * parent runs exactly once, and the pools come back to rest with no joiner counted.
     */
    @Test
    void stressJoinsKeepTheCountsAndLoseNothing() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int parentsPerProducer = 500 * scale;
        try (Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("join-stress-").build()) {
            Workqueue wq = c.workqueue("join-stress").build();
            ExecutorService es = wq.asExecutorService();
            AtomicInteger childrenRan = new AtomicInteger();
            AtomicInteger sharedRan = new AtomicInteger();
            AtomicInteger parentsDone = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Work shared = new Work(() -> {
                sharedRan.incrementAndGet();
                TestSupport.spin(20_000);
            });
            Runnable parent = () -> {
                try {
                    List<Future<?>> children = new ArrayList<>(4);
                    for (int k = 0; k < 4; k++) {
                        children.add(es.submit(() -> {
                            TestSupport.spin(10_000);
                            childrenRan.incrementAndGet();
                        }));
                    }
                    wq.queue(shared);
                    int v = wq.supplyAsync(() -> 1).join();
                    for (Future<?> f : children) {
                        f.get();
                    }
                    shared.flush();
                    parentsDone.addAndGet(v);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            };
            Thread[] producers = new Thread[4];
            for (int i = 0; i < producers.length; i++) {
                producers[i] = new Thread(() -> {
                    for (int j = 0; j < parentsPerProducer; j++) {
                        wq.execute(parent);
                    }
                });
                producers[i].start();
            }
            for (Thread p : producers) {
                p.join();
            }
            wq.flush();
            int parents = producers.length * parentsPerProducer;
            assertThat(failure.get()).as("no parent failed").isNull();
            assertThat(parentsDone).as("parents").hasValue(parents);
            assertThat(childrenRan).as("children").hasValue(4 * parents);
            assertThat(sharedRan.get()).as("the shared work ran at least once, at most once per queue")
                    .isBetween(1, parents);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
