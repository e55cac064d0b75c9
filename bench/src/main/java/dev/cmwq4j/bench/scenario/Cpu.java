package dev.cmwq4j.bench.scenario;

/** CPU-bound busy work of a given length, measured on the calling thread's CPU clock. */
public final class Cpu {
    private Cpu() {}

    /** Keeps the work from being optimized away. */
    static volatile long sink;

    /**
     * Burns {@code nanos} of the calling thread's CPU time (not wall time: see
     * {@link Probes#threadCpuNanos()}).
     */
    public static void spin(long nanos) {
        long end = Probes.threadCpuNanos() + nanos;
        long x = nanos | 1;
        do {
            for (int i = 0; i < 200; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
        } while (Probes.threadCpuNanos() - end < 0);
        if (x == 42) {
            sink = x;
        }
    }
}
