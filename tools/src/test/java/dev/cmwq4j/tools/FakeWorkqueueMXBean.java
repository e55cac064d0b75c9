package dev.cmwq4j.tools;

/** The workqueue MXBean contract as the tests publish it (the tool never sees this type). */
public interface FakeWorkqueueMXBean {
    String getName();
    String getCmwq();
    long getTotal();
    long getInFlight();
    long getCpuTimeNanos();
    long getCpuIntensive();
    long getCmWakeups();
    long getMaydays();
    long getRescued();
    long getBlocksAnnounced();
    long getBlocksDetected();
    long getQueueLatencyP50Nanos();
    long getQueueLatencyP99Nanos();
    long getQueueLatencyMaxNanos();
    long getExecTimeP50Nanos();
    long getExecTimeP99Nanos();
    long getExecTimeMaxNanos();
    int getMaxActive();
    boolean isUnbound();
    boolean isHighPriority();
    boolean isOrdered();
    java.util.List<Site> getBlockingSites();

    /** A blocking site as cmwq4j publishes it (MXBean mapping: CompositeData of these items). */
    record Site(String site, String[] stack, long count, long blockedNanos) {}
}
