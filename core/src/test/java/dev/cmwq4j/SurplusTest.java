package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Surplus idle workers retire on a schedule that follows the load (internal {@code Surplus}): a
 * burst's threads stay warm while the load may come back (a few half-lives of idleTimeout/60),
 * and the pool is back to two idle workers once it has not.
 */
class SurplusTest {
    static final int BURST = 20;

    static PoolStats cpu0(Cmwq c) {
        return c.poolStats().stream().filter(p -> p.cpu() == 0 && !p.highPriority()).findFirst().orElseThrow();
    }

    /**
     * idleTimeout 30 s: a half-life of 0.5 s. The idle timeout alone would keep the burst's
     * threads for 30 s; the need decays from twenty to none in about five half-lives.
     */
    @Test
    void aBurstsThreadsRetireOnceTheLoadDoesNotComeBack() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).name("surplus").idleTimeout(Duration.ofSeconds(30)).build())) {
            Workqueue wq = c.workqueue("burst").build();
            // twenty works that all block at once (announced): twenty workers
            assertThat(TestSupport.blockAllAtOnce(wq, BURST, 60)).isTrue();
            assertThat(cpu0(c).workers()).as("workers after the burst").isGreaterThanOrEqualTo(BURST);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                PoolStats p = cpu0(c);
                assertThat(p.workers()).as("workers once the need decayed").isLessThanOrEqualTo(2);
                assertThat(p.idle()).isEqualTo(p.workers());
            });
            // and the pool still works: the next burst gets its threads again
            assertThat(TestSupport.blockAllAtOnce(wq, BURST, 60)).isTrue();
            assertThat(cpu0(c).workers()).isGreaterThanOrEqualTo(BURST);
        }
    }

    /**
     * With the default idle timeout (a half-life of 5 s), a second burst soon after the first finds
     * its threads warm: it creates none.
     */
    @Test
    void aBurstThatComesBackSoonFindsItsThreadsWarm() throws Exception {
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).name("surplus-warm").build())) {
            Workqueue wq = c.workqueue("burst").build();
            assertThat(TestSupport.blockAllAtOnce(wq, BURST, 60)).isTrue();
            int workers = cpu0(c).workers();
            int threads = c.threads();
            assertThat(TestSupport.blockAllAtOnce(wq, BURST, 60)).isTrue();
            assertThat(cpu0(c).workers()).as("workers after the second burst").isEqualTo(workers);
            assertThat(c.threads()).isEqualTo(threads);
        }
    }
}
