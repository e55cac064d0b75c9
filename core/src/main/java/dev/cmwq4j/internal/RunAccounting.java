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

    /** The instance about to run was queued at {@code nanos}. */
    void queued(long nanos) {
        queuedAt = nanos;
    }

    /** The instance runs from {@code nanos}. */
    void started(long nanos) {
        startedAt = nanos;
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

    /** When the last finished run ended (the clock {@link #ended} read). */
    private long endedAt;

    long endedAt() {
        return endedAt;
    }

    /** The run in progress ended now: fills {@link #latency}, {@link #wall} and {@link #cpu}. */
    void ended() {
        long start = startedAt;
        long end = System.nanoTime();
        endedAt = end;
        long w = end - start;
        latency = start - queuedAt;
        wall = w;
        long now = w < CPU_CLOCK_MIN_NANOS || !cpuClock ? -1 : ThreadCpu.currentThreadCpuTimeIfReady();
        if (now < 0) { // short, or no clock: not obtained yet, unsupported, or not to be used
            cpu = w;
            shortWallSinceMark += w;
            return;
        }
        cpu = Math.max(0, Math.min(w, now - cpuMark - shortWallSinceMark));
        cpuMark = now;
        shortWallSinceMark = 0;
    }
}
