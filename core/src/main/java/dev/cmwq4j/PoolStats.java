package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import java.util.Objects;

/**
 * An immutable snapshot of one worker pool: its workers by state and its concurrency counts.
 * Concurrency-managed pools are named {@code cpuN} (normal priority) and {@code cpuNH} (high
 * priority); the unbound ones {@code unbound} and {@code unboundH}.
 *
 * @param name the pool's name
 * @param cpu its CPU index, or -1 for an unbound pool
 * @param highPriority whether it serves high-priority workqueues
 * @param workers worker threads of the pool (idle ones included)
 * @param idle idle workers
 * @param running workers running a work and counted as running
 * @param blocked workers in a block announced through {@link Blocking}
 * @param detected workers the monitor observed blocked
 * @param cpuIntensive workers running a CPU-intensive work (flagged, or of a {@code cpuIntensive}
 *     queue)
 * @param nrRunning the concurrency count: workers counted as running, including ones woken and
 *     on their way to the worklist (always 0 for unbound pools)
 * @param target how many counted workers the pool keeps running: 1, unless the monitor saw its
 *     works block without announcing it
 * @param pending works on the pool's worklist, waiting for a worker
 */
public record PoolStats(
        String name,
        int cpu,
        boolean highPriority,
        int workers,
        int idle,
        int running,
        int blocked,
        int detected,
        int cpuIntensive,
        int nrRunning,
        int target,
        int pending) {

    /**
     * Checks for nulls.
     *
     * @throws NullPointerException if {@code name} is null
     */
    public PoolStats {
        Objects.requireNonNull(name, "name");
    }

    /** The record of an engine snapshot: statistics flow from the engine to the API only. */
    static PoolStats of(Engine.PoolSnapshot s) {
        return new PoolStats(s.name(), s.cpu(), s.highPriority(), s.workers(), s.idle(), s.running(), s.blocked(),
                s.detected(), s.cpuIntensive(), s.nrRunning(), s.target(), s.pending());
    }
}
