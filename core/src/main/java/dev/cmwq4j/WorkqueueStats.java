package dev.cmwq4j;

/**
 * A snapshot of one {@link Workqueue}'s counters, taken by {@link Workqueue#stats()}. Counters
 * only grow over the workqueue's life; subtract two snapshots to get a rate. The snapshot is
 * immutable and not taken atomically: each counter is read once, close to the others.
 *
 * <p>More counters (DESIGN.md section 7, the kernel's {@code wq_monitor} columns) will be added
 * as further components; read them by accessor, not by position.
 *
 * @param maydays times a pool that could not get a worker called this workqueue's rescuer (only
 *     {@linkplain Workqueue.Builder#memReclaim() memReclaim} workqueues have one; 0 otherwise)
 * @param rescued works that the rescuer ran on its own thread
 */
public record WorkqueueStats(long maydays, long rescued) {
    /**
     * @throws IllegalArgumentException if a counter is negative
     */
    public WorkqueueStats {
        if (maydays < 0 || rescued < 0) {
            throw new IllegalArgumentException("counters must not be negative: maydays=" + maydays
                    + ", rescued=" + rescued);
        }
    }
}
