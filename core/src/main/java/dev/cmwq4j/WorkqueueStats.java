package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import java.util.List;
import java.util.Objects;

/**
 * An immutable snapshot of one workqueue's statistics: the columns of the kernel's
 * {@code wq_monitor}, plus what a JVM operator needs. Counters are cumulative since the workqueue
 * was built; take two snapshots and subtract for rates.
 *
 * <p>Each counter is exact at some moment during {@link Workqueue#stats()}, but the counters are
 * not read in one atomic step: under load, {@code total + inFlight} may be off by the works that
 * started or finished while the snapshot was taken.
 *
 * @param name the workqueue's name
 * @param total works executed to the end (returned or threw)
 * @param inFlight works queued (active, inactive behind {@code maxActive}, or on a worklist) or
 *     running now; delayed works still on their timer are not in flight yet
 * @param cpuTimeNanos CPU time spent running this queue's works. Works of 50 us or more are
 *     measured with the thread CPU clock; shorter ones count their wall time (reading the CPU
 *     clock costs about half a microsecond)
 * @param cpuIntensive CPU-intensive violations: times the monitor found one of its works
 *     hogging a concurrency-managed CPU past the threshold ({@link Cmwq.Builder#cpuIntensiveThreshold})
 * @param cmWakeups concurrency-management wakeups: times one of its works blocked (announced or
 *     detected) and the pool then woke or asked for another worker
 * @param maydays mayday requests sent to this queue's rescuer (memReclaim queues)
 * @param rescued works its rescuer ran
 * @param blocksAnnounced blocks announced through {@link Blocking} by its works
 * @param blocksDetected blocks of its works the monitor observed without an announcement
 * @param queueLatency time from queueing (for works held by {@code maxActive}: from activation) to
 *     start, per executed work
 * @param executionTime wall time of each executed work
 * @param blockingSites where its works blocked unannounced: the blocking-site profile (see
 *     {@link BlockingSite}), ordered by blocked time, longest first; at most 16 sites and an
 *     "other" entry. Counts only the detections the profiler sampled: the rest are
 *     {@link #blocksUnsampled()}. Empty when nothing blocked unannounced, or with the profiler
 *     off ({@link Cmwq.Builder#blockingSites})
 */
public record WorkqueueStats(
        String name,
        long total,
        long inFlight,
        long cpuTimeNanos,
        long cpuIntensive,
        long cmWakeups,
        long maydays,
        long rescued,
        long blocksAnnounced,
        long blocksDetected,
        DurationHistogram queueLatency,
        DurationHistogram executionTime,
        List<BlockingSite> blockingSites) {

    /**
     * Checks for nulls and copies the site list (immutable, in the order given).
     *
     * @throws NullPointerException if {@code name}, {@code queueLatency}, {@code executionTime},
     *     {@code blockingSites} or one of the sites is null
     */
    public WorkqueueStats {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(queueLatency, "queueLatency");
        Objects.requireNonNull(executionTime, "executionTime");
        blockingSites = List.copyOf(Objects.requireNonNull(blockingSites, "blockingSites"));
    }

    /**
     * Statistics without a blocking-site profile (no sites), as before it existed: for code that
     * builds or combines snapshots itself.
     *
     * @param name the workqueue's name
     * @param total works executed to the end
     * @param inFlight works queued or running now
     * @param cpuTimeNanos CPU time spent running its works
     * @param cpuIntensive CPU-intensive violations
     * @param cmWakeups concurrency-management wakeups
     * @param maydays mayday requests sent to its rescuer
     * @param rescued works its rescuer ran
     * @param blocksAnnounced blocks announced through {@link Blocking}
     * @param blocksDetected blocks the monitor observed without an announcement
     * @param queueLatency queue-to-start latency per executed work
     * @param executionTime wall time of each executed work
     * @throws NullPointerException if {@code name}, {@code queueLatency} or
     *     {@code executionTime} is null
     */
    public WorkqueueStats(String name, long total, long inFlight, long cpuTimeNanos, long cpuIntensive,
            long cmWakeups, long maydays, long rescued, long blocksAnnounced, long blocksDetected,
            DurationHistogram queueLatency, DurationHistogram executionTime) {
        this(name, total, inFlight, cpuTimeNanos, cpuIntensive, cmWakeups, maydays, rescued, blocksAnnounced,
                blocksDetected, queueLatency, executionTime, List.of());
    }

    /**
     * {@return the detected blocks that are in no {@linkplain #blockingSites() site}: not sampled
     * (the profiler's budget, {@link Cmwq.Builder#blockingSites}, was spent, or it is off), or
     * whose stack could not be read} That is {@code blocksDetected} minus the sites' counts, never
     * below zero (the sites are read before {@code blocksDetected}).
     */
    public long blocksUnsampled() {
        long sampled = 0;
        for (BlockingSite s : blockingSites) {
            sampled += s.count();
        }
        return Math.max(0, blocksDetected - sampled);
    }

    /** The record of an engine snapshot: statistics flow from the engine to the API only. */
    static WorkqueueStats of(Engine.WorkqueueSnapshot s) {
        return new WorkqueueStats(s.name(), s.total(), s.inFlight(), s.cpuNanos(), s.cpuIntensive(), s.cmWakeups(),
                s.maydays(), s.rescued(), s.blocksAnnounced(), s.blocksDetected(),
                DurationHistogram.of(s.latencyCounts(), s.latencySum(), s.latencyMax()),
                DurationHistogram.of(s.execCounts(), s.execSum(), s.execMax()), BlockingSite.of(s.sites()));
    }
}
