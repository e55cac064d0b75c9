package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The {@link CompletableFuture} of {@link Workqueue#supplyAsync} and {@link Workqueue#runAsync}.
 *
 * <p>A future made by {@link #start} knows its task (a one-shot {@link Work}); stages derived from
 * it ({@link #newIncompleteFuture}) are of this class too, without a task of their own: they wait
 * for the task of the future they derive from. Every wait follows the
 * engine's one wait protocol around the JDK's own wait: fail-fast checks, helping (run the task
 * in place if it has not started), lending the caller's priority to the task, and, on a worker,
 * an announced block (a join while the task runs). Everything else is
 * {@code CompletableFuture}'s.
 */
final class WorkqueueFuture<T> extends CompletableFuture<T> {
    private final Workqueue wq;
    /** The task completing this future, or null for a derived stage; written once, before queueing. */
    private Work task;
    /**
     * For a derived stage, the future it was derived from (it completes only after that one), or
     * null; final.
     */
    private final WorkqueueFuture<?> origin;

    /**
     * The node of the task a wait on this future waits for: its own task, or for a derived stage
     * that of the nearest unfinished future it derives from; null if there is none (the wait is
     * then a plain announced block).
     */
    WorkNode taskNode() { // package-private for tests
        for (WorkqueueFuture<?> f = this; f != null; f = f.origin) {
            Work t = f.task;
            if (t != null) {
                return t.node;
            }
            if (f.origin != null && f.origin.isDone()) {
                return null; // what this stage waits for now is not a task of ours
            }
        }
        return null;
    }

    private WorkqueueFuture(Workqueue wq, WorkqueueFuture<?> origin) {
        this.wq = wq;
        this.origin = origin;
    }

    /** Queues {@code supplier} on {@code wq} and returns the future it completes. */
    static <T> CompletableFuture<T> start(Workqueue wq, Supplier<T> supplier) {
        WorkqueueFuture<T> f = new WorkqueueFuture<>(wq, null);
        Work t = new Work(new Runnable() {
            @Override
            public void run() {
                if (f.isDone()) {
                    return; // cancelled (or completed by someone else) before it started
                }
                try {
                    f.complete(supplier.get());
                } catch (Throwable e) {
                    // as CompletableFuture.supplyAsync stores it: handle, whenComplete and
                    // exceptionally see a CompletionException with the cause (join throws it,
                    // get an ExecutionException of the cause, exceptionNow the cause)
                    f.completeExceptionally(e instanceof java.util.concurrent.CompletionException
                            ? e : new java.util.concurrent.CompletionException(e));
                }
            }

            @Override
            public String toString() {
                return "supplyAsync[" + dev.cmwq4j.internal.WorkNode.defaultName(supplier) + "]";
            }
        });
        f.task = t;
        wq.queue(t);
        return f;
    }

    /**
     * The first steps of the {@link WaitProtocol} before a wait: fail fast if the wait could never
     * end, then help (run the task in place if it has not started).
     *
     * @return true if the future is done, so that the JDK's wait returns at once
     */
    private boolean checkAndHelp(String op) {
        if (isDone()) {
            return true;
        }
        return WaitProtocol.checkThenHelp(taskNode(), op, this) && isDone();
    }

    /**
     * @throws IllegalStateException if called from the task's own run, or from a work of an
     *     ordered workqueue while the task is queued behind it on that queue: it would never end
     */
    @Override
    public T join() {
        if (checkAndHelp("join")) {
            return super.join();
        }
        WaitProtocol.Wait wait = WaitProtocol.enterWork(taskNode());
        try {
            return super.join();
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * @throws IllegalStateException as {@link #join()}
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        if (checkAndHelp("get")) {
            return super.get();
        }
        WaitProtocol.Wait wait = WaitProtocol.enterWork(taskNode());
        try {
            return super.get();
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * @throws IllegalStateException as {@link #join()}
     */
    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        if (checkAndHelp("get")) {
            return super.get(timeout, unit);
        }
        WaitProtocol.Wait wait = WaitProtocol.enterWork(taskNode());
        try {
            return super.get(timeout, unit);
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /** Cancels this future, and its task if that has not started. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        Work t = task;
        if (cancelled && t != null) {
            t.cancel();
        }
        return cancelled;
    }

    /**
     * Derived stages are workqueue futures too: a wait on one follows the same protocol, for the
     * task of the future it derives from while that has not completed (for a stage of two
     * sources, {@code thenCombine} and the like, the one it was derived from).
     */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new WorkqueueFuture<>(wq, this);
    }

    /** {@code *Async} stages without an executor run on the workqueue, not the common pool. */
    @Override
    public Executor defaultExecutor() {
        return wq;
    }

    @Override
    public String toString() {
        return super.toString() + "[" + wq.name() + "]";
    }
}
