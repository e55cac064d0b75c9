package dev.cmwq4j;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link ScheduledExecutorService} view of a {@link Workqueue}, from
 * {@link Workqueue#asScheduledExecutorService()}. It keeps the contract of a
 * {@link java.util.concurrent.ScheduledThreadPoolExecutor} with its default policies, on the
 * workqueue's pools and on the engine's one timer: no thread of its own.
 *
 * <h2>Tasks</h2>
 * <ul>
 *   <li>{@code execute}, {@code submit}, {@code invokeAll} and {@code invokeAny} behave as the
 *       {@linkplain Workqueue#asExecutorService() executor view}'s: the task is queued at once.
 *   <li>{@code schedule} arms the task on the engine's timer, as a {@link DelayedWork}; a zero or
 *       negative delay queues it at once. Delays saturate at about 73 years: a
 *       {@code Long.MAX_VALUE} delay in any unit is accepted, and the task simply does not run
 *       soon (it can be cancelled, and {@code shutdownNow} returns it).
 *   <li>{@code scheduleAtFixedRate} runs the task at {@code initialDelay}, then at
 *       {@code initialDelay + k * period}, computed from the previous due time, without drift. A
 *       run that takes longer than the period delays the next one, which then starts right after
 *       it: runs never overlap and never pile up.
 *   <li>{@code scheduleWithFixedDelay} runs the next one {@code delay} after the end of the
 *       previous one.
 *   <li>A periodic task re-arms itself on the timer at the end of each run; it stops when it is
 *       cancelled, when a run throws (its {@code get} then throws an {@link ExecutionException}
 *       with that cause), when the view shuts down, or when the workqueue closes.
 * </ul>
 * The returned {@link ScheduledFuture}'s {@code getDelay} tells the time left until the task is
 * due (negative once it is overdue), and its {@code compareTo} orders by that time. Its
 * {@code cancel(false)} stops future runs and takes an armed task off the timer at once;
 * {@code cancel(true)} also interrupts a run in progress, that run only. Its {@code get} waits
 * as the executor view's does: from a work, as an announced block, lending the caller's priority;
 * {@link #awaitTermination} and {@code invokeAny} wait from a work as announced blocks too,
 * lending no priority ({@code invokeAny} from a work of its own workqueue lends its slot to a
 * task waiting behind it, as the executor view's does).
 *
 * <h2>Shutdown</h2>
 * As {@code ScheduledThreadPoolExecutor}'s defaults
 * ({@code getExecuteExistingDelayedTasksAfterShutdownPolicy()} true,
 * {@code getContinueExistingPeriodicTasksAfterShutdownPolicy()} false):
 * <ul>
 *   <li>{@link #shutdown()} rejects new tasks, cancels the periodic ones (those armed and those
 *       already queued at once, a run in progress when it ends), and lets the delayed one-shot
 *       tasks run when they are due; {@link #awaitTermination} waits for those too.
 *   <li>{@link #shutdownNow()} returns the tasks that have not started, delayed ones included
 *       (each a {@code RunnableScheduledFuture} for scheduled tasks), and interrupts the runs in
 *       progress. A returned scheduled task that is run later only cancels itself.
 * </ul>
 * Shutting the view down never closes the workqueue. {@link Workqueue#close()} cancels the view's
 * periodic tasks and, as for every delayed work, waits for the delayed one-shot tasks to run;
 * {@link Workqueue#drain()} waits for every task, so it never returns while a periodic task is
 * active. Once the workqueue is closed (or while it drains, for callers outside its works), every
 * method that takes a task throws {@link RejectedExecutionException}.
 *
 * <p>Null arguments throw {@link NullPointerException}; a non-positive period or delay of a
 * periodic task throws {@link IllegalArgumentException}.
 */
public final class WorkqueueScheduledExecutorService implements ScheduledExecutorService {
    /** The executor view that holds the counts, the shutdown state and the immediate tasks. */
    private final WorkqueueExecutorService view;

    WorkqueueScheduledExecutorService(Workqueue wq) {
        this.view = new WorkqueueExecutorService(wq);
    }

    // ------------------------------------------------------------------------------------------
    // Scheduling.

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException if the view is shut down, or the workqueue is closed (or
     *     draining, and the caller is not one of its works)
     * @throws NullPointerException if {@code command} or {@code unit} is null
     */
    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(unit, "unit");
        long nanos = delayNanos(delay, unit);
        ScheduledTask<Void> t = new ScheduledTask<>(view, command, null, dueAt(nanos), 0);
        view.schedule(t);
        return t;
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}
     * @throws NullPointerException if {@code callable} or {@code unit} is null
     */
    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        Objects.requireNonNull(callable, "callable");
        Objects.requireNonNull(unit, "unit");
        long nanos = delayNanos(delay, unit);
        ScheduledTask<V> t = new ScheduledTask<>(view, callable, dueAt(nanos));
        view.schedule(t);
        return t;
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}, or if
     *     the workqueue is closing
     * @throws NullPointerException if {@code command} or {@code unit} is null
     * @throws IllegalArgumentException if {@code period} is zero or negative
     */
    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(unit, "unit");
        if (period <= 0) {
            throw new IllegalArgumentException("period must be positive, got " + period + " " + unit);
        }
        return schedulePeriodic(command, initialDelay, positiveNanos(period, unit), unit);
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}, or if
     *     the workqueue is closing
     * @throws NullPointerException if {@code command} or {@code unit} is null
     * @throws IllegalArgumentException if {@code delay} is zero or negative
     */
    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(unit, "unit");
        if (delay <= 0) {
            throw new IllegalArgumentException("delay must be positive, got " + delay + " " + unit);
        }
        return schedulePeriodic(command, initialDelay, -positiveNanos(delay, unit), unit);
    }

    /** {@code period}: positive for a fixed rate, negative for a fixed delay (see {@link ScheduledTask}). */
    private ScheduledFuture<?> schedulePeriodic(Runnable command, long initialDelay, long period, TimeUnit unit) {
        long nanos = delayNanos(initialDelay, unit);
        ScheduledTask<Void> t = new ScheduledTask<>(view, command, null, dueAt(nanos), period);
        view.schedule(t);
        return t;
    }

    /** A delay in nanoseconds: negative ones are zero (now), long ones saturate at {@link Workqueue#MAX_DELAY_NANOS}. */
    private static long delayNanos(long delay, TimeUnit unit) {
        return delay <= 0 ? 0 : Math.min(unit.toNanos(delay), Workqueue.MAX_DELAY_NANOS); // toNanos saturates
    }

    /** A positive period in nanoseconds, saturated at {@link Workqueue#MAX_DELAY_NANOS}. */
    private static long positiveNanos(long period, TimeUnit unit) {
        return Math.min(unit.toNanos(period), Workqueue.MAX_DELAY_NANOS);
    }

    /** The {@code nanoTime} at which a task scheduled now with {@code delayNanos} (0 to 2^61) is due. */
    private static long dueAt(long delayNanos) {
        return System.nanoTime() + delayNanos;
    }

    // ------------------------------------------------------------------------------------------
    // Immediate tasks and lifecycle: the executor view's.

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}
     * @throws NullPointerException if {@code command} is null
     */
    @Override
    public void execute(Runnable command) {
        view.execute(command);
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}
     * @throws NullPointerException if {@code task} is null
     */
    @Override
    public Future<?> submit(Runnable task) {
        return view.submit(task);
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}
     * @throws NullPointerException if {@code task} is null
     */
    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        return view.submit(task, result);
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectedExecutionException as {@link #schedule(Runnable, long, TimeUnit)}
     * @throws NullPointerException if {@code task} is null
     */
    @Override
    public <T> Future<T> submit(Callable<T> task) {
        return view.submit(task);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        return view.invokeAll(tasks);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        return view.invokeAll(tasks, timeout, unit);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        return view.invokeAny(tasks);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return view.invokeAny(tasks, timeout, unit);
    }

    /**
     * Rejects new tasks and cancels the periodic ones that wait for their next run, armed or
     * already queued (their futures are cancelled when this returns); a periodic run in progress
     * ends and is not followed. The immediate tasks already queued and the delayed one-shot tasks
     * still run (see the class comment). Does not wait, and never closes the workqueue.
     * Idempotent.
     */
    @Override
    public void shutdown() {
        view.shutdown();
        view.cancelPendingPeriodic(); // after the flag: a periodic task queued later sees it and stops
    }

    /**
     * Rejects new tasks, takes back every task that has not started (delayed and periodic ones
     * included), and interrupts the runs in progress. Never closes the workqueue.
     *
     * @return the tasks taken back, which will not run: for a scheduled task its
     *     {@code RunnableScheduledFuture}, for a submitted one its future, for an executed one
     *     the {@code Runnable} given
     */
    @Override
    public List<Runnable> shutdownNow() {
        return view.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return view.isShutdown();
    }

    /**
     * {@inheritDoc} Delayed one-shot tasks still armed after {@link #shutdown()} count: they run
     * first.
     */
    @Override
    public boolean isTerminated() {
        return view.isTerminated();
    }

    /**
     * {@inheritDoc}
     *
     * @throws NullPointerException if {@code unit} is null
     */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return view.awaitTermination(timeout, unit);
    }

    @Override
    public String toString() {
        return "Scheduled" + view;
    }
}
