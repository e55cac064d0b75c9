package dev.cmwq4j.internal;

import java.io.IOException;
import java.io.RandomAccessFile;

/**
 * Whether the machine's CPUs are oversubscribed: the share of the last interval during which some
 * runnable thread waited for a CPU, from the kernel's pressure stall information
 * ({@code /proc/pressure/cpu}, line {@code some ... total=<us>}; Linux 4.20+), sampled by the
 * service thread.
 *
 * <p>What it is for: a thief ({@link Stealing}) helps only if it gets a CPU of its own. On a
 * machine whose CPUs are all busy (an external producer and the home pool's worker on the two
 * CPUs of a small box, or other processes), a worker sent to steal tiny works takes turns with the
 * very threads it should relieve: the home pool's lock is contended, threads park and are
 * unparked, and the flood costs more CPU and more context switches for no gain (measured with
 * 2,000,000 {@code execute} calls from one thread on 2 CPUs). So while the CPUs are {@linkplain
 * #saturated saturated}, no thief is sent for a pool whose works are short, and a worker whose
 * own list ran dry does not steal them ({@link WorkerPool#stealWorthwhile}). Long works are
 * stolen regardless: running them beside busy threads still beats queueing them all behind one
 * worker. The kernel has no such case: its pools are per CPU and never take each other's work.
 *
 * <p>Why pressure and not the idle share of {@code /proc/stat}: the latter counts in clock ticks
 * (10 ms), two per interval on 2 CPUs, too coarse to tell anything; and an idle share near zero
 * also holds when a thief that is already running took the last idle CPU for itself, which is
 * what thieves are for. Stall time is counted in microseconds and grows only when a thread had to
 * wait.
 *
 * <p>Sampled at most every {@link #SAMPLE_NANOS} (one read of a small /proc file), only while the
 * service thread looks at busy pools; {@link #idle} clears the flag when every pool is idle, since
 * the engine's own load is gone. Without the file the flag stays false: thieves are sent as
 * before.
 *
 * <p>Fields: {@link #saturated} is written by the service thread only (and by tests, which pin
 * it) and read by queuers, workers and the monitor without a lock; everything else is the
 * service thread's own.
 */
final class CpuLoad {
    /** Shortest interval between two samples. */
    static final long SAMPLE_NANOS = 10_000_000;
    /** Saturated when some thread waited for a CPU more than this share of the interval. */
    private static final double STALL_SHARE_THRESHOLD = 0.5;

    /** The CPUs were oversubscribed over the last sample; service thread writes, anyone reads. */
    volatile boolean saturated;
    /** Tests: {@link #saturated} keeps the value a test set, the samples leave it alone; the test writes, the service thread reads. */
    volatile boolean pinnedForTests;

    /** Open on the pressure file, or null before the first sample. */
    private RandomAccessFile file;
    /** The file could not be read: sample nothing from then on. */
    private boolean unavailable;
    private final byte[] buf = new byte[256];
    private long lastAt;
    /** Cumulative stall microseconds at the last sample; -1 before the first. */
    private long lastStallMicros = -1;

    /** Samples if the last sample is older than {@link #SAMPLE_NANOS}; service thread only. */
    void sample(long now) {
        if (pinnedForTests || unavailable || (lastStallMicros >= 0 && now - lastAt < SAMPLE_NANOS)) {
            return;
        }
        long stall = readStallMicros();
        if (stall < 0) {
            return;
        }
        if (lastStallMicros >= 0 && now > lastAt) {
            saturated = isSaturated((stall - lastStallMicros) * 1000.0 / (now - lastAt));
        }
        lastStallMicros = stall;
        lastAt = now;
    }

    /** The policy: some thread waited for a CPU over half of the interval. */
    static boolean isSaturated(double stallShare) {
        return stallShare > STALL_SHARE_THRESHOLD;
    }

    /** Every pool is idle: the engine's own load is gone, so is the reason to hold thieves back. */
    void idle() {
        if (!pinnedForTests && saturated) {
            saturated = false;
        }
        lastStallMicros = -1; // the next sample starts a fresh interval
    }

    /**
     * The {@code total=} of the first line ({@code some avg10=.. avg60=.. avg300=.. total=N}):
     * microseconds during which some runnable thread waited for a CPU; -1 (and no further reads)
     * if it cannot be read or parsed.
     */
    private long readStallMicros() {
        try {
            if (file == null) {
                file = new RandomAccessFile("/proc/pressure/cpu", "r");
            }
            file.seek(0);
            int len = file.read(buf, 0, buf.length);
            for (int i = 0; i + 6 < len && buf[i] != '\n'; i++) {
                if (buf[i] == 't' && buf[i + 1] == 'o' && buf[i + 2] == 't' && buf[i + 3] == 'a'
                        && buf[i + 4] == 'l' && buf[i + 5] == '=') {
                    long v = -1;
                    for (int j = i + 6; j < len && buf[j] >= '0' && buf[j] <= '9'; j++) {
                        v = (v < 0 ? 0 : v * 10) + (buf[j] - '0');
                    }
                    if (v >= 0) {
                        return v;
                    }
                    break;
                }
            }
            return giveUp();
        } catch (IOException | RuntimeException e) {
            return giveUp();
        }
    }

    private long giveUp() {
        unavailable = true;
        saturated = false;
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing more to read anyway
            }
            file = null;
        }
        return -1;
    }

    /** Closes the file; service thread, at shutdown. */
    void close() {
        giveUp();
    }
}
