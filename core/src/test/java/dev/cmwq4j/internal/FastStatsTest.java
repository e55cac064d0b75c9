package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.DurationHistogram;
import org.junit.jupiter.api.Test;

/**
 * A worker's buffer of fast-run statistics ({@link FastStats}): whatever the order of runs of
 * six pwqs of one pool, as a worker's lane records them (folding the oldest slot under the pool
 * lock when all four are taken), a holder's read of the watched pwq (its buffered runs plus what
 * folds moved into the pwq) counts every run recorded so far once, with every latency, wall and
 * CPU they recorded, and the final fold leaves them all in the pwq. Reads come between records,
 * as the lane's protocol makes them (a holder waits out a record in progress: the buffer has no
 * protocol of its own since 2026-12-07; {@code FastLaneTest} takes snapshots while lane runs go
 * on). Each run of the watched pwq records a latency of 1 or 5 us, a wall of 2 us and a CPU of
 * 3 us.
 */
class FastStatsTest {
    private static final long LAT_A = 1_000;
    private static final long LAT_B = 5_000;
    private static final long WALL = 2_000;
    private static final long CPU = 3_000;

    private static Engine.Config config() {
        return new Engine.Config("faststats", 1, 16, 300_000_000_000L, 200_000, 2_000_000, 100_000,
                1_000_000_000L, 20_000, 64, 10_000_000, 250_000, 20_000_000, 30_000_000_000L, r -> { },
                Thread::new, "faststats-" + System.nanoTime() + "-", (work, wq, error) -> { }, null, true, false, true,
                true);
    }

    @Test
    void aReadBetweenRecordsCountsEveryRunOnceThroughTheFolds() {
        Engine e = new Engine(config()); // never started: no thread of its own
        PoolWorkqueue[] pwqs = new PoolWorkqueue[FastStats.SLOTS + 2];
        for (int i = 0; i < pwqs.length; i++) {
            WorkqueueCore wq = e.newWorkqueue(new WorkqueueCore.Spec("q" + i, false, false, false, false, 4,
                    Inheritance.NORMAL, false, false));
            pwqs[i] = wq.pwqs[0];
        }
        PoolWorkqueue watched = pwqs[0];
        WorkerPool pool = watched.pool;
        FastStats stats = new FastStats();
        java.util.Random random = new java.util.Random(7);
        RunAccounting r = new RunAccounting(false);
        r.wall = WALL;
        r.cpu = CPU;
        int records = 200_000;
        long watchedRuns = 0;
        int folds = 0;
        for (int i = 0; i < records; i++) {
            // runs of the watched pwq in streaks of one latency, every third record another pwq's
            // (in turn), so that slots fill, fold and are reused
            PoolWorkqueue pwq = i % 3 == 2 ? pwqs[1 + (i / 3) % (pwqs.length - 1)] : watched;
            r.latency = (i / 7) % 2 == 0 ? LAT_A : LAT_B;
            if (!stats.record(pwq, r)) {
                pool.lock();
                try {
                    stats.foldOldest();
                    folds++;
                } finally {
                    pool.unlock();
                }
                assertThat(stats.record(pwq, r)).as("a record after a fold").isTrue();
            }
            if (pwq == watched) {
                watchedRuns++;
            }
            if (random.nextInt(50) == 0) {
                assertWhole(pool, stats, watched, watchedRuns, "after record " + i);
            }
        }
        assertThat(folds).as("the buffer folded (more pwqs alternate than it has slots)").isPositive();
        assertWhole(pool, stats, watched, watchedRuns, "at the end");
        pool.lock();
        try {
            stats.foldAll();
        } finally {
            pool.unlock();
        }
        assertThat(watched.executed).isEqualTo(records - records / 3);
        assertWhole(pool, stats, watched, watchedRuns, "after the last fold");
    }

    /** A holder's read of {@code watched}: the buffer and the pwq together hold exactly {@code runs} runs' statistics. */
    private static void assertWhole(WorkerPool pool, FastStats stats, PoolWorkqueue watched, long runs, String when) {
        long[] runsCpu = new long[2];
        long[] lat = new long[DurationHistogram.BUCKETS];
        long[] latSumMax = new long[2];
        long[] wall = new long[DurationHistogram.BUCKETS];
        long[] wallSumMax = new long[2];
        pool.lock();
        try {
            stats.addTo(watched, runsCpu, lat, latSumMax, wall, wallSumMax);
            runsCpu[0] += watched.executed;
            runsCpu[1] += watched.cpuNanos;
            watched.queueLatency.addTo(lat, latSumMax);
            watched.execTime.addTo(wall, wallSumMax);
        } finally {
            pool.unlock();
        }
        long nA = lat[DurationHistogram.bucketOf(LAT_A)];
        long nB = lat[DurationHistogram.bucketOf(LAT_B)];
        assertThat(runsCpu[0]).as("runs, %s", when).isEqualTo(runs);
        assertThat(nA + nB).as("latencies recorded, %s", when).isEqualTo(runs);
        assertThat(latSumMax[0]).as("latency sum, %s", when).isEqualTo(nA * LAT_A + nB * LAT_B);
        assertThat(wall[DurationHistogram.bucketOf(WALL)]).as("walls recorded, %s", when).isEqualTo(runs);
        assertThat(wallSumMax[0]).as("wall sum, %s", when).isEqualTo(runs * WALL);
        assertThat(runsCpu[1]).as("CPU, %s", when).isEqualTo(runs * CPU);
    }
}
