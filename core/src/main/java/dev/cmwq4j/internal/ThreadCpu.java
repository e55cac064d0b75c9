package dev.cmwq4j.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM's {@link ThreadMXBean}, through which the engine reads threads' CPU clocks and lock
 * owners, obtained when first needed rather than when an engine is built.
 *
 * <p>{@link ManagementFactory#getThreadMXBean()} loads the platform MXBean machinery of
 * {@code java.lang.management} (a service lookup of every platform MXBean provider, about a
 * hundred classes): 15-30 ms of CPU in a fresh JVM, which the first use of cmwq4j paid on the
 * caller's thread when the monitor's constructor asked for it. Now:
 * <ul>
 *   <li>the {@link Monitor} asks ({@link #threadCpuTime}, {@link #threadInfo}) when a look
 *       needs CPU time or lock owners, and obtains the bean on its own thread if nobody has yet;
 *   <li>{@link RunAccounting}, on a worker, asks {@link #currentThreadCpuTimeIfReady()}, which
 *       never makes it wait: while it is not ready, runs are charged their wall time, as short
 *       runs always are, and from {@link #OBTAIN_DELAY_NANOS} (1 s) after the first ask a
 *       short-lived daemon thread ({@code cmwq4j-cpu-clock}) obtains it. A worker that obtained
 *       it itself would stall its pool for those milliseconds, on the CPU, with its work still
 *       current (the monitor could flag it CPU-intensive).
 * </ul>
 * In a fresh JVM the first works run slowly enough (interpreted code, class loading) that some
 * take 50 us or more and ask at once. The helper used to start then, in the middle of the first
 * works; a second later, a short-lived program (a CLI, a test JVM) never pays for it: the CPU
 * of building the shared instance and running 1,000 works went from 93 to 78 ms (medians of 12
 * fresh JVMs each, alternating; {@code ColdStart}).
 *
 * <p>The first to obtain it also turns thread CPU time measurement on where the JVM supports it
 * and has it off, as the monitor's constructor did.
 *
 * <h2>Portability</h2>
 * Every call on the bean goes through this class, and each is made only where the JVM says it
 * supports it: another thread's CPU time only if {@code isThreadCpuTimeSupported()}, the current
 * thread's only if {@code isCurrentThreadCpuTimeSupported()} (a GraalVM native image throws on
 * {@code getCurrentThreadCpuTime}), both only once measurement is enabled. {@code getThreadInfo}
 * of one thread without locked monitors or synchronizers needs no optional support; the owner
 * of a {@code java.util.concurrent} lock it reports is asked for only where
 * {@code isSynchronizerUsageSupported()}. Each call is also guarded against throwing (a JVM that
 * claims support and throws all the same, or a bean that could not be obtained at all): it
 * answers "unknown" (-1, null) instead. What the engine does without them is the callers'
 * business ({@link Monitor}, {@link RunAccounting}).
 */
final class ThreadCpu {
    private ThreadCpu() {}

    /** The bean and what it supports, read once. */
    private static final class Clock {
        /** The JVM's ThreadMXBean, or null if it could not be obtained. */
        final ThreadMXBean mx;
        /** Other threads' CPU time can be read, and measurement is on. */
        final boolean cpuTimeSupported;
        /** The current thread's CPU time can be read, and measurement is on. */
        final boolean currentCpuTimeSupported;
        /** The owners of ownable synchronizers (java.util.concurrent locks) are reported. */
        final boolean synchronizerUsageSupported;

        Clock() {
            ThreadMXBean bean;
            boolean other = false;
            boolean current = false;
            boolean synchronizers = false;
            try {
                bean = ManagementFactory.getThreadMXBean();
                other = bean.isThreadCpuTimeSupported();
                current = bean.isCurrentThreadCpuTimeSupported();
                if ((other || current) && !bean.isThreadCpuTimeEnabled()) {
                    try {
                        bean.setThreadCpuTimeEnabled(true);
                    } catch (UnsupportedOperationException | SecurityException e) {
                        other = false;
                        current = false;
                    }
                }
                synchronizers = bean.isSynchronizerUsageSupported();
            } catch (RuntimeException | LinkageError e) { // no usable bean in this runtime
                bean = null;
                other = false;
                current = false;
            }
            this.mx = bean;
            this.cpuTimeSupported = other;
            this.currentCpuTimeSupported = current;
            this.synchronizerUsageSupported = synchronizers;
        }
    }

    /**
     * The clock, or null until obtained. Racy: a thread that finds it null builds one and writes
     * it; racers build equal ones (the JVM has one ThreadMXBean); a failure (out of memory)
     * leaves it null for the next caller to retry.
     */
    private static volatile Clock clock;

    /**
     * A helper thread was started to obtain the clock (set once, by the
     * {@link #currentThreadCpuTimeIfReady} that starts it; cleared if it could not start, or
     * failed, so that a later call tries again).
     */
    private static final AtomicBoolean obtaining = new AtomicBoolean();

    private static Clock clock() {
        Clock c = clock;
        if (c == null) {
            c = new Clock();
            clock = c;
        }
        return c;
    }

    /**
     * Other threads' CPU time can be read (and is turned on); obtains the bean on the calling
     * thread if nobody has yet.
     */
    static boolean cpuTimeSupported() {
        return clock().cpuTimeSupported;
    }

    /**
     * The CPU time of thread {@code tid} in nanoseconds, or -1 if it is not supported, the thread
     * has ended, or the call failed. Obtains the bean like {@link #cpuTimeSupported}.
     */
    static long threadCpuTime(long tid) {
        Clock c = clock();
        if (!c.cpuTimeSupported) {
            return -1;
        }
        try {
            return c.mx.getThreadCpuTime(tid);
        } catch (RuntimeException e) { // UnsupportedOperationException, SecurityException
            return -1;
        }
    }

    /**
     * The {@code ThreadInfo} of thread {@code tid} (state, lock, lock owner; no stack), or null if
     * the thread has ended, there is no bean, or the call failed.
     */
    static java.lang.management.ThreadInfo threadInfo(long tid) {
        Clock c = clock();
        if (c.mx == null) {
            return null;
        }
        try {
            return c.mx.getThreadInfo(tid);
        } catch (RuntimeException e) { // UnsupportedOperationException, SecurityException
            return null;
        }
    }

    /** The owners of {@code java.util.concurrent} locks can be asked for ({@link #threadInfo}). */
    static boolean synchronizerOwnersSupported() {
        return clock().synchronizerUsageSupported;
    }

    /**
     * The calling thread's CPU time in nanoseconds, or -1 when it cannot be read now: the bean is
     * not obtained yet (then this makes sure a helper thread is obtaining it, and never waits),
     * or the JVM does not support the current thread's CPU time, or the call failed.
     */
    static long currentThreadCpuTimeIfReady() {
        Clock c = clock;
        if (c == null) {
            askedBeforeReady();
            return -1;
        }
        if (!c.currentCpuTimeSupported) {
            return -1;
        }
        try {
            return c.mx.getCurrentThreadCpuTime();
        } catch (Throwable e) { // unsupported after all, or out of memory
            return -1;
        }
    }

    /**
     * How long after the first ask ({@link #currentThreadCpuTimeIfReady}) the helper thread is
     * started: a program that lives less never loads {@code java.lang.management} for the runs'
     * statistics (15-30 ms of CPU in a fresh JVM, in the middle of its first works), and one
     * that lives longer has its runs charged their wall time for that second.
     */
    static final long OBTAIN_DELAY_NANOS = 1_000_000_000L;

    /**
     * When {@link #currentThreadCpuTimeIfReady} was first asked while the clock was not there
     * ({@code nanoTime | 1}, so never 0), or 0. Racy: two first askers may both write it, a few
     * nanoseconds apart.
     */
    private static volatile long firstAsk;

    /** A run asked for the clock before it was obtained: starts the helper once the delay is over. */
    private static void askedBeforeReady() {
        long now = System.nanoTime();
        long first = firstAsk;
        if (first == 0) {
            firstAsk = now | 1;
        } else if (now - first >= OBTAIN_DELAY_NANOS) {
            obtainInBackground();
        }
    }

    /**
     * Starts obtaining the clock now, without the first ask's delay, unless it is there or being
     * obtained: a pool that may count blocks needs its runs' CPU times from its first blocks.
     */
    static void obtainSoon() {
        if (clock == null) {
            obtainInBackground();
        }
    }

    /** Starts the helper thread that obtains the clock, unless one was started. */
    private static void obtainInBackground() {
        if (obtaining.compareAndSet(false, true)) {
            try {
                Thread t = new Thread(new Obtain(), "cmwq4j-cpu-clock");
                t.setDaemon(true);
                t.start();
            } catch (Throwable e) { // no thread now (out of memory): a later run asks again
                obtaining.set(false);
            }
        }
    }

    /** The helper thread's task. */
    private static final class Obtain implements Runnable {
        @Override
        public void run() {
            try {
                clock();
            } catch (Throwable e) { // a later run asks again (and the monitor obtains it on demand)
                obtaining.set(false);
            }
        }
    }
}
