package dev.cmwq4j;

import java.util.Arrays;

/**
 * An immutable histogram of durations in nanoseconds, with one bucket per power of two: bucket
 * {@code i} counts values in {@code [2^i, 2^(i+1))} (bucket 0 also counts 0). Percentiles are
 * therefore exact to within a factor of two, which is what a latency overview needs and what
 * can be recorded on every work without measurable cost.
 */
public final class DurationHistogram {
    /** Number of buckets: every non-negative {@code long} has one. */
    public static final int BUCKETS = 64;

    private static final DurationHistogram EMPTY = new DurationHistogram(new long[BUCKETS], 0, 0);

    private final long[] counts;
    private final long count;
    private final long sum;
    private final long max;

    private DurationHistogram(long[] counts, long sum, long max) {
        this.counts = counts;
        long c = 0;
        for (long n : counts) {
            c += n;
        }
        this.count = c;
        this.sum = sum;
        this.max = max;
    }

    /**
     * A histogram with the given bucket counts (copied), sum and maximum.
     *
     * @param counts the count of each bucket, {@link #BUCKETS} of them
     * @param sumNanos the sum of the recorded values
     * @param maxNanos the largest recorded value
     * @return the histogram
     * @throws NullPointerException if {@code counts} is null
     * @throws IllegalArgumentException if {@code counts} does not have {@link #BUCKETS} entries or
     *     any value is negative
     */
    public static DurationHistogram of(long[] counts, long sumNanos, long maxNanos) {
        if (counts.length != BUCKETS) {
            throw new IllegalArgumentException("counts must have " + BUCKETS + " buckets, not " + counts.length);
        }
        for (long n : counts) {
            if (n < 0) {
                throw new IllegalArgumentException("negative bucket count " + n);
            }
        }
        if (sumNanos < 0 || maxNanos < 0) {
            throw new IllegalArgumentException("negative sum or max");
        }
        return new DurationHistogram(counts.clone(), sumNanos, maxNanos);
    }

    /** {@return the empty histogram} */
    public static DurationHistogram empty() {
        return EMPTY;
    }

    /**
     * The bucket a value falls in.
     *
     * @param nanos a duration in nanoseconds; values below 2 (negative ones included) fall in
     *     bucket 0
     * @return the bucket's index, {@code 0 <= i < BUCKETS}
     */
    public static int bucketOf(long nanos) {
        // no branch (Math.max is an intrinsic): the engine records on every run's end, and a
        // branch its load never took would be compiled out until the first 0 ns wait
        return 63 - Long.numberOfLeadingZeros(Math.max(nanos, 1));
    }

    /** {@return the number of recorded values} */
    public long count() {
        return count;
    }

    /** {@return the largest recorded value, or 0} */
    public long maxNanos() {
        return max;
    }

    /** {@return the mean of the recorded values, or 0} */
    public double meanNanos() {
        return count == 0 ? 0 : (double) sum / count;
    }

    /**
     * The count of one bucket.
     *
     * @param i the bucket's index, {@code 0 <= i < BUCKETS}
     * @return the number of recorded values in bucket {@code i}
     * @throws ArrayIndexOutOfBoundsException if {@code i} is out of range
     */
    public long bucketCount(int i) {
        return counts[i];
    }

    /**
     * An upper bound of the value below which {@code percentile} percent of the values fall: the
     * upper end of the bucket that holds it, but never above the maximum. 0 when empty.
     *
     * @param percentile the percentile, {@code 0 <= percentile <= 100}
     * @return the upper bound, in nanoseconds
     * @throws IllegalArgumentException unless {@code 0 <= percentile <= 100}
     */
    public long valueAtPercentile(double percentile) {
        if (!(percentile >= 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100]: " + percentile);
        }
        if (count == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * count));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                long upper = i >= 62 ? Long.MAX_VALUE : (2L << i) - 1;
                return Math.min(upper, max);
            }
        }
        return max;
    }

    /**
     * The sum of this histogram and {@code other}: counts and sums added, the larger maximum.
     *
     * @param other the histogram to add
     * @return a new histogram
     * @throws NullPointerException if {@code other} is null
     */
    public DurationHistogram plus(DurationHistogram other) {
        long[] c = counts.clone();
        for (int i = 0; i < BUCKETS; i++) {
            c[i] += other.counts[i];
        }
        return new DurationHistogram(c, sum + other.sum, Math.max(max, other.max));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DurationHistogram h && h.sum == sum && h.max == max && Arrays.equals(h.counts, counts);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(counts) * 31 + Long.hashCode(max);
    }

    @Override
    public String toString() {
        return String.format("DurationHistogram[count=%d, p50<=%dns, p99<=%dns, max=%dns]", count,
                valueAtPercentile(50), valueAtPercentile(99), max);
    }
}
