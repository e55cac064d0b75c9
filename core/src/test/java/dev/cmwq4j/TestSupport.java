package dev.cmwq4j;

import java.util.concurrent.atomic.AtomicInteger;

/** Small helpers shared by tests. */
final class TestSupport {
    private TestSupport() {}

    /** Burns CPU for about {@code nanos}. */
    static long spin(long nanos) {
        long end = System.nanoTime() + nanos;
        long x = 0;
        while (System.nanoTime() < end) {
            x += x * 31 + 7;
        }
        return x;
    }

    /** Tracks how many callers are inside a section at once, and the maximum seen. */
    static final class Concurrency {
        private final AtomicInteger now = new AtomicInteger();
        private final AtomicInteger max = new AtomicInteger();

        void enter() {
            int n = now.incrementAndGet();
            max.accumulateAndGet(n, Math::max);
        }

        void exit() {
            now.decrementAndGet();
        }

        int max() {
            return max.get();
        }
    }

    /** Process CPU time (user + system) in nanoseconds, from /proc/self/stat (Linux). */
    static long processCpuNanos() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
            return ticks * 10_000_000L; // USER_HZ is 100 on Linux
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
