package dev.cmwq4j;

import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Work.flush, Workqueue.flush (flush colors) and cancelSync; the deadlock cases are in FlushDeadlockTest. */
class FlushTest {

    private static void await(CountDownLatch l) {
        Blocking.run(() -> {
            try {
                l.await();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void workqueueFlushReturnsWhileOthersKeepQueueingAndWaitsForEverythingBefore() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("busy").build();
            AtomicBoolean stop = new AtomicBoolean();
            // producers never stop queueing while flushes run, with a bounded backlog
            java.util.concurrent.Semaphore backlog = new java.util.concurrent.Semaphore(500);
            Thread[] producers = new Thread[2];
            for (int p = 0; p < producers.length; p++) {
                producers[p] = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            if (!backlog.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                                continue;
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                        wq.execute(() -> {
                            spin(20_000);
                            backlog.release();
                        });
                    }
                });
                producers[p].start();
            }
            try {
                for (int round = 0; round < 20; round++) {
                    AtomicInteger markersRun = new AtomicInteger();
                    for (int i = 0; i < 50; i++) {
                        wq.execute(() -> {
                            spin(10_000);
                            markersRun.incrementAndGet();
                        });
                    }
                    CompletableFuture<Void> f = CompletableFuture.runAsync(wq::flush);
                    f.get(30, TimeUnit.SECONDS); // bounded although producers never stop
                    assertThat(markersRun.get()).as("works queued before the flush").isEqualTo(50);
                }
            } finally {
                stop.set(true);
                for (Thread t : producers) {
                    t.join();
                }
            }
        }
    }

    @Test
    void workqueueFlushWaitsForRunningAndInactiveWorks() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("limited").unbound().maxActive(1).build();
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            wq.queue(new Work(() -> {
                await(release);
                ran.incrementAndGet();
            }));
            for (int i = 0; i < 5; i++) {
                wq.queue(new Work(ran::incrementAndGet)); // inactive behind maxActive
            }
            CompletableFuture<Void> f = CompletableFuture.runAsync(wq::flush);
            Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                    .until(() -> !f.isDone());
            release.countDown();
            f.get(30, TimeUnit.SECONDS);
            assertThat(ran.get()).isEqualTo(6);
        }
    }

    @Test
    void concurrentFlushersAllReturn() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("flushers").build();
            AtomicInteger ran = new AtomicInteger();
            CompletableFuture<?>[] fs = new CompletableFuture<?>[40];
            for (int i = 0; i < fs.length; i++) {
                wq.execute(() -> {
                    spin(50_000);
                    ran.incrementAndGet();
                });
                int before = i + 1;
                fs[i] = CompletableFuture.runAsync(() -> {
                    wq.flush();
                    // every work queued before this flush was called has run
                    assertThat(ran.get()).isGreaterThanOrEqualTo(before);
                }, r -> new Thread(r).start());
            }
            CompletableFuture.allOf(fs).get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void workFlushWaitsForTheLastQueuedInstanceOnly() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("w").build();
            CountDownLatch blockLater = new CountDownLatch(1);
            AtomicInteger targetRuns = new AtomicInteger();
            Work target = new Work(targetRuns::incrementAndGet);
            wq.queue(target);
            // an unrelated work queued after the target blocks for as long as we like
            wq.queue(new Work(() -> await(blockLater)));
            assertThat(target.flush()).isIn(true, false);
            assertThat(targetRuns.get()).isEqualTo(1);
            assertThat(target.flush()).as("idle: nothing to wait for").isFalse();
            blockLater.countDown();
        }
    }

    @Test
    void workFlushWaitsForARunningInstance() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("w").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean finished = new AtomicBoolean();
            Work w = new Work(() -> {
                started.countDown();
                await(release);
                finished.set(true);
            });
            wq.queue(w);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Boolean> f = CompletableFuture.supplyAsync(w::flush, r -> new Thread(r).start());
            Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !f.isDone());
            release.countDown();
            assertThat(f.get(30, TimeUnit.SECONDS)).isTrue();
            assertThat(finished.get()).isTrue();
        }
    }

    @Test
    void cancelSyncWaitsForTheRunningInstanceAndBlocksRequeueMeanwhile() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("w").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work(() -> {
                if (runs.incrementAndGet() == 1) {
                    started.countDown();
                    await(release);
                }
            });
            wq.queue(w);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(wq.queue(w)).as("queued again while running").isTrue();
            CompletableFuture<Boolean> f = CompletableFuture.supplyAsync(w::cancelSync, r -> new Thread(r).start());
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !w.isPending());
            assertThat(wq.queue(w)).as("queue fails while cancelSync waits").isFalse();
            assertThat(f.isDone()).isFalse();
            release.countDown();
            assertThat(f.get(30, TimeUnit.SECONDS)).as("a pending instance was cancelled").isTrue();
            assertThat(w.isRunning()).isFalse();
            wq.flush();
            assertThat(runs.get()).isEqualTo(1);
            assertThat(wq.queue(w)).as("queueable again afterwards").isTrue();
            w.flush();
            assertThat(runs.get()).isEqualTo(2);
        }
    }

    /**
     * A work that flushes a workqueue with nothing in flight announces no block: nothing needs
     * waiting, so its pool must not replace it (a wake-up or a thread for nothing). Before, the
     * flip of the flush colour ran inside an announced block, whether or not it had to wait. A
     * flush that does wait (a work of the other queue is held) still announces one.
     */
    @Test
    void aFlushFromAWorkWithNothingToWaitForAnnouncesNoBlock() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue caller = c.workqueue("caller").build();
            Workqueue empty = c.workqueue("empty").build();
            AtomicReference<Long> announced = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            caller.queue(new Work(() -> {
                long before = dev.cmwq4j.internal.EngineProbe.blocksAnnounced(c.engine());
                for (int i = 0; i < 100; i++) {
                    empty.flush();
                }
                announced.set(dev.cmwq4j.internal.EngineProbe.blocksAnnounced(c.engine()) - before);
                done.countDown();
            }));
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(announced.get()).as("blocks announced by 100 flushes of an empty queue").isZero();

            // a flush that waits announces
            Workqueue held = c.workqueue("held").unbound().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch heldRuns = new CountDownLatch(1);
            held.queue(new Work(() -> {
                heldRuns.countDown();
                await(release);
            }));
            assertThat(heldRuns.await(30, TimeUnit.SECONDS)).isTrue();
            CountDownLatch flushed = new CountDownLatch(1);
            AtomicReference<Long> waiting = new AtomicReference<>();
            AtomicReference<Thread> flusher = new AtomicReference<>();
            caller.queue(new Work(() -> {
                long before = dev.cmwq4j.internal.EngineProbe.blocksAnnounced(c.engine());
                flusher.set(Thread.currentThread());
                held.flush();
                waiting.set(dev.cmwq4j.internal.EngineProbe.blocksAnnounced(c.engine()) - before);
                flushed.countDown();
            }));
            try {
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                    Thread t = flusher.get();
                    return t != null && t.getState() == Thread.State.WAITING;
                });
            } finally {
                release.countDown();
            }
            assertThat(flushed.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(waiting.get()).as("blocks announced by a flush that waited").isPositive();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
