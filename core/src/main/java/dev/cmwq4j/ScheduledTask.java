package dev.cmwq4j;

import dev.cmwq4j.internal.WorkNode;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A task of the {@link WorkqueueScheduledExecutorService} view: its future, and the action of its
 * own engine node ({@link WorkNode#scheduled}), a delayed node that the engine's timer arms. The
 * task is this object plus that node (and the node's timer entry); scheduling allocates nothing
 * else for a {@code Callable}, and one adapter for a {@code Runnable}.
 *
 * <h2>A run</h2>
 * The node's run calls {@link #run()}. A one-shot task runs as a {@link java.util.concurrent.FutureTask}
 * does. A periodic task runs with {@code runAndReset} and, if it returned normally and may go on
 * ({@link WorkqueueExecutorService#mayRearm}), re-arms its node for the next run before its
 * own run ends:
 * <ul>
 *   <li>fixed rate: next = the previous scheduled time + period, without drift: a late run is
 *       followed at once by the next, back to back, and never concurrently;
 *   <li>fixed delay: next = the end of this run + delay.
 * </ul>
 * The engine's RUNNING bit keeps the runs apart: an instance that falls due (or was queued at
 * once because it is late) while this run is still ending is handed to this run's worker, which
 * runs it next. A periodic task has at most one pending instance, so late runs never pile up.
 *
 * <h2>Its end</h2>
 * A task ends once: its last run (one-shot, a periodic task that threw, or that found itself
 * cancelled or its view shut down), or a take-back of its pending instance (a {@link #cancel},
 * {@code shutdown}'s cancel of a periodic task armed or queued, {@code shutdownNow}). Whoever ends it
 * calls {@link #end}, which counts it once in the view ({@link #ended}, CAS). A cancel racing a
 * re-arm: the canceller marks the future cancelled then takes the pending instance back; the
 * runner arms the instance then reads the future's state; so one of them takes it back and ends
 * the task.
 */
final class ScheduledTask<V> extends WorkqueueExecutorService.BlockingFutureTask<V>
        implements RunnableScheduledFuture<V> {
    /** The executor view that counts this task and decides whether it may run ({@code mayRun}); final. */
    private final WorkqueueExecutorService view;
    /** 0: one-shot; positive: fixed rate, the period; negative: fixed delay, minus the delay (ns). */
    private final long period;
    /**
     * {@link System#nanoTime()} at which the current (or last) run was due; written by the
     * constructor, then by the running thread before it re-arms the node. Read by
     * {@link #getDelay} and {@link #compareTo} from any thread.
     */
    private volatile long time;
    /** The task has ended and was counted in the view: CAS from 0 to 1, once ({@link #end}). */
    private volatile int ended;

    private static final AtomicIntegerFieldUpdater<ScheduledTask> ENDED =
            AtomicIntegerFieldUpdater.newUpdater(ScheduledTask.class, "ended");

    /** A one-shot task due at {@code time}. */
    ScheduledTask(WorkqueueExecutorService view, Callable<V> callable, long time) {
        super(callable);
        this.view = view;
        this.period = 0;
        this.time = time;
        this.node = WorkNode.scheduled(this, view);
    }

    /** A task of {@code runnable}, completing with {@code result}; periodic if {@code period != 0}. */
    ScheduledTask(WorkqueueExecutorService view, Runnable runnable, V result, long time, long period) {
        super(runnable, result);
        this.view = view;
        this.period = period;
        this.time = time;
        this.node = WorkNode.scheduled(this, view);
    }

    /** {@return the {@link System#nanoTime()} at which the current (or last) run is due} */
    long dueTime() {
        return time;
    }

    @Override
    public boolean isPeriodic() {
        return period != 0;
    }

    @Override
    public long getDelay(TimeUnit unit) {
        return unit.convert(time - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    /**
     * Orders by remaining delay. Two tasks of this view compare their due times by difference
     * (right for {@code nanoTime} values); other {@link Delayed}s by {@link #getDelay}.
     */
    @Override
    public int compareTo(Delayed other) {
        if (other == this) {
            return 0;
        }
        long diff = other instanceof ScheduledTask<?> t
                ? time - t.time
                : getDelay(TimeUnit.NANOSECONDS) - other.getDelay(TimeUnit.NANOSECONDS);
        return diff < 0 ? -1 : diff > 0 ? 1 : 0;
    }

    /**
     * Runs the task once (see the class comment); called by its node's run on a worker. A task
     * that may not run any more ({@link WorkqueueExecutorService#mayRun}) is cancelled instead,
     * as {@code ScheduledThreadPoolExecutor} does, also when a caller runs one that
     * {@code shutdownNow} returned.
     */
    @Override
    public void run() {
        boolean again = false;
        try {
            if (!view.mayRun(isPeriodic())) {
                cancel(false);
            } else if (!isPeriodic()) {
                super.run();
            } else if (runAndResetTracked()) {
                again = rearm();
            }
        } finally {
            if (!again) {
                end();
            }
        }
    }

    /**
     * Arms the next run of this periodic task, unless it must stop: then cancels it. Any failure
     * to arm completes the future: with cancellation if the workqueue rejected it (closed), else
     * exceptionally.
     *
     * @return true if the next run is armed (queued), false if the task has ended
     */
    private boolean rearm() {
        try {
            if (!view.mayRearm()) {
                cancel(false); // shutdown, or the workqueue closes: as STPE's shutdown policy
                return false;
            }
            time = period > 0 ? time + period : System.nanoTime() - period;
            if (!view.requeue(this)) {
                cancel(false); // taken back: a shutdown or close came meanwhile
                return false;
            }
            // A cancel that came meanwhile saw nothing pending and left the instance to us.
            if (isCancelled() && node.cancel()) {
                return false;
            }
            return true;
        } catch (RejectedExecutionException e) {
            cancel(false);
            return false;
        } catch (Throwable t) {
            setException(t);
            return false;
        }
    }

    /**
     * Cancels the future and takes back the pending instance, if any (armed or queued): it ends
     * now, and leaves the timer at once. A running instance ends itself: {@code cancel(true)}
     * interrupts that run only.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled && node.cancel()) {
            end();
        }
        return cancelled;
    }

    /** Counts this task as ended in its view, once, whoever calls it (see the class comment). */
    /**
     * The task decorator's version of this task, made once when it was scheduled, or null: every
     * run of a periodic task runs it (see {@code WorkqueueCore.queueAt}). Written before the
     * first queue, read by the re-arms that follow each run.
     */
    Runnable decorated;

    /**
     * The decorated run threw before this run began (see {@link WorkNode.TrackedTask}): the task
     * completes with that failure and ends, as a run that threw would (no later runs).
     */
    @Override
    public void failedBeforeRun(Throwable t) {
        setException(t);
        end();
    }

    void end() {
        if (ENDED.compareAndSet(this, 0, 1)) {
            view.ended();
        }
    }

    @Override
    public String toString() {
        String kind = period == 0 ? "" : period > 0 ? ", fixed rate" : ", fixed delay";
        return super.toString() + "[" + view.workqueue().name() + kind + "]";
    }
}
