package dev.cmwq4j.micrometer;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.DurationHistogram;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.WorkqueueStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * Binds the statistics of a {@link Cmwq} instance to Micrometer: per workqueue, per worker pool
 * and for the whole instance, the numbers of {@link Cmwq#workqueueStats()},
 * {@link Cmwq#poolStats()}, {@link Cmwq#threads()} and {@link Cmwq#peakThreads()}.
 *
 * <pre>{@code
 * new CmwqMetrics().bindTo(registry);                  // Cmwq.shared()
 * CmwqMetrics m = new CmwqMetrics(cmwq, Tags.of("app", "thumbnails"));
 * m.bindTo(registry);
 * ...
 * m.close();                                           // before cmwq.close(): removes the meters
 * }</pre>
 *
 * <h2>Meters</h2>
 * Every meter is tagged {@code cmwq} with the instance's {@linkplain Cmwq#name() name} (plus the
 * extra tags given to the constructor). Per-workqueue meters are also tagged {@code workqueue},
 * per-pool meters {@code pool} ({@code cpu0}, {@code cpu0H}, ..., {@code unbound},
 * {@code unboundH}). Counters and timers are cumulative since the workqueue was built. See
 * {@link WorkqueueStats} and {@link PoolStats} for the exact meaning of each number.
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>extra tags</th><th>value</th></tr>
 *   <tr><td>{@code cmwq4j.works.completed}</td><td>function counter</td><td>{@code workqueue}</td>
 *       <td>works executed to the end ({@link WorkqueueStats#total()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.in.flight}</td><td>gauge</td><td>{@code workqueue}</td>
 *       <td>works queued or running ({@link WorkqueueStats#inFlight()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.cpu.time}</td><td>function counter, seconds</td>
 *       <td>{@code workqueue}</td><td>CPU time of its works ({@link WorkqueueStats#cpuTimeNanos()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.cpu.intensive}</td><td>function counter</td><td>{@code workqueue}</td>
 *       <td>CPU-intensive violations ({@link WorkqueueStats#cpuIntensive()})</td></tr>
 *   <tr><td>{@code cmwq4j.cm.wakeups}</td><td>function counter</td><td>{@code workqueue}</td>
 *       <td>concurrency-management wakeups ({@link WorkqueueStats#cmWakeups()})</td></tr>
 *   <tr><td>{@code cmwq4j.maydays}</td><td>function counter</td><td>{@code workqueue}</td>
 *       <td>maydays sent to its rescuer ({@link WorkqueueStats#maydays()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.rescued}</td><td>function counter</td><td>{@code workqueue}</td>
 *       <td>works its rescuer ran ({@link WorkqueueStats#rescued()})</td></tr>
 *   <tr><td>{@code cmwq4j.blocks}</td><td>function counter</td>
 *       <td>{@code workqueue}, {@code kind}: {@code announced} | {@code detected}</td>
 *       <td>blocks of its works ({@link WorkqueueStats#blocksAnnounced()},
 *       {@link WorkqueueStats#blocksDetected()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.queue.latency}</td><td>function timer</td><td>{@code workqueue}</td>
 *       <td>count and total of the queue-to-start latencies ({@link WorkqueueStats#queueLatency()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.queue.latency.quantile}</td><td>time gauge</td>
 *       <td>{@code workqueue}, {@code quantile}: {@code 0.5} | {@code 0.99} | {@code 1}</td>
 *       <td>percentiles of the same histogram; {@code 1} is the maximum</td></tr>
 *   <tr><td>{@code cmwq4j.works.execution}</td><td>function timer</td><td>{@code workqueue}</td>
 *       <td>count and total of the execution times ({@link WorkqueueStats#executionTime()})</td></tr>
 *   <tr><td>{@code cmwq4j.works.execution.quantile}</td><td>time gauge</td>
 *       <td>{@code workqueue}, {@code quantile}</td><td>percentiles of the same histogram</td></tr>
 *   <tr><td>{@code cmwq4j.workers}</td><td>gauge</td>
 *       <td>{@code pool}, {@code state}: {@code idle} | {@code running} | {@code blocked} |
 *       {@code detected} | {@code cpu-intensive}</td>
 *       <td>the pool's workers by state; the states add up to {@link PoolStats#workers()}</td></tr>
 *   <tr><td>{@code cmwq4j.pool.nr.running}</td><td>gauge</td><td>{@code pool}</td>
 *       <td>the concurrency count ({@link PoolStats#nrRunning()})</td></tr>
 *   <tr><td>{@code cmwq4j.pool.target}</td><td>gauge</td><td>{@code pool}</td>
 *       <td>the concurrency target ({@link PoolStats#target()})</td></tr>
 *   <tr><td>{@code cmwq4j.pool.pending}</td><td>gauge</td><td>{@code pool}</td>
 *       <td>works on the pool's worklist ({@link PoolStats#pending()})</td></tr>
 *   <tr><td>{@code cmwq4j.threads}</td><td>gauge</td><td></td>
 *       <td>worker threads alive ({@link Cmwq#threads()})</td></tr>
 *   <tr><td>{@code cmwq4j.threads.peak}</td><td>gauge</td><td></td>
 *       <td>most worker threads alive at once ({@link Cmwq#peakThreads()})</td></tr>
 * </table>
 *
 * <p>The histograms have power-of-two buckets, so a percentile is an upper bound within a factor
 * of two (see {@link DurationHistogram#valueAtPercentile}); like the counters, percentiles are
 * taken over every work since the workqueue was built, and are NaN while it has run none. For a
 * recent mean, divide the rates of a timer's total and count (with Prometheus:
 * {@code rate(cmwq4j_works_queue_latency_seconds_sum[1m]) / rate(..._count[1m])}).
 *
 * <h2>One snapshot per scrape</h2>
 * Reading the statistics takes each pool's lock, and a scrape reads every meter. So the meters do
 * not read the engine: they read one cached snapshot of all of it (workqueue and pool statistics,
 * thread counts), which the first meter read after it is older than the maximum age (default
 * {@link #DEFAULT_MAX_AGE}, 1 s) replaces. A scrape therefore costs one read of the engine, and
 * its values come from one moment (unless the scrape straddles the expiry of a snapshot).
 *
 * <h2>Workqueues that come and go</h2>
 * When a snapshot is taken, meters are registered for workqueues and pools that were not there
 * before, in every registry this binder is bound to, so a workqueue built after
 * {@link #bindTo} appears at the next refresh (its meters may miss the scrape that registers
 * them). A workqueue that is closed leaves the statistics, and its meters are removed from the
 * registries at the next refresh. Workqueue names need not be unique: workqueues of one instance
 * that share a name share its meters, which show their sums (so when one of them closes, the
 * counters drop by its share).
 *
 * <p>Closing this binder removes every meter it registered. Do that before closing a
 * {@code Cmwq} that is not the shared one: the registry would otherwise keep the pool and
 * instance meters of a closed instance, and with them the instance itself.
 *
 * <p>A binder may be bound to several registries; it is safe for use by several threads.
 */
public final class CmwqMetrics implements MeterBinder, AutoCloseable {

    /*
     * Implementation overview.
     *
     * Meters never touch the engine. Each meter's function reads the current Snapshot (a plain
     * immutable value) through current(); a Snapshot older than maxAgeNanos is replaced by the
     * first reader that wins lock.tryLock(). Readers that lose the race, or that find the lock
     * held, use the snapshot they already have: a meter function never waits. That matters
     * because meter functions run inside a registry's scrape, which may hold locks of its own,
     * while the thread that refreshes registers and removes meters, which takes the registry's
     * locks: if a meter function could wait for this binder's lock, the two orders could
     * deadlock. With tryLock only a thread in bindTo or close ever waits for it, and those are
     * not called from a scrape.
     *
     * A refresh, under lock: (0) forget registries that were closed, (1) take a new snapshot
     * (one pass over the engine), (2) remove the meters of workqueues and pools the new snapshot
     * lacks, (3) publish it, (4) register meters for workqueues and pools that are new in it.
     * Publishing between (2) and (4) keeps a concurrent scrape from reading a registered meter
     * whose snapshot entry is missing, except for a meter it listed before (2): such a read gives
     * NaN (0 for a timer's count).
     *
     * Reference strength: Micrometer holds a function counter's or timer's object weakly, and a
     * gauge's strongly only with strongReference(true). Every meter here has this binder as its
     * object, and every gauge holds it strongly, so the registry keeps the binder (and through it
     * the Cmwq) alive exactly as long as the binder's meters are registered; a user who drops the
     * binder after bindTo still gets working meters.
     *
     * Duplicate workqueue names: WorkqueueStats carries no identity beyond the name, so a
     * snapshot merges the statistics of workqueues that share a name (sum), and the meters are
     * keyed by name.
     */

    /** How old the shared snapshot may get before a meter read replaces it, unless configured. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(1);

    /** The values of the {@code state} tag of {@code cmwq4j.workers}, in {@link PoolStats} order. */
    static final List<String> WORKER_STATES = List.of("idle", "running", "blocked", "detected", "cpu-intensive");

    private final Cmwq cmwq;
    /** The extra tags plus {@code cmwq}; immutable. */
    private final Tags instanceTags;
    /** Maximum age of a snapshot, in nanoseconds of {@link #nanoClock}; 0 refreshes on every read. */
    private final long maxAgeNanos;
    /** {@code System::nanoTime}, or a test's clock. */
    private final LongSupplier nanoClock;

    /**
     * Serializes refreshes, {@link #bindTo} and {@link #close}; meter functions only ever
     * {@code tryLock} it (see the overview).
     */
    private final ReentrantLock lock = new ReentrantLock();

    /**
     * The current snapshot, null until the first {@link #bindTo}: replaced, never mutated, by
     * the thread holding {@link #lock}; read without the lock by meter functions.
     */
    private volatile Snapshot snapshot;
    /** Snapshots taken, that is passes over the engine; written under {@link #lock}, read by tests. */
    private volatile long snapshotsTaken;

    /** Registries bound, in order; {@link #lock}. */
    private final List<MeterRegistry> registries = new ArrayList<>();
    /** The instance meters ({@code cmwq4j.threads}...) in every registry; {@link #lock}. */
    private final List<Registered> instanceMeters = new ArrayList<>();
    /**
     * Per workqueue name in the current snapshot, its meters in every registry; {@link #lock}.
     * Its key set is the workqueues that have meters.
     */
    private final Map<String, List<Registered>> workqueueMeters = new LinkedHashMap<>();
    /** Per pool name in the current snapshot, its meters in every registry; {@link #lock}. */
    private final Map<String, List<Registered>> poolMeters = new LinkedHashMap<>();
    /** Set once by {@link #close}; {@link #lock}. */
    private boolean closed;

    /** One pass over the engine: statistics merged by name, in the engine's order. */
    private record Snapshot(long takenAt, Map<String, WorkqueueStats> workqueues, Map<String, PoolStats> pools,
            int threads, int peakThreads) {}

    /** A meter and the registry it was registered in (to remove it from there). */
    private record Registered(MeterRegistry registry, Meter meter) {}

    /** Binds {@link Cmwq#shared()}, with no extra tags and the default maximum age. */
    public CmwqMetrics() {
        this(Cmwq.shared());
    }

    /**
     * Binds {@code cmwq}, with no extra tags and the default maximum age.
     *
     * @param cmwq the instance whose statistics to publish
     * @throws NullPointerException if {@code cmwq} is null
     */
    public CmwqMetrics(Cmwq cmwq) {
        this(cmwq, Tags.empty());
    }

    /**
     * Binds {@code cmwq}, adding {@code extraTags} to every meter, with the default maximum age.
     *
     * @param cmwq the instance whose statistics to publish
     * @param extraTags tags for every meter; the binder's own tags ({@code cmwq},
     *     {@code workqueue}, {@code pool}...) take precedence over extra tags with the same key
     * @throws NullPointerException if {@code cmwq} or {@code extraTags} is null
     */
    public CmwqMetrics(Cmwq cmwq, Iterable<Tag> extraTags) {
        this(cmwq, extraTags, DEFAULT_MAX_AGE);
    }

    /**
     * Binds {@code cmwq}, adding {@code extraTags} to every meter, with a snapshot that may get
     * {@code maxAge} old before a meter read replaces it.
     *
     * @param cmwq the instance whose statistics to publish
     * @param extraTags tags for every meter; the binder's own tags take precedence over extra
     *     tags with the same key
     * @param maxAge how old the shared snapshot may get; zero takes a snapshot on every meter
     *     read (one pass over the engine per meter)
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code maxAge} is negative
     */
    public CmwqMetrics(Cmwq cmwq, Iterable<Tag> extraTags, Duration maxAge) {
        this(cmwq, extraTags, maxAge, System::nanoTime);
    }

    /** With a clock of the test's choosing. */
    CmwqMetrics(Cmwq cmwq, Iterable<Tag> extraTags, Duration maxAge, LongSupplier nanoClock) {
        this.cmwq = Objects.requireNonNull(cmwq, "cmwq");
        Objects.requireNonNull(extraTags, "extraTags");
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("maxAge must not be negative: " + maxAge);
        }
        this.instanceTags = Tags.of(extraTags).and("cmwq", cmwq.name());
        this.maxAgeNanos = saturatedNanos(maxAge);
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /**
     * Registers the meters of the instance, of its pools and of its open workqueues in
     * {@code registry}, and from then on those of workqueues built later (see the class
     * comment). Binding a registry this binder is already bound to does nothing.
     *
     * @param registry the registry
     * @throws NullPointerException if {@code registry} is null
     * @throws IllegalStateException if this binder is closed
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("CmwqMetrics for Cmwq '" + cmwq.name() + "' is closed");
            }
            for (MeterRegistry r : registries) {
                if (r == registry) {
                    return;
                }
            }
            refreshLocked(); // the first snapshot, or a fresh one for the registries bound before
            registries.add(registry);
            registerInstance(registry, instanceMeters);
            for (Map.Entry<String, List<Registered>> e : workqueueMeters.entrySet()) {
                registerWorkqueue(registry, e.getKey(), e.getValue());
            }
            for (Map.Entry<String, List<Registered>> e : poolMeters.entrySet()) {
                registerPool(registry, e.getKey(), e.getValue());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes every meter this binder registered from every registry it is bound to. The
     * binder cannot be bound again. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            removeAll(instanceMeters);
            for (List<Registered> meters : workqueueMeters.values()) {
                removeAll(meters);
            }
            for (List<Registered> meters : poolMeters.values()) {
                removeAll(meters);
            }
            workqueueMeters.clear();
            poolMeters.clear();
            registries.clear();
        } finally {
            lock.unlock();
        }
    }

    /** {@return how many snapshots were taken: one pass over the engine each} For tests. */
    long snapshotsTaken() {
        return snapshotsTaken;
    }

    /** {@return how many registries this binder serves} For tests. */
    int registryCount() {
        lock.lock();
        try {
            return registries.size();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The snapshot.

    /**
     * The snapshot for a meter read: the current one, replaced first if it is too old and no
     * other thread is replacing it. Never waits (see the overview).
     */
    private Snapshot current() {
        Snapshot s = snapshot;
        if (isStale(s) && !lock.isHeldByCurrentThread() && lock.tryLock()) {
            try {
                s = refreshLocked();
            } finally {
                lock.unlock();
            }
        }
        return s;
    }

    private boolean isStale(Snapshot s) {
        return s == null || nanoClock.getAsLong() - s.takenAt() >= maxAgeNanos;
    }

    /**
     * Under {@link #lock}: replaces a stale snapshot (or takes the first) and brings the meters
     * in line with it, in the order the overview gives. Once closed, only returns the current one.
     */
    private Snapshot refreshLocked() {
        assert lock.isHeldByCurrentThread();
        Snapshot old = snapshot;
        if (closed || !isStale(old)) {
            return old; // closed, or another thread refreshed since the caller looked
        }
        forgetClosedRegistries();
        Snapshot fresh = take();
        removeGone(workqueueMeters, fresh.workqueues());
        removeGone(poolMeters, fresh.pools());
        snapshot = fresh;
        for (String name : fresh.workqueues().keySet()) {
            if (!workqueueMeters.containsKey(name)) {
                List<Registered> meters = new ArrayList<>();
                workqueueMeters.put(name, meters);
                for (MeterRegistry r : registries) {
                    registerWorkqueue(r, name, meters);
                }
            }
        }
        for (String name : fresh.pools().keySet()) {
            if (!poolMeters.containsKey(name)) {
                List<Registered> meters = new ArrayList<>();
                poolMeters.put(name, meters);
                for (MeterRegistry r : registries) {
                    registerPool(r, name, meters);
                }
            }
        }
        return fresh;
    }

    /**
     * Drops the registries that were closed, and this binder's record of their meters, so that a
     * closed registry gets no new meters and is not kept reachable; under {@link #lock}.
     */
    private void forgetClosedRegistries() {
        if (registries.removeIf(MeterRegistry::isClosed)) {
            Predicate<Registered> inClosed = m -> m.registry().isClosed();
            instanceMeters.removeIf(inClosed);
            workqueueMeters.values().forEach(meters -> meters.removeIf(inClosed));
            poolMeters.values().forEach(meters -> meters.removeIf(inClosed));
        }
    }

    /** One pass over the engine; under {@link #lock}. */
    private Snapshot take() {
        long now = nanoClock.getAsLong();
        Map<String, WorkqueueStats> workqueues = new LinkedHashMap<>();
        for (WorkqueueStats s : cmwq.workqueueStats()) {
            workqueues.merge(s.name(), s, CmwqMetrics::sum);
        }
        Map<String, PoolStats> pools = new LinkedHashMap<>();
        for (PoolStats p : cmwq.poolStats()) {
            pools.put(p.name(), p);
        }
        int threads = cmwq.threads();
        int peak = cmwq.peakThreads();
        snapshotsTaken++; // single writer: the lock holder
        return new Snapshot(now, Collections.unmodifiableMap(workqueues), Collections.unmodifiableMap(pools),
                threads, peak);
    }

    /** The statistics of two workqueues that share a name, as one. */
    private static WorkqueueStats sum(WorkqueueStats a, WorkqueueStats b) {
        return new WorkqueueStats(a.name(), add(a.total(), b.total()), add(a.inFlight(), b.inFlight()),
                add(a.cpuTimeNanos(), b.cpuTimeNanos()), add(a.cpuIntensive(), b.cpuIntensive()),
                add(a.cmWakeups(), b.cmWakeups()), add(a.maydays(), b.maydays()), add(a.rescued(), b.rescued()),
                add(a.blocksAnnounced(), b.blocksAnnounced()), add(a.blocksDetected(), b.blocksDetected()),
                a.queueLatency().plus(b.queueLatency()), a.executionTime().plus(b.executionTime()));
    }

    /** Saturating sum of two non-negative counters. */
    private static long add(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Removes the meters of the names {@code present} lacks; under {@link #lock}. */
    private static void removeGone(Map<String, List<Registered>> meters, Map<String, ?> present) {
        for (Iterator<Map.Entry<String, List<Registered>>> it = meters.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, List<Registered>> e = it.next();
            if (!present.containsKey(e.getKey())) {
                removeAll(e.getValue());
                it.remove();
            }
        }
    }

    private static void removeAll(List<Registered> meters) {
        for (Registered m : meters) {
            m.registry().remove(m.meter());
        }
        meters.clear();
    }

    // ------------------------------------------------------------------------------------------
    // What the meters read: the current snapshot, never the engine.

    private double workqueueValue(String name, ToDoubleFunction<WorkqueueStats> f) {
        WorkqueueStats s = current().workqueues().get(name);
        return s == null ? Double.NaN : f.applyAsDouble(s);
    }

    private DurationHistogram histogram(String name, boolean latency) {
        WorkqueueStats s = current().workqueues().get(name);
        if (s == null) {
            return DurationHistogram.empty();
        }
        return latency ? s.queueLatency() : s.executionTime();
    }

    /** Total of the recorded values, in nanoseconds (the histogram keeps the exact sum; its mean is that sum over the count). */
    private static double totalNanos(DurationHistogram h) {
        return h.meanNanos() * h.count();
    }

    /** A percentile in nanoseconds, NaN while nothing was recorded. */
    private static double percentileNanos(DurationHistogram h, double percentile) {
        return h.count() == 0 ? Double.NaN : h.valueAtPercentile(percentile);
    }

    private double poolValue(String name, ToDoubleFunction<PoolStats> f) {
        PoolStats p = current().pools().get(name);
        return p == null ? Double.NaN : f.applyAsDouble(p);
    }

    // ------------------------------------------------------------------------------------------
    // Registration; under {@link #lock}.

    private void registerInstance(MeterRegistry r, List<Registered> out) {
        out.add(new Registered(r, Gauge.builder("cmwq4j.threads", this, m -> m.current().threads())
                .tags(instanceTags).description("Worker threads alive").strongReference(true).register(r)));
        out.add(new Registered(r, Gauge.builder("cmwq4j.threads.peak", this, m -> m.current().peakThreads())
                .tags(instanceTags).description("Most worker threads alive at once since the instance started")
                .strongReference(true).register(r)));
    }

    private void registerWorkqueue(MeterRegistry r, String wq, List<Registered> out) {
        Tags tags = Tags.of(instanceTags).and("workqueue", wq);
        counter(r, out, "cmwq4j.works.completed", tags, null, "Works executed to the end (returned or threw)",
                m -> m.workqueueValue(wq, WorkqueueStats::total));
        out.add(new Registered(r, Gauge.builder("cmwq4j.works.in.flight", this,
                        m -> m.workqueueValue(wq, WorkqueueStats::inFlight))
                .tags(tags).description("Works queued (active, held by maxActive, or on a worklist) or running")
                .strongReference(true).register(r)));
        counter(r, out, "cmwq4j.works.cpu.time", tags, "seconds", "CPU time spent running its works",
                m -> m.workqueueValue(wq, s -> s.cpuTimeNanos() / 1e9));
        counter(r, out, "cmwq4j.works.cpu.intensive", tags, null,
                "CPU-intensive violations: its works found hogging a concurrency-managed CPU past the threshold",
                m -> m.workqueueValue(wq, WorkqueueStats::cpuIntensive));
        counter(r, out, "cmwq4j.cm.wakeups", tags, null,
                "Concurrency-management wakeups: blocks of its works after which the pool woke or asked for a worker",
                m -> m.workqueueValue(wq, WorkqueueStats::cmWakeups));
        counter(r, out, "cmwq4j.maydays", tags, null, "Mayday requests sent to its rescuer",
                m -> m.workqueueValue(wq, WorkqueueStats::maydays));
        counter(r, out, "cmwq4j.works.rescued", tags, null, "Works its rescuer ran",
                m -> m.workqueueValue(wq, WorkqueueStats::rescued));
        counter(r, out, "cmwq4j.blocks", tags.and("kind", "announced"), null,
                "Blocks of its works: announced through Blocking, or detected by the monitor",
                m -> m.workqueueValue(wq, WorkqueueStats::blocksAnnounced));
        counter(r, out, "cmwq4j.blocks", tags.and("kind", "detected"), null,
                "Blocks of its works: announced through Blocking, or detected by the monitor",
                m -> m.workqueueValue(wq, WorkqueueStats::blocksDetected));
        histogram(r, out, "cmwq4j.works.queue.latency", tags, wq, true,
                "Time from queueing (from activation, for works held by maxActive) to start");
        histogram(r, out, "cmwq4j.works.execution", tags, wq, false, "Wall time of each executed work");
    }

    private void counter(MeterRegistry r, List<Registered> out, String name, Tags tags, String baseUnit,
            String description, ToDoubleFunction<CmwqMetrics> f) {
        FunctionCounter.Builder<CmwqMetrics> b = FunctionCounter.builder(name, this, f).tags(tags).description(description);
        if (baseUnit != null) {
            b.baseUnit(baseUnit);
        }
        out.add(new Registered(r, b.register(r)));
    }

    /** A histogram as a function timer (count, total) and three percentile gauges. */
    private void histogram(MeterRegistry r, List<Registered> out, String name, Tags tags, String wq,
            boolean latency, String description) {
        out.add(new Registered(r, FunctionTimer.builder(name, this,
                        m -> m.histogram(wq, latency).count(),
                        m -> totalNanos(m.histogram(wq, latency)), TimeUnit.NANOSECONDS)
                .tags(tags).description(description).register(r)));
        String quantiles = name + ".quantile";
        String quantileDescription = description
                + ": upper bound (within 2x) of a percentile over every work since the workqueue was built;"
                + " quantile 1 is the maximum";
        for (double q : new double[] {0.5, 0.99, 1}) {
            String label = q == 1 ? "1" : Double.toString(q);
            out.add(new Registered(r, TimeGauge.builder(quantiles, this, TimeUnit.NANOSECONDS,
                            m -> percentileNanos(m.histogram(wq, latency), q * 100))
                    .tags(tags).tag("quantile", label).description(quantileDescription)
                    .strongReference(true).register(r)));
        }
    }

    private void registerPool(MeterRegistry r, String pool, List<Registered> out) {
        Tags tags = Tags.of(instanceTags).and("pool", pool);
        List<ToDoubleFunction<PoolStats>> byState = List.of(PoolStats::idle, PoolStats::running,
                PoolStats::blocked, PoolStats::detected, PoolStats::cpuIntensive);
        for (int i = 0; i < WORKER_STATES.size(); i++) {
            ToDoubleFunction<PoolStats> f = byState.get(i);
            out.add(new Registered(r, Gauge.builder("cmwq4j.workers", this, m -> m.poolValue(pool, f))
                    .tags(tags).tag("state", WORKER_STATES.get(i))
                    .description("Worker threads of the pool by state: idle, running (counted), blocked (announced),"
                            + " detected (observed blocked), cpu-intensive")
                    .strongReference(true).register(r)));
        }
        poolGauge(r, out, "cmwq4j.pool.nr.running", tags,
                "The concurrency count: workers counted as running, including ones woken on their way"
                        + " (0 for unbound pools)", pool, PoolStats::nrRunning);
        poolGauge(r, out, "cmwq4j.pool.target", tags,
                "How many counted workers the pool keeps running (1 unless unannounced blocking raised it)",
                pool, PoolStats::target);
        poolGauge(r, out, "cmwq4j.pool.pending", tags, "Works on the pool's worklist, waiting for a worker", pool,
                PoolStats::pending);
    }

    private void poolGauge(MeterRegistry r, List<Registered> out, String name, Tags tags, String description,
            String pool, ToDoubleFunction<PoolStats> f) {
        out.add(new Registered(r, Gauge.builder(name, this, m -> m.poolValue(pool, f))
                .tags(tags).description(description).strongReference(true).register(r)));
    }
}
