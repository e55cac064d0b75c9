package dev.cmwq4j.bench.scenario;

/**
 * Process and thread accounting from the OS, implemented by {@code FfmRusage} through
 * {@code java.lang.foreign}. That class is compiled separately with {@code --release 22} (FFM is
 * final since JDK 22, the rest of the module targets 21), so this interface is the only way the
 * release-21 code sees it; {@link Probes} loads it reflectively and falls back to {@code /proc}.
 */
interface NativeProbe {
    /** {@code getrusage(RUSAGE_SELF)}: the whole process, including threads that have exited. */
    Usage usage();

    /** {@code getrusage(RUSAGE_THREAD)}: the calling thread only. */
    Usage threadUsage();

    /**
     * CPU time of the calling OS thread ({@code CLOCK_THREAD_CPUTIME_ID}). For a virtual thread this
     * is its carrier's, which is exact while the virtual thread stays mounted (it does while it
     * spins: virtual threads are not time-sliced).
     */
    long threadCpuNanos();

    /** What it reads, for the report. */
    String describe();
}
