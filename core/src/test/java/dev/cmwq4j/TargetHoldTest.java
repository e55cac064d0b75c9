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
 * the kernel's rule one raise a look; once the hold is over the target is at rest again, whether
 * or not the monitor is parked: a parked monitor wakes when the hold ends
 * ({@code KernelScenariosTest.aSecondBurstStartsFromTheKernelRule} replays the kernel's timeline
 * after such a rest). The hold is set through {@link EngineProbe#targetHold}, so that what the
 * tests see does not depend on how fast the machine is.
 */
class TargetHoldTest {
    /** Works of the burst: each sleeps, announced, while the rest wait. */
    static final int WORKS = 24;

    @AfterEach
    void defaults() {
        EngineProbe.targetHold(null);
    }

    /** With an hour's hold, the raised target outlives the idle spell and the monitor's park. */
    @Test
    void aRaisedTargetOutlivesTheIdleSpellAndThePark() throws InterruptedException {
        EngineProbe.targetHold(Duration.ofHours(1));
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().name("hold").cpus(1).build())) {
            var m = c.engine();
            int raised = burst(c);
            await().atMost(Duration.ofSeconds(10)).until(() -> EngineProbe.monitorParked(m));
            assertThat(pool(c).target()).as("target held while idle, the monitor parked").isEqualTo(raised);
        }
    }

    /**
     * With a hold of 200 ms, the target is back at the rule soon after the burst with nothing
     * else happening: the monitor, parked meanwhile, wakes when the hold ends.
     */
    @Test
    void theHoldEndsWithTheMonitorParked() throws InterruptedException {
        EngineProbe.targetHold(Duration.ofMillis(200));
        // no timer entry wakes the monitor meanwhile: no JMX registration to poll for, and the
        // idle workers' surplus passes hours away
        try (Cmwq c = EngineProbe.withCountedBlocks(() -> Cmwq.builder().name("hold-ends").cpus(1).jmx(false)
                .idleTimeout(Duration.ofHours(10)).build())) {
            var m = c.engine();
            burst(c);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(pool(c).target()).as("target at rest").isEqualTo(1);
                assertThat(EngineProbe.monitorParked(m)).as("monitor parked").isTrue();
            });
        }
    }

    /**
     * Runs a burst of counted announced sleeps with a backlog behind them (the monitor raises the
     * target: its counted worker is off the CPU while work waits) and waits for the pool to idle.
     *
     * @return the target the burst left, above the resting one (1: fewer than 64 runs)
     */
    static int burst(Cmwq c) throws InterruptedException {
        Workqueue q = c.workqueue("q").build();
        CountDownLatch done = new CountDownLatch(WORKS);
        for (int i = 0; i < WORKS; i++) {
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
        assertThat(raised).as("target the burst left").isGreaterThan(1);
        return raised;
    }

    static PoolStats pool(Cmwq c) {
        return KernelScenariosTest.normalPool(c);
    }

    static int busy(PoolStats p) {
        return p.workers() - p.idle();
    }
}
