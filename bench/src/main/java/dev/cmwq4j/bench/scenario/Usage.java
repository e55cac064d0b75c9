package dev.cmwq4j.bench.scenario;

/**
 * One sample of process-wide resource usage.
 *
 * @param userNanos user CPU time of the whole process, or -1 if unknown
 * @param sysNanos system CPU time of the whole process, or -1 if unknown
 * @param cpuNanos user + system CPU time
 * @param voluntarySwitches voluntary context switches (the thread blocked), process-wide
 * @param involuntarySwitches involuntary context switches (the thread was preempted)
 * @param maxRssKb peak resident set size so far, in KiB
 */
record Usage(long userNanos, long sysNanos, long cpuNanos, long voluntarySwitches, long involuntarySwitches,
        long maxRssKb) {}
