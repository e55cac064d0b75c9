package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One profiled unannounced block, from the monitor's detection until the worker is counted again:
 * the link between the count a site gets at detection and the time it gets at the end.
 *
 * <h2>Two parties, either order</h2>
 * The monitor makes it before its RUNNING -> DETECTED CAS and hangs it on the worker
 * ({@link Worker#monitorUncount}), then, after its scan, captures the stack and attributes the
 * block to a site ({@link #attributed}). Whoever moves the worker's word out of DETECTED (the
 * worker when its work ends or it announces a block, or the monitor when it sees it run again)
 * takes it off the worker and ends it ({@link #ended}). The two can come in either order: the
 * capture comes after the rest of the scan and takes tens of microseconds, and a block may end
 * meanwhile. Each writes its own fields, then arrives
 * ({@link #ARRIVALS}, one {@code getAndAdd}); the second to arrive sees both parties' writes
 * (the first's writes happen before its atomic add, which the second's add reads) and
 * <em>settles</em>: commits the JFR event and adds the blocked time to the site's tally. So a
 * block is charged exactly once, whichever side finishes last, and a block whose capture failed
 * (no tally) is charged nowhere and counted as unsampled.
 *
 * <p>Blocked time is from the detection ({@link #detectedAt}, the monitor's clock just before its
 * CAS) to the end: the stall window the block had already lasted when it was detected is not in
 * it, and its end is when the worker was counted again (its work ended, it announced a block, or
 * the monitor saw it on the CPU, within a tick of its return).
 */
final class DetectedBlock {
    private static final AtomicIntegerFieldUpdater<DetectedBlock> ARRIVALS =
            AtomicIntegerFieldUpdater.newUpdater(DetectedBlock.class, "arrivals");

    /** System.nanoTime() of the detection; final. */
    final long detectedAt;
    /**
     * The begun JFR {@code UnannouncedBlock} event, or null (no recording wants it); final. A
     * {@code jdk.jfr.Event}, typed {@code Object} for the reason {@code Worker.blockEvent} is:
     * the field updater below reflects on this class's fields, which loads each field's type.
     */
    private final Object event;
    /** The worker that blocked; final. */
    final Worker worker;

    /** The workqueue the detection was counted in, or null; written by the monitor ({@link #countedIn}). */
    private WorkqueueCore workqueue;
    /** The work that blocked, for the event; written by the monitor ({@link #countedIn}). */
    private WorkNode work;
    /** The worker's {@code workSeq} at the detection; written by the monitor ({@link #countedIn}). */
    private long workSeq;
    /**
     * Detected by its thread state (BLOCKED, WAITING, TIMED_WAITING), not as a native block
     * (RUNNABLE off the CPU); final.
     */
    final boolean byThreadState;

    // Written by the monitor before it arrives (attributed):
    /** The site's table and tally, or null when the capture failed or there was no workqueue. */
    private BlockingSites table;
    private BlockingSites.Tally tally;
    /** The whole captured stack, kept only for the JFR event (null without one). */
    private StackTraceElement[] stack;

    /** System.nanoTime() when the block ended; written by the closer before it arrives. */
    private long endedAt;

    /** Parties arrived (0, 1, 2); {@link #ARRIVALS} getAndAdd only. */
    @SuppressWarnings("unused") // through ARRIVALS
    private volatile int arrivals;

    DetectedBlock(Worker worker, long detectedAt, boolean byThreadState) {
        this.worker = worker;
        this.detectedAt = detectedAt;
        this.byThreadState = byThreadState;
        this.event = Events.unannouncedBegin();
    }

    /**
     * Monitor, within its successful RUNNING -> DETECTED CAS: the detection was counted in
     * {@code wq}'s {@code blocksDetected} (null: the worker had no work by then, counted nowhere),
     * while it ran {@code n}, its {@code seq}-th work.
     */
    void countedIn(WorkqueueCore wq, WorkNode n, long seq) {
        this.workqueue = wq;
        this.work = n;
        this.workSeq = seq;
    }

    /** The workqueue the detection was counted in, or null; monitor thread. */
    WorkqueueCore workqueue() {
        return workqueue;
    }

    /** The worker's {@code workSeq} at the detection; monitor thread. */
    long workSeq() {
        return workSeq;
    }

    /**
     * Monitor: the block was attributed to {@code t} of {@code sites} (null when it could not be:
     * the capture failed, or no workqueue counted it), from the captured {@code raw} stack. Its
     * arrival; throws nothing.
     */
    void attributed(BlockingSites sites, BlockingSites.Tally t, StackTraceElement[] raw) {
        this.table = sites;
        this.tally = t;
        this.stack = event != null ? raw : null;
        arrive();
    }

    /** The block ended at {@code now}: the closer's arrival (worker or monitor); throws nothing. */
    void ended(long now) {
        this.endedAt = now;
        arrive();
    }

    private void arrive() {
        if (ARRIVALS.getAndAdd(this, 1) == 1) {
            settle();
        }
    }

    /** The second arrival: both parties' fields are visible (see the class comment). */
    private void settle() {
        if (tally == null) {
            return; // unsampled after all: the capture failed
        }
        if (event != null) { // first: once the table shows the block ended, its event is committed
            Events.unannouncedEnd((jdk.jfr.Event) event, this); // best effort: never throws; the time is charged all the same
        }
        table.blocked(tally, Math.max(0, endedAt - detectedAt));
    }

    // For the JFR event's fields, read at its commit only (Events.Probes).

    /** The site's top user frame as text. */
    String siteText() {
        return tally.site.top();
    }

    /** The captured stack, one frame per line, or the site's frames if none was kept. */
    String stackText() {
        StackTraceElement[] s = stack != null ? stack : tally.site.frames();
        StringBuilder b = new StringBuilder(s.length * 64);
        for (StackTraceElement e : s) {
            if (b.length() > 0) {
                b.append('\n');
            }
            b.append(e);
        }
        return b.toString();
    }

    String workqueueName() {
        return workqueue == null ? null : workqueue.name;
    }

    String workName() {
        return work == null ? null : work.workName();
    }

    String workerName() {
        Thread t = worker.thread;
        return t == null ? "?" : t.getName();
    }
}
