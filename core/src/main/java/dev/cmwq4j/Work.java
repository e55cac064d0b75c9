package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.Objects;

/**
 * A reusable unit of work: a function plus its queueing state.
 *
 * <p>A work has at most one pending instance: {@link Workqueue#queue} returns false while it is
 * pending. It never runs concurrently with itself anywhere in the JVM, even when queued to
 * different workqueues: if it is queued while it runs, the next run starts only after the current
 * one has ended. Which thread runs it is not promised: a worker that reaches the new instance
 * while the current run is still on hands it to the running thread, which runs it next; one that
 * reaches it after the run ended (say a worker of another pool, for a re-queue with
 * {@link Workqueue#queueOn} or to another workqueue) runs it itself.
 *
 * <p>Build a work once and queue it many times: queueing a pre-built work allocates nothing.
 *
 * <pre>{@code
 * Work refresh = new Work(cache::refresh);
 * wq.queue(refresh);      // true: now pending
 * wq.queue(refresh);      // false: already pending
 * refresh.flush();        // waits until that run has finished
 * }</pre>
 *
 * <p>An instance runs at the {@link Priority} it was queued with (its workqueue's default unless
 * {@link Workqueue#queue(Work, Priority)} gave one). A thread that waits for it in {@link #flush()}
 * or {@link #cancelSync()} lends it its own priority while it waits (see {@link Priority}).
 */
public class Work {
    final WorkNode node;

    /**
     * A work that runs {@code action}.
     *
     * @param action what to run; exceptions it throws go to the failure handler of the
     *     {@link Cmwq} and do not stop the worker
     * @throws NullPointerException if {@code action} is null
     */
    public Work(Runnable action) {
        this(new WorkNode(Objects.requireNonNull(action, "action")), action);
    }

    Work(WorkNode node, Runnable action) {
        this.node = node;
        this.action = action;
        node.bind(this);
    }

    private final Runnable action;

    /** {@return true while an instance is queued (or armed on a timer) and has not started} */
    public final boolean isPending() {
        return node.isPending();
    }

    /** {@return true while an instance is executing} */
    public final boolean isRunning() {
        return node.isRunning();
    }

    /**
     * Cancels the pending instance, if any. A running instance is not interrupted and not waited
     * for.
     *
     * @return true if a pending instance was cancelled (it will not run)
     */
    public boolean cancel() {
        return node.grab(WorkNode.CANCEL) == WorkNode.GRABBED;
    }

    /**
     * Cancels the pending instance and waits for a running one to finish. While it waits, queueing
     * this work fails (returns false), so on return the work is neither pending nor running. The
     * caller lends its priority to the running instance while it waits (see {@link Priority}).
     *
     * @return true if a pending instance was cancelled
     * @throws IllegalStateException if called from this work's own run, which would wait forever
     */
    public boolean cancelSync() {
        checkNotSelf("cancelSync");
        int r;
        while ((r = node.grab(WorkNode.CANCEL_HOLD)) == WorkNode.GRAB_BUSY) {
            Blocking.run(node::awaitNotCanceling);
        }
        try {
            long target = node.queued();
            if (node.resolved() < target) {
                awaitLending(target);
            }
        } finally {
            node.releaseCanceling();
        }
        return r == WorkNode.GRABBED;
    }

    /**
     * Waits until the instance queued last before this call has finished running. It does not wait
     * for works queued after that instance, nor for unrelated works. Called from a work, on an
     * instance that has not started, it runs that instance in place when the queue's rules allow
     * it (not ordered, within {@code maxActive}, not running elsewhere), as {@code ForkJoinPool}'s
     * join does; otherwise it waits as an announced block. While it waits, the caller lends its
     * priority to this work, and in an ordered workqueue or behind {@code maxActive} to the works
     * that must run before it (see {@link Priority}).
     *
     * @return true if it had to wait, false if the work was already idle
     * @throws IllegalStateException if called from this work's own run, or from a work of an
     *     ordered workqueue for a work queued behind it on the same queue: both would wait forever
     */
    public boolean flush() {
        checkNotSelf("flush");
        long target = node.queued(); // every instance queued or armed before this call
        boolean waits = node.resolved() < target; // read before firing: the run may be quick
        beforeFlush(); // an armed delayed work is queued now, so the check below sees where
        WaitProtocol.checkNoDeadlock(node, "flush", this);
        if (node.resolved() >= target) {
            return waits;
        }
        // from a work, a pending instance that has not started may run here, now (helping)
        if (WaitProtocol.help(node) && node.resolved() >= target) {
            return true;
        }
        awaitLending(target);
        return true;
    }

    /**
     * Waits as an announced block (a join while the work runs elsewhere, see
     * {@link Cmwq.Builder#joinWindow}) until {@code target} instances resolved, lending meanwhile.
     */
    private void awaitLending(long target) {
        WaitProtocol.Wait wait = WaitProtocol.enterWork(node);
        try {
            node.awaitResolved(target);
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /** Hook for {@link DelayedWork}: fire an armed timer now. */
    void beforeFlush() {}

    private void checkNotSelf(String op) {
        WaitProtocol.checkNotSelf(node, op, this);
    }

    @Override
    public String toString() {
        return "Work[" + action + "]";
    }
}
