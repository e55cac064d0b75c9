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
 *   <li>the {@link Monitor} asks {@link #mx()} when a look needs CPU time or lock owners, and
 *       obtains the bean on its own thread if nobody has yet;
 *   <li>{@link RunAccounting}, on a worker, asks {@link #mxIfReady()}, which never makes it wait:
 *       the first time it is not ready, a short-lived daemon thread ({@code cmwq4j-cpu-clock})
 *       obtains it, and meanwhile runs are charged their wall time, as short runs always are.
 *       A worker that obtained it itself would stall its pool for those milliseconds, on the
 *       CPU, with its work still current (the monitor could flag it CPU-intensive).
 * </ul>
 * In a fresh JVM the first works run slowly enough (interpreted code, class loading) that some
 * take 50 us or more, so the bean is obtained within the first works; what moved is who pays for
 * it: a helper thread next to the workers, not the caller that builds the first workqueue.
 *
 * <p>The first to obtain it also turns thread CPU time measurement on where the JVM supports it
 * and has it off, as the monitor's constructor did.
 */
final class ThreadCpu {
    private ThreadCpu() {}

    /** The bean and what it supports, read once. */
    private static final class Clock {
        final ThreadMXBean mx;
        final boolean cpuTimeSupported;

        Clock() {
            ThreadMXBean bean = ManagementFactory.getThreadMXBean();
            boolean supported = bean.isThreadCpuTimeSupported();
            if (supported && !bean.isThreadCpuTimeEnabled()) {
                try {
                    bean.setThreadCpuTimeEnabled(true);
                } catch (UnsupportedOperationException | SecurityException e) {
                    supported = false;
                }
            }
            this.mx = bean;
            this.cpuTimeSupported = supported;
        }
    }

    /**
     * The clock, or null until obtained. Racy: a thread that finds it null builds one and writes
     * it; racers build equal ones (the JVM has one ThreadMXBean); a failure (out of memory)
     * leaves it null for the next caller to retry.
     */
    private static volatile Clock clock;

    /**
     * A helper thread was started to obtain the clock (set once, by the {@link #mxIfReady} that
     * starts it; cleared if it could not start, or failed, so that a later call tries again).
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

    /** The JVM's ThreadMXBean; obtains it on the calling thread if nobody has yet. */
    static ThreadMXBean mx() {
        return clock().mx;
    }

    /** Thread CPU time can be read (and is turned on); obtains the bean like {@link #mx()}. */
    static boolean cpuTimeSupported() {
        return clock().cpuTimeSupported;
    }

    /**
     * The JVM's ThreadMXBean if it has been obtained, else null, after making sure a helper
     * thread is obtaining it. Never waits.
     */
    static ThreadMXBean mxIfReady() {
        Clock c = clock;
        if (c != null) {
            return c.mx;
        }
        if (obtaining.compareAndSet(false, true)) {
            try {
                Thread t = new Thread(new Obtain(), "cmwq4j-cpu-clock");
                t.setDaemon(true);
                t.start();
            } catch (Throwable e) { // no thread now (out of memory): a later run asks again
                obtaining.set(false);
            }
        }
        return null;
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
