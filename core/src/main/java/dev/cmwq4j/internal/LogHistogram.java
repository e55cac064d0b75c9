package dev.cmwq4j.internal;

import dev.cmwq4j.DurationHistogram;

/**
 * A power-of-two histogram recorded under a lock the caller holds (the pool lock of the pwq that
 * owns it): a few plain stores, no allocation. {@link #addTo} copies it out for a snapshot.
 *
 * <p>Repeats are counted, not recorded one by one: a value equal to the last one recorded only
 * raises {@link #repeats}, folded into the buckets when another value comes or a snapshot reads
 * the histogram. Most values of a stream of short runs repeat: the run statistics charge seven
 * runs in eight the stream's average duration ({@link RunAccounting}), and a chain's successor
 * starts where its predecessor ended, waiting 0 ns. Exact either way.
 */
final class LogHistogram {
    /** Buckets: the API's {@code DurationHistogram}'s, which builds its histograms from these counts. */
    static final int BUCKETS = DurationHistogram.BUCKETS;
    private final long[] counts = new long[BUCKETS];
    private long sum;
    private long max;
    /** The last value recorded (negative values as 0), and how many times it came in a row not yet folded in. */
    private long last = -1;
    private long repeats;

    /** Records one value (negative values count as 0). Caller holds the owner's lock. */
    void record(long nanos) {
        long v = Math.max(0, nanos);
        if (v == last) {
            repeats++;
            return;
        }
        fold();
        last = v;
        repeats = 1;
    }

    /**
     * Adds the repeats of {@link #last} into the buckets. Without a branch: with no repeats (a new
     * or emptied histogram, whose {@code last} is -1, or a second fold) it adds nothing, and
     * {@code Math.max} is an intrinsic. A branch here, compiled into the run's end of every
     * worker's largest methods, was one the mixed loads took rarely and C2 compiled out: its first
     * turn sent them back to the interpreter (ARCHITECTURE 10, <i>Recompilations</i>).
     */
    private void fold() {
        long k = repeats;
        long v = last;
        counts[DurationHistogram.bucketOf(v)] += k;
        sum += v * k;
        max = Math.max(max, v);
        repeats = 0;
    }

    /**
     * Adds {@code other} into this one and clears it: a worker's buffer of fast runs folded into
     * its pwq's histogram. Caller holds this one's lock and owns {@code other}.
     */
    void absorb(LogHistogram other) {
        other.fold();
        fold();
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
            other.counts[i] = 0;
        }
        sum += other.sum;
        max = Math.max(max, other.max);
        other.sum = 0;
        other.max = 0;
        other.last = -1;
    }

    /**
     * {@link #addTo} without folding: for a reader that does not own the histogram (a lock
     * holder reading a worker's buffer, {@link FastStats#addTo}), which leaves it as it is.
     */
    void addToUnfolded(long[] accCounts, long[] sumAndMax) {
        long k = repeats;
        long v = last;
        for (int i = 0; i < counts.length; i++) {
            accCounts[i] += counts[i];
        }
        sumAndMax[0] += sum;
        long m = max;
        if (k > 0 && v >= 0) {
            accCounts[DurationHistogram.bucketOf(v)] += k;
            sumAndMax[0] += v * k;
            m = Math.max(m, v);
        }
        sumAndMax[1] = Math.max(sumAndMax[1], m);
    }

    /** Adds this histogram into {@code accCounts}, and its sum and max into {@code sumAndMax}. Caller holds the owner's lock. */
    void addTo(long[] accCounts, long[] sumAndMax) {
        fold();
        addToUnfolded(accCounts, sumAndMax); // nothing left unfolded: the buckets, sum and max alone
    }
}
