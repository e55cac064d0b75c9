package dev.cmwq4j;

/**
 * The JMX view of one worker pool, registered on the platform MBean server as
 * {@code dev.cmwq4j:type=WorkerPool,cmwq=<instance name>,name=<pool name>} (pool names:
 * {@code cpuN}, {@code cpuNH}, {@code unbound}, {@code unboundH}) while its {@link Cmwq} is
 * open. Read-only; the attributes but {@link #getRunningWorks()} read one {@link PoolStats}
 * snapshot, reused for 20 ms; see {@link PoolStats} for the meaning of each attribute.
 */
public interface WorkerPoolMXBean {
    /** {@return the pool's name} */
    String getName();

    /** {@return the name of the {@link Cmwq} instance it belongs to} */
    String getCmwq();

    /** {@return its CPU index, or -1 for an unbound pool} */
    int getCpu();

    /** {@return whether it serves high-priority workqueues} */
    boolean isHighPriority();

    /** {@return the number of its worker threads, idle ones included} */
    int getWorkers();

    /** {@return the number of idle workers} */
    int getIdle();

    /** {@return the number of workers running a work and counted as running} */
    int getRunning();

    /** {@return the number of workers in a block announced through {@link Blocking}} */
    int getBlocked();

    /** {@return the number of workers the monitor observed blocked} */
    int getDetected();

    /** {@return the number of workers running a CPU-intensive work} */
    int getCpuIntensive();

    /** {@return the concurrency count {@code nrRunning}} */
    int getNrRunning();

    /** {@return the concurrency target: how many counted workers the pool keeps running} */
    int getTarget();

    /** {@return the number of works waiting on the pool's worklist} */
    int getPending();

    /**
     * The {@linkplain Work#name() names} of the works the pool's workers run now, one per busy
     * worker (blocked and CPU-intensive ones included; a rescuer's works are not shown), read
     * fresh on each call and without the pool's lock: a moment's view, for display, as the
     * {@code top} tool shows it.
     *
     * @return the names, in no particular order; empty when no worker runs a work
     */
    java.util.List<String> getRunningWorks();
}
