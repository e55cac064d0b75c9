package dev.cmwq4j.bench.scenario;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * Measurement of one run inside a child JVM.
 *
 * <p>Two windows:
 * <ul>
 *   <li>the <b>resource window</b> opens at {@link #begin()}, before the scenario makes its
 *       executors, so thread creation counts: CPU time, context switches and peak threads are
 *       taken over it;
 *   <li>the <b>wall clock</b> runs from {@link #startClock()} (just before the first submission)
 *       to {@link #stopClock()} (the last completion).
 * </ul>
 * Both close at {@link #stopClock()}; executors are never shut down inside them (the child JVM
 * halts right after reporting).
 *
 * <p>Peak threads: {@link ThreadMXBean#resetPeakThreadCount()} at {@link #begin()}, then the
 * JVM's peak minus the threads alive at that moment, i.e. the platform threads the executor
 * added (virtual threads are not counted; their carriers are).
 */
final class RunContext {
    final String scenario;
    final Peer peer;
    final Sizes sizes;
    final long stallNanos;

    private final ThreadMXBean tmx = ManagementFactory.getThreadMXBean();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();

    private volatile int baseThreads = -1;
    private volatile Usage before;
    private volatile long wallStart;
    private volatile long wallEnd;
    private volatile Usage after;
    /** {@link Probes#compilerCpuNanos} at the start and at the end of the resource window; -1 unknown. */
    private volatile long jitBefore = -1;
    private volatile long jitAfter = -1;
    private volatile int peakThreads = -1;
    /** Context switches of the harness thread while it waited for completion (not the executor's). */
    private volatile long waiterVoluntary = 0;
    private volatile long waiterInvoluntary = 0;
    private volatile long[] latencies;
    private volatile Histogram latencyHistogram;
    private final Map<String, Object> extras = new LinkedHashMap<>();
    private volatile String scenarioNote = "";
    private volatile LongSupplier doneCounter = () -> -1;
    private volatile long total = -1;
    private volatile PeerExecutor probeExecutor;
    private final AtomicLong executors = new AtomicLong();

    /** When the child's time bound runs out ({@link System#nanoTime()} scale). */
    final long boundEndNanos;

    RunContext(String scenario, Peer peer, Sizes sizes, long budgetMillis) {
        this.scenario = scenario;
        this.peer = peer;
        this.sizes = sizes;
        this.stallNanos = sizes.stallMillis() * 1_000_000L;
        this.boundEndNanos = System.nanoTime() + budgetMillis * 1_000_000L;
    }

    /** Opens the resource window. Call before making executors. */
    void begin() {
        int live = tmx.getThreadCount();
        if (kept != null) {
            // with warm-up rounds, threads are counted from before the first round made the
            // executors: the threads they keep count as theirs, as in a long-lived program
            if (firstRoundBase < 0) {
                firstRoundBase = live;
            }
            live = firstRoundBase;
        }
        baseThreads = live;
        tmx.resetPeakThreadCount();
        before = Probes.usage();
        jitBefore = Probes.compilerCpuNanos();
    }

    /**
     * Executors made so far in this JVM, by name, when the child runs warm-up rounds before the
     * measured one ({@link ScenarioChild}): each round of the scenario gets the executors the
     * first round made, as a long-lived application keeps its pools. Null: every round makes its
     * own (no warm-up).
     */
    private static volatile Map<String, PeerExecutor> kept;
    /** With {@link #kept}: the live threads when the first round began; -1 before it. */
    private static volatile int firstRoundBase = -1;

    /** From now on, {@link #newExecutor} hands out the executors earlier rounds made, by name. */
    static void keepExecutors() {
        kept = new java.util.concurrent.ConcurrentHashMap<>();
    }

    /**
     * Makes an executor of the peer under test (or, with warm-up rounds, returns the one an
     * earlier round made under this name); the first one a round asks for is asked for its note.
     */
    PeerExecutor newExecutor(String name) {
        Map<String, PeerExecutor> reuse = kept;
        PeerExecutor ex = reuse == null ? peer.create(name) : reuse.computeIfAbsent(name, peer::create);
        executors.incrementAndGet();
        if (probeExecutor == null) {
            probeExecutor = ex;
        }
        return ex;
    }

    /** What the scenario counts, for partial results on deadlock or timeout. */
    void tracks(long total, LongSupplier done) {
        this.total = total;
        this.doneCounter = done;
    }

    void startClock() {
        wallStart = System.nanoTime();
    }

    /**
     * Starts the clock and restarts the CPU and context-switch counts there, for a scenario with a
     * warm-up between {@link #begin()} and its measured part ({@code http}); peak threads still
     * cover the whole resource window.
     */
    void startClockAndUsage() {
        before = Probes.usage();
        jitBefore = Probes.compilerCpuNanos();
        wallStart = System.nanoTime();
    }

    /**
     * Waits for {@code done} (see {@link Waits.Completion#await}), then stops the clock. The waiting
     * thread's own context switches (its polls) are taken out of the process totals.
     */
    void await(Waits.Completion done) throws Waits.Stalled {
        long[] s0 = Probes.threadSwitches();
        try {
            done.await(stallNanos);
        } finally {
            stopWaiting(s0);
        }
    }

    /** As {@link #await(Waits.Completion)}, for a counter that cannot signal: polls every {@code pollNanos}. */
    void await(LongSupplier done, long total, long pollNanos) throws Waits.Stalled {
        long[] s0 = Probes.threadSwitches();
        try {
            Waits.await(done, total, done, stallNanos, pollNanos);
        } finally {
            stopWaiting(s0);
        }
    }

    private void stopWaiting(long[] s0) {
        stopClock();
        long[] s1 = Probes.threadSwitches();
        if (s0[0] >= 0 && s1[0] >= 0) {
            waiterVoluntary = s1[0] - s0[0];
            waiterInvoluntary = s1[1] - s0[1];
        }
    }

    /** Closes both windows (idempotent: the first call wins). */
    synchronized void stopClock() {
        if (wallEnd != 0) {
            return;
        }
        wallEnd = System.nanoTime();
        after = Probes.usage();
        jitAfter = Probes.compilerCpuNanos();
        peakThreads = tmx.getPeakThreadCount();
    }

    /** A per-item latency array, filled by the scenario with nanoseconds (-1: not recorded). */
    long[] latencyArray(int n) {
        long[] a = new long[n];
        Arrays.fill(a, -1);
        latencies = a;
        return a;
    }

    /**
     * Latencies measured elsewhere (the {@code http} load generator, in another JVM), in
     * nanoseconds; used instead of {@link #latencyArray}.
     */
    void latencyHistogram(Histogram h) {
        latencyHistogram = h;
    }

    /**
     * A result field set by the scenario; it overrides the measured one of the same key (the
     * {@code http} scenario sets {@code wallNanos} to the load generator's own time).
     */
    synchronized void put(String key, Object value) {
        extras.put(key, value);
    }

    /** Facts about the run from the scenario itself, shown before the executor's note. */
    void note(String note) {
        scenarioNote = note == null ? "" : note;
    }

    /** A task failed; the run is reported as an error but still waits for the rest. */
    void error(Throwable t) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, t);
    }

    Result result(String status, String detail) {
        stopClock();
        Throwable err = firstError.get();
        if (Result.OK.equals(status) && err != null) {
            status = Result.ERROR;
            detail = errors.get() + " task(s) failed, first: " + err;
        }
        Result r = new Result()
                .put("scenario", scenario)
                .put("executor", peer.id)
                .put("status", status)
                .put("detail", detail == null ? "" : detail)
                .put("wallNanos", wallStart == 0 ? -1 : wallEnd - wallStart);
        Usage b = before;
        Usage a = after;
        if (b != null && a != null) {
            r.put("cpuNanos", diff(a.cpuNanos(), b.cpuNanos()))
                    .put("userNanos", diff(a.userNanos(), b.userNanos()))
                    .put("sysNanos", diff(a.sysNanos(), b.sysNanos()))
                    .put("voluntarySwitches", minus(diff(a.voluntarySwitches(), b.voluntarySwitches()), waiterVoluntary))
                    .put("involuntarySwitches",
                            minus(diff(a.involuntarySwitches(), b.involuntarySwitches()), waiterInvoluntary))
                    .put("waiterVoluntarySwitches", waiterVoluntary)
                    .put("maxRssKb", a.maxRssKb())
                    .put("jitNanos", jitBefore < 0 || jitAfter < 0 ? -1 : jitAfter - jitBefore);
        }
        r.put("baseThreads", baseThreads)
                .put("peakThreads", peakThreads < 0 || baseThreads < 0 ? -1 : peakThreads - baseThreads)
                .put("jvmPeakThreads", peakThreads)
                .put("total", total)
                .put("done", doneCounter.getAsLong());
        long[] lat = latencies;
        Histogram external = latencyHistogram;
        if ((lat != null || external != null) && Result.OK.equals(status)) {
            Histogram h = external;
            if (h == null) {
                h = new Histogram(3);
                for (long v : lat) {
                    if (v >= 0) {
                        h.recordValue(v);
                    }
                }
            }
            if (h.getTotalCount() > 0) {
                r.put("latencyCount", h.getTotalCount())
                        .put("p50Nanos", h.getValueAtPercentile(50))
                        .put("p90Nanos", h.getValueAtPercentile(90))
                        .put("p99Nanos", h.getValueAtPercentile(99))
                        .put("p999Nanos", h.getValueAtPercentile(99.9))
                        .put("maxNanos", h.getMaxValue());
            }
        }
        PeerExecutor ex = probeExecutor;
        String note = "";
        if (ex != null) {
            try {
                note = ex.note();
                if (!note.isEmpty() && executors.get() > 1) {
                    note = "executor 1 of " + executors.get() + ": " + note;
                }
            } catch (RuntimeException e) {
                note = "note failed: " + e;
            }
        }
        String own = scenarioNote;
        if (!own.isEmpty()) {
            note = note.isEmpty() ? own : own + "; " + note;
        }
        r.put("note", note)
                .put("usageSource", Probes.NATIVE != null ? "getrusage" : "proc")
                .put("java", Runtime.version().toString());
        synchronized (this) {
            for (Map.Entry<String, Object> e : extras.entrySet()) {
                r.put(e.getKey(), e.getValue());
            }
        }
        return r;
    }

    private static long minus(long total, long part) {
        return total < 0 ? -1 : Math.max(0, total - part);
    }

    private static long diff(long a, long b) {
        return a < 0 || b < 0 ? -1 : a - b;
    }
}
