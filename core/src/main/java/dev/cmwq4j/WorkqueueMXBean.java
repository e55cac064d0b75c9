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
    /** {@return the workqueue's name} */
    String getName();

    /** {@return the name of the {@link Cmwq} instance it runs on} */
    String getCmwq();

    /** {@return the number of works executed to the end} */
    long getTotal();

    /** {@return the number of works queued or running now} */
    long getInFlight();

    /** {@return the CPU time of its works, in nanoseconds} */
    long getCpuTimeNanos();

    /** {@return the number of CPU-intensive violations} */
    long getCpuIntensive();

    /** {@return the number of concurrency-management wakeups} */
    long getCmWakeups();

    /** {@return the number of maydays sent to its rescuer} */
    long getMaydays();

    /** {@return the number of works its rescuer ran} */
    long getRescued();

    /** {@return the number of blocks announced through {@link Blocking}} */
    long getBlocksAnnounced();

    /** {@return the number of blocks observed by the monitor} */
    long getBlocksDetected();

    /**
     * {@return the 50th percentile of the queue-to-start latency, in ns} An upper bound, within a
     * factor of two.
     */
    long getQueueLatencyP50Nanos();

    /**
     * {@return the 99th percentile of the queue-to-start latency, in ns} An upper bound, within a
     * factor of two.
     */
    long getQueueLatencyP99Nanos();

    /** {@return the longest queue-to-start latency, in ns} */
    long getQueueLatencyMaxNanos();

    /**
     * {@return the 50th percentile of the execution time, in ns} An upper bound, within a factor of
     * two.
     */
    long getExecTimeP50Nanos();

    /**
     * {@return the 99th percentile of the execution time, in ns} An upper bound, within a factor of
     * two.
     */
    long getExecTimeP99Nanos();

    /** {@return the longest execution time, in ns} */
    long getExecTimeMaxNanos();

    /** {@return its {@code maxActive}} */
    int getMaxActive();

    /** {@return whether it is unbound} */
    boolean isUnbound();

    /** {@return whether it is high-priority} */
    boolean isHighPriority();

    /** {@return whether it is ordered} */
    boolean isOrdered();
}
