package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The watchdog reports a pool that stopped making progress, with the stuck workers' stacks. */
class WatchdogTest {

    @Test
    void aStalledPoolIsReportedOnceWithItsPendingCountAndStacks() throws Exception {
        CopyOnWriteArrayList<WatchdogReport> reports = new CopyOnWriteArrayList<>();
        // one thread in all: once it is stuck, nothing else can start anywhere
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1)
                .watchdog(Duration.ofMillis(200), reports::add).build()) {
            Workqueue wq = c.workqueue("stuck").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch othersRan = new CountDownLatch(3);
            wq.queue(new Work(() -> {
                started.countDown();
                try {
                    release.await(); // never returns until released: a hung work
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 3; i++) {
                wq.queue(new Work(othersRan::countDown));
            }
            try {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !reports.isEmpty());
                WatchdogReport r = reports.get(0);
                assertThat(r.pool()).isEqualTo("cpu0");
                assertThat(r.pending()).isEqualTo(3);
                assertThat(r.stalledNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
                assertThat(r.workers()).hasSize(1);
                assertThat(r.workers().get(0).stack())
                        .anyMatch(e -> e.getClassName().startsWith(WatchdogTest.class.getName()));
                assertThat(r.describe()).contains("cpu0").contains("3 works pending");
                // once per stall
                org.awaitility.Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                        .until(() -> reports.size() == 1);
            } finally {
                release.countDown();
            }
            assertThat(othersRan.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aWorkThatNeverReturnsIsReportedAndTheOtherPoolsKeepWorking() throws Exception {
        CopyOnWriteArrayList<WatchdogReport> reports = new CopyOnWriteArrayList<>();
        // The hog burns CPU and never returns until released; a threshold of an hour keeps the
        // monitor from flagging it CPU-intensive. On a busy machine the monitor may still take the
        // preempted hog for a native block (it waits at a safepoint, not 'R' in /proc) and give
        // its pool another worker, which would rightly unstick it. So once the other pools have
        // their workers, thread creation fails: the hog's pool (CPU 0) really stops moving.
        FaultyThreadFactory threads = new FaultyThreadFactory();
        try (Cmwq c = Cmwq.builder().cpus(2).cpuIntensiveThreshold(Duration.ofHours(1)).threadFactory(threads)
                .watchdog(Duration.ofMillis(200), reports::add).build()) {
            Workqueue wq = c.workqueue("hung").build();
            Workqueue high = c.workqueue("high").highPriority().build();
            Workqueue unbound = c.workqueue("unbound").unbound().build();
            round(wq, high, unbound, -1); // CPU 1, CPU 0's high-priority pool and the unbound pool get workers
            java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
            CountDownLatch started = new CountDownLatch(1);
            wq.queueOn(0, new Work(() -> {
                started.countDown();
                while (!release.get()) {
                    Thread.onSpinWait();
                }
            }));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            threads.failAfter(0);
            CountDownLatch behindRan = new CountDownLatch(2);
            wq.queueOn(0, new Work(behindRan::countDown)); // pinned: never stolen by CPU 1
            wq.queueOn(0, new Work(behindRan::countDown));
            try {
                // CPU 1, and the high-priority and unbound pools, keep running works meanwhile
                for (int i = 0; i < 20; i++) {
                    round(wq, high, unbound, i);
                }
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !reports.isEmpty());
                assertThat(reports).extracting(WatchdogReport::pool).containsOnly("cpu0");
                WatchdogReport r = reports.get(0);
                assertThat(r.pending()).isEqualTo(2);
                assertThat(r.workers()).anySatisfy(b -> assertThat(b.stack())
                        .anyMatch(e -> e.getClassName().startsWith(WatchdogTest.class.getName())));
                assertThat(behindRan.getCount()).as("the works behind the hung one wait").isEqualTo(2);
                // still beside it after the report
                CountDownLatch after = new CountDownLatch(1);
                wq.queueOn(1, new Work(after::countDown));
                assertThat(after.await(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                release.set(true);
                threads.recover();
            }
            assertThat(behindRan.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(reports).hasSize(1);
        }
    }

    /** One work each on CPU 1, CPU 0's high-priority pool and the unbound pool; all three ran. */
    private static void round(Workqueue wq, Workqueue high, Workqueue unbound, int i) throws InterruptedException {
        CountDownLatch round = new CountDownLatch(3);
        wq.queueOn(1, new Work(round::countDown));
        high.queueOn(0, new Work(round::countDown));
        unbound.queue(new Work(round::countDown));
        assertThat(round.await(30, TimeUnit.SECONDS)).as("round %d ran beside the stuck pool", i).isTrue();
    }
}
