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
}
