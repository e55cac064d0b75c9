package dev.cmwq4j.bench.scenario;

import java.util.Locale;

/**
 * Workload sizes of one harness mode. {@code full} follows DESIGN.md section 10; {@code short} is a
 * smoke run that finishes in well under 3 minutes on 2 cores.
 *
 * @param httpConnections concurrent keep-alive connections of the {@code http} load generator
 * @param httpWarmupPerConnection unrecorded requests per connection before the measured load
 * @param httpRequests measured requests of the {@code http} load, over all connections
 * @param httpCpuNanos CPU work of one {@code http} handler
 * @param httpSleepNanos announced blocking sleep of one {@code http} handler
 * @param inversionBacklog low-priority works queued ahead of the flushed one in {@code priority-inversion}
 * @param inversionWorkNanos CPU work of each of them (and of the flushed one)
 * @param inversionRounds measured flushes per mode (with, without inheritance), alternating
 * @param budgetMillis default time bound of one (scenario, executor) child JVM
 * @param stallMillis a run that completes nothing for this long is reported as a deadlock
 */
record Sizes(String mode,
        int tinyTasks,
        int cpuTasks, long cpuTaskNanos,
        int mixedTasks, long mixedCpuNanos, long mixedSleepNanos,
        int fanoutParents, int fanoutChildren, long fanoutChildNanos,
        int components, int tasksPerComponent,
        int httpConnections, int httpWarmupPerConnection, int httpRequests, long httpCpuNanos, long httpSleepNanos,
        int inversionBacklog, long inversionWorkNanos, int inversionRounds,
        long budgetMillis, long stallMillis) {

    static final long US = 1_000L;
    static final long MS = 1_000_000L;

    static Sizes of(String mode) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "full" -> new Sizes("full",
                    2_000_000,
                    4000, 500 * US,
                    4000, 100 * US, 1 * MS,
                    200, 4, 100 * US,
                    64, 200,
                    64, 10, 20_000, 50 * US, 2 * MS,
                    10_000, 100 * US, 5,
                    120_000, 3_000);
            case "short" -> new Sizes("short",
                    500_000,
                    1000, 500 * US,
                    2000, 100 * US, 1 * MS,
                    200, 4, 100 * US,
                    64, 100,
                    64, 4, 4000, 50 * US, 2 * MS,
                    10_000, 100 * US, 3,
                    30_000, 3_000);
            default -> throw new IllegalArgumentException("mode must be short or full, got '" + mode + "'");
        };
    }
}
