package dev.cmwq4j;

import dev.cmwq4j.internal.Helping;
import dev.cmwq4j.internal.Worker;
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
 * it ({@link #newIncompleteFuture}) are of this class too, without a task. Waiting on any of them
 * from a work goes through {@link #awaitDone}: first {@link Helping} (run the task in place if it
 * has not started), then an announced block around the JDK's own wait. Off a worker, waits are the
 * JDK's. Everything else is {@code CompletableFuture}'s.
 */
final class WorkqueueFuture<T> extends CompletableFuture<T> {
    private final Workqueue wq;
    /** The task completing this future, or null for a derived stage; written once, before queueing. */
    private Work task;

    /** The node of the task, or null for a derived stage (its wait is a plain block, not a join). */
    private dev.cmwq4j.internal.WorkNode taskNode() {
        Work t = task;
        return t == null ? null : t.node;
    }

    private WorkqueueFuture(Workqueue wq) {
        this.wq = wq;
    }

    /** Queues {@code supplier} on {@code wq} and returns the future it completes. */
    static <T> WorkqueueFuture<T> start(Workqueue wq, Supplier<T> supplier) {
        WorkqueueFuture<T> f = new WorkqueueFuture<>(wq);
        Work t = new Work(new Runnable() {
            @Override
            public void run() {
                if (f.isDone()) {
                    return; // cancelled (or completed by someone else) before it started
                }
                try {
                    f.complete(supplier.get());
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            }

            @Override
            public String toString() {
                return "supplyAsync[" + supplier + "]";
            }
        });
        f.task = t;
        wq.queue(t);
        return f;
    }

    /**
     * Before a wait from a work: helps the task if it may be, and otherwise, if still not done,
     * tells the caller to wait as an announced block.
     *
     * @return the worker to announce the block on, or null to just wait (done, or not a worker)
     */
    private Worker awaitDone() {
        Worker w = Worker.current();
        if (w == null || isDone()) {
            return null;
        }
        Work t = task;
        if (t != null && Helping.tryHelp(t.node) && isDone()) {
            return null;
        }
        return w;
    }

    @Override
    public T join() {
        Worker w = awaitDone();
        if (w == null) {
            return super.join();
        }
        w.joinBegin(taskNode());
        try {
            return super.join();
        } finally {
            w.joinEnd();
        }
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        Worker w = awaitDone();
        if (w == null) {
            return super.get();
        }
        w.joinBegin(taskNode());
        try {
            return super.get();
        } finally {
            w.joinEnd();
        }
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        Worker w = awaitDone();
        if (w == null) {
            return super.get(timeout, unit);
        }
        w.joinBegin(taskNode());
        try {
            return super.get(timeout, unit);
        } finally {
            w.joinEnd();
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

    /** Derived stages are workqueue futures too: their waits are announced as well. */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new WorkqueueFuture<>(wq);
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
