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
        this(Objects.requireNonNull(action, "action"), false);
    }

    Work(Runnable action, boolean delayed) {
        this.node = WorkNode.create(action, this, delayed);
        this.action = action;
    }

    private final Runnable action;

    /** {@return true while an instance is queued (or armed on a timer) and has not started} */
    public final boolean isPending() {
        return node.pending();
    }

    /** {@return true while an instance is executing} */
    public final boolean isRunning() {
        return node.running();
    }

    /**
     * Cancels the pending instance, if any. A running instance is not interrupted and not waited
     * for.
     *
     * @return true if a pending instance was cancelled (it will not run)
     */
    public boolean cancel() {
        return node.cancel();
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
        return WaitProtocol.cancelSync(node, this);
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
        return WaitProtocol.flush(node, this);
    }

    @Override
    public String toString() {
        return "Work[" + action + "]";
    }
}
