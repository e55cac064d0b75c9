package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link java.util.concurrent.ExecutorService} view of a {@link Workqueue}.
 *
 * <p>Every task submitted through the view is a one-shot {@link Work} tracked in {@link #tasks}
 * until it ends. {@code shutdown} stops accepting; the view terminates when the last tracked task
 * ends. {@code shutdownNow} also cancels every task that has not started (returning them) and
 * interrupts the running ones. The workqueue itself is never closed by the view.
 */
final class WorkqueueExecutorService extends AbstractExecutorService {
    private final Workqueue wq;
    /** Tasks submitted and not yet ended. */
    private final Set<Task> tasks = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminated = lock.newCondition();
    /** Written under {@link #lock}. */
    private volatile boolean shutdown;

    WorkqueueExecutorService(Workqueue wq) {
        this.wq = wq;
    }

    /** A tracked one-shot work. */
    private final class Task implements Runnable {
        final Runnable command;
        final Work work;
        /**
         * The thread running it, for shutdownNow; written by that thread, cleared under this
         * task's monitor, which {@link #interruptIfRunning} holds while it interrupts: so an
         * interrupt reaches the runner only while it still runs this task.
         */
        private Thread runner;
        /** The run of {@link #runner} ({@link WorkNode#currentRunner}), or null off a worker; as runner. */
        private Object runnerWorker;

        Task(Runnable command) {
            this.command = command;
            this.work = new Work(this);
            if (command instanceof BlockingFutureTask<?> f) {
                f.work = work; // its get() lends to this work
            }
        }

        @Override
        public void run() {
            synchronized (this) {
                runner = Thread.currentThread();
                runnerWorker = WorkNode.currentRunner();
            }
            try {
                command.run();
            } finally {
                synchronized (this) {
                    runner = null;
                    runnerWorker = null;
                }
                // an interrupt delivered up to here was aimed at this task; the worker clears it
                // when the work ends, so it never reaches the next one
                ended(this);
            }
        }

        /**
         * Interrupts this task's run if it is still running (shutdownNow, cancel(true)), and no
         * other run: while it helps another task (runs it in place in a get), the interrupt waits
         * for it to resume.
         */
        synchronized void interruptIfRunning() {
            if (runnerWorker != null) {
                work.node.interruptRun(runnerWorker);
            } else if (runner != null) {
                runner.interrupt();
            }
        }

        @Override
        public String toString() {
            return String.valueOf(command);
        }
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        Task t = new Task(command);
        if (command instanceof BlockingFutureTask<?> f) {
            f.work = t.work; // lets a waiter help the task
            f.owner = t; // its cancel(true) interrupts this task's run only
        }
        tasks.add(t);
        if (shutdown) {
            tasks.remove(t);
            maybeTerminate();
            throw new RejectedExecutionException("executor view of " + wq + " is shut down");
        }
        try {
            wq.queue(t.work);
        } catch (RuntimeException e) {
            tasks.remove(t);
            maybeTerminate();
            throw e;
        }
    }

    private void ended(Task t) {
        tasks.remove(t);
        if (shutdown) {
            maybeTerminate();
        }
    }

    private void maybeTerminate() {
        if (shutdown && tasks.isEmpty()) {
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
        shutdown();
        // First take back everything not started, then interrupt what runs: interrupting first
        // would let a worker start a waiting task between the two.
        List<Runnable> notStarted = new ArrayList<>();
        for (Task t : tasks) {
            if (t.work.cancel()) {
                notStarted.add(t.command);
                tasks.remove(t);
            }
        }
        for (Task t : tasks) {
            t.interruptIfRunning();
        }
        maybeTerminate();
        return notStarted;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && tasks.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
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
    static final class BlockingFutureTask<T> extends FutureTask<T> {
        /** The work that runs this task; written once by {@link #execute} before queueing. */
        volatile Work work;
        /** The view's wrapper that runs this task; written once by {@link #execute} before queueing. */
        volatile Task owner;

        /**
         * As {@link FutureTask#cancel}, but {@code cancel(true)} interrupts this task's own run
         * only (see {@link Task#interruptIfRunning}): FutureTask would interrupt the thread
         * outright, and a task helping another one in its {@code get} would lose the interrupt to
         * the helped run.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            Task t = owner;
            if (!mayInterruptIfRunning || t == null) {
                return super.cancel(mayInterruptIfRunning);
            }
            boolean cancelled = super.cancel(false);
            if (cancelled) {
                t.interruptIfRunning();
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
            Work w = work;
            return w == null ? null : w.node;
        }
    }
}
