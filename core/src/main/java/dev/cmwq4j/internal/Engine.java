package dev.cmwq4j.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The set of worker pools behind a {@code Cmwq} instance: per CPU index one normal and one
 * high-priority concurrency-managed pool, plus one unbound pool per priority, and the
 * {@link Timer} thread that fires delayed works and runs manager passes.
 *
 * <h2>Placement</h2>
 * A Java thread that queues has no CPU, so a work queued to a bound workqueue goes:
 * <ol>
 *   <li>from a worker of a bound pool: to that worker's CPU index (locality, batching);
 *   <li>from any other thread: to a home pool derived from the thread ({@code homeIndex}, a hash
 *       of its id, sticky for its life). No other pool's counters are read: each pool's worker
 *       rewrites them at every work, so a look at them cost the queuer a cache miss.
 * </ol>
 * After an insert into a busy pool of long works, a worker's start of a work while its pool's
 * backlog is stealable, or the monitor's look at a pool stuck behind its running works, one
 * random sibling that is idle is asked to send a thief ({@link Stealing#askForThief}); a thief
 * steals only unpinned works that waited past the steal threshold, or from a worklist that has
 * not been empty that long, so a worker fanning out, or chains of works, keep every CPU busy.
 */
public final class Engine {
    /**
     * The library's logger, {@code dev.cmwq4j}, for the API package too. Lazy: the logging back
     * end starts on the first message, not on the first use of cmwq4j ({@link LazyLogger}).
     */
    public static final System.Logger LOG = new LazyLogger("dev.cmwq4j");

    /** Reports a failure thrown by a work: (work owner, workqueue name, error). */
    @FunctionalInterface
    public interface FailureSink {
        void failed(Object work, String workqueue, Throwable error);
    }

    /**
     * Publishes an instance's pools and workqueues somewhere outside the engine (the API's JMX
     * beans): the engine calls it and never depends on what it builds.
     */
    public interface Publisher {
        /** Publishes a pool, read through {@code pool}; returns a token for {@link #unpublish}, or null. */
        Object publishPool(String cmwq, PoolSource pool);

        /** Publishes a workqueue; returns a token for {@link #unpublish}, or null. */
        Object publishWorkqueue(String cmwq, WorkqueueCore wq);

        /** Takes back what a publish returned; null is a no-op. */
        void unpublish(Object token);

        /**
         * Publications wait (for an MBean server): in how many nanoseconds the engine's service
         * thread should {@link #poll}; -1 if none waits. Asked after each publish.
         */
        default long pollAfterNanos() {
            return -1;
        }

        /**
         * Called on the engine's service thread, as {@link #pollAfterNanos} asked: registers, or has
         * registered, what waits if it may now. Quick, and throws nothing.
         *
         * @return when to poll again, as {@link #pollAfterNanos}
         */
        default long poll() {
            return -1;
        }
    }

    /** A pool as a {@link Publisher} reads it: its snapshot ({@link #get}) and what its workers run. */
    public interface PoolSource extends java.util.function.Supplier<PoolSnapshot> {
        /**
         * The names of the works the pool's workers run now ({@code Work.name()}), one per busy
         * worker, read without the pool's lock: a moment's view, for display. Empty by default.
         */
        default List<String> runningWorks() {
            return List.of();
        }
    }

    /**
     * The engine's options, validated by the public builder, which is the only reader of system
     * properties. Durations in nanoseconds.
     *
     * @param threadNamePrefix replaces the default base {@code cmwq4j-<name>-} of the thread
     *     names, or null for the default (see {@link ThreadNames})
     * @param shared the JVM-wide shared instance: its default thread-name base is kept for it
     * @param procFs the monitor may read the kernel's view of threads from {@code /proc}; false
     *     makes it work as where there is none (the builder's {@code cmwq4j.simulate.noProc})
     * @param threadCpuTime the engine may read thread CPU time; false makes it work as on a JVM
     *     that does not support it (the builder's {@code cmwq4j.simulate.noThreadCpuTime})
     * @param blockingSiteSamplesPerSecond the blocking-site profiler's steady sampling rate
     *     ({@link BlockProfiler}); 0 turns the profiler off
     */
    public record Config(String name, int cpus, int maxThreads, long idleTimeoutNanos, long stallWindowNanos,
            long joinWindowNanos, long stealThresholdNanos, long createCooldownNanos, long idleSpinNanos,
            int maxHelpDepth, long cpuIntensiveThresholdNanos, long monitorMinTickNanos, long monitorMaxTickNanos,
            long watchdogNanos, java.util.function.Consumer<StallSnapshot> watchdogHandler,
            ThreadFactory threadFactory, String threadNamePrefix, FailureSink failureSink, Publisher publisher,
            boolean priorityInheritance, boolean shared, boolean procFs, boolean threadCpuTime,
            int blockingSiteSamplesPerSecond) {
        /** The rate the builder defaults to, for engines built without it (tests). */
        public static final int DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND = 100;

        /** A config with the default blocking-site sampling rate. */
        public Config(String name, int cpus, int maxThreads, long idleTimeoutNanos, long stallWindowNanos,
                long joinWindowNanos, long stealThresholdNanos, long createCooldownNanos, long idleSpinNanos,
                int maxHelpDepth, long cpuIntensiveThresholdNanos, long monitorMinTickNanos, long monitorMaxTickNanos,
                long watchdogNanos, java.util.function.Consumer<StallSnapshot> watchdogHandler,
                ThreadFactory threadFactory, String threadNamePrefix, FailureSink failureSink, Publisher publisher,
                boolean priorityInheritance, boolean shared, boolean procFs, boolean threadCpuTime) {
            this(name, cpus, maxThreads, idleTimeoutNanos, stallWindowNanos, joinWindowNanos, stealThresholdNanos,
                    createCooldownNanos, idleSpinNanos, maxHelpDepth, cpuIntensiveThresholdNanos, monitorMinTickNanos,
                    monitorMaxTickNanos, watchdogNanos, watchdogHandler, threadFactory, threadNamePrefix, failureSink,
                    publisher, priorityInheritance, shared, procFs, threadCpuTime,
                    DEFAULT_BLOCKING_SITE_SAMPLES_PER_SECOND);
        }
    }

    /** One pool's workers by state and its counts, read at once under its lock. */
    public record PoolSnapshot(String name, int cpu, boolean highPriority, int workers, int idle, int running,
            int blocked, int detected, int cpuIntensive, int nrRunning, int target, int pending) {}

    /**
     * One workqueue's counters, summed over its pool workqueues (each read under its pool lock);
     * the histograms as bucket counts (the API's {@code DurationHistogram} buckets), sum and max;
     * its blocking sites ({@link BlockingSites}), in no order, read before {@code blocksDetected}
     * so that their counts never add up to more than it.
     */
    public record WorkqueueSnapshot(String name, long total, long inFlight, long cpuNanos, long cpuIntensive,
            long cmWakeups, long maydays, long rescued, long blocksAnnounced, long blocksDetected,
            long[] latencyCounts, long latencySum, long latencyMax, long[] execCounts, long execSum,
            long execMax, List<SiteSnapshot> sites) {}

    /**
     * One blocking site of a workqueue: its frames, top user frame first (none for the "other"
     * tally of a full table), the sampled unannounced blocks attributed to it and their blocked
     * time. The array is the snapshot's own copy.
     */
    public record SiteSnapshot(StackTraceElement[] frames, long count, long blockedNanos) {}

    /** A watchdog finding: a pool with pending works and no progress for {@code stalledNanos}. */
    public record StallSnapshot(String pool, int pending, long stalledNanos, List<BusySnapshot> workers) {}

    /** A worker of a stalled pool: its thread, its work's name, its state and stack. */
    public record BusySnapshot(String thread, String work, String state, List<StackTraceElement> stack) {}

    /**
     * A stack frame as the blocking-site profile names sites: {@code com.example.Dao.lookup(Dao.java:42)},
     * without the module and class-loader prefix of {@link StackTraceElement#toString()}.
     */
    public static String frameText(StackTraceElement e) {
        return Site.frameText(e);
    }

    /** The instance's name (JMX, statistics). */
    final String name;
    /** Where pools and workqueues are published, or null. */
    private final Publisher publisher;
    /** Publication tokens of the pools, taken back at shutdown; written once by {@link #start}. */
    private final List<Object> poolTokens = new java.util.ArrayList<>();
    /** Polls the {@link #publisher} on the service thread while publications wait ({@link Publisher#poll}). */
    private final PublisherPoll publisherPoll = new PublisherPoll();
    final int ncpu;
    private final WorkerPool[] normal;
    private final WorkerPool[] high;
    private final WorkerPool unboundNormal;
    private final WorkerPool unboundHigh;
    final Timer timer;
    /** Observes blocking and CPU hogs in works that do not announce them. */
    final Monitor monitor;

    final long idleTimeoutNanos;
    final long stallWindowNanos;
    /** What a join adds to the stall window (see {@code Cmwq.Builder.joinWindow}); zero or more. */
    final long joinExtraNanos;
    final long stealThresholdNanos;
    final long createCooldownNanos;
    /** How long a worker that ran out of work spins before it parks. */
    final long idleSpinNanos;
    /**
     * Workers spinning before they park ({@link Worker}'s idle spin), engine-wide. A spin is
     * worth it only on a CPU nobody else wants: with more spinners than half the CPUs (one on 2
     * CPUs), a spinner takes the CPU from the very thread that would queue its next work. Atomic.
     */
    private final java.util.concurrent.atomic.AtomicInteger spinners = new java.util.concurrent.atomic.AtomicInteger();

    /** A worker about to park may spin first: true if it took a spinner slot ({@link #spinDone} gives it back). */
    boolean trySpin() {
        int max = Math.max(1, ncpu / 2);
        for (;;) {
            int n = spinners.get();
            if (n >= max) {
                return false;
            }
            if (spinners.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void spinDone() {
        spinners.decrementAndGet();
    }
    /** Most helped runs nested on one thread ({@link Helping}); deeper waits block instead. */
    final int maxHelpDepth;
    final boolean stealing;
    /**
     * The fast lane (ARCHITECTURE 6, <i>The fast lane</i>) is on in every managed pool from the
     * start: managed pools take eligible works from a ring without their lock. The system
     * property {@code cmwq4j.fastLane} is {@code true}, or a test says so ({@link #laneForTests}).
     */
    final boolean fastLane = autoLaneForTests == Boolean.TRUE ? false
            : laneForTests != null ? laneForTests : "true".equals(System.getProperty("cmwq4j.fastLane"));
    /**
     * The fast lane comes on per pool, once the pool's backlogs show it pays ({@code WorkerPool}
     * {@code #laneWorthIt}): the default, unless the system property {@code cmwq4j.fastLane} is
     * {@code false} (no lane) or {@code true} ({@link #fastLane}), or a test says otherwise
     * ({@link #autoLaneForTests}, {@link #laneForTests}).
     */
    final boolean autoLane = autoLaneForTests != null ? autoLaneForTests
            : !fastLane && laneForTests == null && !"false".equals(System.getProperty("cmwq4j.fastLane"));
    /**
     * A pool whose announced blocks are short beside its works' CPU time may keep blocked workers
     * counted (ARCHITECTURE 2, <i>Counted blocks</i>): the default, unless the system property
     * {@code cmwq4j.countedBlocks} is {@code false} or a test says otherwise
     * ({@link #countedBlocksForTests}).
     */
    final boolean countedBlocks = countedBlocksForTests != null ? countedBlocksForTests
            : !"false".equals(System.getProperty("cmwq4j.countedBlocks"));
    /** Tests: counted blocks for engines built from now on (null: the system property decides). */
    static volatile Boolean countedBlocksForTests;
    /** Tests: the lane for engines built from now on (null: the system property decides). */
    static volatile Boolean laneForTests;
    /** Tests: the adaptive lane for engines built from now on (null: the system property decides). */
    static volatile Boolean autoLaneForTests;
    /** Works a busy worker took from a sibling to even out the backlogs ({@link Stealing#rebalance}). */
    final java.util.concurrent.atomic.LongAdder balanceSteals = new java.util.concurrent.atomic.LongAdder();
    /** Idle transitions a worker saved by lingering: work came while it watched ({@code Worker.lingerForWork}). */
    final java.util.concurrent.atomic.LongAdder lingerHits = new java.util.concurrent.atomic.LongAdder();
    /** Whether the machine's CPUs are all taken (sampled by the service thread): see {@link CpuLoad}. */
    final CpuLoad cpuLoad = new CpuLoad();
    /** Waiters lend their priority (see {@link Inheritance}); fixed at construction. */
    final boolean inheritance;
    final long cpuIntensiveThresholdNanos;
    final int maxThreads;
    /** The user's thread factory; null: the engine makes {@link WorkerThread}s ({@link #newThread}). */
    final ThreadFactory threadFactory;
    /** The thread-name base this engine asks for: the builder's prefix, or {@code cmwq4j-<name>-}. */
    private final String threadNameBase;
    /** The JVM-wide shared instance (its default base is kept for it). */
    private final boolean shared;
    /**
     * The base this engine's threads are named under, claimed by the first thread it names
     * ({@link #threadNames}); written once under {@link #namesLock}.
     */
    private volatile ThreadNames.Lease threadNames;
    /** Guards the claim of {@link #threadNames} and {@link #namesClosed}. */
    private final Object namesLock = new Object();
    /** {@link #shutdown} released the names (a later claim is released at once); namesLock. */
    private boolean namesClosed;
    /**
     * The monitor may read {@code /proc} (false: work as where there is none); fixed at
     * construction. Where it is absent for real, the reads fail and count as unknown.
     */
    final boolean procFs;
    /**
     * The engine may read thread CPU time (false: work as a JVM without it); fixed at
     * construction. Where the JVM does not support it, {@link ThreadCpu} says so as well.
     */
    final boolean threadCpuTime;
    private final FailureSink failureSink;

    /** Worker threads alive or being created; atomic. */
    private final AtomicInteger threads = new AtomicInteger();
    /** Highest value {@link #threads} reached; CAS-max. */
    private final AtomicInteger peakThreads = new AtomicInteger();
    final LongAdder blocksAnnounced = new LongAdder();
    final LongAdder creationFailures = new LongAdder();
    /** New workers given a sibling pool's idle thread instead of a new one ({@link #handOffIdleThread}). */
    final LongAdder threadHandOffs = new LongAdder();
    /** When the last creation-failure warning was logged (0: never); racy, managers only. */
    private volatile long lastCreationWarning;
    /** Rescuers of open memReclaim workqueues; atomic. Mayday passes are armed only if > 0. */
    private final AtomicInteger rescuers = new AtomicInteger();
    /** System.nanoTime() of the last failed thread creation, or 0; written by manager passes. */
    private volatile long lastCreationFailureAt;
    /** Open workqueues, for close-all and, later, statistics. */
    private final List<WorkqueueCore> workqueues = new CopyOnWriteArrayList<>();
    /** {@link #shutdown} has begun: no new workqueue; written and read under {@code workqueues}. */
    private boolean shutDown;

    /**
     * Builds the pools, the timer and the monitor; starts no thread and publishes nothing, so a
     * test may build an engine to look at it. {@link #start} makes it run.
     */
    public Engine(Config c) {
        this.name = c.name();
        this.publisher = c.publisher();
        this.ncpu = c.cpus();
        this.idleTimeoutNanos = c.idleTimeoutNanos();
        this.stallWindowNanos = c.stallWindowNanos();
        this.joinExtraNanos = Math.max(0, c.joinWindowNanos() - c.stallWindowNanos());
        this.stealThresholdNanos = c.stealThresholdNanos();
        this.createCooldownNanos = c.createCooldownNanos();
        this.idleSpinNanos = c.idleSpinNanos();
        this.maxHelpDepth = c.maxHelpDepth();
        this.stealing = c.cpus() > 1;
        this.inheritance = c.priorityInheritance();
        this.cpuIntensiveThresholdNanos = c.cpuIntensiveThresholdNanos();
        this.maxThreads = c.maxThreads();
        this.threadFactory = c.threadFactory();
        this.threadNameBase = c.threadNamePrefix() != null ? c.threadNamePrefix() : ThreadNames.defaultBase(c.name());
        this.shared = c.shared();
        this.procFs = c.procFs();
        this.threadCpuTime = c.threadCpuTime();
        this.failureSink = c.failureSink();
        normal = new WorkerPool[ncpu];
        high = new WorkerPool[ncpu];
        for (int i = 0; i < ncpu; i++) {
            normal[i] = new WorkerPool(this, i, false);
            high[i] = new WorkerPool(this, i, true);
        }
        unboundNormal = new WorkerPool(this, -1, false);
        unboundHigh = new WorkerPool(this, -1, true);
        preloadHotClasses();
        Events.listenIfRecording();
        timer = new Timer();
        monitor = new Monitor(this, timer, c.monitorMinTickNanos(), c.monitorMaxTickNanos(), c.watchdogNanos(),
                c.watchdogHandler(), c.blockingSiteSamplesPerSecond());
    }

    /**
     * The base this engine's threads are named under: claimed on first use (at {@link #start}, or
     * before it by a rescuer), released by {@link #shutdown} (see {@link ThreadNames}).
     */
    ThreadNames.Lease threadNames() {
        ThreadNames.Lease l = threadNames;
        if (l != null) {
            return l;
        }
        synchronized (namesLock) {
            l = threadNames;
            if (l == null) {
                l = ThreadNames.claim(threadNameBase, shared);
                if (namesClosed) {
                    l.close(); // named after shutdown: held only while that thread lives
                }
                threadNames = l;
            }
            return l;
        }
    }

    /** Starts the monitor (and timer) thread and publishes the pools. Once, before any use. */
    public void start() {
        // Initializes Worker here, at the builder's depth, not at the first queue (enqueue asks
        // Worker.current()): a static initializer that throws leaves its class unusable for the
        // JVM's life, and a first queue may come from the end of a stack (DeepFirstQueueTest).
        // The other classes a queue initializes have no static initializer (Seam, Stealing, OneShotNode).
        Worker.current();
        monitor.start();
        if (publisher != null) {
            for (WorkerPool p : pools()) {
                poolTokens.add(publisher.publishPool(name, new PoolView(p)));
            }
            pollPublisherIfWaiting();
        }
    }

    /**
     * Arms the publisher's poll on this engine's service thread if publications wait (for an MBean
     * server, {@code Jmx}): the waiting costs a timer entry, not a thread. After each publish.
     */
    private void pollPublisherIfWaiting() {
        long after = publisher.pollAfterNanos();
        if (after > 0) {
            try {
                timer.scheduleNoLaterThan(publisherPoll, System.nanoTime() + after);
            } catch (StackOverflowError e) {
                // too little stack to arm a timer (Timer.arm throws before it changes anything):
                // the service thread arms it from its own shallow stack ({@link #armPublisherPollIfWanted})
                publisherPollWanted = true;
                monitor.nudge();
            }
        }
    }

    /**
     * A publication at the end of a stack could not arm the publisher's poll: set by it, cleared by
     * the service thread, which arms the poll then ({@link #armPublisherPollIfWanted}).
     */
    volatile boolean publisherPollWanted;

    /** Service thread, at each scan: arms the poll a publication could not ({@link #publisherPollWanted}). */
    void armPublisherPollIfWanted() {
        if (publisherPollWanted) {
            publisherPollWanted = false;
            pollPublisherIfWaiting();
        }
    }

    /** The service thread's poll of the publisher, re-armed while it asks to be polled again. */
    private final class PublisherPoll extends TimerEntry {
        @Override
        protected void fire() {
            long after;
            try {
                after = publisher.poll();
            } catch (Throwable e) { // a publisher's poll throws nothing; the service thread must not die of one
                after = -1;
            }
            if (after > 0) {
                timer.schedule(this, System.nanoTime() + after);
            }
        }
    }

    /**
     * A pool, for the publisher. A class, not {@code p::snapshot}: the first lambda a JVM links
     * bootstraps {@code java.lang.invoke}'s lambda machinery (milliseconds of CPU, more for the
     * JIT), which building the first instance would otherwise pay for.
     */
    private static final class PoolView implements PoolSource {
        private final WorkerPool pool;

        PoolView(WorkerPool pool) {
            this.pool = pool;
        }

        @Override
        public PoolSnapshot get() {
            return pool.snapshot();
        }

        @Override
        public List<String> runningWorks() {
            return pool.runningWorks();
        }
    }

    /**
     * Loads and initializes the classes that the first works touch (queueing, priority lending,
     * helping, statistics, and {@link Events}; its JFR listener is installed by the service
     * thread as it starts, or here if a recording already runs: {@link Events#listen}), so
     * that a fresh JVM does it once here rather than on its first works, where two workers
     * needing the same class wait on its class loader's lock (a fan-out's first waits need
     * {@link Helping} and {@link Lend}). Only cheap classes: this runs on the caller that builds
     * the first instance, 1-3 ms of CPU in a fresh JVM. {@code java.lang.management} loads when a
     * CPU clock is first read ({@link ThreadCpu}), JMX later still ({@code Jmx}), and no lambda is
     * linked on this path ({@link PoolSource}).
     */
    private static void preloadHotClasses() {
        for (Class<?> c : new Class<?>[] {Events.class, dev.cmwq4j.Work.class, Inheritance.class, Helping.class,
                Lend.class, dev.cmwq4j.DurationHistogram.class, java.util.concurrent.ThreadLocalRandom.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e); // the class literal above loaded it
            }
        }
    }

    /** Every pool: the bound ones (normal, then high priority), then the unbound ones. */
    List<WorkerPool> pools() {
        List<WorkerPool> all = new java.util.ArrayList<>(2 * ncpu + 2);
        all.addAll(List.of(normal));
        all.addAll(List.of(high));
        all.add(unboundNormal);
        all.add(unboundHigh);
        return all;
    }

    /** CPU indexes: bound pools per priority. */
    public int cpus() {
        return ncpu;
    }

    /**
     * Every CPU has a counted worker: the managed pools together count at least as many running
     * workers as there are CPUs. A pool's CPU index is a bookkeeping unit, not a CPU of its own
     * (the OS runs any thread anywhere), so while this holds a new thread for one pool would only
     * take turns with the others' (see {@link Manager#creationDelay}). A racy sum, O(pools).
     */
    boolean cpusTaken() {
        int running = 0;
        for (WorkerPool p : normal) {
            running += p.nrRunning.get();
        }
        for (WorkerPool p : high) {
            running += p.nrRunning.get();
        }
        return running >= ncpu;
    }

    /** The instance's name. */
    public String name() {
        return name;
    }

    WorkerPool[] boundPools(boolean highPriority) {
        return highPriority ? high : normal;
    }

    WorkerPool unboundPool(boolean highPriority) {
        return highPriority ? unboundHigh : unboundNormal;
    }

    /**
     * Builds a workqueue on this engine.
     *
     * @throws java.util.concurrent.RejectedExecutionException once {@link #shutdown} has begun
     */
    public WorkqueueCore newWorkqueue(WorkqueueCore.Spec spec) {
        String name = spec.name();
        WorkqueueCore wq = new WorkqueueCore(this, spec);
        synchronized (workqueues) {
            if (shutDown) {
                throw new java.util.concurrent.RejectedExecutionException(
                        "Cmwq '" + this.name + "' is closed: no new workqueue '" + name + "'");
            }
            workqueues.add(wq); // before shutdown's list is read: it will close this one too
            if (publisher != null) { // published before a racing shutdown can close it and take it back
                wq.publication = publisher.publishWorkqueue(this.name, wq);
            }
        }
        if (publisher != null) {
            pollPublisherIfWaiting();
        }
        if (spec.freezable()) {
            wq.makeFreezable(); // before anyone can queue: a JVM-wide freeze applies at once
        }
        if (spec.memReclaim()) {
            wq.startRescuer();
        }
        return wq;
    }

    void unregister(WorkqueueCore wq) {
        workqueues.remove(wq);
        if (publisher != null) {
            publisher.unpublish(wq.publication);
        }
    }

    /** The open workqueues, in creation order. */
    public List<WorkqueueCore> workqueues() {
        return List.copyOf(workqueues);
    }

    /** A snapshot of every pool, each read under its lock, in {@link #pools()} order. */
    public List<PoolSnapshot> poolSnapshots() {
        List<PoolSnapshot> out = new java.util.ArrayList<>(2 * ncpu + 2);
        for (WorkerPool p : pools()) {
            out.add(p.snapshot());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Placement.

    /**
     * CPU index for a work queued to a bound workqueue without an explicit CPU: the queuer's own
     * CPU index if it is a worker of a bound pool of this instance, else its home index. A worker
     * of another instance counts as an outside thread here: its CPU index is that instance's
     * bookkeeping, and may not exist in this one (an instance of 4 CPUs queueing into one of 2
     * threw ArrayIndexOutOfBoundsException, with the work left pending for good).
     */
    int placeBound(boolean highPriority, Worker self) {
        if (self != null && self.pool.managed && self.pool.engine == this) {
            return self.pool.cpu;
        }
        int n = ncpu;
        return n == 1 ? 0 : homeIndex(n);
    }

    private static int homeIndex(int n) {
        long id = Thread.currentThread().threadId();
        return (int) Long.remainderUnsigned(id * 0x9E3779B97F4A7C15L >>> 17, n);
    }

    /**
     * A random index in [0, n) other than {@code self}; n >= 2. With two (a two-CPU machine's
     * pools), the other one, without the random draw: every start on the locked path may ask
     * (a thief for its backlog), and the draw was about a third of that ask's inlined code.
     */
    static int otherIndex(int self, int n) {
        if (n == 2) {
            return 1 - self;
        }
        int r = ThreadLocalRandom.current().nextInt(n - 1);
        return r >= self ? r + 1 : r;
    }

    // ------------------------------------------------------------------------------------------
    // Thread supply.

    /**
     * A new, unstarted thread for a worker or a rescuer: from the user's factory, or one of the
     * engine's own ({@link WorkerThread}) if it was given none. What a factory throws reaches
     * the caller.
     */
    Thread newThread(Runnable task) {
        ThreadFactory f = threadFactory;
        return f == null ? new WorkerThread(task) : f.newThread(task);
    }

    /** Takes one slot under the global thread cap. */
    boolean reserveThread() {
        for (;;) {
            int t = threads.get();
            if (t >= maxThreads) {
                return false;
            }
            if (threads.compareAndSet(t, t + 1)) {
                int peak;
                while ((peak = peakThreads.get()) < t + 1 && !peakThreads.compareAndSet(peak, t + 1)) {
                    // retry
                }
                return true;
            }
        }
    }

    void releaseThread() {
        threads.decrementAndGet();
    }

    /**
     * The manager of bound pool {@code p} has created and counted {@code next}: gives it the
     * thread of an idle worker a sibling pool of the same priority can spare ({@link
     * WorkerPool#handOffIdle}), rather than have a new thread started while siblings hold idle
     * ones. Siblings are asked in turn from the next CPU on, each with a racy look at its idle
     * count first, so a pass takes no lock of a pool that has no idle worker. Called with no pool
     * lock held.
     *
     * @return true if a thread was handed over; false: start one
     */
    boolean handOffIdleThread(WorkerPool p, Worker next, String role) {
        if (!p.managed) {
            return false;
        }
        WorkerPool[] siblings = boundPools(p.highPriority);
        int n = siblings.length;
        for (int k = 1; k < n; k++) {
            WorkerPool d = siblings[(p.cpu + k) % n];
            if (d.nIdle > 0 && d.handOffIdle(next, role)) { // nIdle: a racy hint, checked under the lock
                try {
                    threadHandOffs.increment();
                } catch (Throwable t) {
                    // a statistic (a LongAdder may allocate): the thread is handed over all the
                    // same, and a caller told otherwise would start a second one for the worker
                }
                return true;
            }
        }
        return false;
    }

    /**
     * {@code starved} needs a worker and the thread cap is reached: retires one idle worker of
     * another pool, if there is one, so that the manager's next pass finds a slot. Without it, a
     * pool whose siblings hold every slot with idle workers would wait out their idle timeout
     * (minutes), or forever below the retirement reserve. Called with no pool lock held.
     */
    void reclaimIdleThread(WorkerPool starved) {
        for (WorkerPool q : pools()) {
            if (q != starved && q.retireOneIdle()) {
                return;
            }
        }
    }

    /** Worker threads alive or being created now. */
    public int threads() {
        return threads.get();
    }

    /**
     * No thread can be added now: the global cap is reached, or a creation failed within the
     * last cooldown. Racy reads; for callers that degrade rather than wait (async domains).
     */
    boolean mayNotAddThreads() {
        long failedAt = lastCreationFailureAt;
        return threads.get() >= maxThreads
                || (failedAt != 0 && System.nanoTime() - failedAt < createCooldownNanos);
    }

    /** The most worker threads alive at once so far. */
    public int peakThreads() {
        return peakThreads.get();
    }

    /** Some workqueue has a rescuer that a mayday could call. */
    boolean hasRescuers() {
        return rescuers.get() > 0;
    }

    void rescuerStarted() {
        rescuers.incrementAndGet();
    }

    void rescuerStopped() {
        rescuers.decrementAndGet();
    }

    /**
     * A worker could not be created for {@code pool} ({@code t}: why): starts the back-off
     * ({@link #lastCreationFailureAt}), counts it, and warns at most once a second. Never throws.
     */
    void creationFailed(WorkerPool pool, Throwable t) {
        lastCreationFailureAt = System.nanoTime();
        try { // a count and a warning, which allocate: the callers' undo and retry come first in importance
            creationFailures.increment();
            long now = System.nanoTime();
            long last = lastCreationWarning;
            if (last == 0 || now - last >= 1_000_000_000L) { // at most one warning a second
                lastCreationWarning = now;
                LOG.log(System.Logger.Level.WARNING, "cmwq4j: cannot create a worker for pool " + pool.name
                        + "; retrying after back-off (" + creationFailures.sum() + " failures so far)", t);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "cmwq4j: cannot create a worker for pool " + pool.name, t);
            }
        } catch (Throwable e) {
            // out of memory again, most likely: the failure stays uncounted or unlogged, nothing else
        }
    }

    void reportFailure(WorkNode n, WorkqueueCore wq, Throwable t) {
        try {
            failureSink.failed(n.reportable(), wq.name, t);
        } catch (Throwable t2) {
            try {
                LOG.log(System.Logger.Level.ERROR, "cmwq4j: failure handler threw", t2);
            } catch (Throwable ignored) {
                // the logger failed too (or memory or stack ran out): the work's end must still
                // be accounted, so nothing of reporting may leave this method
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Shutdown.

    /**
     * Closes every workqueue (draining it), then stops all workers and the service thread (monitor
     * and timer).
     */
    public void shutdown() {
        synchronized (workqueues) {
            shutDown = true;
        }
        for (WorkqueueCore wq : workqueues) {
            wq.close();
        }
        for (int i = 0; i < ncpu; i++) {
            normal[i].close();
            high[i].close();
        }
        unboundNormal.close();
        unboundHigh.close();
        monitor.shutdown(); // the timer's thread too
        synchronized (namesLock) { // the base is free again once every thread named under it has ended
            namesClosed = true;
            if (threadNames != null) {
                threadNames.close();
            }
        }
        if (publisher != null) {
            for (Object token : poolTokens) {
                publisher.unpublish(token);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // JVM-wide: freezing and priority levels (the API's Workqueues and Priority).

    /**
     * Freezes every freezable workqueue of every instance ({@link Freezer#freezeAll}).
     *
     * @return false if the deadline passed before their running works finished
     */
    public static boolean freezeAll(boolean timed, long deadline) {
        return Freezer.freezeAll(timed, deadline);
    }

    /** Thaws what {@link #freezeAll} froze. */
    public static void thawAll() {
        Freezer.thawAll();
    }

    /** A JVM-wide freeze holds. */
    public static boolean isFrozen() {
        return Freezer.isFrozen();
    }

    /** The priority level (0 LOW .. 3 URGENT) a plain thread of {@code threadPriority} lends. */
    public static int levelOfThreadPriority(int threadPriority) {
        return Inheritance.levelOfThreadPriority(threadPriority);
    }

    /** The calling thread's level: its work's effective priority on a worker, else its thread's. */
    public static int currentLevel() {
        return Inheritance.currentLevel();
    }
}
