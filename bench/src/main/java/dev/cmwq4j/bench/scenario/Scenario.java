package dev.cmwq4j.bench.scenario;

/**
 * One workload. A scenario runs once per child JVM, against one {@link Peer}, and drives the
 * measurement windows of its {@link RunContext}: {@code begin()} before it makes executors
 * (through {@code ctx.newExecutor}), {@code startClock()} before the first submission, then
 * {@code ctx.await(...)}, which waits for the last completion and stops the clock. A run that stops
 * making progress is reported as a deadlock instead of hanging.
 */
interface Scenario {
    /** The name used on the command line and in the tables. */
    String id();

    /** One line on what it does at these sizes. */
    String describe(Sizes sizes);

    /**
     * The wall time of a perfect executor on {@code ncpu} CPUs (CPU work / ncpu, or the critical
     * path if longer), or NaN if not meaningful.
     */
    double idealSeconds(Sizes sizes, int ncpu);

    void run(RunContext ctx) throws Exception;

    /**
     * Whether the scenario means anything for {@code peer}; the harness skips the other pairs (a
     * "–" in the tables). Default: every peer.
     */
    default boolean supports(Peer peer) {
        return true;
    }

    /** Wraps a task body: records its latency from {@code submittedAt}, counts it, keeps errors. */
    static Runnable task(RunContext ctx, Waits.Completion done, long[] latency, int index, long submittedAt,
            ThrowingRunnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                ctx.error(t);
            } finally {
                latency[index] = System.nanoTime() - submittedAt;
                done.countDown();
            }
        };
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
