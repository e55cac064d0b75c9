package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Test-side reads of engine state that the public API does not show: detection counters, the
 * accounting of a workqueue, the loans on a work, what the calling worker runs. The engine's
 * members are package-private; tests outside this package read them through here only.
 */
public final class EngineProbe {
    private EngineProbe() {}

    /** Workqueues whose fast runs a worker's statistics buffer holds without folding (FastStats). */
    public static final int FAST_STATS_SLOTS = FastStats.SLOTS;

    /** The default of {@code cmwq4j.maxHelpDepth}: helped runs nested on one thread. */
    public static final int DEFAULT_MAX_HELP_DEPTH = 64;
    /** The highest concurrency target a pool's monitor may set. */
    public static final int MAX_TARGET = WorkerPool.MAX_TARGET;

    /**
     * Sets the engine's "CPUs saturated" flag ({@link CpuLoad#saturated}) and pins it there: the
     * service thread's samples (and its clearing of the flag when every pool is idle) leave it
     * alone from then on, so that a test of a policy that reads it does not depend on how busy
     * the machine is.
     */
    public static void setCpusSaturated(Engine e, boolean saturated) {
        e.cpuLoad.pinnedForTests = true;
        e.cpuLoad.saturated = saturated;
    }

    /**
     * Sends what the library logs to {@code l} instead of {@code System.getLogger("dev.cmwq4j")},
     * or back there for null; returns the logger it replaced (null: the default).
     */
    public static System.Logger replaceLog(System.Logger l) {
        return ((LazyLogger) Engine.LOG).replace(l);
    }

    /** Blocks announced through {@code Blocking} and the waits, over the engine. */
    public static long blocksAnnounced(Engine e) {
        return e.blocksAnnounced.sum();
    }

    /** Looks the monitor took at the pools (one per wake-up that looked). */
    public static long monitorLooks(Engine e) {
        return e.monitor.ticks.sum();
    }

    /** Blocks the monitor observed without an announcement. */
    public static long blocksDetected(Engine e) {
        return e.monitor.blocksDetected.sum();
    }

    /** Counted (announced) blocks the monitor took out of the count because their pool was stuck behind them. */
    public static long countedBlocksReleased(Engine e) {
        return e.monitor.countedBlocksReleased.sum();
    }

    /** Detected blocks the blocking-site profiler attributed to a site. */
    public static long blocksSampled(Engine e) {
        return e.monitor.profiler.sampled.sum();
    }

    /**
     * Profiled blocks of {@code wq} still open: attributed to a site, their end (time, JFR event)
     * not settled yet. 0 once every profiled block of its works has ended and been charged.
     */
    public static long openProfiledBlocks(WorkqueueCore wq) {
        BlockingSites s = wq.blockingSitesOrNull();
        return s == null ? 0 : s.open();
    }

    /** Captures dropped because the worker had left the detected block by then (left unsampled). */
    public static long staleSiteCaptures(Engine e) {
        return e.monitor.profiler.stale.sum();
    }

    /**
     * The monitor's CPU time spent profiling detected blocks (capture and attribution), and the
     * number of profiled detections it was measured for: {nanos, count}.
     */
    public static long[] siteAttributionCpu(Engine e) {
        return new long[] {e.monitor.profiler.attributeCpuNanos.sum(), e.monitor.profiler.attributeCpuSamples.sum()};
    }

    /** Detected blocks whose stack capture or attribution threw (left unsampled). */
    public static long siteCaptureFailures(Engine e) {
        return e.monitor.profiler.captureFailures.sum();
    }

    /**
     * Installs {@code hook} where the monitor is about to capture a detected worker's stack
     * ({@code Seam.onSiteCapture}), or removes it with null: an error it throws makes the capture
     * fail. JVM-wide: install it only while no other engine's works block unannounced.
     */
    public static void onSiteCapture(Runnable hook) {
        Seam.onSiteCapture = hook;
    }

    /** Concurrency-target raises by the monitor. */
    public static long targetRaised(Engine e) {
        return e.monitor.targetRaised.sum();
    }

    /** Works busy workers took from a sibling to even out the backlogs ({@code Stealing.rebalance}). */
    public static long balanceSteals(Engine e) {
        return e.balanceSteals.sum();
    }

    /**
     * Installs (or, with null, removes) a hook every worker thread runs as it starts to serve its
     * worker, before its first allocation ({@code Seam.onWorkerStart}): what it throws is a
     * failure of that start.
     */
    public static void onWorkerStart(Runnable hook) {
        Seam.onWorkerStart = hook;
    }

    /**
     * Installs (or, with null, removes) a hook a counted worker runs, pool lock held, each time
     * its work loop looks at its pool again ({@code Seam.onWorkLoop}).
     */
    public static void onWorkLoop(Runnable hook) {
        Seam.onWorkLoop = hook;
    }

    /** Installs (or, with null, removes) a hook an idle worker runs back from its park, before it relocks ({@code Seam.onIdleRelock}). */
    public static void onIdleRelock(Runnable hook) {
        Seam.onIdleRelock = hook;
    }

    /** Installs (or, with null, removes) a hook a rescuer runs as it answers a mayday ({@code Seam.onRescue}). */
    public static void onRescue(Runnable hook) {
        Seam.onRescue = hook;
    }

    /** Installs (or, with null, removes) a hook the service thread runs as it uncounts a worker ({@code Seam.onMonitorUncount}). */
    public static void onMonitorUncount(Runnable hook) {
        Seam.onMonitorUncount = hook;
    }

    /** Installs (or, with null, removes) a hook a worker runs as a block's end is recorded ({@code Seam.onBlockOver}). */
    public static void onBlockOver(Runnable hook) {
        Seam.onBlockOver = hook;
    }

    /** Installs (or, with null, removes) a hook a worker runs as an announced block begins ({@code Seam.onBlockBegins}). */
    public static void onBlockBegins(Runnable hook) {
        Seam.onBlockBegins = hook;
    }

    /**
     * Installs (or, with null, removes) a hook run where a pool's worker list is copied
     * ({@code Seam.onWorkerList}): 0 as the manager grows it, 1 as a leaving worker is taken off.
     */
    public static void onWorkerList(java.util.function.IntConsumer hook) {
        Seam.onWorkerList = hook;
    }

    /**
     * Installs (or, with null, removes) a hook run as a worker makes a slot of its fast-run
     * statistics buffer ({@code Seam.onFastSlot}).
     */
    public static void onFastSlot(Runnable hook) {
        Seam.onFastSlot = hook;
    }

    /** Installs (or, with null, removes) a hook run as a worker that left the running count looks for a kick ({@code Seam.onLeftCount}). */
    public static void onLeftCount(Runnable hook) {
        Seam.onLeftCount = hook;
    }

    /** Installs (or, with null, removes) a hook run before the kick for an activated work ({@code Seam.onActivationKick}). */
    public static void onActivationKick(Runnable hook) {
        Seam.onActivationKick = hook;
    }

    /** Installs (or, with null, removes) a hook run inside a kick before it asks the manager for a worker ({@code Seam.onManagerRequest}). */
    public static void onManagerRequest(Runnable hook) {
        Seam.onManagerRequest = hook;
    }

    /** Installs (or, with null, removes) a hook run as a pool asks for a thief ({@code Seam.onAskForThief}). */
    public static void onAskForThief(Runnable hook) {
        Seam.onAskForThief = hook;
    }

    /**
     * Installs (or, with null, removes) a hook {@code modDelayed} runs when it found the work on
     * the timer, before it moves the timer in place ({@code Seam.onModDelayed}).
     */
    public static void onModDelayed(Runnable hook) {
        Seam.onModDelayed = hook;
    }

    /**
     * Installs (or, with null, removes) a hook every drain of a pool's inbound stack runs before
     * it admits each node, pool lock held ({@code Seam.onAdmit}): what it throws leaves that node
     * and the rest of the batch in the pool's {@code admitting} list.
     */
    public static void onAdmit(Runnable hook) {
        Seam.onAdmit = hook;
    }

    /** Installs (or, with null, removes) a hook a worker runs when it starts to linger ({@code Seam.onLinger}). */
    public static void onLinger(Runnable hook) {
        Seam.onLinger = hook;
    }

    /** Idle transitions saved: a worker out of work saw work come while it lingered, counted. */
    public static long lingerHits(Engine e) {
        return e.lingerHits.sum();
    }

    /** Works the monitor flagged CPU-intensive. */
    public static long cpuIntensiveFlagged(Engine e) {
        return e.monitor.cpuIntensiveFlagged.sum();
    }

    /** The engine's bound on nested helped runs. */
    public static int maxHelpDepth(Engine e) {
        return e.maxHelpDepth;
    }

    /** Active works of {@code wq} over its pool workqueues (on a worklist or running). */
    public static int active(WorkqueueCore wq) {
        return wq.active();
    }

    /** Works of {@code wq} held inactive (by {@code maxActive}, an ordered queue, a freeze). */
    public static int inactive(WorkqueueCore wq) {
        return wq.inactive();
    }

    /** The rescuer thread of a memReclaim workqueue, or null. */
    public static Thread rescuerThread(WorkqueueCore wq) {
        return wq.rescuerThread();
    }

    /** The raw lend counts of a work (zero when no wait lends it anything). */
    public static long lentCounts(WorkNode n) {
        return n.lentCounts();
    }

    /** The level a work runs at: its own or the highest lent to it. */
    public static int effectivePriority(WorkNode n) {
        return n.effectivePriority();
    }

    /** The workqueue whose work the calling worker runs, or null. */
    public static WorkqueueCore currentWorkqueue() {
        Worker w = Worker.current();
        PoolWorkqueue pwq = w == null ? null : w.currentPwq();
        return pwq == null ? null : pwq.wq;
    }

    /**
     * The pool workqueue of the work the calling worker runs if its workqueue runs one work at a
     * time there (ordered, or {@code maxActive} 1), else null: a key for one-at-a-time checks.
     */
    public static Object currentOneAtATimeSlot() {
        Worker w = Worker.current();
        PoolWorkqueue pwq = w == null ? null : w.currentPwq();
        return pwq != null && (pwq.wq.ordered || pwq.wq.maxActive() == 1) ? pwq : null;
    }

    /** Per bound pool of the priority: {running workers, concurrency target}, each read racily. */
    public static List<int[]> boundPoolRunningAndTarget(Engine e, boolean highPriority) {
        List<int[]> out = new ArrayList<>();
        for (WorkerPool p : e.boundPools(highPriority)) {
            out.add(new int[] {p.running(), p.target()});
        }
        return out;
    }

    /** Whether the normal-priority bound pool of {@code cpu} runs tiny works on average (racy). */
    public static boolean runsAreTiny(Engine e, int cpu) {
        return e.boundPools(false)[cpu].runsAreTiny();
    }

    /** CPU {@code cpu}'s normal pool still has its allowances for blocks ({@code WorkerPool.blocksLately}). */
    public static boolean blocksLately(Engine e, int cpu) {
        return e.boundPools(false)[cpu].blocksLately();
    }

    /** {@code WorkerPool.BLOCK_MEMORY_RUNS}: starts without a block after which those allowances lapse. */
    public static long blockMemoryRuns() {
        return WorkerPool.BLOCK_MEMORY_RUNS;
    }

    /** Announced blocks timed by the workers of CPU {@code cpu}'s normal pool (racy: read at rest). */
    public static long blocksTimed(Engine e, int cpu) {
        long n = 0;
        for (Worker w : e.boundPools(false)[cpu].workersSnapshot()) {
            n += w.blocksTimed;
        }
        return n;
    }

    /** CPU {@code cpu}'s normal pool's usual block length, in nanoseconds (racy). */
    public static long usualBlockNanos(Engine e, int cpu) {
        return e.boundPools(false)[cpu].usualBlockNanos();
    }

    /** One pool's counts, each read racily: what a pool at rest shows. */
    public record PoolCounts(String name, int pending, int running, int joining, int idle, int workers) {}

    /**
     * Works started in the slot of the run before them (a chain's successor), over all pools;
     * with the fast lane on, also the works started in the lane, which takes the slot pass's
     * place (the same run of works without the worklist, and without the lock).
     */
    public static long slotPasses(Engine e) {
        long n = 0;
        for (WorkerPool p : e.pools()) {
            n += p.slotPasses() + p.laneStarts();
        }
        return n;
    }

    /**
     * Builds whatever {@code build} builds with the fast lane on or off for its engines (the
     * system property {@code cmwq4j.fastLane} decides otherwise).
     */
    public static <T> T withLane(boolean on, java.util.function.Supplier<T> build) {
        return building(v -> Engine.laneForTests = v, on, build);
    }

    /** Sets a test flag of {@code Engine} to {@code on} while {@code build} runs, then back to null. */
    private static <T> T building(java.util.function.Consumer<Boolean> flag, boolean on,
            java.util.function.Supplier<T> build) {
        flag.accept(on);
        try {
            return build.get();
        } finally {
            flag.accept(null);
        }
    }

    /**
     * Every managed pool of every engine counts announced blocks (true) or none does (false)
     * from the monitor's next look at it; null gives the decision back to the pools.
     */
    public static void forceCountedBlocks(Boolean on) {
        WorkerPool.countedBlocksForTests = on;
    }

    /** Builds whatever {@code build} builds with counted blocks on for its engines (the system property decides otherwise). */
    public static <T> T withCountedBlocks(java.util.function.Supplier<T> build) {
        return withCountedBlocks(true, build);
    }

    /** Builds whatever {@code build} builds with counted blocks on or off for its engines, whatever the system property says. */
    public static <T> T withCountedBlocks(boolean on, java.util.function.Supplier<T> build) {
        return building(v -> Engine.countedBlocksForTests = v, on, build);
    }

    /** How long a worker held by the JVM stays undetected (null: the default, 200 ms). */
    public static void jvmHeldMax(java.time.Duration max) {
        Monitor.jvmHeldMaxNanos = max == null ? Monitor.JVM_HELD_MAX_NANOS : max.toNanos();
    }

    /**
     * How long an idle pool keeps the target of its last burst, for every engine (null: the
     * default, the monitor's linger of 20 ms).
     */
    public static void targetHold(java.time.Duration hold) {
        WorkerPool.targetHoldNanos = hold == null ? WorkerPool.TARGET_HOLD_NANOS : hold.toNanos();
    }

    /**
     * The engine's monitor is parked: its last scan found every pool idle (a pool may still hold
     * its last burst's target: the park then ends when the hold does).
     */
    public static boolean monitorParked(Engine e) {
        return e.monitor.isParked();
    }

    /**
     * Managed pools of the engine whose announced blocks leave their workers counted now, among
     * those that saw a block (a pool counts from its start, but only a block makes that matter).
     */
    public static int countedBlockPools(Engine e) {
        return countingPools(e, true);
    }

    /** Managed pools of the engine whose next announced block leaves its worker counted, or only those that saw a block. */
    public static int countingPools(Engine e, boolean sawBlock) {
        int n = 0;
        for (WorkerPool p : e.pools()) {
            if (p.countsBlocks() && (p.sawBlock() || !sawBlock)) {
                n++;
            }
        }
        return n;
    }

    /**
     * The largest demand of the engine's managed pools, in workers per CPU ({@code 1 + W / C},
     * what decides whether a pool counts its blocks); 0 while no pool knows its own (racy).
     */
    public static long workersPerCpu(Engine e) {
        long n = 0;
        for (WorkerPool p : e.pools()) {
            if (p.managed) {
                n = Math.max(n, p.workersPerCpu());
            }
        }
        return n;
    }

    /** Each managed pool's estimates for counting blocks (usual block, run CPU, blocks per run), one line each. */
    public static String demandEstimates(Engine e) {
        StringBuilder b = new StringBuilder();
        for (WorkerPool p : e.pools()) {
            if (p.managed) {
                b.append(p.demandEstimate()).append('\n');
            }
        }
        return b.toString();
    }

    /** The engine's pools have the fast lane, or may get it (the adaptive lane). */
    public static boolean hasLane(Engine e) {
        return e.fastLane || e.autoLane;
    }

    /** Builds with the adaptive lane (rings made once a pool's drains show it pays), whatever the property says. */
    public static <T> T withAutoLane(java.util.function.Supplier<T> build) {
        return building(v -> Engine.autoLaneForTests = v, true, build);
    }

    /** Works admissions sent to an inactive list, over all pools (racy: read after the works ran). */
    public static long inactiveAdds(Engine e) {
        long n = 0;
        for (WorkerPool p : e.pools()) {
            n += p.inactiveAdds;
        }
        return n;
    }

    /** Managed pools of the engine that have a ring now. */
    public static int poolsWithRing(Engine e) {
        int n = 0;
        for (WorkerPool p : e.pools()) {
            if (p.ring != null) {
                n++;
            }
        }
        return n;
    }

    /** Some worker of the engine runs {@code n} in the lane now (its mark names it). */
    public static boolean inLaneRun(Engine e, WorkNode n) {
        for (WorkerPool p : e.pools()) {
            for (Worker w : p.workersSnapshot()) {
                if (w.fastMark == n) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Works started in the fast lane, over all pools. */
    public static long laneStarts(Engine e) {
        long n = 0;
        for (WorkerPool p : e.pools()) {
            n += p.laneStarts();
        }
        return n;
    }

    /** Fast runs a lock holder counted in their pwqs (the conversion), over all pools. */
    public static long conversions(Engine e) {
        long n = 0;
        for (WorkerPool p : e.pools()) {
            n += p.conversions();
        }
        return n;
    }

    /** New workers that were given a sibling pool's idle thread instead of a new one. */
    public static long threadHandOffs(Engine e) {
        return e.threadHandOffs.sum();
    }

    /** The threads of the workers of the pool named {@code pool}. */
    public static List<Thread> workerThreads(Engine e, String pool) {
        List<Thread> out = new ArrayList<>();
        for (WorkerPool p : e.pools()) {
            if (p.name().equals(pool)) {
                for (Worker w : p.workersSnapshot()) {
                    out.add(w.thread);
                }
            }
        }
        return out;
    }

    /** The counts of every pool of the engine, bound ones first. */
    public static List<PoolCounts> poolCounts(Engine e) {
        List<PoolCounts> out = new ArrayList<>();
        for (WorkerPool p : e.pools()) {
            out.add(new PoolCounts(p.name(), p.pending(), p.running(), p.joining(), p.idleWorkers(), p.workers()));
        }
        return out;
    }

    /**
     * Each worker of the pool named {@code pool}: its thread's name and state, its state word,
     * its woken and spinning flags, whether it runs a work, and its thread's top frames; for the
     * message of a failed at-rest check (a worker that is neither idle nor counted).
     */
    public static String describeWorkers(Engine e, String pool) {
        StringBuilder b = new StringBuilder();
        for (WorkerPool p : e.pools()) {
            if (!p.name().equals(pool)) {
                continue;
            }
            for (Worker w : p.workersSnapshot()) {
                Thread t = w.thread;
                b.append("\n  ").append(t == null ? "(no thread)" : t.getName() + " " + t.getState())
                        .append(" wstate=").append(Worker.stateName(w.wstate))
                        .append(" woken=").append(w.woken)
                        .append(" current=").append(w.current != null);
                if (t != null) {
                    StackTraceElement[] st = t.getStackTrace();
                    for (int i = 0; i < Math.min(8, st.length); i++) {
                        b.append("\n      at ").append(st[i]);
                    }
                }
            }
        }
        return b.toString();
    }

    /**
     * Retires the longest idle worker of every pool, as {@link Engine#reclaimIdleThread} does for
     * a pool starved by the thread cap. @return how many were retired
     */
    public static int retireOneIdleEverywhere(Engine e) {
        int n = 0;
        for (WorkerPool p : e.pools()) {
            if (p.retireOneIdle()) {
                n++;
            }
        }
        return n;
    }

    /** The state of the calling thread's worker ({@code RUNNING}, {@code CPU_INTENSIVE}...), or null off a worker. */
    public static String currentWorkerState() {
        Worker w = Worker.current();
        return w == null ? null : Worker.stateName(w.wstate);
    }

    /**
     * Takes the calling thread's worker out of its pool's count as the monitor does when it
     * detects a blocked one ({@code Worker.monitorUncount}, unprofiled), from a test's hook.
     *
     * @return false if it was not counted and running (nothing changed)
     */
    public static boolean detectCurrentWorker() {
        Worker w = Worker.current();
        return w != null && w.monitorUncount(Worker.DETECTED, new java.util.concurrent.atomic.LongAdder(), null, true);
    }

    /** The kernel thread id the calling thread's worker read at its start (0: none read). */
    public static int currentWorkerNativeTid() {
        Worker w = Worker.current();
        return w == null ? -1 : w.nativeTid;
    }

    /** {@link Monitor#readProc}, for tests of the /proc reader. */
    public static int readProc(String path, byte[] buf) throws java.io.IOException {
        return Monitor.readProc(path, buf);
    }

    /**
     * Starts a freeze of {@code core}'s own, as {@code Workqueue.freeze} does, without its check
     * that the caller is not one of the workqueue's works and without waiting for the running
     * ones: for a test that must freeze from inside a work, at a precise point.
     */
    public static void freezeOwnBegin(WorkqueueCore core) {
        core.freezeBegin(WorkqueueCore.FREEZE_OWN);
    }
}
