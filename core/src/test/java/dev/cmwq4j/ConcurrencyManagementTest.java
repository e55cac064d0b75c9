package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** DESIGN.md section 2: one running worker per pool, more only while one blocks. */
class ConcurrencyManagementTest {

    @Test
    void cpuBoundWorksOnOnePoolNeverRunTwoAtOnce() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("cpu").build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            Set<String> threads = ConcurrentHashMap.newKeySet();
            CountDownLatch done = new CountDownLatch(100);
            for (int i = 0; i < 100; i++) {
                wq.queueOn(0, new Work(() -> {
                    conc.enter();
                    threads.add(Thread.currentThread().getName());
                    spin(300_000);
                    conc.exit();
                    done.countDown();
                }));
            }
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(conc.max()).as("works running at once on one pool").isEqualTo(1);
            // one running worker plus its idle reserve (at most two idle workers are kept)
            assertThat(c.peakThreads()).as("peak threads").isLessThanOrEqualTo(3);
            assertThat(threads).hasSizeLessThanOrEqualTo(3);
        }
    }

    @Test
    void announcedBlockingOverlapsOnOnePool() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("blocking").build();
            // Proof of overlap without timing: every work waits until all 10 are blocked at once.
            assertThat(TestSupport.blockAllAtOnce(wq, 10, 30)).as("all 10 blocked at once").isTrue();
        }
    }

    /** Wall time: tagged {@code timing}, run by {@code mvn -B test -Ptiming} on a quiet machine. */
    @Test
    @org.junit.jupiter.api.Tag("timing")
    void tenBlocksOf100msFinishInAbout100ms() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("sleepers").build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            CountDownLatch done = new CountDownLatch(10);
            long t0 = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                wq.queue(new Work(() -> {
                    conc.enter();
                    try {
                        Blocking.sleep(Duration.ofMillis(100));
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    } finally {
                        conc.exit();
                        done.countDown();
                    }
                }));
            }
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(conc.max()).as("sleepers overlapping").isEqualTo(10);
            // serial would be 1000 ms; generous margin for a loaded 2-core machine
            assertThat(ms).as("elapsed ms").isLessThan(600);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void aWorkWaitingForALaterWorkOfTheSameQueueCompletes() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("chain").build();
            CountDownLatch laterRan = new CountDownLatch(1);
            CountDownLatch firstDone = new CountDownLatch(1);
            Work later = new Work(laterRan::countDown);
            wq.queue(new Work(() -> {
                wq.queue(later);
                Blocking.run(() -> {
                    try {
                        laterRan.await();
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                firstDone.countDown();
            }));
            assertThat(firstDone.await(30, TimeUnit.SECONDS)).isTrue();

            // the same through Work.flush() and Future.get() from inside a work
            CountDownLatch viaFlush = new CountDownLatch(1);
            Work second = new Work(() -> spin(1_000_000));
            wq.queue(new Work(() -> {
                wq.queue(second);
                second.flush();
                viaFlush.countDown();
            }));
            assertThat(viaFlush.await(30, TimeUnit.SECONDS)).isTrue();

            var es = wq.asExecutorService();
            CountDownLatch viaGet = new CountDownLatch(1);
            es.execute(() -> {
                try {
                    assertThat(es.submit(() -> 42).get()).isEqualTo(42);
                    viaGet.countDown();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(viaGet.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void closingACmwqStopsEveryWorkerThread() throws Exception {
        Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix("closetest-").build();
        Workqueue wq = c.workqueue("w").build();
        CountDownLatch done = new CountDownLatch(50);
        for (int i = 0; i < 50; i++) {
            wq.execute(() -> {
                try {
                    Blocking.sleep(2);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                done.countDown();
            });
        }
        c.close(); // drains first
        assertThat(done.getCount()).isZero();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(c.threads()).isZero());
        // every worker thread and the timer thread of this instance have exited
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Thread.getAllStackTraces().keySet())
                        .noneMatch(t -> t.getName().startsWith("closetest-") && t.isAlive()));
    }

    @Test
    void blockingOffWorkerJustRuns() throws Exception {
        int[] ran = {0};
        Blocking.run(() -> ran[0]++);
        assertThat(Blocking.call(() -> ++ran[0])).isEqualTo(2);
        Blocking.sleep(0);
        assertThat(ran[0]).isEqualTo(2);
    }

    @Test
    void blockingGetOfAFutureIsAnAnnouncedBlock() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("get").build();
            java.util.concurrent.CompletableFuture<String> later = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<String> got = new java.util.concurrent.CompletableFuture<>();
            wq.execute(() -> {
                try {
                    got.complete(Blocking.get(later)); // blocks this pool's only counted worker
                } catch (Exception e) {
                    got.completeExceptionally(e);
                }
            });
            wq.execute(() -> later.complete("from the second work")); // needs another worker
            assertThat(got.get(30, TimeUnit.SECONDS)).isEqualTo("from the second work");
            // announced, not merely observed by the monitor
            assertThat(EngineProbe.blocksAnnounced(c.engine())).isGreaterThanOrEqualTo(1);
            assertThat(EngineProbe.blocksDetected(c.engine())).isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                    Blocking.get(new java.util.concurrent.CompletableFuture<>(), 10, TimeUnit.MILLISECONDS))
                    .isInstanceOf(java.util.concurrent.TimeoutException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Blocking.get(later, 1, null))
                    .isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void nestedBlocksCountOnce() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("nested").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch otherRan = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                Blocking.run(() -> Blocking.run(() -> { }));
                // after a nested pair we are counted again: a CPU-bound other work waits for us
                Blocking.run(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                done.countDown();
            }));
            wq.queue(new Work(otherRan::countDown));
            assertThat(otherRan.await(30, TimeUnit.SECONDS)).as("other work ran while we blocked").isTrue();
            release.countDown();
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void surplusIdleWorkersRetireAfterTheIdleTimeout() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).idleTimeout(Duration.ofMillis(200)).build()) {
            Workqueue wq = c.workqueue("burst").build();
            assertThat(TestSupport.blockAllAtOnce(wq, 12, 30)).isTrue();
            assertThat(c.peakThreads()).isGreaterThanOrEqualTo(12);
            // the kernel keeps two idle workers; the rest retire
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(c.threads()).isLessThanOrEqualTo(2));
            // and the pool still works
            CountDownLatch again = new CountDownLatch(1);
            wq.queue(new Work(again::countDown));
            assertThat(again.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void idleWorkersKeptPastTheTimeoutStayParked() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).idleTimeout(Duration.ofMillis(400)).threadNamePrefix("parked-").build()) {
            Workqueue wq = c.workqueue("kept").build();
            assertThat(TestSupport.blockAllAtOnce(wq, 4, 30)).isTrue();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(c.threads()).isLessThanOrEqualTo(2));
            // The two kept idle workers are past their timeout: they must sleep, not poll.
            var mx = java.lang.management.ManagementFactory.getThreadMXBean();
            List<Thread> kept = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("parked-cpu0-")).toList();
            assertThat(kept).isNotEmpty();
            long before = 0;
            for (Thread t : kept) {
                before += mx.getThreadCpuTime(t.threadId());
            }
            Thread.sleep(1000); // an observation window, not synchronization
            long after = 0;
            for (Thread t : kept) {
                after += Math.max(0, mx.getThreadCpuTime(t.threadId()));
            }
            assertThat(after - before).as("CPU burnt by idle workers in 1 s (ns)").isLessThan(1_000_000L);
        }
    }
}
