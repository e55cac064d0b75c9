package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The sampled clock of {@link RunAccounting}: what holds however fast or slow the machine runs
 * the calls. A stream never goes more than {@code SAMPLE_EVERY - 1} runs without a clock read;
 * a run the caller marks as needing the clock reads it; the walls of a stream add up to at least
 * its elapsed time, so a long run hidden among estimated ones is charged, whole, by the next read;
 * no latency or wall is negative.
 */
class RunAccountingTest {

    /** One stream of back-to-back runs, as a worker makes them (each starts at the last one's end). */
    private static final class Stream {
        final RunAccounting runs = new RunAccounting(false);
        final long firstStart;
        long wallSum;
        int sinceRead;
        int maxSinceRead;

        Stream() {
            firstStart = System.nanoTime();
            runs.queued(firstStart);
            runs.started(firstStart, true);
        }

        /** Ends the run in progress (after {@code spinNanos} of work) and starts the next; true if the clock was read. */
        boolean run(long spinNanos, boolean mayEstimate) {
            if (spinNanos > 0) {
                long until = System.nanoTime() + spinNanos;
                while (System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
            }
            long before = System.nanoTime();
            runs.ended(mayEstimate);
            long end = runs.endedAt();
            boolean read = end - before >= 0;
            assertThat(runs.wall).as("wall").isNotNegative();
            assertThat(runs.latency).as("latency").isNotNegative();
            assertThat(runs.cpu).as("cpu").isEqualTo(runs.wall);
            wallSum += runs.wall;
            sinceRead = read ? 0 : sinceRead + 1;
            maxSinceRead = Math.max(maxSinceRead, sinceRead);
            runs.queued(end);
            runs.started(end, false);
            return read;
        }
    }

    @Test
    void aStreamOfEmptyRunsReadsTheClockAtLeastOnceInEverySampleBatch() {
        Stream s = new Stream();
        long lastReadEnd = s.firstStart;
        for (int i = 0; i < 100_000; i++) {
            if (s.run(0, true)) {
                lastReadEnd = s.runs.endedAt();
            }
        }
        assertThat(s.maxSinceRead).isLessThanOrEqualTo(RunAccounting.SAMPLE_EVERY - 1)
                .as("some runs ended at their estimate (a preempted batch only reads more)").isPositive();
        // every interval up to the last read is charged to some run (more where a run estimated
        // too long was clamped at zero)
        assertThat(s.wallSum).isGreaterThanOrEqualTo(lastReadEnd - s.firstStart);
    }

    @Test
    void aRunThatMayNotEstimateReadsTheClock() {
        Stream s = new Stream();
        for (int i = 0; i < 10_000; i++) {
            s.run(0, true);
            assertThat(s.run(0, false)).as("run %d", i).isTrue();
        }
    }

    @Test
    void aRunThatStartedFreshReadsTheClock() {
        // a handed-off, stolen, helped or rescued run starts at a clock of its own: it must not
        // end at an estimate, or such runs, one after another, would never measure again
        Stream s = new Stream();
        for (int i = 0; i < 10_000; i++) {
            s.run(0, true);
            s.runs.started(System.nanoTime(), true);
            long before = System.nanoTime();
            s.runs.ended(true);
            assertThat(s.runs.endedAt() - before).as("run %d read the clock", i).isNotNegative();
            s.runs.started(s.runs.endedAt(), false);
        }
    }

    @Test
    void aLongRunAmongEstimatedOnesIsChargedByTheNextRead() {
        long longRun = 2_000_000;
        for (int round = 0; round < 20; round++) {
            Stream s = new Stream();
            for (int i = 0; i < 1_000; i++) {
                s.run(0, true);
            }
            long before = s.wallSum;
            long maxWall = 0;
            s.run(longRun, true);
            maxWall = Math.max(maxWall, s.runs.wall);
            // the long run's time shows in the runs up to and including the next clock read
            int runsAfter = 0;
            while (s.sinceRead != 0) {
                s.run(0, true);
                maxWall = Math.max(maxWall, s.runs.wall);
                runsAfter++;
            }
            assertThat(runsAfter).isLessThan(RunAccounting.SAMPLE_EVERY);
            // the estimated clock may run ahead of the real one by the estimates of one batch
            long slack = RunAccounting.SAMPLE_EVERY * RunAccounting.SAMPLE_BELOW_NANOS;
            assertThat(s.wallSum - before).as("charged").isGreaterThanOrEqualTo(longRun - slack);
            // to one run, less the estimates the batch's other runs were charged meanwhile
            assertThat(maxWall).as("charged to one run").isGreaterThanOrEqualTo(longRun - 2 * slack);
            // and the batch after a long one reads the clock on every run until runs are short again
            assertThat(s.run(0, true)).isTrue();
        }
    }
}
