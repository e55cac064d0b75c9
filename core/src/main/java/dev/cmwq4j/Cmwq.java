package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import dev.cmwq4j.internal.WorkNode;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * A set of shared, self-sizing worker pools: the threads behind {@link Workqueue}s.
 *
 * <p>Per CPU index there is one normal and one high-priority pool, both concurrency-managed: each
 * keeps one worker running while it has work and adds a worker only when the running one blocks.
 * Unbound pools serve {@linkplain Workqueue.Builder#unbound() unbound} workqueues. Workqueues own
 * no threads; any number of them share one {@code Cmwq}.
 *
 * <p>Most applications use the {@linkplain #shared() shared instance} through
 * {@link Workqueue#builder(String)} and {@link Workqueues}. A separate instance is for tests and
 * for isolating a subsystem; {@link #close()} it when done.
 *
 * <h2>Configuration</h2>
 * The builder is the one options object. Each option's default can be set with a system property,
 * read when the builder is created:
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>property</th><th>default</th></tr>
 *   <tr><td>{@link Builder#cpus}</td><td>{@code cmwq4j.cpus}</td>
 *       <td>{@code Runtime.availableProcessors()}</td></tr>
 *   <tr><td>{@link Builder#idleTimeout}</td><td>{@code cmwq4j.idleTimeoutMillis}</td>
 *       <td>300 000 ms (the kernel's)</td></tr>
 *   <tr><td>{@link Builder#stallWindow}</td><td>{@code cmwq4j.stallWindowMicros}</td>
 *       <td>200 us</td></tr>
 *   <tr><td>{@link Builder#joinWindow}</td><td>{@code cmwq4j.joinWindowMicros}</td>
 *       <td>2 000 us</td></tr>
 *   <tr><td>{@link Builder#stealThreshold}</td><td>{@code cmwq4j.stealThresholdMicros}</td>
 *       <td>100 us</td></tr>
 *   <tr><td>{@link Builder#maxThreads}</td><td>{@code cmwq4j.maxThreads}</td>
 *       <td>4096</td></tr>
 *   <tr><td>{@link Builder#cpuIntensiveThreshold}</td>
 *       <td>{@code cmwq4j.cpuIntensiveThresholdMicros}</td><td>10 000 us</td></tr>
 *   <tr><td>{@link Builder#watchdog}</td><td>{@code cmwq4j.watchdogMillis}</td>
 *       <td>30 000 ms, logged</td></tr>
 *   <tr><td>{@link Builder#monitorTick}</td><td>{@code cmwq4j.monitorMinTickMicros},
 *       {@code cmwq4j.monitorMaxTickMicros}</td><td>250 us, 20 000 us</td></tr>
 *   <tr><td>{@link Builder#jmx}</td><td>{@code cmwq4j.jmx}</td><td>true</td></tr>
 *   <tr><td>{@link Builder#priorityInheritance}</td><td>{@code cmwq4j.priorityInheritance}</td>
 *       <td>true</td></tr>
 *   <tr><td>{@link Builder#blockingSites}</td><td>{@code cmwq4j.blockingSites}</td>
 *       <td>true, sampling at most {@value Builder#DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND} blocks a
 *       second ({@code cmwq4j.blockingSiteSamplesPerSecond}) after a burst of 64</td></tr>
 * </table>
 *
 * <h2>Observing it</h2>
 * {@link #workqueueStats()} and {@link #poolStats()} (and {@link Workqueue#stats()}) return
 * immutable snapshots; {@link #blockingSites()} says where works block without announcing it. The same numbers are published over JMX ({@link WorkqueueMXBean},
 * {@link WorkerPoolMXBean}) and read by the {@code cmwq4j-tools} {@code top} command; JFR events
 * named {@code dev.cmwq4j.*} trace works and blocks when a recording asks for them.
 */
public final class Cmwq implements AutoCloseable {
    private static final System.Logger LOG = Engine.LOG; // lazy: no logging back end until a message

    private final Engine engine;
    private final boolean shared;
    /** The task decorator of workqueues built without their own, or null; final. */
    private final UnaryOperator<Runnable> taskDecorator;
    /** Sequence for default instance names. */
    private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();

    private Cmwq(Engine engine, boolean shared, UnaryOperator<Runnable> taskDecorator) {
        this.engine = engine;
        this.shared = shared;
        this.taskDecorator = taskDecorator;
    }

    /** The default task decorator of this instance's workqueues, or null. */
    UnaryOperator<Runnable> taskDecorator() {
        return taskDecorator;
    }

    private static final class SharedHolder {
        static final Cmwq INSTANCE = new Cmwq(builder().name("shared").newEngine(true), true, null);
    }

    /**
     * {@return the JVM-wide instance behind {@link Workqueue#builder(String)} and {@link
     * Workqueues}}
     */
    public static Cmwq shared() {
        return SharedHolder.INSTANCE;
    }

    /**
     * A builder for a separate instance, with defaults from the {@code cmwq4j.*} properties.
     *
     * @return a new builder
     * @throws IllegalArgumentException if a numeric {@code cmwq4j.*} property is set to a value
     *     that is not an integer
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder for a workqueue backed by this instance.
     *
     * @param name the workqueue's name
     * @return a new builder with the default attributes
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Workqueue.Builder workqueue(String name) {
        return new Workqueue.Builder(this, name);
    }

    /**
     * {@return the number of CPU indexes} Valid arguments to {@link Workqueue#queueOn} are 0 to
     * cpus-1.
     */
    public int cpus() {
        return engine.cpus();
    }

    /**
     * {@return this instance's name: {@code shared} for the shared one} It appears in JMX names.
     */
    public String name() {
        return engine.name();
    }

    /**
     * {@return a statistics snapshot of every open workqueue of this instance, in creation order}
     */
    public java.util.List<WorkqueueStats> workqueueStats() {
        java.util.List<WorkqueueStats> all = new java.util.ArrayList<>();
        for (var wq : engine.workqueues()) {
            all.add(WorkqueueStats.of(wq.snapshot()));
        }
        return java.util.List.copyOf(all);
    }

    /**
     * Where the works of this instance block without announcing it: the blocking-site profiles of
     * its open workqueues ({@link WorkqueueStats#blockingSites()}) as one list, the entries of one
     * stack summed over the workqueues (the "other" entries too), ordered by blocked time, longest
     * first. The sites that need a {@link Blocking} call, a move to an unbound workqueue, or an
     * asynchronous rewrite are at the top.
     *
     * @return an immutable list, empty when nothing blocked unannounced or the profiler is off
     *     ({@link Builder#blockingSites})
     */
    public java.util.List<BlockingSite> blockingSites() {
        java.util.List<java.util.List<BlockingSite>> all = new java.util.ArrayList<>();
        for (WorkqueueStats s : workqueueStats()) {
            all.add(s.blockingSites());
        }
        return BlockingSite.merge(all);
    }

    /**
     * A snapshot of every pool: the normal-priority CPU pools, the high-priority ones, then the
     * unbound normal and high-priority pools.
     *
     * @return an immutable list of snapshots, in that order
     */
    public java.util.List<PoolStats> poolStats() {
        java.util.List<PoolStats> all = new java.util.ArrayList<>();
        for (var p : engine.poolSnapshots()) {
            all.add(PoolStats.of(p));
        }
        return java.util.List.copyOf(all);
    }

    /** {@return the number of worker threads alive now} */
    public int threads() {
        return engine.threads();
    }

    /** {@return the most worker threads alive at once since this instance started} */
    public int peakThreads() {
        return engine.peakThreads();
    }

    Engine engine() {
        return engine;
    }

    /**
     * Closes every workqueue of this instance (each drains first, so nothing queued is lost),
     * then stops its threads. The shared instance cannot be closed.
     *
     * @throws UnsupportedOperationException on the shared instance
     * @throws IllegalStateException if called from a work of one of its open workqueues, which
     *     would wait for itself
     */
    @Override
    public void close() {
        if (shared) {
            throw new UnsupportedOperationException("the shared Cmwq instance cannot be closed");
        }
        engine.shutdown();
    }

    /** Options for a {@link Cmwq}. Every setter validates its argument at once. */
    public static final class Builder {
        private int cpus = intProperty("cmwq4j.cpus", Runtime.getRuntime().availableProcessors());
        private Duration idleTimeout = Duration.ofMillis(longProperty("cmwq4j.idleTimeoutMillis", 300_000));
        private Duration stallWindow = Duration.ofNanos(1000 * longProperty("cmwq4j.stallWindowMicros", 200));
        private Duration joinWindow = Duration.ofNanos(1000 * longProperty("cmwq4j.joinWindowMicros", 2000));
        private Duration stealThreshold = Duration.ofNanos(1000 * longProperty("cmwq4j.stealThresholdMicros", 100));
        private Duration createCooldown = Duration.ofSeconds(1);
        private int maxThreads = intProperty("cmwq4j.maxThreads", 4096);
        private Duration watchdogThreshold = Duration.ofMillis(longProperty("cmwq4j.watchdogMillis", 30_000));
        private java.util.function.Consumer<? super WatchdogReport> watchdogHandler = new LogWatchdogReport();
        private Duration cpuIntensiveThreshold =
                Duration.ofNanos(1000 * longProperty("cmwq4j.cpuIntensiveThresholdMicros", 10_000));
        private Duration monitorMinTick = Duration.ofNanos(1000 * longProperty("cmwq4j.monitorMinTickMicros", 250));
        private Duration monitorMaxTick = Duration.ofNanos(1000 * longProperty("cmwq4j.monitorMaxTickMicros", 20_000));
        /** Null: the engine makes its own threads ({@code internal.WorkerThread}). */
        private ThreadFactory threadFactory = null;
        /** Replaces the default thread-name base {@code cmwq4j-<name>-}; null for the default. */
        private String threadNamePrefix = null;
        private UnaryOperator<Runnable> taskDecorator;
        private BiConsumer<? super Work, ? super Throwable> failureHandler = null;
        private String name = null;
        private boolean jmx = !"false".equalsIgnoreCase(System.getProperty("cmwq4j.jmx", "true").trim());
        private boolean priorityInheritance =
                !"false".equalsIgnoreCase(System.getProperty("cmwq4j.priorityInheritance", "true").trim());
        private boolean blockingSites =
                !"false".equalsIgnoreCase(System.getProperty("cmwq4j.blockingSites", "true").trim());
        /**
         * Tuning without a builder method: the blocking-site profiler's steady sampling rate, in
         * profiled blocks per second per instance (after a burst of 64). Above 0.
         */
        private final int blockingSiteSamplesPerSecond =
                intProperty("cmwq4j.blockingSiteSamplesPerSecond", DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND);
        /** Tuning without a builder method: how long a worker out of work spins before it parks. */
        private final long idleSpinNanos = longProperty("cmwq4j.idleSpinNanos", 20_000L);
        /** Tuning without a builder method: most helped runs nested on one thread. */
        private final int maxHelpDepth = intProperty("cmwq4j.maxHelpDepth", 64);
        /**
         * Internal, for testing the fallbacks on Linux (no builder method): work as where there is
         * no {@code /proc} ({@code cmwq4j.simulate.noProc=true}), as on a JVM without thread CPU
         * time ({@code cmwq4j.simulate.noThreadCpuTime=true}); tests use {@link #simulate}.
         */
        private boolean simulateNoProc = Boolean.getBoolean("cmwq4j.simulate.noProc");
        private boolean simulateNoThreadCpuTime = Boolean.getBoolean("cmwq4j.simulate.noThreadCpuTime");

        /**
         * The blocking-site profiler's default steady sampling rate, in profiled blocks per second
         * per instance: at ~30 us per stack capture, at most 0.3% of one CPU however many blocks
         * are detected (README, "Find your blocking calls", has the measurements).
         */
        public static final int DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND =
                Engine.Config.DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND;

        Builder() {
            if (blockingSiteSamplesPerSecond < 1) {
                throw new IllegalArgumentException("system property cmwq4j.blockingSiteSamplesPerSecond must be"
                        + " at least 1, got " + blockingSiteSamplesPerSecond + " (cmwq4j.blockingSites=false turns"
                        + " the profiler off)");
            }
        }

        /**
         * Number of CPU indexes (one normal and one high-priority pool each); 1 to 4096.
         *
         * @param cpus the number of CPU indexes
         * @return this builder
         * @throws IllegalArgumentException if {@code cpus} is not in {@code [1, 4096]}
         */
        public Builder cpus(int cpus) {
            if (cpus < 1 || cpus > 4096) {
                throw new IllegalArgumentException("cpus must be in [1, 4096], got " + cpus);
            }
            this.cpus = cpus;
            return this;
        }

        /**
         * How long a surplus idle worker lingers before it exits; positive. It also sets how fast a
         * pool forgets a burst: the pool remembers the most workers it had busy at once, halving
         * what that exceeds the busy count every {@code timeout / 60} (5 s for the default 300 s),
         * and idle workers beyond that recent need (and two kept idle) exit once idle that long.
         * So a load that comes back within a few of those half-lives finds its threads, and one
         * that does not leaves two idle workers well before the timeout.
         *
         * @param timeout the idle timeout
         * @return this builder
         * @throws NullPointerException if {@code timeout} is null
         * @throws IllegalArgumentException if {@code timeout} is zero or negative
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /**
         * How long a pool whose running worker blocked waits for it to return before it creates a
         * new thread. An idle worker, if there is one, is woken at once regardless. Zero or
         * positive.
         *
         * @param window the stall window
         * @return this builder
         * @throws NullPointerException if {@code window} is null
         * @throws IllegalArgumentException if {@code window} is negative
         */
        public Builder stallWindow(Duration window) {
            this.stallWindow = nonNegative(window, "stallWindow");
            return this;
        }

        /**
         * The stall window of a <em>join</em>: a worker waiting for a work (or a submitted task)
         * that is already running on another thread, as {@link Work#flush()}, the futures of
         * {@link Workqueue#supplyAsync} and the executor view's {@code Future.get} do once they
         * could not run it in place. Such a wait ends when that work ends, and that work is
         * running: while every blocked worker of a pool is such a joiner, the pool creates a new
         * thread only after this window (an idle worker is still woken at once), so fan-out
         * trees keep to about one thread per CPU, as {@code ForkJoinPool}'s joins do. Joins do
         * not make a pool keep an idle reserve worker either. Zero or positive; a value below
         * {@link #stallWindow} acts as the stall window.
         *
         * @param window the join window
         * @return this builder
         * @throws NullPointerException if {@code window} is null
         * @throws IllegalArgumentException if {@code window} is negative
         */
        public Builder joinWindow(Duration window) {
            this.joinWindow = nonNegative(window, "joinWindow");
            return this;
        }

        /**
         * How long an unstarted work must wait before an idle pool may steal it; zero or more.
         *
         * @param threshold the steal threshold
         * @return this builder
         * @throws NullPointerException if {@code threshold} is null
         * @throws IllegalArgumentException if {@code threshold} is negative
         */
        public Builder stealThreshold(Duration threshold) {
            this.stealThreshold = nonNegative(threshold, "stealThreshold");
            return this;
        }

        /**
         * Back-off after a failed thread creation (the kernel's cooldown: 1 s); positive.
         *
         * @param cooldown the back-off
         * @return this builder
         * @throws NullPointerException if {@code cooldown} is null
         * @throws IllegalArgumentException if {@code cooldown} is zero or negative
         */
        public Builder createCooldown(Duration cooldown) {
            this.createCooldown = positive(cooldown, "createCooldown");
            return this;
        }

        /**
         * How long a work may burn CPU on a concurrency-managed pool before the monitor flags it
         * CPU-intensive and stops counting it, so that the pool's other works can start (the
         * kernel's default: 10 ms); positive.
         *
         * @param threshold the CPU time after which a work counts as CPU-intensive
         * @return this builder
         * @throws NullPointerException if {@code threshold} is null
         * @throws IllegalArgumentException if {@code threshold} is zero or negative
         */
        public Builder cpuIntensiveThreshold(Duration threshold) {
            this.cpuIntensiveThreshold = positive(threshold, "cpuIntensiveThreshold");
            return this;
        }

        /**
         * Bounds of the monitor's adaptive tick: {@code min} while some pool has a backlog,
         * backing off to {@code max} while pools run without one (it parks while all are idle).
         *
         * @param min the shortest tick; positive
         * @param max the longest tick; positive, and not below {@code min}
         * @return this builder
         * @throws NullPointerException if {@code min} or {@code max} is null
         * @throws IllegalArgumentException if {@code min} or {@code max} is zero or negative, or
         *     {@code max} is below {@code min}
         */
        public Builder monitorTick(Duration min, Duration max) {
            positive(min, "min");
            positive(max, "max");
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("monitor tick max " + max + " is below min " + min);
            }
            this.monitorMinTick = min;
            this.monitorMaxTick = max;
            return this;
        }

        /**
         * Reports a concurrency-managed pool whose worklist made no progress for
         * {@code threshold} (the kernel's default: 30 s) while works were pending, once per
         * stall. The default handler logs {@link WatchdogReport#describe()} through
         * {@link System.Logger} at WARNING.
         *
         * @param threshold how long a pool may make no progress before it is reported; positive
         * @param handler receives the reports, on the monitor thread
         * @return this builder
         * @throws NullPointerException if {@code threshold} or {@code handler} is null
         * @throws IllegalArgumentException if {@code threshold} is zero or negative
         */
        public Builder watchdog(Duration threshold, java.util.function.Consumer<? super WatchdogReport> handler) {
            this.watchdogThreshold = positive(threshold, "watchdog threshold");
            this.watchdogHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * The most worker threads this instance may have alive at once; at least 1.
         *
         * @param max the thread cap
         * @return this builder
         * @throws IllegalArgumentException if {@code max} is below 1
         */
        public Builder maxThreads(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxThreads must be at least 1, got " + max);
            }
            this.maxThreads = max;
            return this;
        }

        /**
         * Creates worker threads (and rescuer threads); the engine names them and makes them
         * daemons. A worker thread may later serve another of the instance's pools of the same
         * priority: an idle worker's thread is handed to a pool that needs a worker rather than a
         * new thread made, and it is renamed after its new pool. By default the engine's own
         * factory, which makes threads as {@link Executors#defaultThreadFactory()} does (normal
         * priority, the creating thread's group) except that they inherit no
         * {@link InheritableThreadLocal} values: a worker serves every caller, so context reaches
         * a work through {@link #taskDecorator}, not through whichever thread happened to need a
         * new worker. A thread from a factory given here costs each queue from a worker a
         * {@code ThreadLocal} look-up (a few nanoseconds) that the engine's own threads avoid.
         *
         * @param factory the thread factory
         * @return this builder
         * @throws NullPointerException if {@code factory} is null
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Replaces the start of the names of this instance's threads, {@code cmwq4j-<name>-} by
         * default ({@link #name(String)}). The threads are named prefix + role: workers
         * {@code cpu1-0}, {@code cpu1H-0} (high priority), {@code unbound-0}, ..., numbered per
         * pool; the monitor {@code monitor}; the rescuer of a memReclaim workqueue
         * {@code rescuer-<workqueue>}. So by default {@code cmwq4j-orders-cpu1-0} and
         * {@code cmwq4j-orders-monitor}, and with the prefix {@code app-}, {@code app-cpu1-0}.
         *
         * <p>No two live threads of cmwq4j share a name: while a live instance's threads use a
         * prefix (or default start), another instance that asks for the same one gets it with
         * {@code 2-}, {@code 3-}, ... appended ({@code cmwq4j-orders-2-cpu1-0}, {@code app-2-}); the
         * shared instance's {@code cmwq4j-shared-} is kept for it. An instance's prefix is free
         * again once it is closed and its threads have ended. Should two threads of one instance
         * still come out alike (two memReclaim workqueues with one name), the later one gets
         * {@code -2}, {@code -3}, ... at the end.
         *
         * @param prefix the prefix
         * @return this builder
         * @throws NullPointerException if {@code prefix} is null
         */
        public Builder threadNamePrefix(String prefix) {
            this.threadNamePrefix = Objects.requireNonNull(prefix, "threadNamePrefix");
            return this;
        }

        /**
         * Receives every exception or error a work throws; the worker carries on with the next
         * work. The default logs it through {@link System.Logger} at ERROR, as
         * {@code work '<name>' of workqueue '<workqueue>' threw} with the work's
         * {@linkplain Work#name() name}. A one-shot task ({@link Workqueue#execute}, the executor
         * view) reaches the handler as a new {@code Work} of its action, named after it.
         *
         * @param handler receives the work and what it threw, on the thread that ran it
         * @return this builder
         * @throws NullPointerException if {@code handler} is null
         */
        public Builder failureHandler(BiConsumer<? super Work, ? super Throwable> handler) {
            this.failureHandler = Objects.requireNonNull(handler, "failureHandler");
            return this;
        }

        /**
         * The instance's name, used in JMX object names ({@code cmwq=<name>}) and in its
         * threads' names ({@code cmwq4j-<name>-cpu0-0}; see {@link #threadNamePrefix}); default
         * {@code cmwq-1}, {@code cmwq-2}, ... in creation order. Two instances may have the same
         * name: their MXBeans are told apart by a suffix ({@code #2}), and their threads' names
         * as {@link #threadNamePrefix} describes.
         *
         * @param name the instance's name
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         * @throws IllegalArgumentException if blank
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Whether to publish pools and workqueues as MXBeans on the platform MBean server
         * (default true; from {@code -Dcmwq4j.jmx}).
         *
         * @param publish true to publish them
         * @return this builder
         */
        public Builder jmx(boolean publish) {
            this.jmx = publish;
            return this;
        }

        /**
         * The task decorator of this instance's workqueues that do not set their own (see
         * {@link Workqueue.Builder#taskDecorator}): for example one that carries the logging MDC
         * or the tracing context of the queueing thread into every work. Default none.
         *
         * @param decorator called on the queueing thread each time an instance is queued; returns
         *     what runs in its place
         * @return this builder
         * @throws NullPointerException if {@code decorator} is null
         */
        public Builder taskDecorator(UnaryOperator<Runnable> decorator) {
            this.taskDecorator = Workqueue.Builder.orNone(Objects.requireNonNull(decorator, "taskDecorator"));
            return this;
        }

        /**
         * Whether a thread that waits for works lends them its priority (default true; see
         * {@link Priority}). Without it, works still run by the priority they were queued with.
         * Default from {@code -Dcmwq4j.priorityInheritance}.
         *
         * @param enabled true to lend priorities to waited-for works
         * @return this builder
         */
        public Builder priorityInheritance(boolean enabled) {
            this.priorityInheritance = enabled;
            return this;
        }

        /**
         * Whether the monitor profiles the blocks it detects (default true; from
         * {@code -Dcmwq4j.blockingSites}): for a sample of the detected unannounced blocks, it
         * captures the blocked worker's stack and attributes the block to the call site in the
         * application's code, for {@link WorkqueueStats#blockingSites()},
         * {@link Cmwq#blockingSites()}, the JMX attribute {@code BlockingSites}, the JFR event
         * {@code dev.cmwq4j.UnannouncedBlock} and {@code top --sites}.
         *
         * <p>The sample: every detection while a budget lasts, 64 at once and then
         * {@value #DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND} a second (tuning property
         * {@code cmwq4j.blockingSiteSamplesPerSecond}); the rest are counted only
         * ({@link WorkqueueStats#blocksUnsampled()}). It costs the monitor one stack capture per
         * sampled block (tens of microseconds), nothing for works that do not block unannounced,
         * and nothing at all when off.
         *
         * @param enabled true to profile detected blocks
         * @return this builder
         */
        public Builder blockingSites(boolean enabled) {
            this.blockingSites = enabled;
            return this;
        }

        /**
         * Internal (tests): work as where there is no {@code /proc}, or as on a JVM without
         * thread CPU time, even where they are there. The defaults come from the
         * {@code cmwq4j.simulate.noProc} and {@code cmwq4j.simulate.noThreadCpuTime} properties.
         */
        Builder simulate(boolean noProc, boolean noThreadCpuTime) {
            this.simulateNoProc = noProc;
            this.simulateNoThreadCpuTime = noThreadCpuTime;
            return this;
        }

        /**
         * Builds a new, independent instance with these options and starts its monitor thread;
         * {@link Cmwq#close()} it when done.
         *
         * @return the new instance
         */
        public Cmwq build() {
            return new Cmwq(newEngine(false), false, taskDecorator);
        }

        // The engine's hooks below are small classes, not lambdas: the first lambda a JVM links
        // bootstraps java.lang.invoke's lambda machinery (a few ms of CPU, more for the JIT that
        // compiles it), which building the shared instance would otherwise pay for.

        /** The default watchdog handler: logs the report as a warning. */
        private static final class LogWatchdogReport implements java.util.function.Consumer<WatchdogReport> {
            @Override
            public void accept(WatchdogReport r) {
                LOG.log(System.Logger.Level.WARNING, r.describe());
            }
        }

        /** Hands the engine's stall findings to the watchdog handler as reports. */
        private static final class WatchdogAdapter implements java.util.function.Consumer<Engine.StallSnapshot> {
            private final java.util.function.Consumer<? super WatchdogReport> handler;

            WatchdogAdapter(java.util.function.Consumer<? super WatchdogReport> handler) {
                this.handler = handler;
            }

            @Override
            public void accept(Engine.StallSnapshot stall) {
                handler.accept(WatchdogReport.of(stall));
            }
        }

        /** A failure, to the failure handler. */
        private static final class HandlerSink implements Engine.FailureSink {
            private final BiConsumer<? super Work, ? super Throwable> handler;

            HandlerSink(BiConsumer<? super Work, ? super Throwable> handler) {
                this.handler = handler;
            }

            @Override
            public void failed(Object work, String workqueue, Throwable error) {
                // a one-shot task (execute) has no Work of its own: it is reported as a new one
                handler.accept(work instanceof Work w ? w : new Work((Runnable) work), error);
            }
        }

        /** A failure, logged by the work's name when no failure handler is set. */
        private static final class LogSink implements Engine.FailureSink {
            @Override
            public void failed(Object work, String workqueue, Throwable error) {
                String name = work instanceof Work w ? w.name() : WorkNode.defaultName(work);
                LOG.log(System.Logger.Level.ERROR, "work '" + name + "' of workqueue '" + workqueue + "' threw", error);
            }
        }

        /** The engine these options describe, started; {@code shared} for the JVM-wide one. */
        Engine newEngine(boolean shared) {
            String n = name != null ? name : "cmwq-" + SEQ.incrementAndGet();
            java.util.function.Consumer<? super WatchdogReport> wh = watchdogHandler;
            BiConsumer<? super Work, ? super Throwable> h = failureHandler;
            Engine.FailureSink sink = h != null ? new HandlerSink(h) : new LogSink();
            Engine engine = new Engine(new Engine.Config(n, cpus, maxThreads, Workqueue.saturatedNanos(idleTimeout),
                    Workqueue.saturatedNanos(stallWindow), Workqueue.saturatedNanos(joinWindow),
                    Workqueue.saturatedNanos(stealThreshold), Workqueue.saturatedNanos(createCooldown),
                    idleSpinNanos, maxHelpDepth, Workqueue.saturatedNanos(cpuIntensiveThreshold),
                    Workqueue.saturatedNanos(monitorMinTick), Workqueue.saturatedNanos(monitorMaxTick),
                    Workqueue.saturatedNanos(watchdogThreshold), new WatchdogAdapter(wh),
                    threadFactory, threadNamePrefix, sink, jmx ? Jmx.PUBLISHER : null, priorityInheritance, shared,
                    !simulateNoProc, !simulateNoThreadCpuTime, blockingSites ? blockingSiteSamplesPerSecond : 0));
            engine.start();
            return engine;
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + d);
            }
            return d;
        }

        private static Duration nonNegative(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative()) {
                throw new IllegalArgumentException(what + " must not be negative, got " + d);
            }
            return d;
        }

        private static int intProperty(String name, int dflt) {
            String v = System.getProperty(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property " + name + " is not an integer: " + v, e);
            }
        }

        private static long longProperty(String name, long dflt) {
            String v = System.getProperty(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property " + name + " is not an integer: " + v, e);
            }
        }
    }
}
