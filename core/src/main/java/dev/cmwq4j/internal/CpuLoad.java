package dev.cmwq4j.internal;

import java.io.IOException;
import java.io.RandomAccessFile;

/**
 * Whether the machine's CPUs are all taken: the idle share of the last interval, from the
 * aggregate {@code cpu} line of {@code /proc/stat}, and the threads runnable now, from {@code
 * /proc/loadavg} (Linux), sampled by the service thread.
 *
 * <p>What it is for: a thief ({@link Stealing}) helps only if it gets a CPU of its own. On a
 * machine whose CPUs are all busy (an external producer and the home pool's worker on the two
 * CPUs of a small box, or other processes), a worker woken to steal takes turns with the very
 * threads it should relieve: the home pool's lock is contended, threads park and are unparked,
 * and a flood of tiny works costs twice the CPU and three times the context switches for no gain
 * (measured with 2,000,000 {@code execute} calls from one thread on 2 CPUs). So while the CPUs
 * are {@linkplain #saturated saturated}, a queue does not send for a thief, and a worker whose own
 * list ran dry does not steal (it goes idle and gives its turn back). The kernel has no such case: its
 * pools are per CPU and never take each other's work.
 *
 * <p>Sampled at most every {@link #SAMPLE_NANOS} (reads of two small /proc files: about 0.2% of
 * a CPU at that rate), only while the service thread looks at busy pools; {@link #idle} clears
 * the flag when every pool is idle, since the engine's own load is gone. Without {@code
 * /proc/stat} the flag stays false: thieves are sent as before.
 *
 * <p>Fields: {@link #saturated} is written by the service thread only and read by queuers and
 * workers without a lock; everything else is the service thread's own.
 */
final class CpuLoad {
    /** Shortest interval between two samples. */
    static final long SAMPLE_NANOS = 10_000_000;
    /** Saturated below this idle share of one CPU, spread over the machine: half a CPU idle. */
    private static final double IDLE_CPUS_THRESHOLD = 0.5;

    /** Fewer than half a CPU was idle over the last sample; service thread writes, anyone reads. */
    volatile boolean saturated;

    private final int machineCpus = Runtime.getRuntime().availableProcessors();
    /** Open on /proc/stat, or null before the first sample or when it cannot be read. */
    private RandomAccessFile stat;
    /** /proc/stat could not be read: sample nothing from then on. */
    private boolean unavailable;
    private final byte[] buf = new byte[256];
    private long lastAt;
    /** Idle and total jiffies at the last sample; -1 before the first. */
    private long lastIdle = -1;
    private long lastTotal;

    /** Samples if the last sample is older than {@link #SAMPLE_NANOS}; service thread only. */
    void sample(long now) {
        if (unavailable || (lastIdle >= 0 && now - lastAt < SAMPLE_NANOS)) {
            return;
        }
        long[] t = readTotals();
        if (t == null) {
            return;
        }
        long idle = t[0];
        long total = t[1];
        if (lastIdle >= 0 && total > lastTotal) {
            double idleCpus = machineCpus * (double) (idle - lastIdle) / (total - lastTotal);
            int runnable = readRunnable();
            // the reading thread (this one) is one of the runnable: count the others
            saturated = runnable > 0 && isSaturated(idleCpus, runnable - 1, machineCpus);
        }
        lastIdle = idle;
        lastTotal = total;
        lastAt = now;
    }

    /**
     * The policy: a thief would take a busy thread's turn. Both must hold: less than half a CPU
     * was idle over the interval, and right now more threads are runnable than there are CPUs.
     * The first alone would also hold when a thief that is already running took the last idle
     * CPU for itself, which is what thieves are for (a home worker and a thief on two CPUs); the
     * second alone is one instant's count.
     */
    static boolean isSaturated(double idleCpus, int runnableOthers, int cpus) {
        return idleCpus < IDLE_CPUS_THRESHOLD && runnableOthers > cpus;
    }

    /** Open on /proc/loadavg, or null before the first read. */
    private RandomAccessFile loadavg;

    /**
     * Threads runnable on the machine now, the reader included: the numerator of the fourth field
     * of {@code /proc/loadavg} ({@code 0.50 0.40 0.30 3/201 12345}); -1 if it cannot be read.
     */
    private int readRunnable() {
        try {
            if (loadavg == null) {
                loadavg = new RandomAccessFile("/proc/loadavg", "r");
            }
            loadavg.seek(0);
            int len = loadavg.read(buf, 0, buf.length);
            int spaces = 0;
            int v = -1;
            for (int i = 0; i < len; i++) {
                byte b = buf[i];
                if (b == ' ') {
                    spaces++;
                } else if (spaces == 3) {
                    if (b == '/') {
                        return v;
                    }
                    v = (v < 0 ? 0 : v * 10) + (b - '0');
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Every pool is idle: the engine's own load is gone, so is the reason to hold thieves back. */
    void idle() {
        if (saturated) {
            saturated = false;
        }
        lastIdle = -1; // the next sample starts a fresh interval
    }

    /** Per-sample scratch for {@link #readTotals}: {idle jiffies, total jiffies}. */
    private final long[] totals = new long[2];

    /**
     * Reads the aggregate line: {@code cpu user nice system idle iowait irq softirq steal ...};
     * idle counts idle and iowait. Null (and no further reads) if it cannot be read or parsed.
     */
    private long[] readTotals() {
        try {
            if (stat == null) {
                stat = new RandomAccessFile("/proc/stat", "r");
            }
            stat.seek(0);
            int len = stat.read(buf, 0, buf.length);
            if (len <= 4 || buf[0] != 'c' || buf[1] != 'p' || buf[2] != 'u' || buf[3] != ' ') {
                return giveUp();
            }
            long total = 0;
            long idle = 0;
            int field = 0;
            long v = -1;
            for (int i = 4; i < len && buf[i] != '\n'; i++) {
                byte b = buf[i];
                if (b >= '0' && b <= '9') {
                    v = (v < 0 ? 0 : v * 10) + (b - '0');
                } else if (v >= 0) {
                    total += v;
                    if (field == 3 || field == 4) { // idle, iowait
                        idle += v;
                    }
                    field++;
                    v = -1;
                }
            }
            if (v >= 0) {
                total += v;
                field++;
            }
            if (field < 5) {
                return giveUp();
            }
            totals[0] = idle;
            totals[1] = total;
            return totals;
        } catch (IOException | RuntimeException e) {
            return giveUp();
        }
    }

    private long[] giveUp() {
        unavailable = true;
        saturated = false;
        stat = closeQuietly(stat);
        loadavg = closeQuietly(loadavg);
        return null;
    }

    private static RandomAccessFile closeQuietly(RandomAccessFile f) {
        if (f != null) {
            try {
                f.close();
            } catch (IOException ignored) {
                // nothing more to read anyway
            }
        }
        return null;
    }

    /** Closes the file; service thread, at shutdown. */
    void close() {
        giveUp();
    }
}
