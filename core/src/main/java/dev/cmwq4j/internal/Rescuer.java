package dev.cmwq4j.internal;

import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The rescuer of one {@code memReclaim} workqueue: a thread created when the workqueue is built,
 * so that it exists before threads or memory run out, which sleeps until a pool calls it.
 *
 * <h2>Implementation overview</h2>
 * A pool whose need for a worker stays unmet (no worker running, none idle, and the manager's
 * creation failed or hit the thread cap) runs a <em>mayday pass</em> on the service (monitor)
 * thread 10 ms after the first failure ({@link #MAYDAY_INITIAL_NANOS}), then every 100 ms
 * ({@link #MAYDAY_INTERVAL_NANOS}) while the need lasts (see {@code WorkerPool.maydayPass}). The
 * pass calls {@link #mayday} for each memReclaim workqueue with works in the pool's worklist: it
 * flags that workqueue's {@link PoolWorkqueue} for the pool and unparks the rescuer.
 *
 * <p>The rescuer takes the flagged pwq's works from the pool's worklist, oldest first, and runs
 * them on its own thread, for as long as the pool still needs a worker
 * ({@code WorkerPool.rescueNext}); then it goes back to sleep. A rescued work is started like any
 * other: through the work's state word, so a work still running elsewhere is handed to that
 * worker instead (non-reentrancy holds), and it still counts against its pwq (maxActive and flush
 * colors), so flush, drain and close see it.
 *
 * <p>While it runs a work of a pool the rescuer acts as that pool's <em>stand-in</em> worker (one
 * {@link Worker} per pool, in state {@link Worker#RESCUER}): {@code Worker.current()} answers for
 * it, so fail-fast flush checks, chained queueing during drain and placement behave as on a real
 * worker, while it is never counted in {@code nrRunning}, never idle and never watched by the
 * monitor. Rescuer threads do not count against the thread cap: they exist already.
 *
 * <p>Every mayday and rescue happens on the timer or rescuer thread; queueing and executing on
 * workers do nothing extra for it.
 */
final class Rescuer implements Runnable {
    /** A pool's need for a worker must stay unmet this long before the first mayday. */
    static final long MAYDAY_INITIAL_NANOS = 10_000_000L;
    /** Maydays repeat this often while the need lasts. */
    static final long MAYDAY_INTERVAL_NANOS = 100_000_000L;

    private final WorkqueueCore wq;
    private final Thread thread;
    /** Where {@link #thread} is registered as {@link #threadName} (see {@link ThreadNames}). */
    private final ThreadNames.Lease threadNames;
    private final String threadName;
    /** Stand-in worker per pwq of {@link #wq}, same index; used by the rescuer thread only. */
    private final Worker[] standIns;
    /** Written once by {@link #stop()}; read by the rescuer thread. */
    private volatile boolean stopping;

    /** Maydays this rescuer received: one per pool per mayday pass that found its works there. */
    final LongAdder maydays = new LongAdder();
    /** Works this rescuer took from a pool's worklist and ran. */
    final LongAdder rescued = new LongAdder();

    /** Set by {@link #start} just before {@code Thread.start()}; {@link #run} does nothing without it. */
    private boolean launched;

    /**
     * Creates the rescuer thread through the engine's thread factory (not yet started).
     *
     * @throws IllegalStateException if the factory returns null; whatever the factory throws
     */
    Rescuer(WorkqueueCore wq) {
        this.wq = wq;
        Engine e = wq.engine;
        Thread t = Worker.checkNewThread(e.newThread(this), " for the rescuer of '" + wq.name + "'");
        t.setDaemon(true);
        if (wq.highPriority) {
            t.setPriority(Thread.MAX_PRIORITY);
        }
        this.thread = t;
        PoolWorkqueue[] pwqs = wq.pwqs;
        standIns = new Worker[pwqs.length];
        for (int i = 0; i < pwqs.length; i++) {
            standIns[i] = Worker.rescuerStandIn(pwqs[i].pool, t);
        }
        // last: from here on, start() either starts the thread or forgets its name
        this.threadNames = e.threadNames();
        this.threadName = threadNames.name(t, "rescuer-".concat(wq.name));
        t.setName(threadName);
    }

    void start() {
        launched = true;
        try {
            thread.start();
        } catch (Throwable t) {
            threadNames.forget(thread, threadName);
            throw t;
        }
    }

    /** The rescuer's thread (tests, diagnostics). */
    Thread thread() {
        return thread;
    }

    /**
     * Called by a pool's mayday pass number {@code pass}, under that pool's lock, for a work of
     * {@code pwq} in the worklist: asks the rescuer to run the works of {@code pwq} there. Counted
     * once per pass, whether or not the rescuer has answered the previous one.
     */
    void mayday(PoolWorkqueue pwq, long pass) {
        if (!pwq.requestMayday(pass)) {
            return;
        }
        maydays.increment();
        Events.mayday(pwq.pool, wq);
        LockSupport.unpark(thread);
    }

    /** Stops the rescuer after the works it runs, and waits for its thread to end. */
    void stop() {
        stopping = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() == thread) {
            return;
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException ex) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        if (!launched) {
            return; // a thread the factory started itself: rejected in the constructor
        }
        Worker.clearCurrent();
        PoolWorkqueue[] pwqs = wq.pwqs;
        for (;;) {
            boolean called = false;
            for (int i = 0; i < pwqs.length; i++) {
                if (pwqs[i].maydayRequested()) {
                    called = true;
                    rescueSurviving(pwqs[i], standIns[i]);
                }
            }
            if (called) {
                continue; // look again: a pass may have called us meanwhile
            }
            if (stopping) {
                return;
            }
            LockSupport.park(this); // mayday() and stop() unpark; a permit is never lost
            Thread.interrupted(); // an interrupt must not turn the park into a spin
        }
    }

    /**
     * {@link #rescue}, surviving whatever the engine's own bookkeeping throws (nothing a work
     * throws gets here): the rescuer is the memReclaim queue's forward progress when no thread can
     * be had, often for want of memory, so its thread must not end on the first throw, as it did.
     * The pool's mayday passes, every 100 ms while its need lasts, call it again; the throw is
     * logged.
     */
    private void rescueSurviving(PoolWorkqueue pwq, Worker standIn) {
        try {
            rescue(pwq, standIn);
        } catch (Throwable t) {
            try {
                Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j: the rescuer of workqueue '" + wq.name
                        + "' recovered from", t);
            } catch (Throwable ignored) {
                // the log itself failed (out of memory): carry on rescuing
            }
        }
    }

    /** Interrupts the runs of {@code group}'s tasks on this rescuer's stand-ins (see {@link WorkqueueCore#interruptGroup}). */
    void interruptGroup(WorkNode.Group group) {
        for (Worker w : standIns) {
            w.interruptGroup(group);
        }
    }

    /** Runs {@code pwq}'s works from its pool's worklist while the pool needs a worker. */
    private void rescue(PoolWorkqueue pwq, Worker standIn) {
        Seam.rescue();
        WorkNode n;
        while ((n = standIn.rescueNext(pwq)) != null) {
            try {
                rescued.increment(); // counted before the run, as its statistics show it once it ran
            } catch (Throwable t) {
                // a striped count may allocate: out of memory costs the count, never the claimed run
            }
            standIn.runRescued(n);
        }
    }

    @Override
    public String toString() {
        return "Rescuer[" + wq.name + "]";
    }
}
