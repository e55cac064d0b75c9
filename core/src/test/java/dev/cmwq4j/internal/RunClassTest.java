package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A pool's run class ({@code WorkerPool.noteRunWall}: tiny, short, long), which decides whether
 * a thief is worth waking and whether the lane may run the pool's works, follows what the works
 * take and not the noise of one run: a preemption inside a sampled batch, or the engine's own
 * cost per work on a slower path (ARCHITECTURE 6, <i>The run class</i>). The rules are pure
 * functions of the average and the sample ({@code nextRunWallAvg}, {@code nextRunClass}), which
 * {@code noteRunWall} applies; this test feeds them sequences.
 */
class RunClassTest {
    /** The pool's average and class after each sample, as {@code noteRunWall} keeps them. */
    private static final class Average {
        int avg = WorkerPool.UNKNOWN_RUN_NANOS;
        int cls = WorkerPool.runClassOf(WorkerPool.UNKNOWN_RUN_NANOS);
        int changes;

        void note(long wall) {
            avg = WorkerPool.nextRunWallAvg(avg, wall);
            int c = WorkerPool.nextRunClass(cls, avg);
            if (c != cls) {
                changes++;
                cls = c;
            }
        }

        void note(long wall, int times) {
            for (int i = 0; i < times; i++) {
                note(wall);
            }
        }
    }

    @Test
    void noOpWorksBecomeTinyFromTheUnknownStart() {
        Average a = new Average();
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_SHORT);
        a.note(60, 40);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_TINY);
    }

    /** One preempted run among no-op ones (a sampled batch's wall time holds the preemption). */
    @Test
    void onePreemptionAmongTinyRunsLeavesThemTiny() {
        Average a = new Average();
        a.note(60, 100);
        int changes = a.changes;
        for (int round = 0; round < 1000; round++) {
            a.note(40_000); // a time slice given to another thread
            a.note(60, 7);
        }
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_TINY);
        assertThat(a.changes).isEqualTo(changes);
    }

    /**
     * No-op works whose measured time per run is the engine's own, between 300 and 700 ns (the
     * locked path beside a thief), keep one class: each sample alone used to swap it.
     */
    @Test
    void runsAroundTheTinyBoundaryDoNotSwapTheClass() {
        Average a = new Average();
        a.note(60, 100);
        int changes = a.changes;
        for (int round = 0; round < 10_000; round++) {
            a.note(round % 2 == 0 ? 300 : 700);
        }
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_TINY);
        assertThat(a.changes).isEqualTo(changes);
    }

    @Test
    void worksThatReallyGrowLongAreClassedLongWithinThirtyRuns() {
        Average a = new Average();
        a.note(50, 100);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_TINY);
        int runs = 0;
        while (a.cls != WorkerPool.RUNS_LONG && runs < 1000) {
            a.note(100_000);
            runs++;
        }
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_LONG);
        assertThat(runs).isLessThanOrEqualTo(30);
    }

    @Test
    void worksOfAFewMicrosecondsAreShortAndComeBackTiny() {
        Average a = new Average();
        a.note(50, 100);
        a.note(3_000, 40);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_SHORT);
        a.note(50, 40);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_TINY);
    }

    @Test
    void longWorksFallToShortAtOnceWhenTheyShrink() {
        Average a = new Average();
        a.note(100_000, 100);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_LONG);
        a.note(5_000, 30);
        assertThat(a.cls).isEqualTo(WorkerPool.RUNS_SHORT);
    }

    @Test
    void aSampleCountsAtMostFourTimesTheAverageAndTwiceTheShortBoundary() {
        assertThat(WorkerPool.runSample(40_000, 60)).isEqualTo(WorkerPool.TINY_RUN_NANOS);
        assertThat(WorkerPool.runSample(40_000, 1_000)).isEqualTo(4_000);
        assertThat(WorkerPool.runSample(1_000_000, 30_000)).isEqualTo(2 * WorkerPool.SHORT_RUN_NANOS);
        assertThat(WorkerPool.runSample(-5, 100)).isZero();
        assertThat(WorkerPool.runSample(80, 100)).isEqualTo(80);
    }
}
