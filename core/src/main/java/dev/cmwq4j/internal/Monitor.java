package dev.cmwq4j.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread that notices, without scheduler hooks, when a counted worker stopped running:
 * the observed half of "a worker went to sleep" (the other half is {@code Blocking}).
 *
 * <h2>Implementation overview</h2>
 * Each tick looks at the concurrency-managed pools. A pool that has pending work and started
 * nothing since the last tick is <em>stuck</em>; in a stuck pool, every counted worker that has
 * been on its current work for at least the stall window is examined:
 * <ul>
 *   <li>{@link Thread#getState()} BLOCKED, WAITING or TIMED_WAITING: it is blocked;
 *   <li>RUNNABLE, but its thread CPU time ({@link ThreadMXBean}) has not advanced since the last
 *       look: it is blocked in native code (a socket or pipe read);
 *   <li>RUNNABLE and burning CPU on one work for longer than the CPU-intensive threshold: it is
 *       CPU-intensive.
 * </ul>
 * Either way the worker leaves {@code nrRunning} (one CAS on its state word, RUNNING to DETECTED
 * or CPU_INTENSIVE, so that the worker, {@code Blocking} and the monitor never count a transition
 * twice) and the pool is kicked. A DETECTED worker that runs again (RUNNABLE with CPU advancing)
 * is counted again by the monitor; any uncounted worker counts itself again when its work ends.
 *
 * <p>The tick adapts: {@link #minTickNanos} while some pool has pending work, doubling up to
 * {@link #maxTickNanos} while pools are busy without a backlog, and parked while every pool is
 * idle. A pool that gets a worker woken, or a backlog while the monitor naps, nudges it.
 */
public final class Monitor implements Runnable {
    private final Engine engine;
    private final Thread thread;
    private final ThreadMXBean mx;
    private final boolean cpuTimeSupported;
    final long minTickNanos;
    final long maxTickNanos;

    /** Written by the monitor: true while parked with nothing to watch. */
    private volatile boolean parked;
    /** Written by the monitor: true while it sleeps longer than the minimum tick. */
    private volatile boolean napping;
    private volatile boolean stopped;

    /** Watchdog: reports a pool whose worklist head has not moved for the threshold. */
    private final long watchdogNanos;
    private final java.util.function.Consumer<dev.cmwq4j.WatchdogReport> watchdogHandler;
    public final java.util.concurrent.atomic.LongAdder watchdogReports = new java.util.concurrent.atomic.LongAdder();

    /** Detections, for statistics and tests. */
    public final java.util.concurrent.atomic.LongAdder blocksDetected = new java.util.concurrent.atomic.LongAdder();
    public final java.util.concurrent.atomic.LongAdder cpuIntensiveFlagged = new java.util.concurrent.atomic.LongAdder();
    public final java.util.concurrent.atomic.LongAdder ticks = new java.util.concurrent.atomic.LongAdder();

    Monitor(Engine engine, String threadName, long minTickNanos, long maxTickNanos, long watchdogNanos,
            java.util.function.Consumer<dev.cmwq4j.WatchdogReport> watchdogHandler) {
        this.engine = engine;
        this.watchdogNanos = watchdogNanos;
        this.watchdogHandler = watchdogHandler;
        this.minTickNanos = minTickNanos;
        this.maxTickNanos = maxTickNanos;
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
        this.thread = new Thread(this, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** A pool got busy: make sure the monitor watches. Cheap when it already does. */
    void nudge() {
        if (parked || napping) {
            napping = false;
            LockSupport.unpark(thread);
        }
    }

    void shutdown() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        long tick = minTickNanos;
        while (!stopped) {
            ticks.increment();
            int state = scan(System.nanoTime());
            if (state == IDLE) {
                parked = true;
                // re-check after publishing "parked": a pool that got busy meanwhile nudged us
                if (scan(System.nanoTime()) == IDLE && !stopped) {
                    LockSupport.park(this);
                }
                parked = false;
                tick = minTickNanos;
                continue;
            }
            tick = state == BACKLOG ? minTickNanos : Math.min(tick * 2, maxTickNanos);
            // wake exactly when the first watched work reaches its stall window, if sooner
            long sleep = tick;
            long due = nextDue - System.nanoTime();
            if (nextDue != Long.MAX_VALUE && due < sleep) {
                sleep = Math.max(due, MIN_SLEEP_NANOS);
            }
            if (sleep > minTickNanos) {
                napping = true;
                LockSupport.parkNanos(this, sleep);
                napping = false;
            } else {
                LockSupport.parkNanos(this, sleep);
            }
        }
    }

    /** Shortest sleep between two looks. */
    private static final long MIN_SLEEP_NANOS = 20_000;
    /** Earliest moment a watched work reaches its stall window; monitor thread only. */
    private long nextDue = Long.MAX_VALUE;

    private static final int IDLE = 0;
    private static final int BUSY = 1;
    private static final int BACKLOG = 2;

    /** One look at every managed pool. Returns IDLE, BUSY (running, no backlog) or BACKLOG. */
    private int scan(long now) {
        nextDue = Long.MAX_VALUE;
        int result = IDLE;
        for (WorkerPool p : engine.boundPools(false)) {
            result = Math.max(result, look(p, now));
        }
        for (WorkerPool p : engine.boundPools(true)) {
            result = Math.max(result, look(p, now));
        }
        return result;
    }

    private int look(WorkerPool p, long now) {
        Worker[] workers = p.workersSnapshot();
        if (workers.length == 0) {
            return IDLE;
        }
        long progress = p.progress;
        boolean stuck = p.nrPending > 0 && progress == p.monitorSeenProgress;
        p.monitorSeenProgress = progress;
        watchdog(p, workers, stuck, now);
        int result = p.nrPending > 0 ? BACKLOG : IDLE;
        for (Worker w : workers) {
            int s = w.wstate;
            if (s == Worker.IDLE) {
                continue;
            }
            if (result == IDLE) {
                result = BUSY;
            }
            if (w.current == null) {
                continue; // between works: waiting for the pool lock is not a block
            }
            long seq = w.workSeq;
            if (seq != w.monSeq) {
                w.monSeq = seq;
                w.monSince = w.workStartedAt; // written by the worker before workSeq
                w.monCpu = -1;
                w.monCpuFirst = -1;
            }
            if (s == Worker.RUNNING && p.nrPending > 0 && now - w.monSince < engine.stallWindowNanos) {
                nextDue = Math.min(nextDue, w.monSince + engine.stallWindowNanos);
            }
            if (s == Worker.RUNNING && stuck && now - w.monSince >= engine.stallWindowNanos) {
                examineRunning(p, w, now);
            } else if (s == Worker.DETECTED) {
                examineDetected(p, w, now);
            } else if (s == Worker.RUNNING && p.nrPending > 0
                    && now - w.monSince >= engine.cpuIntensiveThresholdNanos) {
                examineRunning(p, w, now);
            }
        }
        return result;
    }

    /**
     * The watchdog: a pool with pending work whose worklist has not moved for the threshold is
     * reported once per stall, with its busy workers' stack traces.
     */
    private void watchdog(WorkerPool p, Worker[] workers, boolean stuck, long now) {
        if (!stuck) {
            p.watchdogStallSince = 0;
            p.watchdogReported = false;
            return;
        }
        if (p.watchdogStallSince == 0) {
            p.watchdogStallSince = now; // first look that found it stuck
            return;
        }
        long stalled = now - p.watchdogStallSince;
        if (p.watchdogReported || stalled < watchdogNanos) {
            return;
        }
        p.watchdogReported = true;
        java.util.List<dev.cmwq4j.WatchdogReport.BusyWorker> busy = new java.util.ArrayList<>();
        for (Worker w : workers) {
            Thread t = w.thread;
            WorkNode n = w.current;
            if (t == null || n == null) {
                continue;
            }
            String state = switch (w.wstate) {
                case Worker.RUNNING -> "RUNNING";
                case Worker.BLOCKED -> "BLOCKED";
                case Worker.DETECTED -> "DETECTED";
                case Worker.CPU_INTENSIVE -> "CPU_INTENSIVE";
                default -> "IDLE";
            };
            busy.add(new dev.cmwq4j.WatchdogReport.BusyWorker(t.getName(), String.valueOf(n), state,
                    java.util.List.of(t.getStackTrace())));
        }
        watchdogReports.increment();
        try {
            watchdogHandler.accept(new dev.cmwq4j.WatchdogReport(p.name, p.nrPending, stalled, busy));
        } catch (Throwable e) {
            Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j: watchdog handler threw", e);
        }
    }

    /** A counted worker has been on one work a while: blocked, native-blocked, or CPU hog? */
    private void examineRunning(WorkerPool p, Worker w, long now) {
        Thread t = w.thread;
        if (t == null) {
            return;
        }
        Thread.State st = t.getState();
        if (st == Thread.State.BLOCKED || st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING) {
            w.monitorUncount(Worker.DETECTED, blocksDetected);
            w.monCpu = -1;
            return;
        }
        if (st != Thread.State.RUNNABLE) {
            return;
        }
        // RUNNABLE to the JVM: maybe blocked in native code (a socket or pipe read). Decide on
        // two samples: the thread's CPU time did not advance between them (under 5% of one CPU)
        // and the kernel does not show it running ('R' in /proc on Linux). A single sample of
        // the kernel state alone is not enough: a thread that spins is shown sleeping while it
        // waits at a JVM safepoint.
        if (!cpuTimeSupported) {
            return;
        }
        long prevCpu = w.monCpu;
        long prevAt = w.monCpuAt;
        long cpu = sampleCpu(w, t, now);
        if (w.monCpuFirst < 0) {
            w.monCpuFirst = cpu; // first CPU sample of this work
        }
        if (prevCpu < 0 || cpu < 0) {
            return; // first sample: decide next time
        }
        long wall = now - prevAt;
        long used = cpu - prevCpu;
        if (used * 20 < wall) {
            if (kernelState(w) != 'R') {
                w.monitorUncount(Worker.DETECTED, blocksDetected);
            }
        } else if (w.monCpuFirst >= 0 && cpu - w.monCpuFirst >= engine.cpuIntensiveThresholdNanos) {
            // CPU time burnt on this work since the monitor first sampled it: a preempted or
            // slow thread is never flagged on wall time alone
            w.monitorUncount(Worker.CPU_INTENSIVE, cpuIntensiveFlagged);
        }
    }

    /** Reads the worker thread's CPU time and records it as the monitor's latest sample. */
    private long sampleCpu(Worker w, Thread t, long now) {
        long cpu = mx.getThreadCpuTime(t.threadId());
        w.monCpu = cpu;
        w.monCpuAt = now;
        return cpu;
    }

    /**
     * The kernel's scheduling state of the worker's thread from /proc (Linux): 'R', 'S', 'D', ...,
     * or '?' when unknown.
     */
    private static char kernelState(Worker w) {
        int tid = w.nativeTid;
        if (tid <= 0) {
            return '?';
        }
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/task/" + tid + "/stat"));
            int i = stat.lastIndexOf(')');
            return i > 0 && i + 2 < stat.length() ? stat.charAt(i + 2) : '?';
        } catch (java.io.IOException | RuntimeException e) {
            return '?';
        }
    }

    /**
     * A worker the monitor uncounted as blocked: count it again once it runs again (RUNNABLE and
     * on more than half a CPU since the last look; without thread CPU time, the kernel's 'R').
     */
    private void examineDetected(WorkerPool p, Worker w, long now) {
        Thread t = w.thread;
        if (t == null || t.getState() != Thread.State.RUNNABLE) {
            w.monCpu = -1;
            return;
        }
        if (!cpuTimeSupported) {
            if (kernelState(w) == 'R') {
                w.monitorRecount();
            }
            return;
        }
        long prevCpu = w.monCpu;
        long prevAt = w.monCpuAt;
        long cpu = sampleCpu(w, t, now);
        if (prevCpu >= 0 && cpu >= 0 && (cpu - prevCpu) * 2 >= now - prevAt) {
            w.monitorRecount();
        }
    }
}
