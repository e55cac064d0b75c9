package dev.cmwq4j.internal;

import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread that notices, without scheduler hooks, when a counted worker stopped running:
 * the observed half of "a worker went to sleep" (the other half is {@code Blocking}).
 *
 * <h2>Implementation overview</h2>
 * Each tick looks at the concurrency-managed pools. A pool that has pending work and started
 * nothing since the last look is <em>stuck</em>; in a stuck pool, every counted worker that has
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
 * <p>A detected block may also be <em>profiled</em> ({@link #detect}, {@link BlockProfiler}):
 * within a sampling budget, the monitor captures the worker's stack once the scan that detected
 * it is over and the timer has fired what the scan armed, and attributes the block to a call site
 * of the user's code in its workqueue's {@link BlockingSites}; the block's time is added when it
 * ends ({@link DetectedBlock}). That is the only work the profile adds to the monitor, and only
 * for detections.
 *
 * <p>Each look at a pool with pending work also samples its counted workers' thread states and
 * adapts the pool's concurrency target (see {@link WorkerPool}): up when none of them is on the
 * CPU while work waits, down when two or more are. That sample is one field read per worker; CPU
 * time is read only for workers in stuck pools or past the CPU-intensive threshold.
 *
 * <p>The tick adapts: {@link #minTickNanos} while some pool is stuck or right after a nudge;
 * doubling up to {@link #BACKLOG_TICK_NANOS} while pools with pending work make progress
 * ({@link #QUIET_BACKLOG_TICK_NANOS} once nothing needed correcting for {@link #QUIET_NANOS}), and up
 * to {@link #maxTickNanos} while pools are busy without a backlog; parked while every pool is
 * idle, until the timer's next entry or the end of a pool's target hold (an idle pool keeps its
 * last burst's target for {@code WorkerPool.TARGET_HOLD_NANOS}). A stuck pool's next stall
 * deadline is kept exactly. A pool that gets a worker woken, or a backlog forms while the monitor
 * naps, nudges it.
 *
 * <h2>Where the platform offers less</h2>
 * Thread states ({@link Thread#getState()}) are always there, so a work blocked in Java (a
 * sleep, a lock, a wait, a park) is detected everywhere. The rest degrades:
 * <ul>
 *   <li>without thread CPU time (a JVM that does not support it, such as a GraalVM native image,
 *       or {@code cmwq4j.simulate.noThreadCpuTime}): no CPU-intensive flag; a RUNNABLE worker is
 *       taken for blocked in native code when the kernel shows it off the CPU at two looks in a
 *       row ({@link #examineRunnableByKernelState}), and a DETECTED one counted again when it
 *       shows 'R'; the first look that needs CPU time says so in the log, once per engine;
 *   <li>without {@code /proc} (not Linux, or {@code cmwq4j.simulate.noProc}): the kernel state is
 *       unknown; with CPU time, a native block is told by CPU time alone (two samples in a row
 *       without progress);
 *   <li>without both: a work blocked in native code cannot be told from one that computes, and
 *       is not detected; its pool waits for it (or for the watchdog), as the kernel's pools wait
 *       for a worker that never sleeps.
 * </ul>
 *
 * <h2>The engine's one service thread</h2>
 * The monitor's thread also fires the engine's {@link Timer} (delayed works, manager passes that
 * create workers, mayday passes): before each look it fires what is due, and it never parks past
 * the earliest armed deadline; arming a new earliest entry unparks it. A {@code Cmwq} therefore
 * has one thread besides its workers (and the rescuers of memReclaim queues), where it had a
 * timer thread and a monitor thread.
 */
final class Monitor implements Runnable {
    private final Engine engine;
    private final Thread thread;
    final long minTickNanos;
    final long maxTickNanos;

    /** Written by the monitor: true while parked with nothing to watch. */
    private volatile boolean parked;
    /**
     * Written by the monitor: true while it sleeps a nap that a nudge may cut, one longer than
     * the minimum tick and than a backlog tick. A nap of a backlog tick or less is not cut: a
     * pool whose backlog empties and refills many times a second would otherwise pay an unpark
     * (and the monitor a look) each time, for a look due within a millisecond anyway. Judged
     * when the nap begins, so that a nudge, which queuers send on every push onto an empty
     * inbound stack, reads no clock (it read one per nudge, a tenth of the clock reads of a
     * worker queueing its own successors); the price is a nudge near the end of a long nap
     * cutting the little that is left.
     */
    private volatile boolean napping;
    /**
     * The longest tick while pools with pending work make progress: {@link #BACKLOG_TICK_NANOS},
     * or {@link #QUIET_BACKLOG_TICK_NANOS} once the monitor has had nothing to correct for
     * {@link #QUIET_NANOS} (no detection, no CPU-intensive flag, no target raise): under a load
     * whose blocks are announced it only watches, and a look a millisecond was a context switch
     * of the service thread per millisecond (0.15 per request of the HTTP scenario). Also what a
     * nap must have left for a nudge to cut it. Written by the monitor, read by nudgers.
     */
    private volatile long backlogTickNanos = BACKLOG_TICK_NANOS;
    /** When the monitor last corrected a pool (see {@link #backlogTickNanos}); monitor thread only. */
    private long correctedAt;
    /**
     * Set by {@link #nudge} when it cut a nap short, cleared by the monitor when it wakes: the
     * next tick is the minimum. A wake by the timer (a new earliest deadline) is not a nudge.
     */
    private volatile boolean nudgedWhileNapping;
    private volatile boolean stopped;

    /** Watchdog: reports a pool whose worklist head has not moved for the threshold. */
    private final long watchdogNanos;
    private final java.util.function.Consumer<Engine.StallSnapshot> watchdogHandler;
    final java.util.concurrent.atomic.LongAdder watchdogReports = new java.util.concurrent.atomic.LongAdder();

    /** Detections, for statistics and tests. */
    final java.util.concurrent.atomic.LongAdder blocksDetected = new java.util.concurrent.atomic.LongAdder();
    /**
     * Counted (announced) blocks taken out of the count because their pool was stuck behind them
     * (ARCHITECTURE 2, <i>Counted blocks</i>); not in {@link #blocksDetected}.
     */
    final java.util.concurrent.atomic.LongAdder countedBlocksReleased = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder cpuIntensiveFlagged = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder ticks = new java.util.concurrent.atomic.LongAdder();
    /** Concurrency-target raises: samples that found every counted worker of a pool blocked. */
    final java.util.concurrent.atomic.LongAdder targetRaised = new java.util.concurrent.atomic.LongAdder();

    /** The engine's timer, fired by this thread. */
    private final Timer timer;
    /** The blocking-site profiler: which detections get a stack, and their attribution; this thread only. */
    final BlockProfiler profiler;

    /**
     * {@code /proc} can be read: the engine may ({@code Engine.procFs}) and the first read, when
     * this thread starts, succeeded. Monitor thread only.
     */
    private boolean procFs;
    /** The log has said that this engine has no thread CPU time; monitor thread only. */
    private boolean saidNoCpuTime;

    Monitor(Engine engine, Timer timer, long minTickNanos, long maxTickNanos, long watchdogNanos,
            java.util.function.Consumer<Engine.StallSnapshot> watchdogHandler, int siteSamplesPerSecond) {
        this.engine = engine;
        this.timer = timer;
        this.profiler = new BlockProfiler(siteSamplesPerSecond);
        this.watchdogNanos = watchdogNanos;
        this.watchdogHandler = watchdogHandler;
        this.minTickNanos = minTickNanos;
        this.maxTickNanos = maxTickNanos;
        // the ThreadMXBean (thread CPU time, lock owners) is obtained by the first look that needs
        // it (ThreadCpu), not here: most monitors of a short-lived program never need it
        this.thread = new Thread(this, "cmwq4j-monitor"); // named by start(), once the engine's base is claimed
        thread.setDaemon(true);
        timer.firedBy(thread);
    }

    /** Names and starts the monitor thread (which fires the timer too); once. */
    void start() {
        ThreadNames.Lease names = engine.threadNames();
        String name = names.name(thread, "monitor");
        thread.setName(name);
        try {
            thread.start();
        } catch (Throwable t) {
            names.forget(thread, name);
            throw t;
        }
    }

    /**
     * Some queuer pushed with no stack left to admit, a drain that threw left nodes in a
     * pool's {@code admitting} (WorkerPool.admitByServiceThread), or a kick could not ask the
     * manager (WorkerPool.kickByServiceThread): set by it before it nudges, cleared here before
     * the pools are looked at.
     */
    volatile boolean admitWanted;

    /**
     * Admits what queuers without stack left pushed, and what throwing drains left behind
     * ({@link WorkerPool#admitByServiceThread}), then kicks each such pool: the kick that could
     * not ask the manager ({@link WorkerPool#kickByServiceThread}) is made here again.
     */
    private void admitWanted() {
        if (!admitWanted) {
            return;
        }
        admitWanted = false;
        for (WorkerPool p : engine.pools()) {
            if (p.admitWanted) {
                p.admitWanted = false;
                p.kickUnlocked(); // its lock admits, then it kicks
            }
        }
    }

    /** Tests: the monitor thread is parked (its last scan found every pool idle). */
    boolean isParked() {
        return parked;
    }

    /** The calling thread is the service thread. */
    boolean isServiceThread() {
        return Thread.currentThread() == thread;
    }

    /** A pool got busy: make sure the monitor watches soon. Cheap when it already does, or will within a backlog tick. */
    void nudge() {
        if (parked || napping) {
            napping = false;
            nudgedWhileNapping = true;
            LockSupport.unpark(thread);
        }
    }

    void shutdown() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    /**
     * The service thread's loop, restarted after anything it throws: this one thread fires every
     * timer of the instance (delayed works, thread creation, maydays), so it must not end early.
     */
    @Override
    public void run() {
        // load what the first /proc read needs (file I/O classes) on this thread, before the
        // first load it watches, and not on the caller that builds the instance; and learn
        // whether there is a /proc at all
        procFs = engine.procFs && procState("/proc/self/stat") != '?';
        try {
            Events.listen(); // JFR's listener, off the caller that built the engine (never throws but an Error)
        } catch (Throwable t) {
            // out of memory or of stack while installing it: the events stay off, the service goes on
        }
        while (!stopped) {
            try {
                serve();
            } catch (Throwable t) { // out of memory, a failing watchdog report...: keep serving
                try {
                    Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j: the service thread recovered from", t);
                } catch (Throwable ignored) {
                    // logging failed too
                }
            }
        }
        engine.cpuLoad.close();
    }

    private void serve() {
        busyAt = System.nanoTime() - LINGER_NANOS; // no look has found work yet
        long tick = minTickNanos;
        boolean nudged = false;
        long lookAt = System.nanoTime(); // when the next look at the pools is due
        while (!stopped) {
            long timerWait = timer.fireDue(); // -1: nothing armed; 0: more due now
            long now = System.nanoTime();
            if (nudged || now - lookAt >= 0) {
                ticks.increment();
                int state = scan(now);
                maybeQuiet(now);
                if (procFs) {
                    if (state != IDLE) {
                        engine.cpuLoad.sample(now);
                    } else {
                        engine.cpuLoad.idle();
                    }
                }
                if (profiler.hasPending()) {
                    // the worker creations this scan's detections asked for first, then the captures
                    timerWait = timer.fireDue();
                    profiler.attributePending();
                }
                if (state == IDLE && !lingers(now)) {
                    parked = true;
                    // re-check after publishing "parked": a pool that got busy meanwhile nudged us
                    int again = scan(System.nanoTime());
                    if (profiler.hasPending()) {
                        timerWait = timer.fireDue();
                        profiler.attributePending();
                    }
                    if (again == IDLE && !stopped) {
                        long wait = parkFor(timerWait);
                        if (wait != 0) {
                            long parkedAt = System.nanoTime();
                            nap(wait);
                            shortPark = System.nanoTime() - parkedAt < backlogTickNanos;
                        }
                    }
                    parked = false;
                    nudgedWhileNapping = false;
                    tick = minTickNanos;
                    nudged = false;
                    lookAt = System.nanoTime(); // look again at once: a pool may have got busy
                    continue;
                }
                if (state == IDLE) {
                    // idle just after a busy look: a backlog tick's nap, which no nudge cuts
                    tick = minTickNanos;
                    lookAt = now + backlogTickNanos;
                } else {
                    busyAt = now;
                    tick = nextTick(state, tick, nudged);
                    // wake exactly when the first stuck pool's blocked work reaches its stall window
                    long sleep = tick;
                    long due = nextDue - now;
                    if (nextDue != Long.MAX_VALUE && due < sleep) {
                        sleep = Math.max(due, MIN_SLEEP_NANOS);
                    }
                    lookAt = now + sleep;
                }
            }
            // a timer entry that falls due before the next look wakes the thread for the timer only
            long wait = lookAt - System.nanoTime();
            if (timerWait >= 0 && timerWait < wait) {
                wait = timerWait;
            }
            if (wait <= 0) {
                nudged = false;
                continue;
            }
            if (wait > minTickNanos && wait > backlogTickNanos) {
                napping = true;
                nap(wait);
                napping = false;
            } else {
                nap(wait);
            }
            nudged = nudgedWhileNapping; // a pool asked to be watched (not a timer entry)
            nudgedWhileNapping = false;
        }
    }

    /**
     * How long an idle monitor parks: until the timer's next entry ({@code timerWait}: -1 none, 0
     * due now) or the end of a pool's target hold ({@link #holdsUntil}), whichever comes first;
     * {@code Long.MAX_VALUE}: until unparked; 0: not at all.
     */
    private long parkFor(long timerWait) {
        long wait = timerWait < 0 ? Long.MAX_VALUE : timerWait;
        if (holdsUntil != Long.MAX_VALUE) {
            wait = Math.min(wait, Math.max(1, holdsUntil - System.nanoTime()));
        }
        return wait;
    }

    /**
     * Parks for {@code wait} ns ({@code Long.MAX_VALUE}: until unparked), telling the timer, so
     * that an entry armed meanwhile wakes the thread only if it falls due before the nap ends
     * ({@link Timer#beginNap}).
     */
    private void nap(long wait) {
        long w = timer.beginNap(System.nanoTime(), wait);
        try {
            if (w == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else if (w > 0) {
                LockSupport.parkNanos(this, w);
            }
        } finally {
            timer.endNap();
        }
    }

    /**
     * When a look last found a pool with work (busy or with a backlog); monitor thread only. See
     * {@link #lingers}.
     */
    private long busyAt;

    /**
     * The monitor's last park ended within a backlog tick of its start: the pools go idle and
     * busy again faster than a lingering nap would wake it, so lingering can only save wake-ups;
     * monitor thread only.
     */
    private boolean shortPark;

    /**
     * How long after its last busy look the monitor, finding every pool idle, naps a backlog tick
     * instead of parking, once a park has lasted less than a backlog tick. A parked monitor is
     * unparked by the next push onto an empty inbound stack ({@link #nudge}); a producer whose
     * worker keeps catching up with it makes that edge thousands of times a second, and each
     * cost a context switch of the service thread and a look (an external producer on 2 CPUs:
     * about 8,000 a second). Lingering, it looks once a backlog tick at most, the rate it keeps
     * while a backlog lasts, and a nudge then costs a read of two flags. Once the pools stay
     * idle this long it parks. Edges further apart than a tick never linger: a lingering nap
     * would wake the monitor at least as often as they do (one work every 15 ms: 3.5 wake-ups
     * per work when it lingered after parks of up to 20 ms, 2.0 parking).
     */
    static final long LINGER_NANOS = 20_000_000;

    /**
     * Idle at {@code now}, busy within {@link #LINGER_NANOS}, and the last park was short: nap,
     * do not park.
     */
    private boolean lingers(long now) {
        return shortPark && now - busyAt < LINGER_NANOS;
    }

    /** The next tick after a look that found {@code state}. */
    private long nextTick(int state, long tick, boolean nudged) {
        if (state == STUCK || nudged) {
            return minTickNanos;
        }
        long cap = state == BACKLOG ? Math.min(backlogTickNanos, maxTickNanos) : maxTickNanos;
        return Math.max(minTickNanos, Math.min(tick * 2, cap));
    }

    /** Longest tick while some pool has pending work and makes progress. */
    static final long BACKLOG_TICK_NANOS = 1_000_000;
    /** Longest tick while pools with pending work make progress and the monitor was quiet a while. */
    static final long QUIET_BACKLOG_TICK_NANOS = 4_000_000;
    /** How long without a correction makes the monitor quiet. */
    static final long QUIET_NANOS = 50_000_000;

    /** The monitor corrected a pool (detection, CPU-intensive flag, target raise): watch closely. */
    private void corrected(long now) {
        correctedAt = now;
        if (backlogTickNanos != BACKLOG_TICK_NANOS) {
            backlogTickNanos = BACKLOG_TICK_NANOS;
        }
    }

    /** After a scan at {@code now}: quiet once nothing was corrected for {@link #QUIET_NANOS}. */
    private void maybeQuiet(long now) {
        if (backlogTickNanos != QUIET_BACKLOG_TICK_NANOS && now - correctedAt >= QUIET_NANOS) {
            backlogTickNanos = QUIET_BACKLOG_TICK_NANOS;
        }
    }
    /** Shortest sleep between two looks. */
    private static final long MIN_SLEEP_NANOS = 20_000;
    /** Earliest moment a watched work reaches its stall window; monitor thread only. */
    private long nextDue = Long.MAX_VALUE;
    /**
     * When the first hold of an idle pool's target found by the last scan ends ({@link
     * WorkerPool#idleLook}; {@code Long.MAX_VALUE}: none): a park ends then at the latest, so that
     * the target goes back to the rule whether or not the monitor is parked. Monitor thread only.
     */
    private long holdsUntil = Long.MAX_VALUE;

    private static final int IDLE = 0;
    /** Running, no pending work. */
    private static final int BUSY = 1;
    /** Pending work, and the pool makes progress. */
    private static final int BACKLOG = 2;
    /** Pending work, and the pool started nothing lately. */
    private static final int STUCK = 3;

    /** One look at every managed pool. Returns the busiest of IDLE, BUSY, BACKLOG, STUCK. */
    private int scan(long now) {
        admitWanted();
        engine.armPublisherPollIfWanted();
        nextDue = Long.MAX_VALUE;
        holdsUntil = Long.MAX_VALUE;
        int result = IDLE;
        WorkerPool[] normal = engine.boundPools(false);
        WorkerPool[] high = engine.boundPools(true);
        for (WorkerPool p : normal) {
            result = Math.max(result, look(p, now));
        }
        for (WorkerPool p : high) {
            result = Math.max(result, look(p, now));
        }
        if (result >= BACKLOG) {
            int totalOnCpu = 0;
            for (WorkerPool p : normal) {
                totalOnCpu += p.look.onCpu;
            }
            for (WorkerPool p : high) {
                totalOnCpu += p.look.onCpu;
            }
            for (WorkerPool p : normal) {
                adaptTarget(p, totalOnCpu);
            }
            for (WorkerPool p : high) {
                adaptTarget(p, totalOnCpu);
            }
        }
        if (result == IDLE && admitWanted) {
            // a retry this thread asked of itself (a kick or a drain of its own that threw, in a
            // pool the look above does not keep busy: an unbound one): at the next tick, not at
            // once (a hot loop while the error lasts) and not never (a park)
            result = BUSY;
        }
        return result;
    }

    private int look(WorkerPool p, long now) {
        p.adaptBlockCounting(now);
        Worker[] workers = p.workersSnapshot();
        boolean backlog = p.hasWork();
        long progress = p.progress;
        boolean progressed = progress != p.look.seenProgress;
        p.look.seenProgress = progress;
        p.look.corrected = false;
        // First pass: note new works, count the counted workers seen off the CPU.
        int busy = 0;
        int offCpu = 0;
        boolean blocked = false; // a worker in a block, counted or not: what a held target is for
        for (Worker w : workers) {
            int s = w.wstate;
            if (s == Worker.IDLE) {
                if (w.woken) {
                    busy++; // counted by its waker, on its way to the worklist
                }
                continue;
            }
            busy++;
            if (w.current == null) {
                continue; // between works: about to run the next one
            }
            long seq = w.workSeq;
            if (seq != w.look.seq) {
                w.look.seq = seq;
                // written by the worker before workSeq; an estimated start (RunAccounting's
                // sampled clock) may lag the real one, but a work first seen now started after
                // this worker's last look, which saw another seq
                long started = w.workStartedAt;
                long lastLook = w.look.at;
                w.look.since = lastLook != 0 && lastLook - started > 0 ? lastLook : started;
                w.look.cpu = -1;
                w.look.cpuFirst = -1;
                w.look.offCpuOnce = false;
                w.look.heldSince = 0;
                w.look.joinSince = 0;
            }
            w.look.at = now;
            boolean countedBlock = s == Worker.RUNNING && w.inCountedBlock();
            blocked |= countedBlock || s == Worker.BLOCKED || s == Worker.DETECTED;
            if (countedBlock || (s == Worker.RUNNING && !runnable(w))) {
                offCpu++; // a counted block is off the CPU whatever its thread state (a native read is RUNNABLE)
            }
        }
        if (backlog && offCpu > 0 && offCpu >= p.nrRunning.get() && waitsForRunningCode(workers)) {
            offCpu--; // would raise the target: not while a worker waits for a lock whose owner runs
        }
        // Counted workers not seen off the CPU: running a work, between two, or woken/created
        // and on their way (those are counted before their state word says RUNNING).
        p.look.onCpu = Math.max(0, p.nrRunning.get() - offCpu);
        if (busy == 0) {
            // nobody to examine; pending work here waits for a worker to be woken or created
            watchdog(p, workers, backlog && !progressed, now);
            if (!backlog) {
                holdsUntil = Math.min(holdsUntil, p.idleLook(now));
            } else {
                p.busyLook(false);
            }
            return backlog ? BACKLOG : IDLE;
        }
        p.busyLook(blocked);
        long stall = engine.stallWindowNanos;
        boolean stuck = backlog && !progressed;
        watchdog(p, workers, stuck, now);
        if (stuck) {
            thiefForStuckBacklog(p);
        }
        // Second pass: examine the workers that may be blocked, CPU-bound, or back.
        for (Worker w : workers) {
            int s = w.wstate;
            if (w.current == null || s == Worker.IDLE) {
                continue;
            }
            if (w.workSeq != w.look.seq) {
                // A work started since the first pass (which saw this worker between two works,
                // or on the previous one): what the look holds is an earlier work's, and would
                // charge this one its start time and CPU. The next look starts it afresh.
                continue;
            }
            if (s == Worker.RUNNING && stuck && now - w.look.since < stall) {
                nextDue = Math.min(nextDue, w.look.since + stall); // examine it the moment it may be
            } else if (s == Worker.RUNNING && w.inCountedBlock()) {
                // announced: no sample needed to know it waits. A block no longer than the pool's
                // blocks usually are is the cap on the works in flight at work, not a stall; one
                // that lasts twice the usual in a stuck pool is taken out
                if (stuck && !p.countedBlockUsual(w, now)) {
                    detect(w, now, true);
                }
            } else if (s == Worker.RUNNING && stuck) {
                examineRunning(p, w, now);
            } else if (s == Worker.DETECTED) {
                examineDetected(p, w, now);
            } else if (s == Worker.RUNNING && backlog && now - w.look.since >= engine.cpuIntensiveThresholdNanos) {
                examineRunning(p, w, now);
            }
        }
        return !backlog ? BUSY : stuck ? STUCK : BACKLOG;
    }

    /** A counted worker on its work that is on the CPU, or wants to be: its thread is RUNNABLE. */
    private static boolean runnable(Worker w) {
        Thread t = w.thread;
        return t == null || t.getState() == Thread.State.RUNNABLE;
    }

    /**
     * Before a look raises a pool's target (none of its counted workers on the CPU while work
     * waits): is one of them waiting for a lock whose owner runs? More threads would not make
     * that lock go faster, and the wait is short in the common case (two workers of a cold JVM
     * loading the same class). Stops at the first such worker; called only then, so the
     * {@code ThreadInfo} reads stay off the monitor's usual path.
     */
    private boolean waitsForRunningCode(Worker[] workers) {
        for (Worker w : workers) {
            Thread t = w.thread;
            if (t != null && w.wstate == Worker.RUNNING && w.current != null && lockOwnerRuns(t, t.getState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The concurrency target follows what the last sample of the pools showed. A look that
     * detected a block made its correction already: the replacement it woke or asked for is not
     * on the CPU yet, and reading that as an idle CPU would raise the target for the same block
     * (the kernel's first example then started w2 when w0's sleep was seen, a unit early). The
     * target rises only if the CPU is still idle at a later look.
     */
    private void adaptTarget(WorkerPool p, int totalOnCpu) {
        int onCpu = p.look.onCpu;
        if (!p.look.corrected && p.underCommitted(onCpu)) {
            corrected(System.nanoTime());
            targetRaised.increment();
            p.raiseTarget();
        } else if (p.overCommitted(onCpu, totalOnCpu)) {
            p.lowerTarget();
        }
    }

    /**
     * A pool whose worklist waits behind works that have not ended since the last look gets a
     * thief if its backlog is stealable. A worker asks for one when it starts a work ({@code
     * Worker.process}), and an insert only in a pool of long works ({@code
     * Stealing.afterInsert}): a short-work pool whose worker is held by one long run would
     * otherwise wait for that run to end, or to be flagged CPU-intensive.
     */
    private void thiefForStuckBacklog(WorkerPool p) {
        if (!p.managed || !engine.stealing) {
            return;
        }
        boolean stealable;
        p.lock();
        try {
            stealable = p.hasStealableBacklog(0);
        } finally {
            p.unlock();
        }
        if (stealable) {
            Stealing.askForThief(p);
        }
    }

    /**
     * The watchdog: a pool with pending work whose worklist has not moved for the threshold is
     * reported once per stall, with its busy workers' stack traces.
     */
    private void watchdog(WorkerPool p, Worker[] workers, boolean stuck, long now) {
        if (!stuck) {
            p.look.stallSince = 0;
            p.look.reported = false;
            return;
        }
        if (p.look.stallSince == 0) {
            p.look.stallSince = now; // first look that found it stuck
            return;
        }
        long stalled = now - p.look.stallSince;
        if (p.look.reported || stalled < watchdogNanos) {
            return;
        }
        p.look.reported = true;
        // the report counts what waits: admit what is still inbound (nobody may have taken the
        // lock since it was pushed, when the pool's one counted worker never returns)
        p.admitUnlocked();
        java.util.List<Engine.BusySnapshot> busy = new java.util.ArrayList<>();
        for (Worker w : workers) {
            Thread t = w.thread;
            WorkNode n = w.current;
            if (t == null || n == null) {
                continue;
            }
            busy.add(new Engine.BusySnapshot(t.getName(), n.workName(), Worker.stateName(w.wstate),
                    java.util.List.of(t.getStackTrace())));
        }
        watchdogReports.increment();
        try {
            watchdogHandler.accept(new Engine.StallSnapshot(p.name, p.backlog(), stalled, busy));
        } catch (Throwable e) {
            Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j: watchdog handler threw", e);
        }
    }

    /**
     * A worker waits for a lock whose owner runs: it waits for code that is on the CPU, as a
     * join does, so it gets the join window instead of the stall window, counted from the first
     * look that saw it so. The common case is a cold start: a worker waits while another loads a
     * class both need (a class loader's lock), which takes a few hundred microseconds to
     * milliseconds and would otherwise cost a thread that then idles for the idle timeout.
     */
    private boolean waitsForRunningOwner(Worker w, Thread t, Thread.State st, long now) {
        if (engine.joinExtraNanos == 0 || !lockOwnerRuns(t, st)) {
            w.look.joinSince = 0;
            return false;
        }
        if (w.look.joinSince == 0) {
            w.look.joinSince = now;
        }
        return now - w.look.joinSince < engine.joinExtraNanos;
    }

    /**
     * {@code t}, seen in state {@code st}, waits to enter a monitor (BLOCKED) or to take a lock
     * ({@code WAITING} parked on an {@link java.util.concurrent.locks.AbstractOwnableSynchronizer},
     * a {@code ReentrantLock} for instance) whose owner thread is RUNNABLE (or waits in turn for
     * such a lock, up to {@link #MAX_OWNER_HOPS} owners away), or it has the lock by now. Reads
     * {@code ThreadInfo} of both (microseconds) only in those two cases; a thread parked on a
     * latch or a condition has no owner and is not one.
     */
    private boolean lockOwnerRuns(Thread t, Thread.State st) {
        if (st != Thread.State.BLOCKED && !(st == Thread.State.WAITING
                && LockSupport.getBlocker(t) instanceof java.util.concurrent.locks.AbstractOwnableSynchronizer
                && ThreadCpu.synchronizerOwnersSupported())) {
            return false;
        }
        java.lang.management.ThreadInfo info = ThreadCpu.threadInfo(t.threadId());
        if (info != null && info.getThreadState() == Thread.State.RUNNABLE) {
            return true; // it got the lock between the two reads
        }
        // follow the owners a few hops: a class loader's lock is often held by a thread that
        // waits, in turn, for another class being loaded by a running one
        for (int hop = 0; hop < MAX_OWNER_HOPS && info != null; hop++) {
            long owner = info.getLockOwnerId();
            if (owner < 0 || owner == t.threadId()) {
                return false;
            }
            info = ThreadCpu.threadInfo(owner);
            if (info != null && info.getThreadState() == Thread.State.RUNNABLE) {
                return true;
            }
        }
        return false;
    }

    /** Lock owners followed by {@link #lockOwnerRuns} (a chain of waits for running code). */
    private static final int MAX_OWNER_HOPS = 4;

    /** A counted worker has been on one work a while: blocked, native-blocked, or CPU hog? */
    private void examineRunning(WorkerPool p, Worker w, long now) {
        Thread t = w.thread;
        if (t == null) {
            return;
        }
        Thread.State st = t.getState();
        if (st == Thread.State.BLOCKED || st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING) {
            if (waitsForRunningOwner(w, t, st, now)) {
                return; // a join on a lock: look again until the join window is over
            }
            detect(w, now, true);
            w.look.cpu = -1;
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
        if (!cpuClock()) {
            examineRunnableByKernelState(w, now);
            return;
        }
        long prevCpu = w.look.cpu;
        long prevAt = w.look.cpuAt;
        long cpu = sampleCpu(w, t, now);
        if (w.workSeq != w.look.seq) {
            // the worker moved on to another work while we sampled: this CPU time is partly that
            // work's, and compared with this work's first sample it would charge it both
            w.look.cpu = -1;
            w.look.cpuFirst = -1;
            return;
        }
        if (w.look.cpuFirst < 0) {
            w.look.cpuFirst = cpu; // first CPU sample of this work
        }
        if (prevCpu < 0 || cpu < 0) {
            return; // first sample: decide next time
        }
        long wall = now - prevAt;
        long used = cpu - prevCpu;
        if (used * 20 < wall) {
            // Two such samples in a row: a spinning thread held at a JVM safepoint (or
            // descheduled at the sampling moment) also shows no CPU and not 'R' for one interval,
            // and a false detection gives its pool a surplus worker. A native block lasts.
            char k = kernelState(w);
            if (k != 'R') {
                offCpuSeen(w, k, now);
            } else {
                w.look.offCpuOnce = false;
            }
            return;
        }
        w.look.offCpuOnce = false;
        if (w.look.cpuFirst >= 0 && cpu - w.look.cpuFirst >= engine.cpuIntensiveThresholdNanos) {
            // CPU time burnt on this work since the monitor first sampled it: a preempted or
            // slow thread is never flagged on wall time alone
            if (w.monitorUncount(Worker.CPU_INTENSIVE, cpuIntensiveFlagged, null, true)) {
                corrected(now);
                Events.cpuIntensive(w, cpu - w.look.cpuFirst);
            }
        }
    }

    /**
     * Thread CPU time can be read: the engine may ({@code Engine.threadCpuTime}) and the JVM
     * supports it ({@link ThreadCpu}). The first look that finds it cannot says so in the log,
     * once per engine: without it the monitor flags no work CPU-intensive, and tells a native
     * block only by the kernel's state ({@link #examineRunnableByKernelState}).
     */
    private boolean cpuClock() {
        if (engine.threadCpuTime && ThreadCpu.cpuTimeSupported()) {
            return true;
        }
        if (!saidNoCpuTime) {
            saidNoCpuTime = true;
            Engine.LOG.log(System.Logger.Level.INFO, "cmwq4j: thread CPU time is not available to instance '"
                    + engine.name + "'" + (engine.threadCpuTime ? "" : " (simulated: cmwq4j.simulate.noThreadCpuTime)")
                    + ": its monitor detects blocked works by thread state" + (procFs ? " and /proc" : "")
                    + " only, flags no work CPU-intensive, and runs are charged their wall time as CPU time");
        }
        return false;
    }

    /**
     * A counted, RUNNABLE worker on a stuck pool, without thread CPU time: blocked in native code
     * if the kernel shows it off the CPU (not 'R') at two looks in a row, as with CPU time but on
     * the kernel's word alone (so a thread held at JVM safepoints at both looks may pass for one;
     * it is counted again once it shows 'R'). Without /proc either ('?'), a native block cannot be
     * told from running code, and the worker stays counted: its pool waits for it, or for the
     * watchdog.
     */
    private void examineRunnableByKernelState(Worker w, long now) {
        char k = kernelState(w);
        if (k == '?' || k == 'R') {
            w.look.offCpuOnce = false;
            return;
        }
        offCpuSeen(w, k, now);
    }

    /**
     * A look found the RUNNABLE worker off the CPU (kernel state {@code k}, '?' when unknown): at
     * the second look in a row it is taken for blocked in native code and uncounted, unless the
     * JVM itself holds it ({@link #heldByTheJvm}); at the first, the next tick confirms.
     */
    private void offCpuSeen(Worker w, char k, long now) {
        if (w.look.offCpuOnce) {
            w.look.offCpuOnce = false;
            if (heldByTheJvm(w, k) && !heldTooLong(w, now)) {
                return;
            }
            w.look.heldSince = 0;
            detect(w, now, false);
        } else {
            w.look.offCpuOnce = true;
            nextDue = Math.min(nextDue, now + minTickNanos); // confirm at the next tick
        }
    }

    /**
     * How long a worker may be held by the JVM ({@link #heldByTheJvm}) before it is taken out all
     * the same: a class initialization that waits on I/O, or on a thread outside the pools,
     * would otherwise hold every work of its pool that needs the class. A cold burst's
     * initializations take tens of milliseconds (the convoy below: about 80).
     */
    static final long JVM_HELD_MAX_NANOS = 200_000_000L;
    /** {@link #JVM_HELD_MAX_NANOS}, or what a test set ({@code EngineProbe.jvmHeldMax}). */
    static volatile long jvmHeldMaxNanos = JVM_HELD_MAX_NANOS;

    /**
     * A worker held by the JVM ({@link #heldByTheJvm}) at a look: the first such look starts its
     * clock; true once the hold has lasted {@link #jvmHeldMaxNanos}. Held that long, it may wait
     * for a class whose initializer blocks (on I/O, or on a thread outside the pools): it is taken
     * out after all, so its pool goes on.
     */
    private boolean heldTooLong(Worker w, long now) {
        if (w.look.heldSince == 0) {
            w.look.heldSince = now;
            return false;
        }
        return now - w.look.heldSince >= jvmHeldMaxNanos;
    }

    /**
     * The worker's thread, RUNNABLE and off the CPU at two looks, is not in native code: the JVM
     * holds it, waiting for a class that another thread initializes, at a safepoint or in a
     * collector's pause. No new worker gets past that: in a cold program every work of a kind
     * waits for the same class, and each worker made for one waiter met the same wait. (A
     * convoy: {@code bench/.../InFlight}'s cold first round, whose works each read the CPU clock
     * through a class the first of them initialized, had 22-26 workers uncounted as native
     * blocks at one look and 28-31 workers in all, against 0 and 21-22 with this check.) The
     * look counts such a worker on the CPU for the target too ({@link #runnable}). A native
     * block (a socket, a pipe, a foreign-function call) is in native code, which
     * {@link java.lang.management.ThreadInfo#isInNative()} tells (a foreign call shows a Java
     * frame on top, so the stack would not). Two cases stay detected: the kernel's 'D' (a page
     * fault waiting for the disk, as a read of a mapped file does in Java code), and a JVM that
     * gives no {@code ThreadInfo}. About 10 us a call, made only at a second look in a row.
     */
    private static boolean heldByTheJvm(Worker w, char k) {
        if (k == 'D') {
            return false;
        }
        Thread t = w.thread;
        java.lang.management.ThreadInfo info = t == null ? null : ThreadCpu.threadInfo(t.threadId());
        return info != null && info.getThreadState() == Thread.State.RUNNABLE && !info.isInNative();
    }

    /**
     * A counted worker was seen blocked: uncount it as DETECTED (and kick its pool) and, if the
     * profiler samples this detection, have the block attributed to a site. Its stack is captured
     * after the scan and after the timer has fired what the scan's detections armed (the manager
     * passes that create workers for the kicked pools): {@code serve} calls
     * {@link BlockProfiler#attributePending}. So a capture delays neither the rest of the look nor
     * a worker's creation. With the profiler off or out of budget this is the one CAS it always
     * was: no allocation, no clock read.
     *
     * @param byThreadState seen BLOCKED, WAITING or TIMED_WAITING (false: RUNNABLE off the CPU, a
     *     native block)
     */
    private void detect(Worker w, long now, boolean byThreadState) {
        // a counted block was announced: its site is the caller's to know, not the profile's, and
        // it is no detection to the statistics
        boolean announced = w.inCountedBlock();
        DetectedBlock profile = announced ? null : profiler.open(w, now, byThreadState);
        if (!w.monitorUncount(Worker.DETECTED, announced ? countedBlocksReleased : blocksDetected, profile, !announced)) {
            profiler.notDetected(profile);
            return;
        }
        w.pool.look.corrected = true;
        corrected(now);
        if (profile != null) {
            profiler.detected(profile);
        }
    }

    /** Reads the worker thread's CPU time and records it as the monitor's latest sample. */
    private long sampleCpu(Worker w, Thread t, long now) {
        long cpu = ThreadCpu.threadCpuTime(t.threadId()); // -1: unknown (the thread ended, or the call failed)
        w.look.cpu = cpu;
        w.look.cpuAt = now;
        return cpu;
    }

    /**
     * The kernel's scheduling state of the worker's thread from /proc (Linux): 'R', 'S', 'D', ...,
     * or '?' when unknown (no /proc, or not to be read: {@link #procFs}).
     */
    private char kernelState(Worker w) {
        int tid = w.nativeTid;
        if (tid <= 0 || !procFs) {
            return '?';
        }
        // a builder, not '+', which would bootstrap the JDK's string concatenation (a few ms)
        return procState(new StringBuilder(32).append("/proc/self/task/").append(tid).append("/stat").toString());
    }

    /** The state letter of a /proc {@code stat} file, or '?'. */
    private static char procState(String path) {
        try {
            byte[] stat = new byte[1024]; // a stat line is a few hundred bytes
            int n = readProc(path, stat);
            for (int i = n - 1; i > 0; i--) {
                if (stat[i] == ')') { // the end of the command name, which may hold anything
                    return i + 2 < n ? (char) stat[i + 2] : '?';
                }
            }
            return '?';
        } catch (java.io.IOException | RuntimeException e) {
            return '?';
        }
    }

    /**
     * Reads the start of a small /proc file into {@code buf} with {@code java.io}, which a JVM has
     * loaded at boot, and no String: {@code java.nio.file.Files.readString}'s first use loaded the
     * file-system provider, channels, buffers and charsets, which every worker's first read
     * ({@link Worker}'s kernel thread id) and the monitor's paid in a fresh JVM: 50 classes fewer
     * in a {@code ColdStart} child (943 against 993), and about 10 ms less process CPU by the end
     * of its idle tail (median of 12 fresh JVMs, twice; within the works the difference is
     * under the noise).
     *
     * @return the bytes read
     */
    static int readProc(String path, byte[] buf) throws java.io.IOException {
        try (java.io.FileInputStream in = new java.io.FileInputStream(path)) {
            int n = 0;
            for (int r; n < buf.length && (r = in.read(buf, n, buf.length - n)) > 0; ) {
                n += r;
            }
            return n;
        }
    }

    /**
     * A worker the monitor uncounted as blocked: count it again once it runs again (RUNNABLE and
     * on more than half a CPU since the last look; without thread CPU time, the kernel's 'R').
     */
    private void examineDetected(WorkerPool p, Worker w, long now) {
        Thread t = w.thread;
        if (t == null || t.getState() != Thread.State.RUNNABLE) {
            w.look.cpu = -1;
            return;
        }
        if (!cpuClock()) {
            // the kernel's 'R' alone; without /proc too ('?'), the worker counts itself again
            // when its work ends
            if (kernelState(w) == 'R') {
                w.monitorRecount();
            }
            return;
        }
        long prevCpu = w.look.cpu;
        long prevAt = w.look.cpuAt;
        long cpu = sampleCpu(w, t, now);
        if (w.workSeq != w.look.seq) {
            // the worker moved on to another work while we sampled: this CPU time is partly that
            // work's, and compared with this work's first sample it would charge it both
            w.look.cpu = -1;
            w.look.cpuFirst = -1;
            return;
        }
        // Back on the CPU: at least a tenth of one CPU since the last sample (detection asked for
        // under a twentieth). Not half: a busy thread on an oversubscribed machine (CI, two
        // "yes" loops) gets less than that and would stay uncounted, never flagged, for good.
        if (prevCpu >= 0 && cpu >= 0 && (cpu - prevCpu) * 10 >= now - prevAt) {
            w.monitorRecount();
        }
    }

    /** What the monitor keeps about one worker between looks; monitor thread only. */
    static final class WorkerLook {
        /** The worker's workSeq at the last look (a new work restarts everything below). */
        long seq = -1;
        /** When the work seen at the last look started. */
        long since;
        /** When the first pass of a look last saw this worker busy, or 0. */
        long at;
        /** Thread CPU time at the last sample of this work, or -1; and when it was read. */
        long cpu = -1;
        long cpuAt;
        /** First CPU sample of this work, or -1. */
        long cpuFirst = -1;
        /** The last CPU sample of this work found it RUNNABLE, off the CPU and not 'R': once more detects it. */
        boolean offCpuOnce;
        /** First look that found this work held by the JVM ({@link Monitor#heldByTheJvm}), or 0. */
        long heldSince;
        /** First look that saw this work wait for a lock whose owner runs, or 0. */
        long joinSince;
    }

    /** What the monitor keeps about one pool between looks; monitor thread only. */
    static final class PoolLook {
        /** Counted workers on the CPU at the last look. */
        int onCpu;
        /**
         * The last look took a blocked worker out of the running count (a detection): that is
         * this look's correction, and the target is not also raised for it.
         */
        boolean corrected;
        /** The pool's progress count at the last look. */
        long seenProgress;
        /** Watchdog: first look that found the pool stuck, or 0; and whether it was reported. */
        long stallSince;
        boolean reported;
    }
}
