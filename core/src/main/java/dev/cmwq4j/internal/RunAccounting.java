package dev.cmwq4j.internal;

/**
 * The statistics of one worker's runs: for the run in progress, when its instance was queued and
 * when it started; for the last finished run, its queue-to-start latency, wall time and CPU time,
 * which the pool workqueue it counts against records ({@link PoolWorkqueue#recordRun}).
 *
 * <p>CPU time costs a clock read (~0.5 us), so only runs of {@link #CPU_CLOCK_MIN_NANOS} or more
 * read the thread's CPU clock; such a run is charged what the clock advanced since the last read,
 * less the wall time of the short runs in between (each charged its wall time), clamped to its
 * own wall time. Until the JVM's ThreadMXBean is obtained ({@link ThreadCpu#currentThreadCpuTimeIfReady}:
 * by a helper thread, started a second after the first such run in the JVM asked for it), every run is
 * charged as a short one; and so is every run on a JVM that cannot read the current thread's CPU
 * time (a GraalVM native image), or of an engine told not to ({@code Engine.threadCpuTime}).
 *
 * <p><b>Sampled clock for streams of sub-microsecond runs.</b> A clock read costs about 25 ns on
 * the machines measured, as much as a whole no-op work's path besides it, and a run needs one
 * (its end is the next run's start). While the runs of this worker average under {@link
 * #SAMPLE_BELOW_NANOS}, a run that ends with more work waiting in its pool and nothing
 * unusual (no block, no help: the caller's {@code mayEstimate}) does not read the clock: it is
 * taken to have lasted the average of the last sampled batch, and the next run starts at that
 * estimated end. One run in {@link #SAMPLE_EVERY} reads it, and whatever the batch took beyond
 * its estimates is charged to that run (a run of the batch that took long is charged, less
 * the estimates of the batch's other runs, to the run that reads the clock, at most {@link
 * #SAMPLE_EVERY} - 1 runs later on this thread, and the batch's next estimate is its new
 * average, so a stream that slows down reads the clock on every run again). So counts stay
 * exact, totals of wall, CPU and latency stay exact up to the clamp at zero of a run estimated
 * too long, and single runs of such a stream are estimates. Only a run that started at the
 * previous run's end may end at its estimate; the last run before the pool runs out of work
 * reads the clock. What a batch took beyond its estimates is dropped, uncharged, when the run
 * after it starts fresh ({@link #started}: a contended lock, or a worker that left its loop
 * although it saw work waiting, which another worker took): at most the excess of {@link
 * #SAMPLE_EVERY} - 1 runs.
 *
 * <p>Owned by one {@link Worker} and confined to its thread (a rescuer's stand-in: to the rescuer
 * thread); every field is written by that thread only, the queue time while it holds the pool
 * lock under which it read it from the node.
 */
final class RunAccounting {
    /** Runs shorter than this count their wall time as CPU time. */
    static final long CPU_CLOCK_MIN_NANOS = 50_000;

    /** The engine may read thread CPU time ({@code Engine.threadCpuTime}); false: every run is charged its wall time. */
    private final boolean cpuClock;

    RunAccounting(boolean cpuClock) {
        this.cpuClock = cpuClock;
    }

    /** When the running instance was put on its worklist (copied at start, under the pool lock). */
    private long queuedAt;
    /** When it started (the monitor's workStartedAt restarts after a help; this does not). */
    private long startedAt;
    /** Queue-to-start latency, wall time and CPU time of the last finished run. */
    long latency;
    long wall;
    long cpu;
    /** This thread's CPU clock at the end of the last run measured with it. */
    private long cpuMark;
    /** Wall time of the runs since {@link #cpuMark} that were too short to read the clock for. */
    private long shortWallSinceMark;

    /** The instance about to run was queued (admitted) at {@code nanos}, or {@link #AT_START}. */
    void queued(long nanos) {
        queuedAt = nanos;
    }

    /**
     * {@link #queuedAt}'s value for a run whose queue time is its start (latency 0): a fast run
     * offered since its pool's last clock read ({@link FastRing#admittedAt}).
     */
    static final long AT_START = Long.MIN_VALUE;

    /** Runs averaging less than this are timed by sampling the clock (see the class comment). */
    static final long SAMPLE_BELOW_NANOS = 1_000;
    /** While sampling, one run in this many reads the clock. */
    static final int SAMPLE_EVERY = 8;

    /** The last clock read: the runs since started at or after it, at estimated times. */
    private long batchStart;
    /** Runs ended since {@link #batchStart} without reading the clock. */
    private int batchRuns;
    /**
     * The run in progress started at the previous run's end (not at a clock it read): only such
     * a run may end at its estimate. A run that starts fresh (a handed-off, stolen, helped or
     * rescued one, or the first after a contended lock) reads at its end, so the estimate is
     * measured again and no run goes uncharged for long.
     */
    private boolean chained;
    /**
     * Average wall time per run of the last batch if under {@link #SAMPLE_BELOW_NANOS}; else -1:
     * read the clock.
     */
    private long estimate = -1;

    /**
     * The instance runs from {@code nanos}: a clock just read if {@code fresh}, else the end of the
     * previous run (which the caller takes as now).
     */
    void started(long nanos, boolean fresh) {
        startedAt = nanos;
        chained = !fresh;
        if (fresh) {
            batchStart = nanos;
            batchRuns = 0;
        }
    }

    /**
     * The run in progress may end at its estimate, without a clock read: the runs of the last
     * batch averaged under {@link #SAMPLE_BELOW_NANOS}, this batch has room, and the caller says
     * nothing in the run needs the clock ({@code mayEstimate}).
     */
    private boolean endsAtEstimate(boolean mayEstimate) {
        return mayEstimate && chained && estimate >= 0 && batchRuns < SAMPLE_EVERY - 1;
    }

    /** The run in progress, saved around a helped run: {queuedAt, startedAt}. */
    long savedQueuedAt() {
        return queuedAt;
    }

    long savedStartedAt() {
        return startedAt;
    }

    /** Resumes a run saved by the two readers above, after a helped run. */
    void resume(long savedQueuedAt, long savedStartedAt) {
        queuedAt = savedQueuedAt;
        startedAt = savedStartedAt;
    }

    /**
     * The last finished run's {@link #cpu} is its CPU time: read on the thread's CPU clock, or the
     * run was short enough for its wall time to stand for it. False for a longer run charged its
     * wall time (the clock not obtained yet, unsupported, or not to be used), which holds any
     * block of the run: a pool's demand estimate ({@code WorkerPool#noteRunDemand}) skips it.
     */
    private boolean cpuMeasured;

    boolean cpuMeasured() {
        return cpuMeasured;
    }

    /** When the last finished run ended (the clock {@link #ended} read, or its estimate). */
    private long endedAt;

    long endedAt() {
        return endedAt;
    }

    /** The last finished run's end ({@link #endedAt}) is a clock read, not an estimate. */
    boolean endedOnClock() {
        return batchRuns == 0;
    }

    /**
     * The run in progress ended now: fills {@link #latency}, {@link #wall} and {@link #cpu}.
     *
     * @param mayEstimate nothing in the run calls for a clock read, and more work waits for this
     *     worker: the run may end at its estimate (see the class comment)
     */
    void ended(boolean mayEstimate) {
        long start = startedAt;
        long end;
        if (endsAtEstimate(mayEstimate)) {
            end = start + estimate;
            batchRuns++;
        } else {
            end = System.nanoTime();
            long perRun = (end - batchStart) / (batchRuns + 1);
            estimate = perRun >= 0 && perRun < SAMPLE_BELOW_NANOS ? perRun : -1;
            batchStart = end;
            batchRuns = 0;
        }
        endedAt = end;
        long w = Math.max(0, end - start); // 0: a run of a batch estimated too long
        latency = queuedAt == AT_START ? 0 : Math.max(0, start - queuedAt);
        wall = w;
        long now = w < CPU_CLOCK_MIN_NANOS || !cpuClock ? -1 : ThreadCpu.currentThreadCpuTimeIfReady();
        if (now < 0) { // short, or no clock: not obtained yet, unsupported, or not to be used
            cpu = w;
            cpuMeasured = w < CPU_CLOCK_MIN_NANOS;
            shortWallSinceMark += w;
            return;
        }
        cpuMeasured = true;
        cpu = Math.max(0, Math.min(w, now - cpuMark - shortWallSinceMark));
        cpuMark = now;
        shortWallSinceMark = 0;
    }
}
