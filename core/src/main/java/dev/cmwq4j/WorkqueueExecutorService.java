package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link java.util.concurrent.ExecutorService} view of a {@link Workqueue}.
 *
 * <p>Every task submitted through the view is one one-shot node of the engine
 * ({@link WorkNode#oneShot}) whose group is this view: one object per {@code execute}, no
 * registry. Two striped counters, {@link #submitted} and {@link #ended}, say when every task
 * accepted has ended. {@code shutdown} stops accepting; the view terminates when the counts
 * meet. {@code shutdownNow} also takes every task of the view that has not started off the
 * workqueue ({@link WorkqueueCore#cancelGroup}, returning them) and interrupts the running ones
 * ({@link WorkqueueCore#interruptGroup}). The workqueue itself is never closed by the view.
 *
 * <h2>Scheduled tasks</h2>
 * The {@link WorkqueueScheduledExecutorService} view adds {@link ScheduledTask}s to the same
 * group and the same counts: each is counted once in {@link #submitted} when it is scheduled and
 * once in {@link #ended} when it ends for good (its last run, or a take-back), however many
 * times a periodic one runs; the task reports that itself ({@link ScheduledTask#end}), since
 * only it knows which run is the last. Armed on the timer, such a task is still found by
 * {@code shutdownNow} (the engine's {@code cancelGroup} scans the timer too) and still holds
 * termination up. The policies of {@code ScheduledThreadPoolExecutor}'s defaults are the
 * predicates {@link #mayRun} and {@link #mayRearm}.
 */
final class WorkqueueExecutorService extends AbstractExecutorService implements WorkNode.Group {
    private final Workqueue wq;
    /**
     * Tasks accepted (and tried); incremented before the shutdown check. Striped: producers
     * never share a counter line with workers ({@link #ended}).
     */
    private final LongAdder submitted = new LongAdder();
    /** Tasks that ran, were taken back, or were rejected after being counted in {@link #submitted}. */
    private final LongAdder ended = new LongAdder();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminated = lock.newCondition();
    /** Written under {@link #lock}. */
    private volatile boolean shutdown;
    /**
     * {@link #shutdownNow} has begun: a scheduled task that starts from now on does not run (see
     * {@link #mayRun}). Written once, to true, by shutdownNow, before its take-back.
     */
    private volatile boolean stopped;

    WorkqueueExecutorService(Workqueue wq) {
        this.wq = wq;
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        WorkNode node = WorkNode.oneShot(command, this);
        if (command instanceof BlockingFutureTask<?> f) {
            f.node = node; // lets a waiter help the task, and cancel(true) interrupt its run
        }
        submitted.increment();
        if (shutdown) {
            endedWithoutRun(1);
            throw rejected();
        }
        try {
            wq.core.queue(node, -1);
        } catch (RejectedExecutionException e) { // refused: never queued
            endedWithoutRun(1);
            throw e;
        } catch (Throwable e) {
            // a decorator's Error too; but a task pushed before the throw runs, and ends then
            if (node.queueGaveUp()) {
                endedWithoutRun(1);
            }
            throw e;
        }
        // a shutdownNow that ran meanwhile may have missed it: take it back (as the JDK's pools do)
        if (shutdown && node.cancel()) {
            endedWithoutRun(1);
            throw rejected();
        }
    }

    private RejectedExecutionException rejected() {
        return new RejectedExecutionException("executor view of " + wq + " is shut down");
    }

    /** {@link #shutdownNow} has begun: a one-shot task that starts now runs interrupted (see {@link WorkNode.Group#stopped}). */
    @Override
    public boolean stopped() {
        return stopped;
    }

    /** A task of this view has run: on its worker, after the task (see {@link WorkNode.Group}). */
    @Override
    public void ended() {
        ended.increment();
        if (shutdown) {
            maybeTerminate();
        }
    }

    /** {@code n} tasks counted in {@link #submitted} will never run. */
    private void endedWithoutRun(int n) {
        ended.add(n);
        maybeTerminate();
    }

    private void maybeTerminate() {
        if (isTerminated()) {
            lock.lock();
            try {
                terminated.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public void shutdown() {
        lock.lock();
        try {
            shutdown = true;
        } finally {
            lock.unlock();
        }
        maybeTerminate();
    }

    @Override
    public List<Runnable> shutdownNow() {
        stopped = true; // first: a scheduled task that the take-back misses cancels itself as it starts
        shutdown();
        // First take back everything not started, then interrupt what runs: interrupting first
        // would let a worker start a waiting task between the two.
        List<Runnable> notStarted = new ArrayList<>();
        wq.core.cancelGroup(this, notStarted);
        wq.core.interruptGroup(this);
        int oneShots = 0;
        for (Runnable r : notStarted) {
            if (r instanceof ScheduledTask<?> t) {
                t.end(); // counted by the task: a periodic one's run may be ending right now
            } else {
                oneShots++;
            }
        }
        endedWithoutRun(oneShots);
        return notStarted;
    }

    // ------------------------------------------------------------------------------------------
    // Scheduled tasks (the scheduled view's; see the class comment).

    /**
     * Accepts {@code t} and queues it at its due time ({@link ScheduledTask#dueTime}; at once if
     * that has passed), as {@link #execute} accepts a one-shot task: counted first, rejected once
     * shut down, and taken back if a shutdown (or, for a periodic task, the workqueue's close) ran
     * meanwhile.
     *
     * @throws RejectedExecutionException if the view is shut down, or the workqueue closed or
     *     draining (from the engine)
     */
    void schedule(ScheduledTask<?> t) {
        submitted.increment();
        if (shutdown) {
            t.end();
            throw rejected();
        }
        try {
            t.decorated = wq.core.decorateOnce(t); // once for all its runs (see queueAt)
        } catch (Throwable e) { // a decorator's Error too: counted, never queued, so ended
            t.end();
            throw e;
        }
        try {
            wq.core.queueAt(t.node, -1, t.dueTime(), t.decorated);
        } catch (RejectedExecutionException e) { // refused: never queued
            t.end();
            throw e;
        } catch (Throwable e) {
            // armed or pushed before the throw, it runs, and ends then
            if (t.node.queueGaveUp()) {
                t.end();
            }
            throw e;
        }
        // A shutdown (or close) that ran meanwhile may have missed it on the timer: take it back.
        // Ours: counted, then armed, then the flag read; theirs: flag set, then the timer scanned.
        if (!mayStay(t) && t.node.cancel()) {
            t.end();
            throw shutdown ? rejected() : rejectedAsClosing();
        }
    }

    /**
     * Queues a periodic task again, from the end of its run, at its new due time (at once if that
     * has passed: a late fixed-rate run); then, as {@link #schedule}, takes it back if a shutdown
     * or close ran meanwhile.
     *
     * @return false if it was taken back (the caller ends it)
     * @throws RejectedExecutionException if the workqueue is closed (from the engine)
     */
    boolean requeue(ScheduledTask<?> t) {
        wq.core.queueAt(t.node, -1, t.dueTime(), t.decorated);
        return mayStay(t) || !t.node.cancel();
    }

    /**
     * {@code t}, just queued, may stay: the view is not shut down, and for a periodic task the
     * workqueue is not closing either ({@link #mayRearm}).
     */
    private boolean mayStay(ScheduledTask<?> t) {
        return t.isPeriodic() ? mayRearm() : !shutdown;
    }

    /**
     * A scheduled task may run now, as {@code ScheduledThreadPoolExecutor} decides with its
     * defaults: not after {@code shutdownNow}; a delayed one-shot task also after
     * {@code shutdown} (getExecuteExistingDelayedTasksAfterShutdownPolicy: true); a periodic task
     * not after {@code shutdown} (getContinueExistingPeriodicTasksAfterShutdownPolicy: false), nor
     * once its workqueue closes.
     */
    boolean mayRun(boolean periodic) {
        if (stopped) {
            return false;
        }
        return !periodic || mayRearm();
    }

    /**
     * A periodic task may arm its next run: the view is not shut down, and the workqueue is not
     * closing (its close would otherwise wait for the periodic task forever).
     */
    boolean mayRearm() {
        return !shutdown && !wq.core.isClosing();
    }

    private RejectedExecutionException rejectedAsClosing() {
        return new RejectedExecutionException("workqueue " + wq + " is closing: no new periodic task");
    }

    /**
     * Cancels every periodic task of the view that waits for its next run, armed on the timer or
     * already queued (behind {@code maxActive}, or in a frozen workqueue), as
     * {@code ScheduledThreadPoolExecutor}'s {@code shutdown} does: its future is cancelled at
     * once, and a termination wait no longer waits for a worker to reach it. Each goes through
     * its own {@link ScheduledTask#cancel}, the path of a user's cancel: the future first, then
     * the pending instance taken off its list or the timer, then the task ended once
     * ({@link ScheduledTask#end}); a run ending meanwhile that re-arms it sees the cancel (the
     * Dekker pair of the class comment of {@link ScheduledTask}). A periodic task running now is
     * not touched: its run ends, and {@link #mayRearm} fails. One whose next run is handed off to
     * its running worker is not found ({@link WorkqueueCore#pendingTasks}): that worker starts it
     * next, and it cancels itself ({@link #mayRun}). Called by {@code shutdown}, after the flag is
     * set, so that a periodic task queued after the scan sees the flag ({@link #requeue}).
     */
    void cancelPendingPeriodic() {
        List<Runnable> pending = new ArrayList<>();
        wq.core.pendingTasks(this, pending);
        for (Runnable r : pending) {
            if (r instanceof ScheduledTask<?> t && t.isPeriodic()) {
                t.cancel(false);
            }
        }
    }

    /**
     * The workqueue closes while a scheduled task of this view is armed: a periodic one is
     * cancelled, as a shutdown cancels it; a delayed one-shot task stays armed, and the closing
     * drain waits for it and runs it, as for a delayed work.
     */
    @Override
    public void armedAtClose(Runnable action) {
        if (action instanceof ScheduledTask<?> t && t.isPeriodic()) {
            t.cancel(false);
        }
    }

    /**
     * A periodic task fired by the timer after this view was shut down is cancelled here: its
     * fire may have taken it off the timer before {@link #cancelPendingPeriodic} looked there and
     * pushed it after that look had locked its pool (see {@link WorkNode.Group#fired}). Not
     * after {@code shutdownNow} ({@link #stopped}, set before the shutdown flag): that takes the
     * task back and returns it, not done, or the task cancels itself as it starts.
     */
    @Override
    public void fired(Runnable action) {
        if (shutdown && !stopped && action instanceof ScheduledTask<?> t && t.isPeriodic()) {
            t.cancel(false);
        }
    }

    /** The view's workqueue. */
    Workqueue workqueue() {
        return wq;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    /**
     * Shut down, and every task accepted has ended. {@link #ended} is read first: both counts only
     * grow, so equal sums mean every task counted in {@link #submitted} by then had ended. Once
     * seen, for good ({@link #terminatedSeen}): a submit after the shutdown counts itself, then
     * reads the shutdown and gives its count back, and a read in between saw unequal sums, so
     * that a view terminated (awaitTermination had returned true) looked running again.
     */
    @Override
    public boolean isTerminated() {
        if (terminatedSeen) {
            return true;
        }
        if (!shutdown) {
            return false;
        }
        long e = ended.sum();
        if (e != submitted.sum()) {
            return false;
        }
        terminatedSeen = true; // every later submit reads the shutdown and is refused
        return true;
    }

    /** {@link #isTerminated} has held once; it holds for good. Set by the first reader that sees it. */
    private volatile boolean terminatedSeen;

    /**
     * {@inheritDoc}
     *
     * <p>From a work, the wait is an announced block ({@link WaitProtocol#enterBlock}), as the
     * view's other waits are: the caller's pool counts the worker out at once and may wake an
     * idle one for the works behind it, instead of leaving the block to the monitor, which finds
     * it only after the stall window. It lends nothing: it waits for every task the view has
     * accepted, not for one work. A wait that need not happen (terminated, or no time left)
     * announces nothing and takes no lock.
     */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        if (isTerminated()) {
            return true;
        }
        if (nanos <= 0) {
            return false;
        }
        WaitProtocol.Wait wait = WaitProtocol.enterBlock(); // off a worker: nothing
        try {
            lock.lock();
            try {
                while (!isTerminated()) {
                    if (nanos <= 0) {
                        return false;
                    }
                    nanos = terminated.awaitNanos(nanos);
                }
                return true;
            } finally {
                lock.unlock();
            }
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link AbstractExecutorService#invokeAny(Collection)}: the tasks are submitted one at
     * a time while none has ended, the first that completes normally gives the result, every
     * other task is then cancelled (interrupted if it runs), and if all fail the last failure is
     * thrown as an {@link ExecutionException}. The wait for a task to end is, from a work, an
     * announced block ({@link #awaitNextDone}); the JDK's own version waits on its completion
     * queue unannounced, so that only the monitor saw it, after the stall window. A task of this
     * view's own workqueue holds one of its {@code maxActive} slots, which the tasks may need: it
     * lends that slot to the first task waiting inactive behind it, one at a time, while it waits
     * (a task of an ordered workqueue waiting for tasks queued behind it throws
     * {@link IllegalStateException}, as {@code get} does).
     */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return firstResult(tasks, false, 0L);
        } catch (TimeoutException e) {
            throw new AssertionError("an untimed invokeAny timed out", e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link #invokeAny(Collection)}; a wait past the timeout throws
     * {@link TimeoutException} and cancels the tasks.
     */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return firstResult(tasks, true, unit.toNanos(timeout));
    }

    /**
     * The body of both {@code invokeAny}s. A task is submitted only while no task submitted
     * before it has ended unseen, so that a quick first result spares the rest; once all are
     * submitted, it waits for the next to end. Every task submitted is cancelled on the way out,
     * whatever the outcome (a done one is not affected).
     *
     * @param timed whether {@code nanos} bounds the waits
     * @param nanos the time allowed, from now, if timed
     */
    private <T> T firstResult(Collection<? extends Callable<T>> tasks, boolean timed, long nanos)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(tasks, "tasks");
        int unsubmitted = tasks.size();
        if (unsubmitted == 0) {
            throw new IllegalArgumentException("tasks is empty");
        }
        long deadline = timed ? System.nanoTime() + nanos : 0L;
        java.util.concurrent.BlockingQueue<Future<T>> done = new java.util.concurrent.LinkedBlockingQueue<>();
        List<Future<T>> submitted = new ArrayList<>(unsubmitted);
        Iterator<? extends Callable<T>> it = tasks.iterator();
        // from a work of this view's own workqueue, the wait lends the caller's slot to a task that
        // waits inactive behind it (the caller holds one of its maxActive slots)
        Lender<T> lender = WaitProtocol.holdsSlotOf(wq.core) ? new Lender<>(submitted) : null;
        try {
            ExecutionException last = null;
            int running = 0; // submitted, and not taken from done
            while (unsubmitted > 0 || running > 0) {
                Future<T> f = done.poll();
                if (f == null) {
                    if (unsubmitted > 0) {
                        // the view's own task, through execute: its node is known, so that its
                        // cancel interrupts its own run only (a cancelled task that has not started
                        // stays queued and runs as a no-op, as in the JDK's pools), and a caller of
                        // this workqueue can lend it its slot
                        AnyTask<T> t = new AnyTask<>(it.next(), done); // null task: NullPointerException
                        execute(t);
                        submitted.add(t);
                        unsubmitted--;
                        running++;
                        continue;
                    }
                    f = awaitNextDone(done, timed, deadline, lender);
                }
                if (lender != null) {
                    lender.taken(f);
                }
                running--;
                try {
                    return f.get(); // done: no wait
                } catch (ExecutionException e) {
                    last = e;
                } catch (RuntimeException e) { // CancellationException: cancelled by someone else
                    last = new ExecutionException(e);
                }
            }
            throw last; // not null: at least one task was submitted, and every one has failed
        } finally {
            for (Future<T> f : submitted) {
                f.cancel(true);
            }
        }
    }

    /**
     * The slot lends of one {@link #firstResult} called from a work of this view's own
     * workqueue: before each look at what has ended, the caller's slot goes to the first task
     * still waiting inactive behind {@code maxActive}, once the task it went to last has ended
     * ({@link WaitProtocol#lendToFirstInactive}). Confined to the caller's thread. The looks come
     * with the events that may make a lend needed (the wait's start, each task's end: each end
     * wakes the caller), every {@link #LEND_RETRY_NANOS} while a freeze refuses one, and at least
     * every {@link #LEND_RELOOK_NANOS} (a safety net).
     */
    private static final class Lender<T> {
        private final List<Future<T>> submitted;
        /**
         * The task lent to last, or null: it has the slot until the caller has taken its end off
         * its queue of ended tasks ({@link #taken}). Its future is done a moment before it is on
         * that queue, and its node ends a moment after: counting it ended only once taken keeps a
         * look of the safety net from lending on its end, which the caller is about to see.
         */
        private Future<T> lentTo;

        Lender(List<Future<T>> submitted) {
            this.submitted = submitted;
        }

        /** The caller took {@code f}'s end off its queue of ended tasks. */
        void taken(Future<T> f) {
            if (f == lentTo) {
                lentTo = null;
            }
        }

        /**
         * Lends the slot if a task waits for it and the last lend's task has ended (the caller
         * took its end off its queue: {@link #taken}; the look after that lends to the next).
         *
         * @return what {@link WaitProtocol#lendToFirstInactive} answered: the index of the task
         *     lent to, or {@link WaitProtocol#LEND_REFUSED} (a freeze: look again after a while);
         *     {@link WaitProtocol#LEND_NONE} also while the last lend's task has not ended
         */
        int look() {
            if (lentTo != null) {
                return WaitProtocol.LEND_NONE;
            }
            WorkNode[] nodes = new WorkNode[submitted.size()];
            for (int i = 0; i < nodes.length; i++) {
                if (submitted.get(i) instanceof AnyTask<T> t && !t.isDone()) {
                    nodes[i] = t.node;
                }
            }
            int lent = WaitProtocol.lendToFirstInactive(nodes, "invokeAny's tasks");
            if (lent >= 0) {
                lentTo = submitted.get(lent);
            }
            return lent;
        }
    }

    /**
     * How soon a waiting {@code invokeAny} whose lend was refused (a frozen workqueue) looks
     * again, so that the lend is made after the thaw.
     */
    private static final long LEND_RETRY_NANOS = 20_000_000L;

    /**
     * How often a waiting {@code invokeAny} with a {@link Lender} looks again with no event: a
     * safety net. The looks that matter come with events (the wait's start, each task's end, a
     * refused lend), but a task seen listed can go back inactive without one: a freeze takes
     * listed works back, and a thaw with a lowered {@code maxActive} (or a higher-priority work
     * queued meanwhile) may leave it behind the caller's slot (a third read-only review's
     * sequence). Ten looks a second, only while such a caller waits.
     */
    private static final long LEND_RELOOK_NANOS = 100_000_000L;

    /**
     * Run on the caller's thread right after a lending wait's first look, before it blocks; null
     * outside tests. A test replays there the sequence only the safety net covers (a freeze takes
     * back a task the look saw listed, and a thaw leaves it behind the caller's slot). Written only
     * by a test, while no invokeAny of it runs.
     */
    static volatile Runnable afterFirstLook;

    /** Lends made by the safety net's looks ({@link #LEND_RELOOK_NANOS}); tests expect none in normal runs. */
    static final java.util.concurrent.atomic.AtomicLong SAFETY_NET_LENDS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Waits for the next task of {@code done} to end: from a work, as an announced block
     * ({@link WaitProtocol#enterBlock}), so that its pool may run another work meanwhile (among
     * them, perhaps, the tasks waited for); off a worker, a plain wait. No task runs in place:
     * the tasks are waited for together, and running one here would hold the caller in it while
     * another might finish first, past its deadline. With a {@code lender} (a caller of this
     * view's own workqueue) the caller's slot goes to a task that waits behind it; a lend a
     * freeze refused is tried again every {@link #LEND_RETRY_NANOS}, and any other look comes at
     * least every {@link #LEND_RELOOK_NANOS}.
     *
     * @param deadline the {@link System#nanoTime} to give up at, if {@code timed}
     * @param lender the caller's lends, or null
     * @throws TimeoutException if {@code timed} and none ended by the deadline
     */
    private static <T> Future<T> awaitNextDone(java.util.concurrent.BlockingQueue<Future<T>> done, boolean timed, long deadline,
            Lender<T> lender) throws InterruptedException, TimeoutException {
        if (timed && deadline - System.nanoTime() <= 0) {
            throw new TimeoutException(); // the caller's poll found none: no wait to announce
        }
        // before the block: a look may throw (a wait that could never end)
        boolean retry = false;
        if (lender != null) {
            retry = lender.look() == WaitProtocol.LEND_REFUSED;
            Runnable hook = afterFirstLook;
            if (hook != null) {
                hook.run();
            }
        }
        WaitProtocol.Wait wait = WaitProtocol.enterBlock();
        try {
            for (;;) {
                long left = timed ? deadline - System.nanoTime() : Long.MAX_VALUE;
                if (left <= 0) {
                    throw new TimeoutException();
                }
                long slice = retry ? LEND_RETRY_NANOS : lender != null ? LEND_RELOOK_NANOS : Long.MAX_VALUE;
                Future<T> f = slice == Long.MAX_VALUE && !timed ? done.take()
                        : done.poll(Math.min(left, slice), TimeUnit.NANOSECONDS);
                if (f != null) {
                    return f;
                }
                if (lender != null) {
                    int lent = lender.look();
                    if (!retry && lent >= 0) {
                        SAFETY_NET_LENDS.incrementAndGet(); // a look no event brought
                    }
                    retry = lent == WaitProtocol.LEND_REFUSED;
                }
            }
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /** A task of {@link #firstResult}: the view's own, which puts itself on {@code done} when done. */
    private static final class AnyTask<T> extends BlockingFutureTask<T> {
        private final java.util.concurrent.BlockingQueue<Future<T>> done;

        AnyTask(Callable<T> c, java.util.concurrent.BlockingQueue<Future<T>> done) {
            super(c);
            this.done = done;
        }

        @Override
        protected void done() {
            done.add(this);
        }
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
        return new BlockingFutureTask<>(runnable, value);
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
        return new BlockingFutureTask<>(callable);
    }

    @Override
    public String toString() {
        return "ExecutorService[" + wq.name() + (shutdown ? ", shut down" : "") + "]";
    }

    /**
     * A FutureTask whose waits, from a work, first run the task in place if it has not started
     * and may be helped (helping), and otherwise count as announced blocking; they lend the
     * caller's priority to the task's work (see {@link Priority}).
     */
    static class BlockingFutureTask<T> extends FutureTask<T> implements WorkNode.TrackedTask {
        /**
         * The node that runs this task; written once before queueing: by {@link #execute}, or by
         * a {@link ScheduledTask}'s constructor.
         */
        volatile WorkNode node;
        /**
         * While the task runs: its run ({@link WorkNode#currentRunner}), or, off a worker, its
         * thread; written by the running thread only.
         */
        private volatile Object runner;

        /** Runs begun ({@link WorkNode.TrackedTask}); written by the running thread only. */
        private int runsBegun;

        @Override
        public void run() {
            runsBegun++;
            Object r = WorkNode.currentRunner();
            runner = r != null ? r : Thread.currentThread();
            try {
                super.run();
            } finally {
                runner = null;
            }
        }

        @Override
        public int runsBegun() {
            return runsBegun;
        }

        /** The decorated run threw before this task ran: it completes with that failure. */
        @Override
        public void failedBeforeRun(Throwable t) {
            setException(t);
        }

        /**
         * As {@link #run}, with {@link FutureTask#runAndReset}: for a periodic task, whose run
         * leaves the future incomplete.
         *
         * @return true if the task ran and returned normally (and was not cancelled)
         */
        final boolean runAndResetTracked() {
            runsBegun++;
            Object r = WorkNode.currentRunner();
            runner = r != null ? r : Thread.currentThread();
            try {
                return runAndReset();
            } finally {
                runner = null;
            }
        }

        /**
         * As {@link FutureTask#cancel}, but {@code cancel(true)} interrupts this task's own run
         * only ({@link WorkNode#interruptRun}): FutureTask would interrupt the thread outright,
         * and a task helping another one in its {@code get} would lose the interrupt to the
         * helped run.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            WorkNode n = node;
            if (!mayInterruptIfRunning || n == null) {
                return super.cancel(mayInterruptIfRunning);
            }
            boolean cancelled = super.cancel(false);
            if (cancelled) {
                Object r = runner;
                if (r instanceof Thread t) {
                    t.interrupt();
                } else if (r != null) {
                    n.interruptRun(r); // only while r still runs this task
                }
            }
            return cancelled;
        }

        /**
         * The first steps of the {@link WaitProtocol}: fail fast if the wait could never end,
         * then help (run the task in place if it has not started and may be helped).
         *
         * @return true if the task is done, so that the JDK's wait returns at once
         */
        private boolean checkAndHelp() {
            if (isDone()) {
                return true;
            }
            return WaitProtocol.checkThenHelp(workNode(), "get", this) && isDone();
        }

        BlockingFutureTask(Callable<T> c) {
            super(c);
        }

        BlockingFutureTask(Runnable r, T v) {
            super(r, v);
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            if (checkAndHelp()) {
                return super.get();
            }
            WaitProtocol.Wait wait = WaitProtocol.enterWork(workNode());
            try {
                return super.get();
            } finally {
                WaitProtocol.exit(wait);
            }
        }

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            if (checkAndHelp()) {
                return super.get();
            }
            WaitProtocol.Wait wait = WaitProtocol.enterWork(workNode());
            try {
                return super.get(timeout, unit);
            } finally {
                WaitProtocol.exit(wait);
            }
        }

        /**
         * The task's work node, or null before it is queued: the wait is a join if the task runs
         * (see {@code Cmwq.Builder.joinWindow}), else a plain announced block.
         */
        private WorkNode workNode() {
            return node;
        }
    }
}
