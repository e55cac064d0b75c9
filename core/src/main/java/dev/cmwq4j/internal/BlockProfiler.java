package dev.cmwq4j.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * The monitor's blocking-site profiler: which detected unannounced blocks get their stack
 * captured, and the capture and attribution of those. Monitor thread only.
 *
 * <h2>Implementation overview</h2>
 * When the monitor detects a block ({@code Monitor.detect}), it asks {@link #open} first: within
 * the budget, that makes a {@link DetectedBlock}, which the worker carries through the
 * RUNNING -> DETECTED CAS. Once the CAS succeeded (the worker is out of the count, and its pool
 * kicked), the block waits in {@link #pending} until the monitor has finished its scan and fired
 * the timer entries the scan armed (the manager passes that create workers for the kicked
 * pools): profiling delays none of the monitor's decisions. Then {@link #attributePending}
 * reads each worker's stack with
 * {@link Thread#getStackTrace()} from the monitor's thread (a handshake with the worker thread:
 * about 10-30 us for a worker's stack), checks that the worker is still in that block
 * ({@link #stillInTheBlock}: else the stack may show the code after it, and is dropped), trims it
 * to a {@link Site}, and counts it in the workqueue's {@link BlockingSites}. The block's time is added when it ends (see
 * {@link DetectedBlock}). A detection outside the budget is only counted
 * ({@code blocksDetected}); the API reports the difference as unsampled.
 *
 * <h2>Budget</h2>
 * A token bucket per engine, kept as the time the next token is due ({@link #tat}, the generic
 * cell rate algorithm): {@code samplesPerSecond} tokens a second, up to {@link #BURST} at once.
 * A test, or a program's first burst of blocks, is sampled whole; a sustained flood of
 * detections is sampled at the rate, evenly in time, so the capture cost is bounded by rate x
 * capture cost whatever the load (at the default 100/s and ~30 us a capture, 0.3% of one CPU).
 * The default rate and the switch are {@code Cmwq.Builder}'s ({@code blockingSites}, and the
 * tuning property {@code cmwq4j.blockingSiteSamplesPerSecond}); 0 turns the profiler off, and the
 * monitor then does nothing more for a detection than before it existed.
 *
 * <h2>Faults</h2>
 * Whatever the capture or the bookkeeping throws (an {@code OutOfMemoryError} making the stack
 * array, a failing test seam), and if the capture came too late, the block is left unattributed: counted in
 * {@code blocksDetected}, in no site, so unsampled; and the {@link DetectedBlock} still gets the
 * monitor's arrival, so the worker's side settles. Nothing propagates to the monitor's loop.
 */
final class BlockProfiler {
    /** Detections sampled at once before the rate applies. */
    static final int BURST = 64;

    /** Samples at all (a positive rate). */
    private final boolean enabled;
    /** Nanoseconds per token at the steady rate. */
    private final long interval;
    /** How far ahead of now {@link #tat} may run: {@code (BURST - 1) * interval}. */
    private final long tolerance;
    /**
     * When the next token is due ({@code System.nanoTime()} scale): the bucket is full while it is
     * at or before now, empty once it is more than {@link #tolerance} ahead. Monitor thread only.
     */
    private long tat;

    /** Blocks whose capture or attribution threw (left unsampled); for tests. */
    final LongAdder captureFailures = new LongAdder();
    /**
     * Profiled detections of the current scan, to be attributed after it
     * ({@link #attributePending}): at most {@link #BURST}, so its array grows once; monitor thread
     * only.
     */
    private final java.util.ArrayList<DetectedBlock> pending = new java.util.ArrayList<>();

    /** Blocks attributed to a site; for tests and benchmarks. */
    final LongAdder sampled = new LongAdder();
    /** Captures discarded because the block may have ended before them ({@link #stillInTheBlock}). */
    final LongAdder stale = new LongAdder();
    /**
     * The monitor's CPU time in {@link #attribute} (capture, checks, trimming, counting), summed
     * over the profiled detections for which the thread CPU clock could be read; and how many
     * those were. For benchmarks ({@code SiteCaptureCost}): two clock reads (~1 us) per profiled
     * detection, so at most the sampling rate's worth.
     */
    final LongAdder attributeCpuNanos = new LongAdder();
    final LongAdder attributeCpuSamples = new LongAdder();

    /** @param samplesPerSecond the steady sampling rate; 0 for no profiling */
    BlockProfiler(int samplesPerSecond) {
        this.enabled = samplesPerSecond > 0;
        this.interval = enabled ? Math.max(1, 1_000_000_000L / samplesPerSecond) : Long.MAX_VALUE;
        this.tolerance = enabled ? (BURST - 1) * interval : 0;
        this.tat = System.nanoTime();
    }

    /**
     * A detection is about to be made at {@code now}: the record to carry through the CAS if it is
     * to be profiled, or null (profiling off, or no token). Takes a token.
     *
     * @param byThreadState the worker was seen in a blocked thread state (else: a native block)
     */
    DetectedBlock open(Worker w, long now, boolean byThreadState) {
        if (!mayCapture(now)) {
            return null;
        }
        return new DetectedBlock(w, System.nanoTime(), byThreadState);
    }

    /** Policy: a token is there; if so, take it. */
    private boolean mayCapture(long now) {
        if (!enabled || tat - now > tolerance) {
            return false;
        }
        tat = Math.max(tat, now) + interval;
        return true;
    }

    /**
     * Policy: read after the capture, the worker is still in the detected block, so the stack
     * shows where it blocked. The capture runs a moment after the detection, and a loaded machine
     * may deschedule the monitor in between: by then the worker may have gone on with its work,
     * or idle, and the stack would name that code. So: still DETECTED (not counted again, nor
     * announced), still on the work it was detected in, and, if it was detected by its thread
     * state, not RUNNABLE now. (A native block is RUNNABLE throughout; that case relies on the
     * first two.) A worker that ran and blocked again between the two reads passes; rare, and its
     * stack is then of a block of the same work.
     */
    private static boolean stillInTheBlock(Worker w, Thread t, DetectedBlock b) {
        return w.wstate == Worker.DETECTED && w.workSeq == b.workSeq()
                && (!b.byThreadState || t.getState() != Thread.State.RUNNABLE);
    }

    /** The detection {@link #open} was for did not happen (the monitor lost its CAS): the token is given back. */
    void notDetected(DetectedBlock b) {
        if (b != null) {
            tat -= interval;
        }
    }

    /** The monitor made the detection {@code b} is for: it is attributed after the scan. */
    void detected(DetectedBlock b) {
        pending.add(b);
    }

    /** Detections wait to be attributed. */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Attributes the scan's profiled detections ({@link #attribute}); throws nothing. */
    void attributePending() {
        for (int i = 0; i < pending.size(); i++) {
            attribute(pending.get(i));
        }
        pending.clear();
    }

    /**
     * The worker of {@code b} is DETECTED, counted in {@code b}'s workqueue: captures its stack,
     * attributes the block to a site, and arrives on {@code b}. Throws nothing.
     */
    private void attribute(DetectedBlock b) {
        Worker w = b.worker;
        long cpu0 = ThreadCpu.currentThreadCpuTimeIfReady();
        BlockingSites sites = null;
        BlockingSites.Tally tally = null;
        StackTraceElement[] raw = null;
        try {
            WorkqueueCore wq = b.workqueue();
            Thread t = w.thread;
            if (wq != null && t != null) {
                Seam.siteCapture();
                raw = t.getStackTrace();
                if (raw.length == 0 || !stillInTheBlock(w, t, b)) {
                    stale.increment(); // the capture may show code after the block: not its site
                } else {
                    Site site = Site.of(raw);
                    sites = wq.blockingSites();
                    tally = sites.detected(site); // the count is its last step: nothing counted if it threw
                }
            }
        } catch (Throwable e) {
            sites = null;
            tally = null; // unattributed: unsampled in the statistics
            captureFailures.increment();
        } finally {
            b.attributed(sites, tally, raw);
        }
        if (tally != null) {
            sampled.increment();
        }
        if (cpu0 >= 0) {
            long cpu1 = ThreadCpu.currentThreadCpuTimeIfReady();
            if (cpu1 >= cpu0) {
                attributeCpuNanos.add(cpu1 - cpu0);
                attributeCpuSamples.increment();
            }
        }
    }
}
