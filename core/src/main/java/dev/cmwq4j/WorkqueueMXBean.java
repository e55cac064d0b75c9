package dev.cmwq4j;

/**
 * The JMX view of one workqueue, registered on the platform MBean server as
 * {@code dev.cmwq4j:type=Workqueue,cmwq=<instance name>,name=<workqueue name>} while the
 * workqueue is open (values that contain JMX special characters are quoted with
 * {@link javax.management.ObjectName#quote}). Every attribute is read-only. The attributes read
 * one {@link WorkqueueStats} snapshot, reused for 20 ms, so a client that reads them all at once
 * gets numbers from one moment; see {@link WorkqueueStats} for their meaning.
 */
public interface WorkqueueMXBean {
    /** The workqueue's name. */
    String getName();

    /** The name of the {@link Cmwq} instance it runs on. */
    String getCmwq();

    /** Works executed to the end. */
    long getTotal();

    /** Works queued or running now. */
    long getInFlight();

    /** CPU time of its works, in nanoseconds. */
    long getCpuTimeNanos();

    /** CPU-intensive violations. */
    long getCpuIntensive();

    /** Concurrency-management wakeups. */
    long getCmWakeups();

    /** Maydays sent to its rescuer. */
    long getMaydays();

    /** Works its rescuer ran. */
    long getRescued();

    /** Blocks announced through {@link Blocking}. */
    long getBlocksAnnounced();

    /** Blocks observed by the monitor. */
    long getBlocksDetected();

    /** Queue-to-start latency, 50th percentile (upper bound, within a factor of two), in ns. */
    long getQueueLatencyP50Nanos();

    /** Queue-to-start latency, 99th percentile (upper bound, within a factor of two), in ns. */
    long getQueueLatencyP99Nanos();

    /** The longest queue-to-start latency, in ns. */
    long getQueueLatencyMaxNanos();

    /** Execution time, 50th percentile (upper bound, within a factor of two), in ns. */
    long getExecTimeP50Nanos();

    /** Execution time, 99th percentile (upper bound, within a factor of two), in ns. */
    long getExecTimeP99Nanos();

    /** The longest execution time, in ns. */
    long getExecTimeMaxNanos();

    /** Its {@code maxActive}. */
    int getMaxActive();

    /** Whether it is unbound. */
    boolean isUnbound();

    /** Whether it is high-priority. */
    boolean isHighPriority();

    /** Whether it is ordered. */
    boolean isOrdered();
}
