package dev.cmwq4j.internal;

import dev.cmwq4j.DurationHistogram;

/**
 * A power-of-two histogram recorded under a lock the caller holds (the pool lock of the pwq that
 * owns it): a few plain increments, no allocation. {@link #addTo} copies it out for a snapshot.
 */
final class LogHistogram {
    /** Buckets: the API's {@code DurationHistogram}'s, which builds its histograms from these counts. */
    static final int BUCKETS = DurationHistogram.BUCKETS;
    private final long[] counts = new long[BUCKETS];
    private long sum;
    private long max;

    /** Records one value (negative values count as 0). Caller holds the owner's lock. */
    void record(long nanos) {
        long v = Math.max(0, nanos);
        counts[DurationHistogram.bucketOf(v)]++;
        sum += v;
        if (v > max) {
            max = v;
        }
    }

    /** Adds this histogram into {@code accCounts}, and its sum and max into {@code sumAndMax}. */
    void addTo(long[] accCounts, long[] sumAndMax) {
        for (int i = 0; i < counts.length; i++) {
            accCounts[i] += counts[i];
        }
        sumAndMax[0] += sum;
        sumAndMax[1] = Math.max(sumAndMax[1], max);
    }
}
