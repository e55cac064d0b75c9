package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Announced blocking wakes an idle worker at once, and creates a thread only once the block
 * has outlasted the stall window: the kernel's rule for announced blocks, which these engines
 * keep (counted blocks off: a counted block stays in the running count, ARCHITECTURE 2).
 */
class StallWindowTest {

    private static Work blockingUntil(CountDownLatch started, CountDownLatch release) {
        return new Work(() -> {
            started.countDown();
            Blocking.run(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        });
    }

    @Test
    void noThreadIsCreatedWithinTheStallWindow() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).stallWindow(Duration.ofHours(1)).build())) {
            Workqueue wq = c.workqueue("w").build();
            CountDownLatch release = new CountDownLatch(1);
            try {
                // Queue blocking works one at a time. Each starts at once while an idle worker
                // (the reserve) is there to be woken; once none is left, the next one must wait,
                // because the blocked workers may return: no thread within the (1 h) window.
                boolean sawWait = false;
                for (int i = 0; i < 4 && !sawWait; i++) {
                    int threadsBefore = c.threads();
                    CountDownLatch started = new CountDownLatch(1);
                    wq.queue(blockingUntil(started, release));
                    if (!started.await(300, TimeUnit.MILLISECONDS)) {
                        sawWait = true;
                        assertThat(i).as("the pool had at least one worker").isGreaterThan(0);
                        assertThat(c.threads()).as("no thread created").isEqualTo(threadsBefore);
                    }
                }
                assertThat(sawWait).as("a work waited out the stall window").isTrue();
            } finally {
                release.countDown();
            }
            // the blocked workers returned: the waiting work runs on one of them
            wq.flush();
            assertThat(c.peakThreads()).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void aThreadIsCreatedOnceTheStallWindowHasPassed() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).stallWindow(Duration.ofMillis(1)).build())) {
            Workqueue wq = c.workqueue("w").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch secondRan = new CountDownLatch(1);
            wq.queue(blockingUntil(started, release));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work(secondRan::countDown));
            try {
                assertThat(secondRan.await(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void anIdleWorkerIsWokenAtOnceEvenWithALongStallWindow() throws Exception {
        // a window long enough that only an immediate wake-up can pass the test, short enough to
        // build up idle workers first
        Duration window = Duration.ofMillis(1500);
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).stallWindow(window).build())) {
            Workqueue wq = c.workqueue("w").build();
            // phase 1: three works blocked together leave three workers behind
            assertThat(TestSupport.blockAllAtOnce(wq, 3, 60)).isTrue();
            wq.flush();
            int threads = c.threads();
            assertThat(threads).isGreaterThanOrEqualTo(3);

            // phase 2: a block now wakes an idle worker at once
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch secondRan = new CountDownLatch(1);
            try {
                wq.queue(blockingUntil(started, release));
                assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                long t0 = System.nanoTime();
                wq.queue(new Work(secondRan::countDown));
                assertThat(secondRan.await(window.toMillis() / 2, TimeUnit.MILLISECONDS))
                        .as("second work started well within the stall window").isTrue();
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(ms).isLessThan(window.toMillis() / 2);
                assertThat(c.threads()).as("no thread was created for it").isEqualTo(threads);
            } finally {
                release.countDown();
            }
        }
    }
}
