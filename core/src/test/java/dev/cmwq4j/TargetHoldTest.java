package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An idle pool keeps the concurrency target of its last burst for a short hold (the monitor's
 * linger, 20 ms by default), so that the next burst of the same load does not climb back from
 * the kernel's rule one raise a look; once the hold is over, and whenever the monitor is parked,
 * the target is at rest again ({@code KernelScenariosTest.aSecondBurstStartsFromTheKernelRule}
 * replays the kernel's timeline after such a rest). The hold is set here through
 * {@link EngineProbe#targetHold}, so that what the test sees does not depend on how fast the
 * machine is: an hour while the held target is checked, then zero.
 */
class TargetHoldTest {
    /** Works of the burst: each sleeps, announced, while the rest wait. */
    static final int WORKS = 24;

    @AfterEach
    void defaults() {
        EngineProbe.targetHold(null);
    }

    @Test
    void aRaisedTargetOutlivesAnIdleSpellShorterThanTheHoldAndNotTheHold() throws InterruptedException {
        EngineProbe.targetHold(Duration.ofHours(1));
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().name("hold").cpus(1).build())) {
            var m = c.engine();
            Workqueue q = c.workqueue("q").build();
            CountDownLatch done = new CountDownLatch(WORKS);
            for (int i = 0; i < WORKS; i++) {
                // counted announced sleeps with a backlog behind them: the monitor raises the
                // target (its counted worker is off the CPU while work waits)
                assertThat(q.queue(new Work("w" + i, () -> {
                    try {
                        Blocking.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    done.countDown();
                }))).isTrue();
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).as("the burst ran").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> busy(pool(c)) == 0);
            int raised = pool(c).target();
            assertThat(raised).as("target the burst left (fewer than 64 runs: the resting one is 1)").isGreaterThan(1);

            // idle, within the hold: the monitor keeps looking and the pool keeps its target
            long looks = EngineProbe.monitorLooks(m);
            await().atMost(Duration.ofSeconds(10)).until(() -> EngineProbe.monitorLooks(m) >= looks + 40); // past the linger (20 ms)
            assertThat(pool(c).target()).as("target held while idle").isEqualTo(raised);
            assertThat(EngineProbe.monitorParked(m)).as("monitor parked while a target is held").isFalse();

            // the hold over: back to the rule, and only then does the monitor park
            EngineProbe.targetHold(Duration.ZERO);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(EngineProbe.monitorParked(m)).as("monitor parked").isTrue();
                assertThat(pool(c).target()).as("target at rest").isEqualTo(1);
            });
        }
    }

    static PoolStats pool(Cmwq c) {
        return KernelScenariosTest.normalPool(c);
    }

    static int busy(PoolStats p) {
        return p.workers() - p.idle();
    }
}
