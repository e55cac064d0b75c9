package dev.cmwq4j.internal;

import dev.cmwq4j.DurationHistogram;

/**
 * A power-of-two histogram recorded under a lock the caller holds (the pool lock of the pwq that
 * owns it), or by the one thread that owns it ({@link FastStats}): a bucket increment, a sum and a
 * maximum, no branch on what came before, no allocation. {@link #addTo} copies it out for a
 * snapshot.
 *
 * <p>Until 2026-12-07 a value equal to the last one only raised a repeat count, folded in when
 * another value came: most values of a stream of short runs repeat (the run statistics charge
 * seven runs in eight the stream's average, a chain's successor waits 0 ns). The branch on the
 * last value cost more than it saved where the values alternate, as a fast lane's latencies do
 * (0 between the clock's ticks, then a fresh value): {@code PerWorkCost lane chains} 67.7-70.3
 * ns with it against 64.5-65.6 without, three alternating pairs; the locked path's chain within
 * its spread either way (ARCHITECTURE 10, <i>The lane's run, piece by piece</i>).
 */
final class LogHistogram {
    /** Buckets: the API's {@code DurationHistogram}'s, which builds its histograms from these counts. */
    static final int BUCKETS = DurationHistogram.BUCKETS;
    private final long[] counts = new long[BUCKETS];
    private long sum;
    private long max;

    /** Records one value (negative values count as 0). Caller holds the owner's lock, or owns it. */
    void record(long nanos) {
        long v = Math.max(0, nanos);
        counts[DurationHistogram.bucketOf(v)]++;
        sum += v;
        if (v > max) {
            max = v;
        }
    }

    /**
     * Adds {@code other} into this one and clears it: a worker's buffer of fast runs folded into
     * its pwq's histogram. Caller holds this one's lock and owns {@code other}.
     */
    void absorb(LogHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
            other.counts[i] = 0;
        }
        sum += other.sum;
        max = Math.max(max, other.max);
        other.sum = 0;
        other.max = 0;
    }

    /**
     * Adds this histogram into {@code accCounts}, and its sum and max into {@code sumAndMax}.
     * Caller holds the owner's lock, or reads under a sequence check that retries a torn read
     * ({@link FastStats#addTo}).
     */
    void addTo(long[] accCounts, long[] sumAndMax) {
        for (int i = 0; i < counts.length; i++) {
            accCounts[i] += counts[i];
        }
        sumAndMax[0] += sum;
        sumAndMax[1] = Math.max(sumAndMax[1], max);
    }
}
