package dev.cmwq4j;

/**
 * The JMX view of one worker pool, registered on the platform MBean server as
 * {@code dev.cmwq4j:type=WorkerPool,cmwq=<instance name>,name=<pool name>} (pool names:
 * {@code cpuN}, {@code cpuNH}, {@code unbound}, {@code unboundH}) while its {@link Cmwq} is
 * open. Read-only; the attributes read one {@link PoolStats} snapshot, reused for 20 ms; see
 * {@link PoolStats} for the meaning of each attribute.
 */
public interface WorkerPoolMXBean {
    /** The pool's name. */
    String getName();

    /** The name of the {@link Cmwq} instance it belongs to. */
    String getCmwq();

    /** Its CPU index, or -1 for an unbound pool. */
    int getCpu();

    /** Whether it serves high-priority workqueues. */
    boolean isHighPriority();

    /** Worker threads. */
    int getWorkers();

    /** Idle workers. */
    int getIdle();

    /** Workers running a work, counted. */
    int getRunning();

    /** Workers in an announced block. */
    int getBlocked();

    /** Workers the monitor observed blocked. */
    int getDetected();

    /** Workers running a CPU-intensive work. */
    int getCpuIntensive();

    /** The concurrency count {@code nrRunning}. */
    int getNrRunning();

    /** The concurrency target. */
    int getTarget();

    /** Works waiting on the pool's worklist. */
    int getPending();
}
