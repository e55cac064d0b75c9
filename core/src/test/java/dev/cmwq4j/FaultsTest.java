package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
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
}
