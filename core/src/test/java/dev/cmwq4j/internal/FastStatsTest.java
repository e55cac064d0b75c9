package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.DurationHistogram;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A worker's buffer of fast-run statistics ({@link FastStats}) read by snapshots while its owner
 * writes: the sequence count must never let a reader see half a record, nor a fold let it see a
 * run twice or not at all. One thread records runs of six pwqs of one pool, as a worker's lane
 * does (folding the oldest slot under the pool lock when all four are taken), each run of the
 * watched pwq with a latency of 1 or 5 us, a wall of 2 us and a CPU of 3 us; another reads that
 * pwq's buffered and folded statistics under the pool lock, as a snapshot does, over and over.
 * Every read must be whole: as many latencies and walls recorded as runs, their sums exactly
 * what those runs recorded, the CPU three times the wall's count, and never fewer runs than the
 * read before.
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
    void aSnapshotNeverSeesHalfARecordNorARunTwice() throws Exception {
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
        int records = 400_000;
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> writerFailed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                RunAccounting r = new RunAccounting(false);
                r.wall = WALL;
                r.cpu = CPU;
                for (int i = 0; i < records; i++) {
                    // runs of the watched pwq in streaks (repeats fold lazily in the histograms),
                    // every third record another pwq's, so that slots fill, fold and are reused
                    PoolWorkqueue pwq = i % 3 == 2 ? pwqs[1 + (i / 3) % (pwqs.length - 1)] : watched;
                    r.latency = (i / 7) % 2 == 0 ? LAT_A : LAT_B;
                    if (!stats.record(pwq, r)) {
                        pool.lock();
                        try {
                            stats.foldOldest();
                        } finally {
                            pool.unlock();
                        }
                        assertThat(stats.record(pwq, r)).as("a record after a fold").isTrue();
                    }
                }
            } catch (Throwable t) {
                writerFailed.set(t);
            } finally {
                done.set(true);
            }
        }, "faststats-writer");
        writer.start();
        long previous = 0;
        long reads = 0;
        while (!done.get() || reads == 0) {
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
            long runs = runsCpu[0];
            long nA = lat[DurationHistogram.bucketOf(LAT_A)];
            long nB = lat[DurationHistogram.bucketOf(LAT_B)];
            assertThat(nA + nB).as("latencies recorded, read %d", reads).isEqualTo(runs);
            assertThat(latSumMax[0]).as("latency sum, read %d", reads).isEqualTo(nA * LAT_A + nB * LAT_B);
            assertThat(wall[DurationHistogram.bucketOf(WALL)]).as("walls recorded, read %d", reads).isEqualTo(runs);
            assertThat(wallSumMax[0]).as("wall sum, read %d", reads).isEqualTo(runs * WALL);
            assertThat(runsCpu[1]).as("CPU, read %d", reads).isEqualTo(runs * CPU);
            assertThat(runs).as("runs, read %d", reads).isGreaterThanOrEqualTo(previous);
            previous = runs;
            reads++;
        }
        writer.join();
        assertThat(writerFailed.get()).isNull();
        // every run of the watched pwq, once: two in three records
        pool.lock();
        try {
            long[] runsCpu = new long[2];
            stats.addTo(watched, runsCpu, new long[DurationHistogram.BUCKETS], new long[2],
                    new long[DurationHistogram.BUCKETS], new long[2]);
            assertThat(runsCpu[0] + watched.executed).isEqualTo(records - records / 3);
            stats.foldAll();
            assertThat(watched.executed).isEqualTo(records - records / 3);
        } finally {
            pool.unlock();
        }
    }
}
