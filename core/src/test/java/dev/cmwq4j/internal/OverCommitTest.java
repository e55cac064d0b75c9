package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * When the monitor lowers a pool's concurrency target ({@code WorkerPool.overCommitted}): two or
 * more of its counted workers on the CPU while the managed pools together have more on it than
 * the CPUs plus a slack of two (the workers on the CPU at a look are mostly ones back from their
 * blocks, about to block again: ARCHITECTURE 2, <i>Adaptive target</i>). A pure function of the
 * look.
 */
class OverCommitTest {
    private static final int CPUS = 2;

    @Test
    void twoRunnableWorkersBeyondTheCpusAreTolerated() {
        assertThat(WorkerPool.overCommitted(2, CPUS + 1, CPUS, 4)).isFalse();
        assertThat(WorkerPool.overCommitted(2, CPUS + 2, CPUS, 12)).isFalse();
    }

    @Test
    void aThirdLowersTheTarget() {
        assertThat(WorkerPool.overCommitted(2, CPUS + 3, CPUS, 4)).isTrue();
        assertThat(WorkerPool.overCommitted(5, CPUS + 3, CPUS, 12)).isTrue();
    }

    @Test
    void oneOfThePoolsOwnOnTheCpuNeverLowersItsTarget() {
        // the others' workers crowd the CPUs: not this pool's surplus
        assertThat(WorkerPool.overCommitted(1, CPUS + 10, CPUS, 8)).isFalse();
    }

    @Test
    void aTargetOfOneIsNeverLowered() {
        assertThat(WorkerPool.overCommitted(4, CPUS + 10, CPUS, 1)).isFalse();
    }
}
