package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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

    /**
     * A minimal stage of this future whose {@code *Async} stages without an executor run on the
     * workqueue too. {@code CompletableFuture}'s own is of a JDK class that ignores this
     * future's {@link #defaultExecutor}: they ran on the common pool. It completes as this future
     * does (a failure wrapped in a {@link CompletionException} unless it is one), and refuses
     * every method that is not a {@link CompletionStage} method, as the JDK's does ({@link Minimal}).
     */
    @Override
    public CompletionStage<T> minimalCompletionStage() {
        return Minimal.completingAs(this, wq, this);
    }

    @Override
    public String toString() {
        return super.toString() + "[" + wq.name() + "]";
    }

    /**
     * The minimal {@link CompletionStage} of a workqueue future ({@link #minimalCompletionStage}):
     * the contract of {@code CompletableFuture.minimalCompletionStage}, on the workqueue. Its
     * {@code *Async} stages without an executor run on the workqueue ({@link #defaultExecutor}),
     * and the stages derived from it are minimal stages of the same workqueue
     * ({@link #newIncompleteFuture}). Nobody can complete, cancel, read or wait on one: every
     * such method throws {@link UnsupportedOperationException}, the set the JDK's minimal stage
     * refuses; only the stage it relays completes it ({@link #relay}), and the JDK completes the
     * derived ones through its own internals. {@link #toCompletableFuture} gives a full workqueue
     * future that completes as it does, whose waits follow the wait protocol.
     */
    static final class Minimal<T> extends CompletableFuture<T> {
        private final Workqueue wq;
        /**
         * The workqueue future this stage derives from, directly or through other minimal
         * stages: the origin of {@link #toCompletableFuture}'s future, so that a wait on that one
         * lends to its task while the task has not finished. Final.
         */
        private final WorkqueueFuture<?> source;

        private Minimal(Workqueue wq, WorkqueueFuture<?> source) {
            this.wq = wq;
            this.source = source;
        }

        /** A new minimal stage on {@code wq} that completes as {@code stage} does. */
        static <T> Minimal<T> completingAs(CompletableFuture<T> stage, Workqueue wq, WorkqueueFuture<?> source) {
            Minimal<T> m = new Minimal<>(wq, source);
            stage.whenComplete(m::relay);
            return m;
        }

        /** Completes this stage as the stage it relays completed; the only way it is completed from outside the JDK. */
        private void relay(T value, Throwable failure) {
            if (failure == null) {
                super.complete(value);
            } else {
                super.completeExceptionally(wrapped(failure));
            }
        }

        /** The failure a relay passes on: a {@link CompletionException} with the cause, as the JDK's relay does. */
        private static Throwable wrapped(Throwable failure) {
            return failure instanceof CompletionException ? failure : new CompletionException(failure);
        }

        /** Derived stages are minimal stages of the same workqueue. */
        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new Minimal<>(wq, source);
        }

        /** {@code *Async} stages without an executor run on the workqueue, not the common pool. */
        @Override
        public Executor defaultExecutor() {
            return wq;
        }

        /**
         * A new workqueue future that completes as this stage does: every method available, its
         * {@code *Async} stages on the workqueue, its waits lending to the task this stage
         * derives from while that has not finished.
         */
        @Override
        public CompletableFuture<T> toCompletableFuture() {
            WorkqueueFuture<T> f = new WorkqueueFuture<>(wq, source);
            whenComplete((v, e) -> {
                if (e == null) {
                    f.complete(v);
                } else {
                    f.completeExceptionally(wrapped(e));
                }
            });
            return f;
        }

        /** Another minimal stage of the workqueue, not the JDK's (which would default to the common pool). */
        @Override
        public CompletionStage<T> minimalCompletionStage() {
            return completingAs(this, wq, source);
        }

        private static UnsupportedOperationException refused() {
            return new UnsupportedOperationException(
                    "a minimal completion stage: only CompletionStage methods (toCompletableFuture() for the rest)");
        }

        @Override
        public T get() {
            throw refused();
        }

        @Override
        public T get(long timeout, TimeUnit unit) {
            throw refused();
        }

        @Override
        public T getNow(T valueIfAbsent) {
            throw refused();
        }

        @Override
        public T join() {
            throw refused();
        }

        @Override
        public T resultNow() {
            throw refused();
        }

        @Override
        public Throwable exceptionNow() {
            throw refused();
        }

        @Override
        public boolean complete(T value) {
            throw refused();
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            throw refused();
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            throw refused();
        }

        @Override
        public void obtrudeValue(T value) {
            throw refused();
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw refused();
        }

        @Override
        public boolean isDone() {
            throw refused();
        }

        @Override
        public boolean isCancelled() {
            throw refused();
        }

        @Override
        public boolean isCompletedExceptionally() {
            throw refused();
        }

        @Override
        public State state() {
            throw refused();
        }

        @Override
        public int getNumberOfDependents() {
            throw refused();
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
            throw refused();
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
            throw refused();
        }

        @Override
        public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
            throw refused();
        }

        @Override
        public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
            throw refused();
        }

        @Override
        public String toString() {
            return super.toString() + "[minimal, " + wq.name() + "]";
        }
    }
}
