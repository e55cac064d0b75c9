package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.DurationHistogram;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LogHistogram} counts a value that repeats the last one without recording it again, and
 * folds the repeats in when another value comes or a snapshot reads it: whatever the sequence,
 * and wherever a snapshot falls in it, the buckets, sum and maximum are those of recording every
 * value one by one; {@link LogHistogram#absorb} moves everything, pending repeats included, and
 * leaves the other empty. The buckets themselves: {@link DurationHistogram#bucketOf}.
 */
class LogHistogramTest {
    /** Buckets, sum and max of {@code values}, recorded one by one (negative values as 0). */
    private static long[][] naive(long[] values, int n) {
        long[] counts = new long[LogHistogram.BUCKETS];
        long sum = 0;
        long max = 0;
        for (int i = 0; i < n; i++) {
            long v = Math.max(0, values[i]);
            counts[DurationHistogram.bucketOf(v)]++;
            sum += v;
            max = Math.max(max, v);
        }
        return new long[][] {counts, {sum, max}};
    }

    private static long[][] snapshot(LogHistogram h) {
        long[] counts = new long[LogHistogram.BUCKETS];
        long[] sumMax = new long[2];
        h.addTo(counts, sumMax);
        return new long[][] {counts, sumMax};
    }

    @Test
    void repeatsAndSnapshotsAnywhereGiveTheSameCountsAsRecordingEachValue() {
        Random r = new Random(42);
        for (int round = 0; round < 200; round++) {
            int n = 1 + r.nextInt(300);
            long[] values = new long[n];
            long v = 0;
            for (int i = 0; i < n; i++) {
                // long runs of one value (estimated run times, zero waits), mixed with fresh ones
                // and an occasional negative one (a clock step)
                int pick = r.nextInt(10);
                if (pick < 6 && i > 0) {
                    v = values[i - 1];
                } else if (pick == 6) {
                    v = -r.nextInt(1000);
                } else if (pick == 7) {
                    v = 0;
                } else {
                    v = (long) Math.pow(2, r.nextInt(40)) + r.nextInt(1000);
                }
                values[i] = v;
            }
            LogHistogram h = new LogHistogram();
            for (int i = 0; i < n; i++) {
                h.record(values[i]);
                if (r.nextInt(20) == 0) {
                    // a snapshot in the middle: exact so far, and it must not disturb what follows
                    assertThat(snapshot(h)).as("round %d after %d values", round, i + 1).isDeepEqualTo(naive(values, i + 1));
                }
            }
            assertThat(snapshot(h)).as("round %d, all %d values", round, n).isDeepEqualTo(naive(values, n));
            assertThat(snapshot(h)).as("a second snapshot reads the same").isDeepEqualTo(naive(values, n));
        }
    }

    @Test
    void aValueRecordedManyTimesInARowCountsEveryTime() {
        LogHistogram h = new LogHistogram();
        for (int i = 0; i < 1_000_000; i++) {
            h.record(123);
        }
        long[][] s = snapshot(h);
        assertThat(s[0][DurationHistogram.bucketOf(123)]).isEqualTo(1_000_000);
        assertThat(s[1]).containsExactly(123_000_000L, 123L);
    }

    @Test
    void absorbMovesEverythingAndLeavesTheOtherEmpty() {
        LogHistogram into = new LogHistogram();
        LogHistogram from = new LogHistogram();
        long[] values = {5, 5, 0, -3, 1_000, 70_000, 5};
        for (int i = 0; i < values.length; i++) {
            (i % 2 == 0 ? into : from).record(values[i]);
        }
        into.absorb(from);
        assertThat(snapshot(into)).isDeepEqualTo(naive(values, values.length));
        assertThat(snapshot(from)).isDeepEqualTo(naive(new long[0], 0));
        from.record(7); // the emptied one records afresh: no repeat of its old last value, its maximum reset
        assertThat(snapshot(from)).isDeepEqualTo(naive(new long[] {7}, 1));
    }

    @Test
    void eachValueFallsInItsPowerOfTwoAndValuesBelowTwoInBucketZero() {
        long[] values = {Long.MIN_VALUE, -1_000, -1, 0, 1, 2, 3, 4, 7, 8, 1_023, 1_024, 1_000_000, Long.MAX_VALUE};
        for (long v : values) {
            int expected = 0;
            for (long x = v; x >= 2; x >>>= 1) {
                expected++; // bucket i holds [2^i, 2^(i+1)), and bucket 0 everything below 2
            }
            assertThat(DurationHistogram.bucketOf(v)).as("bucket of %d", v).isEqualTo(expected);
        }
        assertThat(DurationHistogram.bucketOf(Long.MAX_VALUE)).isLessThan(DurationHistogram.BUCKETS);
    }
}
