package dev.cmwq4j;

import dev.cmwq4j.internal.WorkNode;
import dev.cmwq4j.internal.WorkqueueCore;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A named domain of works with attributes and a {@code maxActive} limit. It owns no threads: its
 * works run on the shared pools of its {@link Cmwq}.
 *
 * <h2>Attributes</h2>
 * <ul>
 *   <li><b>bound</b> (default): works run on the per-CPU concurrency-managed pools; each CPU
 *       index keeps one worker running and adds one only while the running one blocks.
 *       {@code maxActive} applies per CPU index.
 *   <li>{@link Builder#unbound()}: works run on the unbound pool, which is not
 *       concurrency-managed: a work starts as soon as {@code maxActive} allows and a worker is
 *       free. {@code maxActive} applies to the whole workqueue.
 *   <li>{@link Builder#highPriority()}: the high-priority pools (workers at
 *       {@link Thread#MAX_PRIORITY}, a hint only on Linux).
 *   <li>{@link Builder#cpuIntensive()}: its works do not count as running, so they do not hold up
 *       the other works of their pool.
 *   <li>{@link Builder#ordered()}: one work at a time, in queueing order (unbound, maxActive 1).
 *   <li>{@link Builder#memReclaim()}: the workqueue has a rescuer thread of its own, created with
 *       it, that runs its works when a pool cannot get a worker (thread creation fails or the
 *       thread cap is reached), so it keeps making progress where other workqueues wait.
 *   <li>{@link Builder#freezable()}: {@link #freeze()} and the JVM-wide
 *       {@link Workqueues#freezeAll()} hold its works back until thawed.
 *   <li>{@link Builder#priority(Priority)}: the {@link Priority} of works queued without one
 *       ({@link Priority#NORMAL}; {@link Priority#HIGH} for a {@code highPriority} workqueue).
 * </ul>
 *
 * <h2>Freezing</h2>
 * A frozen workqueue starts none of its works: {@link #freeze()} waits for the running ones to
 * finish and keeps every other work pending, in order; queueing goes on and loses nothing, and
 * delayed works that fall due while frozen wait too. {@link #thaw()} starts them (in queueing
 * order on an ordered queue). While frozen, {@link #flush()}, {@link #drain()}, {@link #close()}
 * and {@link Work#flush()} of a pending work wait for the thaw.
 *
 * <h2>Futures</h2>
 * {@link #supplyAsync} and {@link #runAsync} return {@link CompletableFuture}s whose {@code join}
 * and {@code get}, called from a work, first run the task in place if it has not started
 * (helping) and otherwise wait as an announced block, so that waiting never starves the pool.
 *
 * <h2>Priorities</h2>
 * A pool runs its highest-priority works first, FIFO within a priority.
 * {@link #queue(Work, Priority)} and {@link #queueOn(int, Work, Priority)} give one instance its
 * own priority. A thread that waits for a work ({@link Work#flush()}, {@link Work#cancelSync()},
 * {@link #flush()}, {@code Future.get} of the {@linkplain #asExecutorService() executor view})
 * lends it its priority while it waits; see {@link Priority} for the rules.
 *
 * <h2>Executor view</h2>
 * {@link #execute(Runnable)} queues a one-shot work, so {@code CompletableFuture.supplyAsync(f,
 * wq)} just works; {@link #asExecutorService()} gives a full {@link ExecutorService}, and
 * {@link #asScheduledExecutorService()} a {@link ScheduledExecutorService} on the engine's timer.
 *
 * <h2>Lifecycle</h2>
 * {@link #drain()} waits until the workqueue is empty; meanwhile only its own works may queue to
 * it. {@link #close()} drains, then rejects all queueing with {@link RejectedExecutionException}.
 */
public final class Workqueue implements Executor, AutoCloseable {
    /** The default {@code maxActive} (the kernel's WQ_DFL_ACTIVE). */
    public static final int DEFAULT_MAX_ACTIVE = 256;
    /** The largest allowed {@code maxActive} (the kernel's WQ_MAX_ACTIVE). */
    public static final int MAX_MAX_ACTIVE = 512;

    private final Cmwq cmwq;
    final WorkqueueCore core;
    /** One of {@link Workqueues}: shared by everyone, never closed. */
    private final boolean system;

    private Workqueue(Cmwq cmwq, WorkqueueCore core, boolean system) {
        this.cmwq = cmwq;
        this.core = core;
        this.system = system;
    }

    /**
     * A builder for a workqueue on the {@linkplain Cmwq#shared() shared} pools.
     *
     * @param name the workqueue's name, as {@link #name()} returns it
     * @return a new builder with the default attributes
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Builder builder(String name) {
        Work.checkName(name); // before the shared instance is built for nothing
        return new Builder(Cmwq.shared(), name);
    }

    /** {@return the name given to the builder} */
    public String name() {
        return core.spec().name();
    }

    /** {@return the {@link Cmwq} whose pools run this workqueue's works} */
    public Cmwq cmwq() {
        return cmwq;
    }

    /**
     * {@return whether its works run on the unbound pool: built {@linkplain Builder#unbound()
     * unbound} or {@linkplain Builder#ordered() ordered}}
     */
    public boolean isUnbound() {
        return core.spec().unbound();
    }

    /**
     * {@return whether it runs one work at a time, in queueing order ({@link Builder#ordered()})}
     */
    public boolean isOrdered() {
        return core.spec().ordered();
    }

    /**
     * {@return whether its works run on the high-priority pools ({@link Builder#highPriority()})}
     */
    public boolean isHighPriority() {
        return core.spec().highPriority();
    }

    /**
     * {@return whether its works do not count as running in concurrency management
     * ({@link Builder#cpuIntensive()})}
     */
    public boolean isCpuIntensive() {
        return core.spec().cpuIntensive();
    }

    /** {@return whether this workqueue has a rescuer ({@link Builder#memReclaim()})} */
    public boolean isMemReclaim() {
        return core.spec().memReclaim();
    }

    /**
     * {@return its {@code maxActive}: the works active at once, per CPU index if bound, in total
     * if unbound} A freeze does not change it.
     */
    public int maxActive() {
        return core.maxActive();
    }

    /** {@return whether it takes part in freezing ({@link Builder#freezable()})} */
    public boolean isFreezable() {
        return core.spec().freezable();
    }

    /**
     * {@return whether a {@link #freeze()} or a JVM-wide {@link Workqueues#freezeAll()} holds it
     * now}
     */
    public boolean isFrozen() {
        return core.isFrozen();
    }

    /** {@return the priority of works queued without one} */
    public Priority priority() {
        return Priority.ofLevel(core.spec().defaultPriority());
    }

    /** {@return whether {@link #close()} has completed} */
    public boolean isClosed() {
        return core.isClosed();
    }

    // ------------------------------------------------------------------------------------------
    // Queueing.

    /**
     * Queues {@code work} unless it is already pending.
     *
     * @param work the work to queue, at this workqueue's {@linkplain #priority() priority}
     * @return true if queued, false if it was already pending
     * @throws NullPointerException if {@code work} is null
     * @throws RejectedExecutionException if the workqueue is closed, or draining and the caller is
     *     not one of its works
     */
    public boolean queue(Work work) {
        Objects.requireNonNull(work, "work");
        return core.queue(work.node, -1);
    }

    /**
     * Queues {@code work} at {@code priority} unless it is already pending. The priority is that
     * of this instance only; a work already pending keeps its own.
     *
     * @param work the work to queue
     * @param priority the priority of this instance
     * @return true if queued, false if it was already pending
     * @throws NullPointerException if {@code work} or {@code priority} is null
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queue(Work work, Priority priority) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(priority, "priority");
        return core.queue(work.node, -1, priority.ordinal());
    }

    /**
     * Queues {@code work} on CPU index {@code cpu}. It will not be stolen by another CPU's pool.
     * For an unbound workqueue the CPU is only validated.
     *
     * @param cpu the CPU index to queue it on
     * @param work the work to queue
     * @return true if queued, false if it was already pending
     * @throws NullPointerException if {@code work} is null
     * @throws IllegalArgumentException if {@code cpu} is not in {@code [0, cmwq().cpus())}
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queueOn(int cpu, Work work) {
        Objects.requireNonNull(work, "work");
        checkCpu(cpu);
        return core.queue(work.node, cpu);
    }

    /**
     * As {@link #queueOn(int, Work)}, at {@code priority} (see {@link #queue(Work, Priority)}).
     *
     * @param cpu the CPU index to queue it on
     * @param work the work to queue
     * @param priority the priority of this instance
     * @return true if queued, false if it was already pending
     * @throws NullPointerException if {@code work} or {@code priority} is null
     * @throws IllegalArgumentException if {@code cpu} is not in {@code [0, cmwq().cpus())}
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queueOn(int cpu, Work work, Priority priority) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(priority, "priority");
        checkCpu(cpu);
        return core.queue(work.node, cpu, priority.ordinal());
    }

    /**
     * Arms {@code work} to be queued after {@code delay}, unless it is already pending. A zero
     * delay queues it at once.
     *
     * @param work the delayed work to arm
     * @param delay how long to wait before queueing it; zero or positive
     * @return true if armed or queued, false if it was already pending
     * @throws NullPointerException if {@code work} or {@code delay} is null
     * @throws IllegalArgumentException if {@code delay} is negative
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queueDelayed(DelayedWork work, Duration delay) {
        return queueDelayedOn(-1, work, delay);
    }

    /**
     * As {@link #queueDelayed(DelayedWork, Duration)}, with a delay in {@code unit}.
     *
     * @param work the delayed work to arm
     * @param delay how long to wait before queueing it, in {@code unit}; zero or positive
     * @param unit the unit of {@code delay}
     * @return true if armed or queued, false if it was already pending
     * @throws NullPointerException if {@code work} or {@code unit} is null
     * @throws IllegalArgumentException if {@code delay} is negative
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queueDelayed(DelayedWork work, long delay, TimeUnit unit) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(unit, "unit");
        if (delay < 0) {
            throw new IllegalArgumentException("delay must not be negative, got " + delay + " " + unit);
        }
        long nanos = Math.min(unit.toNanos(delay), MAX_DELAY_NANOS); // toNanos saturates
        if (nanos == 0) {
            return core.queue(work.node, -1);
        }
        return core.queueDelayed(work.node, -1, nanos);
    }

    /**
     * As {@link #queueDelayed(DelayedWork, Duration)}, then queued on CPU index {@code cpu} (see
     * {@link #queueOn(int, Work)}).
     *
     * @param cpu the CPU index to queue it on, or -1 for none, as
     *     {@link #queueDelayed(DelayedWork, Duration)}
     * @param work the delayed work to arm
     * @param delay how long to wait before queueing it; zero or positive
     * @return true if armed or queued, false if it was already pending
     * @throws NullPointerException if {@code work} or {@code delay} is null
     * @throws IllegalArgumentException if {@code delay} is negative, or {@code cpu} is neither -1
     *     nor in {@code [0, cmwq().cpus())}
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean queueDelayedOn(int cpu, DelayedWork work, Duration delay) {
        Objects.requireNonNull(work, "work");
        long nanos = delayNanos(delay);
        if (cpu != -1) {
            checkCpu(cpu);
        }
        if (nanos == 0) {
            return core.queue(work.node, cpu);
        }
        return core.queueDelayed(work.node, cpu, nanos);
    }

    /**
     * Sets the timer of {@code work} to {@code delay} from now: moves an armed timer, takes back an
     * already queued (not yet started) instance and re-arms it, or arms it if it was idle. A zero
     * delay queues it at once.
     *
     * @param work the delayed work whose timer to set
     * @param delay how long from now to wait before queueing it; zero or positive
     * @return true if it was pending before the call (also, as in the kernel, when a
     *     {@link Work#cancelSync()} holds it: then nothing is queued), false if it was idle and is
     *     now armed
     * @throws NullPointerException if {@code work} or {@code delay} is null
     * @throws IllegalArgumentException if {@code delay} is negative
     * @throws RejectedExecutionException as {@link #queue(Work)}
     */
    public boolean modDelayed(DelayedWork work, Duration delay) {
        Objects.requireNonNull(work, "work");
        return core.modDelayed(work.node, -1, delayNanos(delay));
    }

    private static long delayNanos(Duration delay) {
        return nonNegativeNanos(delay, "delay");
    }

    /**
     * The longest delay or timeout the engine works with, about 73 years: longer ones saturate to
     * it. Deadlines are {@code System.nanoTime()} values compared by difference, which is right
     * only while any two of them lie within 2^63 ns of each other; a deadline of "now +
     * Long.MAX_VALUE" would sort before the works already due and hold every timer back.
     */
    static final long MAX_DELAY_NANOS = Long.MAX_VALUE / 4;

    /**
     * {@code d} in nanoseconds, saturated at {@link #MAX_DELAY_NANOS}; rejects null and negative
     * values naming {@code what}.
     */
    static long nonNegativeNanos(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, got " + d);
        }
        return saturatedNanos(d);
    }

    /** A non-negative {@code d} in nanoseconds, at most {@link #MAX_DELAY_NANOS}. */
    static long saturatedNanos(Duration d) {
        if (d.getSeconds() >= MAX_DELAY_NANOS / 1_000_000_000L) {
            return MAX_DELAY_NANOS;
        }
        return Math.min(d.toNanos(), MAX_DELAY_NANOS);
    }

    private void checkCpu(int cpu) {
        int n = cmwq.cpus();
        if (cpu < 0 || cpu >= n) {
            throw new IllegalArgumentException("cpu must be in [0, " + n + "), got " + cpu);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Flush, drain, close, limits.

    /**
     * Waits until every work queued before this call has finished. Works queued after the call
     * do not hold it up, so it returns even while other threads keep queueing. While it waits, the
     * caller lends its priority to those works (see {@link Priority}).
     *
     * @throws IllegalStateException if called from one of this workqueue's own works, which would
     *     wait for itself
     */
    public void flush() {
        core.flush();
    }

    /**
     * Waits until the workqueue is empty: nothing queued, running or armed on a timer. While it
     * drains, only this workqueue's own works may queue to it (chained queueing); other callers
     * get {@link RejectedExecutionException}.
     *
     * @throws IllegalStateException if called from one of this workqueue's own works, which would
     *     wait for itself
     */
    public void drain() {
        core.drain();
    }

    /**
     * Drains, then closes: every later queueing throws {@link RejectedExecutionException}. Armed
     * delayed works are waited for and run, as {@code ScheduledThreadPoolExecutor.shutdown()} does
     * by default; cancel them first to close sooner. Then stops the rescuer, if any. Idempotent.
     *
     * @throws UnsupportedOperationException on a system workqueue of {@link Workqueues}
     * @throws IllegalStateException if called from one of this workqueue's own works before it is
     *     closed, which would wait for itself
     */
    @Override
    public void close() {
        if (system) {
            throw new UnsupportedOperationException("system workqueue '" + name() + "' cannot be closed");
        }
        core.close();
    }

    /**
     * Changes {@code maxActive}. Raising it starts waiting works at once.
     *
     * @param maxActive the new limit: works active at once, per CPU index if bound, in total if
     *     unbound
     * @throws IllegalArgumentException if out of {@code [1, MAX_MAX_ACTIVE]}, or not 1 for an
     *     ordered workqueue
     */
    public void setMaxActive(int maxActive) {
        checkMaxActive(maxActive, core.spec().ordered());
        core.setMaxActive(maxActive);
    }

    /**
     * A snapshot of this workqueue's statistics (cumulative since it was built): works executed
     * and in flight, CPU time, blocks, wakeups, maydays, and latency histograms.
     *
     * @return a new, immutable snapshot
     */
    public WorkqueueStats stats() {
        return WorkqueueStats.of(core.snapshot());
    }

    // ------------------------------------------------------------------------------------------
    // Freezing.

    /**
     * Freezes this workqueue: from now on none of its works starts until {@link #thaw()}; then
     * waits until the works that were running have finished. Works that were queued but had not
     * started stay pending, in order. Queueing goes on while frozen and loses nothing. A second
     * freeze just waits again. Independent of the JVM-wide {@link Workqueues#freezeAll()}: the
     * workqueue runs again only when neither holds it.
     *
     * @throws IllegalStateException if the workqueue is not {@linkplain Builder#freezable()
     *     freezable}, or if called from one of its own works, which would wait for itself
     */
    public void freeze() {
        freeze(false, 0);
    }

    /**
     * As {@link #freeze()}, waiting at most {@code timeout} for the running works.
     *
     * @param timeout how long to wait at most for the running works; zero or positive
     * @return true if no work of this workqueue runs any more (or it was thawed meanwhile); false
     *     if the timeout passed first (it is frozen all the same: nothing new starts)
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws IllegalStateException as {@link #freeze()}
     */
    public boolean freeze(Duration timeout) {
        long nanos = nonNegativeNanos(timeout, "timeout");
        return freeze(true, System.nanoTime() + nanos);
    }

    private boolean freeze(boolean timed, long deadline) {
        return core.freezeOwn(timed, deadline);
    }

    /**
     * Ends this workqueue's own freeze: its pending works start (in queueing order on an ordered
     * workqueue), unless a JVM-wide freeze still holds it. Does nothing if it was not frozen by
     * {@link #freeze()}.
     */
    public void thaw() {
        core.thawOwn();
    }

    static void checkMaxActive(int maxActive, boolean ordered) {
        if (maxActive < 1 || maxActive > MAX_MAX_ACTIVE) {
            throw new IllegalArgumentException("maxActive must be in [1, " + MAX_MAX_ACTIVE + "], got " + maxActive);
        }
        if (ordered && maxActive != 1) {
            throw new IllegalArgumentException("an ordered workqueue runs one work at a time: maxActive must be 1, got "
                    + maxActive);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Executor view.

    /**
     * Queues {@code command} as a one-shot work.
     *
     * @param command what to run
     * @throws NullPointerException if {@code command} is null
     * @throws RejectedExecutionException if the workqueue is closed (or draining)
     */
    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        core.queue(WorkNode.oneShot(command, null), -1); // the task is this one object
    }

    /**
     * Runs {@code supplier} as a one-shot work and completes the returned future with its
     * result, or exceptionally with what it throws. Unlike {@code
     * CompletableFuture.supplyAsync(supplier, wq)}, the future knows its task:
     * <ul>
     *   <li>{@code join()} and {@code get()} called from a work run the task in place if it has
     *       not started and may be helped (not ordered, within {@code maxActive}), and otherwise
     *       wait as an announced block ({@link Blocking}), so that waiting never starves the pool;
     *   <li>stages derived from it ({@code thenApply}, ...) wait the same way, and their
     *       {@code *Async} variants without an executor run on this workqueue, as do those of
     *       its {@code minimalCompletionStage()};
     *   <li>{@code cancel} also cancels the task if it has not started.
     * </ul>
     *
     * @param <T> the result type
     * @param supplier the task; its result completes the returned future
     * @return a new future, completed when the task has run
     * @throws NullPointerException if {@code supplier} is null
     * @throws RejectedExecutionException if the workqueue is closed (or draining)
     */
    public <T> CompletableFuture<T> supplyAsync(Supplier<T> supplier) {
        Objects.requireNonNull(supplier, "supplier");
        return WorkqueueFuture.start(this, supplier);
    }

    /**
     * As {@link #supplyAsync(Supplier)}, for an action without a result.
     *
     * @param action the task
     * @return a new future, completed with null when the task has run
     * @throws NullPointerException if {@code action} is null
     * @throws RejectedExecutionException if the workqueue is closed (or draining)
     */
    public CompletableFuture<Void> runAsync(Runnable action) {
        Objects.requireNonNull(action, "action");
        return WorkqueueFuture.start(this, () -> {
            action.run();
            return null;
        });
    }

    /**
     * A new {@link ExecutorService} view of this workqueue, following the JDK contract. Its
     * {@code shutdown} and {@code shutdownNow} end the view only (the tasks submitted through it),
     * never the workqueue. {@code Future.get} on its tasks, called from a work, runs the task in
     * place if it has not started and may be helped, and otherwise counts as announced blocking;
     * from any thread, it lends the caller's priority to the task while it waits (see
     * {@link Priority}). Its {@code awaitTermination} and {@code invokeAny}, called from a work,
     * count as announced blocking too.
     *
     * @return a new executor service that queues its tasks to this workqueue
     */
    public ExecutorService asExecutorService() {
        return new WorkqueueExecutorService(this);
    }

    /**
     * A new {@link ScheduledExecutorService} view of this workqueue, with the contract of a
     * {@code ScheduledThreadPoolExecutor} and its default policies (see
     * {@link WorkqueueScheduledExecutorService}). Delayed and periodic tasks are armed on the
     * engine's one timer, as {@link DelayedWork}s are, and run on this workqueue's pools; a
     * periodic task re-arms itself after each run and never runs concurrently with itself.
     * {@code shutdown} cancels the periodic tasks and lets the delayed ones run;
     * {@code shutdownNow} returns the tasks not started, delayed ones included. Either ends the
     * view only, never the workqueue; {@link #close()} cancels the view's periodic tasks and waits
     * for its delayed ones. Otherwise it behaves as {@link #asExecutorService()}.
     *
     * @return a new scheduled executor service that queues its tasks to this workqueue
     */
    public ScheduledExecutorService asScheduledExecutorService() {
        return new WorkqueueScheduledExecutorService(this);
    }

    @Override
    public String toString() {
        return "Workqueue[" + name() + "]";
    }

    /**
     * Attributes of a new {@link Workqueue}. Flags combine; {@code ordered} implies unbound and a
     * {@code maxActive} of 1.
     */
    public static final class Builder {
        private final Cmwq cmwq;
        private final String name;
        private boolean unbound;
        private boolean highPriority;
        private boolean cpuIntensive;
        private boolean ordered;
        private boolean memReclaim;
        private boolean freezable;
        private int maxActive = -1;
        private Priority priority;
        private boolean system;
        /** Set by {@link #taskDecorator}: null for the instance's default; {@link #NONE} for none. */
        private UnaryOperator<Runnable> taskDecorator;

        Builder(Cmwq cmwq, String name) {
            this.cmwq = Objects.requireNonNull(cmwq, "cmwq");
            this.name = Work.checkName(name);
        }

        /**
         * Run on the unbound pool, not concurrency-managed.
         *
         * @return this builder
         */
        public Builder unbound() {
            this.unbound = true;
            return this;
        }

        /**
         * Run on the high-priority pools (workers at {@link Thread#MAX_PRIORITY}, a hint only on
         * Linux); works queued without a priority get {@link Priority#HIGH} unless
         * {@link #priority(Priority)} says otherwise.
         *
         * @return this builder
         */
        public Builder highPriority() {
            this.highPriority = true;
            return this;
        }

        /**
         * Works do not count as running in concurrency management.
         *
         * @return this builder
         */
        public Builder cpuIntensive() {
            this.cpuIntensive = true;
            return this;
        }

        /**
         * Takes part in freezing: {@link Workqueue#freeze()} and the JVM-wide
         * {@link Workqueues#freezeAll()} hold its works back until thawed.
         *
         * @return this builder
         */
        public Builder freezable() {
            this.freezable = true;
            return this;
        }

        /** Marks a system workqueue, which cannot be closed. */
        Builder system() {
            this.system = true;
            return this;
        }

        /**
         * One work at a time, in queueing order; implies {@link #unbound()} and a
         * {@code maxActive} of 1.
         *
         * @return this builder
         */
        public Builder ordered() {
            this.ordered = true;
            return this;
        }

        /**
         * Guarantees forward progress when threads cannot be had: {@link #build()} creates a
         * rescuer thread for this workqueue (through the {@link Cmwq}'s thread factory, outside
         * the thread cap). When a pool that holds works of this workqueue needs a worker and cannot
         * get one for 10 ms (thread creation fails, or the thread cap is reached), the rescuer runs
         * those works itself, and is called again every 100 ms while the need lasts. Use it for
         * works that others wait on to free resources. {@link Workqueue#close()} stops the rescuer.
         *
         * @return this builder
         */
        public Builder memReclaim() {
            this.memReclaim = true;
            return this;
        }

        /**
         * The priority of works queued without one. Default {@link Priority#NORMAL}, or
         * {@link Priority#HIGH} for a {@link #highPriority()} workqueue. It does not choose the
         * pools: only {@link #highPriority()} does.
         *
         * @param priority the default priority of its works
         * @return this builder
         * @throws NullPointerException if {@code priority} is null
         */
        public Builder priority(Priority priority) {
            this.priority = Objects.requireNonNull(priority, "priority");
            return this;
        }

        /**
         * Decorates every work queued to this workqueue, for context propagation: {@code
         * decorator} is called on the queueing thread each time an instance is queued
         * ({@code queue}, {@code queueOn}, {@code queueDelayed} when it is armed, {@code
         * modDelayed} when it queues a new instance, {@code execute}, the executor views,
         * {@code supplyAsync} and {@code runAsync}) with the work's action, and what it returns
         * runs in place of that action for that instance, wherever it runs: on a worker, in the
         * frame of a waiter that helps it, on a rescuer, or after a handoff. So a helped work sees
         * the context it was queued with, not its waiter's. The decorator should restore what it
         * changes on the running thread (for the waiter that helped, whose frame continues). A
         * task of the scheduled executor view is decorated once, on the thread that schedules it,
         * and every run of a periodic one runs with that context.
         *
         * <p>A decorator that throws, or returns null, fails that queue call (the exception, or a
         * {@code NullPointerException}), and nothing is queued. Replaces the default of {@link
         * Cmwq.Builder#taskDecorator}; {@code UnaryOperator.identity()} turns it off. Without a
         * decorator, queueing pays one null check.
         *
         * @param decorator returns what runs in place of a queued action
         * @return this builder
         * @throws NullPointerException if {@code decorator} is null
         */
        public Builder taskDecorator(UnaryOperator<Runnable> decorator) {
            this.taskDecorator = orNone(Objects.requireNonNull(decorator, "taskDecorator"));
            return this;
        }

        /**
         * A decorator that decorates nothing: set, it overrides the instance's default. A class,
         * not a lambda: the first lambda linked costs a cold JVM milliseconds (see Cmwq.Builder).
         */
        private static final UnaryOperator<Runnable> NONE = new NoDecorator();

        private static final class NoDecorator implements UnaryOperator<Runnable> {
            @Override
            public Runnable apply(Runnable r) {
                return r;
            }
        }

        /** {@code decorator}, with the identity as {@link #NONE}. */
        static UnaryOperator<Runnable> orNone(UnaryOperator<Runnable> decorator) {
            return decorator == UnaryOperator.<Runnable>identity() ? NONE : decorator;
        }

        /**
         * Works active at once: per CPU index for bound workqueues, in total for unbound ones.
         * Default {@value Workqueue#DEFAULT_MAX_ACTIVE} (1 when ordered).
         *
         * @param maxActive the limit, in {@code [1, MAX_MAX_ACTIVE]}
         * @return this builder
         * @throws IllegalArgumentException if out of {@code [1, MAX_MAX_ACTIVE]}
         */
        public Builder maxActive(int maxActive) {
            checkMaxActive(maxActive, false);
            this.maxActive = maxActive;
            return this;
        }

        /**
         * Builds the workqueue and registers it with its {@link Cmwq} (and over JMX); with
         * {@link #memReclaim()}, also starts its rescuer thread.
         *
         * @return the new workqueue, open for queueing
         * @throws IllegalArgumentException if {@code ordered} is combined with a maxActive other
         *     than 1
         * @throws IllegalStateException if {@link #memReclaim()} is set and the thread factory
         *     returns null, or an already started thread, for the rescuer
         * @throws RejectedExecutionException if its {@link Cmwq} is closed, or closing
         */
        public Workqueue build() {
            int max = maxActive == -1 ? (ordered ? 1 : DEFAULT_MAX_ACTIVE) : maxActive;
            checkMaxActive(max, ordered);
            Priority p = priority != null ? priority : highPriority ? Priority.HIGH : Priority.NORMAL;
            UnaryOperator<Runnable> decorator = taskDecorator != null ? taskDecorator : cmwq.taskDecorator();
            if (decorator == NONE) {
                decorator = null; // no decorator: the queue path checks for null only
            }
            WorkqueueCore core = cmwq.engine().newWorkqueue(new WorkqueueCore.Spec(name, unbound, highPriority,
                    cpuIntensive, ordered, max, p.ordinal(), freezable, memReclaim, decorator));
            return new Workqueue(cmwq, core, system);
        }
    }
}
