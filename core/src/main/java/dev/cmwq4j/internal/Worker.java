package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * One platform thread of one {@link WorkerPool}.
 *
 * <h2>Implementation overview</h2>
 * The loop: while counted as running, take works as long as {@link WorkerPool#keepWorking()}
 * says so; with the worklist empty, try to steal from a loaded sibling pool; then stop counting
 * and go idle (LIFO) until woken, or until retired after the idle timeout.
 *
 * <p>A work runs through {@link #execute}: on return, the worker ends the instance with one CAS on
 * the work's state word; if another worker handed a newer instance of the same work to it (see
 * {@link WorkNode#HANDOFF}), it runs that one next, on this thread. So a work never runs twice at
 * once, and a re-queue made during a run follows the run. A run whose successor (one work of its
 * own workqueue) is all that waits on the pool passes it its slot ({@link #process}): the next run
 * starts in the same lock hold that ends this one, with nothing admitted or given back.
 *
 * <p>A work that waits for a work that has not started may run it in place, nested inside its
 * own run ({@link Helping}, {@link #runHelped}); the outer works of such nested runs are kept on
 * a small per-worker help stack so that the self-wait checks see every level.
 *
 * <h2>The state word</h2>
 * {@link #wstate} says whether the worker counts in its pool's {@code nrRunning}: IDLE, RUNNING
 * (counted), BLOCKED (announced through {@code Blocking}, not counted) or CPU_INTENSIVE (not
 * counted). Every change that moves the worker in or out of {@code nrRunning} is a CAS on this
 * word, so a transition is never counted twice or lost. The worker, {@code Blocking} (on the
 * worker's thread) and the {@link Monitor} (RUNNING to DETECTED or CPU_INTENSIVE, DETECTED back
 * to RUNNING) all change it, each with one CAS.
 *
 * <p>A {@link Rescuer} runs works of a pool through a stand-in Worker of that pool, whose word
 * stays {@link #RESCUER}: the same execute path, with no counting.
 */
final class Worker implements Runnable {
    static final int IDLE = 0;
    static final int RUNNING = 1;
    static final int BLOCKED = 2;
    static final int CPU_INTENSIVE = 3;
    /** Observed blocked by the {@link Monitor} (not counted). */
    static final int DETECTED = 4;
    /** A {@link Rescuer}'s stand-in on a pool: never counted, never idle, never watched. */
    static final int RESCUER = 5;
    /** The names of the states, indexed by state: the one place a state becomes a name. */
    private static final String[] STATE_NAMES = {"IDLE", "RUNNING", "BLOCKED", "CPU_INTENSIVE", "DETECTED", "RESCUER"};

    /** The name of worker state {@code s} (reports, JFR, diagnostics). */
    static String stateName(int s) {
        return s >= 0 && s < STATE_NAMES.length ? STATE_NAMES[s] : "UNKNOWN(" + s + ")";
    }

    /**
     * The worker of a thread that a user's thread factory made ({@link #current}); the engine's
     * own threads ({@link WorkerThread}) carry theirs in a field.
     */
    private static final ThreadLocal<Worker> CURRENT = new ThreadLocal<>();
    /**
     * Whether any engine's factory ever made a thread that is not a {@link WorkerThread}: until
     * then no thread but a {@code WorkerThread} can be a worker, and {@link #current} answers
     * every other thread without the {@code ThreadLocal}. Written (true, once) by whoever makes
     * such a thread, before {@code Thread.start()}, which orders it before every read on that
     * thread; a plain field, since no other thread's answer depends on it (a thread that reads
     * false is not a worker).
     */
    private static boolean foreignThreads;
    // Field updaters, not VarHandles: the same orderings (lazySet is a release store), and about
    // half the tier-3 (C1) code per access, which a fresh JVM compiles first (ARCHITECTURE 4).
    private static final AtomicIntegerFieldUpdater<Worker> WSTATE =
            AtomicIntegerFieldUpdater.newUpdater(Worker.class, "wstate");
    private static final AtomicLongFieldUpdater<Worker> WORK_SEQ =
            AtomicLongFieldUpdater.newUpdater(Worker.class, "workSeq");
    private static final AtomicReferenceFieldUpdater<Worker, DetectedBlock> PROFILED =
            AtomicReferenceFieldUpdater.newUpdater(Worker.class, DetectedBlock.class, "profiled");
    private static final AtomicReferenceFieldUpdater<Worker, WorkNode> CURRENT_NODE =
            AtomicReferenceFieldUpdater.newUpdater(Worker.class, WorkNode.class, "current");
    private static final AtomicReferenceFieldUpdater<Worker, PoolWorkqueue> CURRENT_PWQ =
            AtomicReferenceFieldUpdater.newUpdater(Worker.class, PoolWorkqueue.class, "currentPwq");
    private static final AtomicReferenceFieldUpdater<Worker, Object> FAST_MARK =
            AtomicReferenceFieldUpdater.newUpdater(Worker.class, Object.class, "fastMark");

    final WorkerPool pool;
    private final Engine engine;
    /** Created to run at once (counted by the manager) rather than as an idle reserve. */
    private final boolean startRunning;
    /** A reserve worker that has not yet reached the idle list; pool lock. */
    boolean reserveStarting;
    volatile Thread thread;

    /** See class comment. CAS only. */
    volatile int wstate = IDLE;
    /** The kernel's id of this thread (Linux), or 0; written once by the worker at start. */
    volatile int nativeTid;
    /**
     * System.nanoTime() when the current work started (the previous run's end, which may be an
     * estimate: {@link RunAccounting}); published by the release of workSeq.
     */
    long workStartedAt;
    /**
     * The end of this worker's last run, when the next run starts with no more than its
     * completion and a short, uncontended critical section in between ({@link #process}): the
     * next run takes it as its start instead of reading the clock. 0 otherwise; consumed by
     * {@link #runOne} and cleared when the worker leaves its work loop. Own thread only.
     */
    private long startClock;
    /**
     * The run in progress left the running count (a block, announced or detected; a
     * CPU-intensive workqueue) or helped another work: its end reads the clock ({@link
     * RunAccounting#ended}). Own thread only.
     */
    private boolean runDisturbed;
    /** Works started by this worker; written by it (release), read by the monitor. */
    volatile long workSeq;
    /** The monitor's bookkeeping of this worker: its own class, written by the monitor thread only. */
    final Monitor.WorkerLook look = new Monitor.WorkerLook();

    /** Nesting depth of announced blocking; worker thread only. */
    private int blockDepth;
    /** Runs until this worker's next look at the balance ({@link Stealing#rebalance}); own thread. */
    private int untilBalance = Stealing.BALANCE_EVERY;
    /**
     * When a tiny work this worker stole moved no chain to its pool (0: never): it steals no tiny
     * works for the steal threshold after that ({@link #mayStealTiny}), so that a flood of tiny
     * works is not taken one lock round trip at a time. Own thread.
     */
    private long tinyMissAt;
    /** The wait this worker's plain announced blocks return ({@link WaitProtocol#enterBlock}); immutable. */
    final WaitProtocol.Wait plainWait = new WaitProtocol.Wait(null, this);
    /** This worker's announced block is a join (see {@link #joinBegin}); worker thread only. */
    private boolean joining;
    /**
     * JFR: the open WorkerBlocked event of an announced block, or null; worker thread only. A
     * {@code jdk.jfr.Event}, typed {@code Object}: the field updaters reflect on Worker's fields,
     * which loads each field's type, and no JFR class may load before a recording starts.
     */
    private Object blockEvent;
    /**
     * Start of the announced block in progress (its outermost level), or {@link #UNTIMED}; written
     * by the worker thread, read racily by the monitor ({@link #countedBlockAge}).
     */
    private long blockStartedAt;
    /** {@link #blockStartedAt} of a block that reads no clock ({@link #timesNextBlock}). */
    private static final long UNTIMED = Long.MIN_VALUE;
    /**
     * The last timed block of this worker lasted less than {@link #SHORT_BLOCK_NANOS}: its blocks
     * are timed one in {@link #BLOCK_SAMPLE_EVERY} ({@link #timesNextBlock}). Worker thread only.
     */
    private boolean shortBlocks;
    /** Blocks until the next timed one while {@link #shortBlocks}; worker thread only. */
    private int untilTimedBlock;
    /** Untimed blocks since the last timed one, which stands for them ({@link WorkerPool#noteBlock}); worker thread only. */
    private int untimedBlocks;
    /** Announced blocks this worker timed; written by the worker thread, read racily (tests). */
    long blocksTimed;
    /**
     * The untimed counted block the monitor last saw ({@link #blockKey}) and when it first saw
     * it ({@link #countedBlockAge}); monitor thread only.
     */
    private long untimedSeenKey = -1;
    private long untimedSeenAt;
    /** Blocks shorter than this are timed by sampling ({@link #timesNextBlock}). */
    static final long SHORT_BLOCK_NANOS = 1_000;
    /** While blocks are short, one in this many reads the clock. */
    static final int BLOCK_SAMPLE_EVERY = 8;
    /**
     * JFR: the open WorkerBlocked event of a detected block, or null. Written by the monitor
     * before its RUNNING -> DETECTED CAS (which publishes it), taken by whoever moves the word
     * out of DETECTED.
     */
    private volatile Object detectedEvent; // a jdk.jfr.Event (see blockEvent)
    /**
     * The blocking-site profile's record of the current detected block ({@link DetectedBlock}), or
     * null: nearly always, since only sampled detections have one. Set by the monitor
     * ({@link #PROFILED} getAndSet) before its RUNNING -> DETECTED CAS, which publishes it; taken
     * (getAndSet null) by whoever moves the word out of DETECTED ({@link #blockOver}), who ends it.
     */
    @SuppressWarnings("unused") // through PROFILED
    private volatile DetectedBlock profiled;

    // Idle list links and flags; guarded by the pool lock.
    Worker idleNext, idlePrev;
    boolean idle;
    /** Set by the waker (under pool lock) after it took this worker off the idle list. */
    volatile boolean woken;
    /**
     * True while the worker spins briefly on {@link #woken} before parking; written by the
     * worker. A waker that sees it skips the unpark: the pair (woken, spinning) is a Dekker
     * handshake on volatiles, so either the waker sees spinning == false and unparks, or the
     * worker sees woken == true before it parks.
     */
    volatile boolean spinning;
    long idleSince;
    /**
     * Retired while idle for a pool starved by the thread cap: set (after taking it off the idle
     * list) under the pool lock, read by the worker under it when it wakes.
     */
    boolean retireNow;

    /**
     * The instance being run and its pwq; written by this worker only, read by it and racily by
     * others (the monitor, inheritance, flush checks, displays), who all take what they read as a
     * moment's view. The per-run writes are release stores ({@link #runOne}): a volatile store
     * costs a full fence, four per run, and no reader pairs them with a store of its own (the
     * monitor reads them after {@link #workSeq}, which is released after them).
     */
    volatile WorkNode current;
    volatile PoolWorkqueue currentPwq;
    /** Pwq and color of the instance {@link #claim} just started; worker thread only. */
    PoolWorkqueue runPwq;
    int runColor;
    /**
     * The decorated action ({@link WorkNode#decorated}) of the instance this worker starts next,
     * read by the start ({@link #claim}, a handoff, a help) before its CAS; taken and cleared by
     * {@link #runOne}. Worker thread only.
     */
    private Runnable runDecorated;
    /** Output of {@link #takeHandoff}: pwq and color of the instance taken; worker thread only. */
    private PoolWorkqueue handoffPwq;
    private int handoffColor;
    /**
     * Outer works (and their pwqs) of helped runs, outermost first; written by the worker thread
     * under {@link #helpLock} (read by it without), read by {@link #interruptRun} under it.
     */
    private WorkNode[] helpNodes;
    private PoolWorkqueue[] helpPwqs;
    /** Per help level: an interrupt aimed at that outer work arrived while it helped; helpLock. */
    private boolean[] helpInterrupts;
    /** Helped runs nested on this thread now; as {@link #helpNodes}. */
    private int helpDepth;
    /** Orders help-stack pushes and pops against {@link #interruptRun}. */
    private final Object helpLock = new Object();

    /** The statistics of this worker's runs; worker thread only. */
    final RunAccounting runs;

    Worker(WorkerPool pool, boolean startRunning) {
        this.pool = pool;
        this.engine = pool.engine;
        this.runs = new RunAccounting(engine.threadCpuTime);
        this.startRunning = startRunning;
        this.reserveStarting = !startRunning;
    }

    /**
     * A rescuer's stand-in on {@code pool}: what {@link #current()} returns on the rescuer thread
     * while it runs a work of that pool (see {@link Rescuer}). It is in no list of the pool.
     */
    static Worker rescuerStandIn(WorkerPool pool, Thread rescuerThread) {
        return standIn(pool, rescuerThread, RESCUER); // before the rescuer thread starts: published by Thread.start
    }

    /** A worker of {@code pool} in state {@code wstate} on thread {@code t}, in no list of the pool. */
    private static Worker standIn(WorkerPool pool, Thread t, int wstate) {
        Worker w = new Worker(pool, true);
        w.wstate = wstate;
        w.thread = t;
        return w;
    }

    /**
     * Creates the worker's thread through the engine's factory, names it after {@code role}
     * ({@link ThreadNames}: {@code <base><role>}, unique among live threads) and starts it.
     */
    void start(String role) {
        Thread t = checkNewThread(engine.newThread(this), "");
        t.setDaemon(true);
        if (pool.highPriority) {
            t.setPriority(Thread.MAX_PRIORITY);
        }
        thread = t;
        launched = true;
        ThreadNames.Lease names = engine.threadNames();
        String name = names.name(t, role);
        t.setName(name);
        try {
            t.start();
        } catch (Throwable e) { // never started: its name is free again
            names.forget(t, name);
            throw e;
        }
    }

    /**
     * A thread handed over from a sibling's worker takes this worker's name: its old name is
     * given back and the new one registered ({@link ThreadNames}). Whatever fails here (out of
     * memory in the registry, a thread that refuses the name) leaves the old name: a name is for
     * people, and this worker is already counted in its pool, so its thread must go on to serve it.
     */
    private void rename(String role) {
        Thread t = Thread.currentThread();
        try {
            ThreadNames.Lease names = engine.threadNames();
            names.forget(t, t.getName()); // first: forgetting also drops the thread from the lease's list
            t.setName(names.name(t, role));
        } catch (Throwable e) {
            // keep the old name (see above)
        }
    }

    /**
     * This thread's kernel id from /proc/thread-self (Linux), or 0 elsewhere, and where the
     * engine is not to read /proc ({@code Engine.procFs}).
     */
    private int readNativeTid() {
        if (!engine.procFs) {
            return 0;
        }
        try {
            byte[] stat = new byte[32]; // the id is the line's first field
            int n = Monitor.readProc("/proc/thread-self/stat", stat);
            int tid = 0;
            for (int i = 0; i < n && stat[i] != ' '; i++) {
                int d = stat[i] - '0';
                if (d < 0 || d > 9) {
                    return 0;
                }
                tid = tid * 10 + d;
            }
            return tid;
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The worker running on the current thread, or null. */
    static Worker current() {
        Thread t = Thread.currentThread();
        if (t instanceof WorkerThread wt) {
            return wt.worker;
        }
        return foreignThreads ? CURRENT.get() : null;
    }

    /**
     * Makes {@code w} (null: none) the worker of the calling thread for {@link #current}. On a
     * thread of a user's factory the {@code ThreadLocal}'s entry is set, not removed, with null:
     * after {@link #clearCurrent} no later call allocates.
     */
    static void bindCurrent(Worker w) {
        if (Thread.currentThread() instanceof WorkerThread wt) {
            wt.worker = w;
        } else {
            CURRENT.set(w);
        }
    }

    /** The calling thread, ending, runs no worker any more; allocates nothing. */
    private static void unbindCurrent() {
        if (Thread.currentThread() instanceof WorkerThread wt) {
            wt.worker = null;
        } else {
            CURRENT.remove();
        }
    }

    /**
     * Checks a thread just made for a worker or a rescuer ({@link Engine#newThread}), and notes one
     * that is not a {@link WorkerThread} ({@link #foreignThreads}); before its start.
     *
     * @throws IllegalStateException if the factory returned null or a started thread
     */
    static Thread checkNewThread(Thread t, String forWhat) {
        if (t == null) {
            throw new IllegalStateException("thread factory returned null" + forWhat);
        }
        if (t.getState() != Thread.State.NEW) {
            throw new IllegalStateException("thread factory returned a thread that was already started" + forWhat
                    + ": " + t.getName() + " (" + t.getState() + "); it must return a new, unstarted thread");
        }
        if (!(t instanceof WorkerThread) && !foreignThreads) {
            foreignThreads = true;
        }
        return t;
    }

    WorkerPool pool() {
        return pool;
    }

    /** The pwq of the work this worker runs, or null. */
    PoolWorkqueue currentPwq() {
        return currentPwq;
    }

    WorkNode currentNode() {
        return current;
    }

    int state() {
        return wstate;
    }

    /**
     * Set by {@link #start} just before {@code Thread.start()}, or by {@link #handOffTo} for a
     * thread handed over; {@link #run} does nothing without it. Written once by the manager;
     * published to the worker thread by {@code Thread.start}, or by the donor pool's lock.
     */
    private boolean launched;

    /**
     * The worker that takes this worker's thread over when this one retires: set by
     * {@link #handOffTo} under this worker's pool lock, together with {@link #retireNow}, and
     * read by this worker's thread after it left that pool ({@link #run}). Null: the thread ends.
     */
    private Worker successor;
    /** For a worker given a sibling's thread: its role, to rename the thread with; worker thread only after. */
    private String handedRole;
    /** For a worker given a sibling's thread: that thread's kernel id, known already. */
    private int handedTid;

    /**
     * Gives the thread of this idle worker, which its pool has just retired ({@link
     * WorkerPool#handOffIdle}), to {@code next}, a worker the manager of another pool has just
     * created and counted there: when this one has left its pool, its thread runs {@code next}
     * instead of ending. Donor pool's lock held.
     */
    void handOffTo(Worker next, String role) {
        next.thread = thread;
        next.handedRole = role;
        next.handedTid = nativeTid; // the same thread: no /proc read for it
        next.launched = true;
        successor = next;
    }

    // ------------------------------------------------------------------------------------------
    // The loop.

    /**
     * The thread's task: serves this worker's pool, then, if this worker retired to hand its
     * thread over ({@link #handOffTo}), the successor's pool, and so on; a loop, so that a thread
     * handed over many times keeps a flat stack. What a worker's service throws is thrown when the
     * thread ends, after its successors served.
     */
    @Override
    public void run() {
        RuntimeException runtime = null;
        Error error = null;
        for (Worker w = this; w != null; w = w.successor) {
            try {
                w.serve();
            } catch (RuntimeException e) {
                runtime = e;
            } catch (Error e) {
                error = e;
            }
        }
        if (error != null) {
            throw error;
        }
        if (runtime != null) {
            throw runtime;
        }
    }

    /**
     * Serves this worker's pool on the current thread until the worker exits it. A throw before
     * it serves (out of memory in its first allocations: the thread-local's map, the first
     * drain's admissions) undoes its creation as a thread that could not be started ({@link
     * Manager#workerFailedToStart}): the pool counted it, as running or as a reserve, and a
     * worker that never arrives must not stay counted.
     */
    private void serve() {
        if (!launched) {
            // a thread the factory started itself (start() rejected it): it must not touch the
            // pool's accounting, which counts this worker as never created
            return;
        }
        WorkerPool p = pool;
        try {
            Seam.workerStart();
            if (handedRole != null) {
                rename(handedRole);
            }
            bindCurrent(this);
            nativeTid = handedRole != null ? handedTid : readNativeTid();
            p.lock();
        } catch (Throwable t) {
            try {
                p.lockUnlessHeld();
                p.manager.workerFailedToStart(this, startRunning, t);
            } finally {
                p.unlock();
                unbindCurrent();
            }
            throw t;
        }
        boolean counted = startRunning;
        boolean retired = false;
        try {
            for (;;) {
                if (!counted) {
                    if (!idleWait()) {
                        retired = true;
                        return;
                    }
                }
                counted = true;
                p.workerStarted(this);
                workLoop();
                leaveCountForIdle();
                counted = false; // idleWait first checks whether work arrived meanwhile
            }
        } finally {
            try {
                if (!retired) {
                    leaveAfterThrow(p, counted);
                }
                p.workerExited(this); // never throws
            } finally {
                // whatever happened above: a thread that ended holding the pool lock would stop
                // every queuer and the service thread at this pool for good
                if (p.holdsLock()) {
                    p.unlock();
                }
                unbindCurrent();
            }
        }
    }

    /**
     * The loop threw: an Error in the engine's own bookkeeping (out of memory for a statistic's
     * striped cell, say: the pool lock itself spins rather than fail when it cannot allocate its
     * wait node), since nothing a work throws leaves {@link #runOne}. The thread ends, and the
     * worker leaves its pool as if it had gone idle and retired: out of {@code nrRunning} if it
     * counted there ({@code counted}, or woken and counted by its waker), off the idle list, no
     * longer a starting reserve; and what waits is kicked to another worker or a new one. Left
     * counted, it was a phantom: queuers saw the pool at its target and woke no one. Best effort
     * (a second throw here leaves what is left). What a run in progress held (its slot, its
     * colour) is not covered (§10).
     */
    private void leaveAfterThrow(WorkerPool p, boolean counted) {
        p.lockUnlessHeld();
        try {
            if (woken && !counted && !p.managed) {
                p.wokenWorkerLeft(); // its waker counted it in nWaking, which workerStarted undoes
            }
            if (counted || woken) {
                uncountForIdle();
            }
            if (idle) {
                p.removeIdle(this);
            }
            p.reserveArrived(this);
            p.kick(); // what is listed (what is not, lockUnlessHeld left to the service thread)
        } catch (Throwable t) {
            // best effort: the thread is ending with the first throw
        }
    }

    /** Runs works while the policy allows; lock held on entry and exit. */
    private void workLoop() {
        WorkerPool p = pool;
        startClock = 0; // whatever ended the last loop (an idle wait, a throw) took its time
        for (;;) {
            Seam.workLoop();
            for (;;) {
                if (p.ring != null) {
                    boolean thief = listForThief;
                    listForThief = false;
                    if ((untilBalance <= 0 || thief) && !p.ring.isEmpty()) {
                        untilBalance = Stealing.BALANCE_EVERY;
                        boolean stealable = laneSawChain || p.stealWorthwhile();
                        laneSawChain = false;
                        if (thief || (stealable && p.ring.size() >= 2 && Stealing.siblingIdle(p))) {
                            // listed, where a thief or the balance below sees it, as the backlog
                            // it has been since the lane saw it last (which lasts until the lane
                            // sees the ring empty)
                            p.drainInbound();
                            p.backlogSeenSince(laneBacklogSince);
                            if (thief) {
                                // asked without this pool's lock: the kick locks the sibling
                                p.unlock();
                                try {
                                    Stealing.askForThief(p);
                                } finally {
                                    p.lockBeforeDrain();
                                }
                                startClock = 0;
                                continue;
                            }
                        }
                        if (Stealing.rebalance(this)) {
                            startClock = 0;
                            continue;
                        }
                    }
                    if (fastFirst(p)) {
                        continue;
                    }
                }
                if (!p.keepWorking()) {
                    break;
                }
                if (--untilBalance <= 0) {
                    untilBalance = Stealing.BALANCE_EVERY;
                    if (Stealing.rebalance(this)) {
                        startClock = 0; // the lock was let go: the next run reads the clock
                        continue; // and the pool is looked at again
                    }
                }
                WorkNode n = p.takeFirst();
                if (n != null && claim(n)) {
                    process(n);
                }
            }
            startClock = 0; // what follows may park: the last run's end is no longer now
            if (!p.hasWork() && p.managed && engine.stealing && !p.closing && p.mayStealMore()
                    && Stealing.trySteal(this)) {
                continue;
            }
            if (lingerForWork(p)) {
                continue;
            }
            return;
        }
    }

    /**
     * A counted worker whose pool has nothing for it watches the pool for a moment before it goes
     * idle: still counted, so a queuer sees a running worker and needs neither the lock nor an
     * unpark ({@link WorkerPool#pushNeedsKick}), and this worker needs no idle transition (leave
     * nrRunning, the idle list, a spin counted as searching, the lock, the recount: about ten
     * atomics, two of them on counters every queuer reads). When one producer queues works just
     * slower than the worker runs them, the pool runs dry after every work, and that transition
     * per work made the worker the bottleneck it was not. Only where a spin is allowed
     * ({@link Engine#trySpin}, the CPUs not saturated), for {@link #LINGER_NANOS} at most; then
     * the usual way to idle (its own spin included). It starts only with nothing pending nor
     * inbound, so a pool that has work its policy keeps this worker from taking sends it idle at
     * once. The time it watched in vain comes off the idle spin that follows ({@link
     * #lingered}), so a worker that runs out of work spins no longer than before. Lock held on
     * entry and exit, released while it watches.
     *
     * @return true if work arrived meanwhile (the caller looks at its pool again)
     */
    private boolean lingerForWork(WorkerPool p) {
        lingered = 0;
        if (!p.managed || p.closing || p.hasWork() || engine.cpuLoad.saturated || !engine.trySpin()) {
            return false;
        }
        p.unlock();
        try {
            Seam.linger();
            long linger = Math.min(LINGER_NANOS, engine.idleSpinNanos);
            long deadline = System.nanoTime() + linger;
            for (int i = 1; !p.hasWork(); i++) {
                Thread.onSpinWait();
                if ((i & 31) == 0 && System.nanoTime() - deadline >= 0) {
                    lingered = linger;
                    return false;
                }
            }
            engine.lingerHits.increment();
            return true;
        } finally {
            engine.spinDone();
            if (p.ring != null) {
                p.lockBeforeDrain(); // what came to the ring is for the lane (workLoop looks there first)
            } else {
                p.lock(); // admits what came
            }
        }
    }

    /** Longest {@link #lingerForWork}: a few runs of a producer's no-op works, well under a wake-up. */
    static final long LINGER_NANOS = 5_000L;
    /**
     * How long the last {@link #lingerForWork} watched in vain, for the idle spin right after it
     * ({@link #spinBeforePark}) to take off its own; 0 otherwise. Worker thread only.
     */
    private long lingered;

    /** Runs a started work; lock held on entry and exit, released while the work runs. */
    private void process(WorkNode n) {
        PoolWorkqueue pwq = runPwq;
        int color = runColor;
        WorkerPool p = pool;
        // A stealable backlog here while a sibling pool sits idle: send it a thief. Stealing is
        // otherwise only triggered by inserts, and a burst queued once would leave the sibling
        // idle for the rest of the backlog.
        boolean stealable = p.managed && engine.stealing && p.hasStealableBacklog(startClock);
        p.unlock();
        boolean locked = false;
        try {
            if (stealable) {
                Stealing.askForThief(p);
            }
            PoolWorkqueue last = execute(n, pwq, color);
            int passes = 0;
            for (;;) {
                if (last.pool != p) {
                    last.runDoneUnlocked(runColor, this);
                    break;
                }
                long ended = runs.endedAt();
                boolean quick = p.lockBeforeDrain();
                locked = true;
                WorkNode next = passes < MAX_PASSES ? p.takeSuccessor(last, runColor) : null;
                if (next == null && p.ring != null) {
                    // no drain: what waits in the ring is for the lane, which the work loop
                    // looks at first (what is on the stack, its drain admits)
                    endRun(last);
                    startClock = quick ? ended : 0;
                    break;
                }
                if (next == null) {
                    // the run's end first: the drain's admissions kick, a kick may throw (arming
                    // the manager grows the timer's heap when it is full), and thrown before the
                    // end it took the finished run's count and colour with it, for good
                    // (FaultsTest.anAdmissionThatThrowsAtARunsEndLeavesTheRunEnded)
                    endRun(last);
                    quick = p.drainAfterRun(quick, ended); // a short drain needs no clock read either
                    startClock = quick ? ended : 0;
                    break;
                }
                // A lone work of this pwq (the run's successor) and nothing else waits here: it
                // takes the run's slot (ARCHITECTURE 6, "A chain's successor"). Started first:
                // nothing that may throw comes between the take and the start.
                boolean started = startInSlot(next, last, runColor, ended);
                last.recordRun(this);
                if (!started) {
                    // handed, with the slot, to the worker running its last instance: cannot
                    // happen (the take saw none running), but if it did, that worker ends it
                    quick = p.drainAfterRun(quick, ended);
                    startClock = 0;
                    break;
                }
                passes++;
                untilBalance--; // a run, as workLoop counts them
                p.unlock();
                locked = false;
                startClock = quick ? ended : 0;
                last = execute(next, last, runColor);
            }
        } finally {
            if (!locked) {
                p.lock();
            }
        }
    }

    /**
     * Most successors a worker starts in place in a row before it looks at its pool through
     * {@link #workLoop} again (balance, stealing, the concurrency rule's other checks).
     */
    static final int MAX_PASSES = 64;

    /**
     * Starts {@code n}, which {@link WorkerPool#takeSuccessor} took off the stack, in the slot of
     * the run of {@code pwq} (colour {@code color}) that just ended at {@code now}: what admitting,
     * listing and taking would do, except the counts, which do not change, then {@link #claim}. The
     * start does not fail: the pending instance is the lock holder's to start, and the take saw
     * no instance of it running. Pool lock.
     *
     * @return true if started; false if it was handed off after all ({@link WorkNode#tryStart})
     */
    private boolean startInSlot(WorkNode n, PoolWorkqueue pwq, int color, long now) {
        n.setWhereRelease(WorkNode.NOWHERE); // taken, as by takeFirst
        n.color = (byte) color; // as its admission in that colour would have
        n.queuedAt = now;
        Events.queued(n, pwq); // never throws
        return claim(n); // n.pwq is pwq: the take checked it
    }

    /**
     * Runs the instance, then every instance handed to us meanwhile. Ends all of them except the
     * last in their pwqs; returns the last one's pwq, with its color in {@link #runColor}.
     */
    private PoolWorkqueue execute(WorkNode n, PoolWorkqueue pwq, int color) {
        runOne(n, pwq, NOT_LANE);
        return endCounted(n, pwq, color);
    }

    /**
     * The end of {@link #execute}: ends the counted run of {@code n} (of {@code pwq}, colour
     * {@code color}) that just returned, then runs and ends every instance handed to this worker
     * meanwhile, but the last, whose pwq it returns (colour in {@link #runColor}).
     */
    private PoolWorkqueue endCounted(WorkNode n, PoolWorkqueue pwq, int color) {
        for (;;) {
            // End the instance with one CAS; take a handed-off successor if there is one.
            for (;;) {
                int s = n.state;
                int behind = WorkNode.behind(s);
                if ((s & WorkNode.HANDOFF) != 0) {
                    int taken = takeHandoff(n, n.pwq, pwq, color);
                    if (taken == HANDOFF_DEFERRED) {
                        // its workqueue froze meanwhile: the next instance waits for the thaw,
                        // and the finished run ends as one without a successor (process)
                        runColor = color;
                        return pwq;
                    }
                    if (taken == HANDOFF_TAKEN) {
                        pwq = handoffPwq;
                        color = handoffColor;
                        break; // run the successor
                    }
                } else if (n.casState(s, s & ~(WorkNode.RUNNING | WorkNode.CANCELLED_BEHIND))) {
                    n.resolve(1 + behind);
                    runColor = color;
                    return pwq;
                }
            }
            runOne(n, pwq, NOT_LANE);
        }
    }

    /**
     * Ends the instance that just ran ({@code done}, {@code doneColor}) and takes the one handed to
     * this worker, in one CAS under the lock of {@code next.pool}, {@code next} being the pwq read
     * for it without a lock: the handoff protocol (see {@link WorkNode#isHandedOffFrom}). Read
     * outside the lock, the handed-off instance's pwq and color could be an earlier instance's.
     * Leaves the taken instance's pwq and color in {@link #handoffPwq} and {@link #handoffColor},
     * and its queue time in {@link #runQueuedAt}.
     *
     * <p>If {@code next}'s workqueue froze meanwhile, the handed-off instance must not start: it
     * goes back to the front of the inactive list instead ({@link PoolWorkqueue#deferHandedOff}),
     * and the caller ends the finished run as a run without a successor.
     *
     * @return {@link #HANDOFF_TAKEN}; {@link #HANDOFF_DEFERRED}; or {@link #HANDOFF_RETRY} if the
     *     handed-off instance was taken meanwhile (cancelled or moved): the caller looks at the
     *     state word again
     */
    private int takeHandoff(WorkNode n, PoolWorkqueue next, PoolWorkqueue done, int doneColor) {
        Seam.handoffPwqRead();
        WorkerPool p = next.pool;
        boolean doneHere = done.pool == p; // one lock for both ends when they share a pool
        int s;
        boolean deferred = false;
        // No drain before the start and the ends: an admission may throw, and thrown there it
        // left the finished run unended and the handed instance never run. The drain comes after
        // them (drainAfterHandoff), on the paths that changed something.
        p.lockBeforeDrain();
        try {
            if (!n.isHandedOffFrom(next)) {
                return HANDOFF_RETRY;
            }
            s = n.state;
            if (next.maxActive == 0) {
                if (!next.deferHandedOff(n, s)) {
                    return HANDOFF_RETRY;
                }
                deferred = true;
            } else {
                int nextColor = n.color; // before the CAS: from it on, a new instance may be queued
                long nextQueuedAt = n.queuedAt;
                Runnable nextDecorated = n.decorated;
                if (!n.startPending(s, s & ~(WorkNode.HANDOFF | WorkNode.PENDING | WorkNode.CANCELLED_BEHIND))) {
                    return HANDOFF_RETRY;
                }
                runDecorated = nextDecorated;
                if (doneHere) {
                    done.recordRun(this);
                    done.workDone(doneColor);
                }
                handoffPwq = next;
                handoffColor = nextColor;
                runs.queued(nextQueuedAt); // the finished run's statistics were taken when it ended
            }
            drainAfterHandoff(p);
        } finally {
            p.unlock();
        }
        n.resolve(1 + WorkNode.behind(s));
        if (deferred) {
            return HANDOFF_DEFERRED; // the caller ends the finished run as one without a successor
        }
        if (!doneHere) {
            try {
                done.runDoneUnlocked(doneColor, this);
            } catch (Throwable t) {
                // as in drainAfterHandoff: the end came first (runDoneUnlocked), its drain threw;
                // or, at the end of a stack, the JVM threw right after the lock's acquisition,
                // before runDoneUnlocked's try: the lock must not stay held
                if (done.pool.holdsLock()) {
                    done.pool.unlock();
                }
            }
        }
        return HANDOFF_TAKEN;
    }

    /**
     * The drain {@link #takeHandoff}'s lock owes, made after it started the handed instance (or
     * deferred it) and ended what it ends. What an admission throws is not passed on: the
     * instance taken is started and must run, with nothing in between, and the drain that threw
     * left its rest to the service thread ({@link WorkerPool#drainInbound}), so the throw costs
     * nothing that is not repaired ({@code FaultsTest.anAdmissionThatThrowsAroundAHandOffLosesNoRun}).
     * Lock.
     */
    private static void drainAfterHandoff(WorkerPool p) {
        try {
            p.drainAfterRun(false, 0);
        } catch (Throwable t) {
            // repaired by the service thread (above)
        }
    }

    /** {@link #takeHandoff} outcomes. */
    private static final int HANDOFF_RETRY = 0;
    private static final int HANDOFF_TAKEN = 1;
    private static final int HANDOFF_DEFERRED = 2;

    /**
     * On the rescuer thread, as this pool's stand-in: runs the instance {@link
     * WorkerPool#rescueNext} started (its pwq and color in {@link #runPwq}, {@link #runColor}),
     * then every instance handed to it meanwhile, and ends them in their pwqs.
     */
    void runRescued(WorkNode n) {
        bindCurrent(this); // the rescuer thread's entry exists (clearCurrent): no allocation here
        try {
            PoolWorkqueue last = execute(n, runPwq, runColor);
            last.runDoneUnlocked(runColor, this);
        } finally {
            bindCurrent(null); // not remove(): the next set would allocate the entry again
        }
    }

    /**
     * Gives the calling thread (a rescuer's, as it starts) its entry for {@link #current}, empty:
     * {@link #runRescued} then sets and clears it without allocating, between the claim of a work
     * and its run, where out of memory would leave the claimed work RUNNING, never run.
     */
    static void clearCurrent() {
        bindCurrent(null);
    }

    /**
     * Runs {@code n}, of {@code pwq}, on this thread, and does the accounting of its end
     * ({@link #afterRun}); {@code look} is what the lane saw of its ring as it took {@code n}
     * ({@link #LANE_MORE}, {@link #LANE_EMPTY}), or {@link #NOT_LANE}.
     */
    private void runOne(WorkNode n, PoolWorkqueue pwq, byte look) {
        CURRENT_NODE.lazySet(this, n);
        CURRENT_PWQ.lazySet(this, pwq);
        long start = startClock;
        startClock = 0;
        boolean fresh = start == 0;
        workStartedAt = fresh ? System.nanoTime() : start;
        runs.started(workStartedAt, fresh);
        blocksThisRun = 0;
        WORK_SEQ.lazySet(this, workSeq + 1);
        runDisturbed = false;
        recountIfUncounted(); // counted on entry, unless the monitor took it out meanwhile
        if (pwq.wq.cpuIntensive && pool.managed) {
            try {
                enterUncounted(CPU_INTENSIVE);
            } catch (Throwable t) {
                // out of the count already (the count comes first); what threw is the kick for
                // the pool's other works, which the monitor makes for a pool that waits. Thrown
                // on, it cost this started work its run: the flush of its workqueue waited for
                // good (FaultsTest.anErrorLeavingTheCountForACpuIntensiveRunLosesNoWork)
            }
        }
        Runnable decorated = runDecorated;
        runDecorated = null;
        jdk.jfr.Event traced = null;
        try {
            traced = Events.started(n, pwq);
            // An interrupt still set here was aimed at an earlier work (one that has ended since,
            // or a sender that read its runner a moment too late): not at this one.
            Thread.interrupted();
            n.runAction(decorated);
        } catch (Throwable t) {
            engine.reportFailure(n, pwq.wq, t); // never throws
        } finally {
            // The accounting first: whatever failed above (the work, its report, a JFR event),
            // the instance ends normally in execute(), which runs no user code.
            afterRun(traced, look);
        }
    }

    /**
     * The end of {@link #runOne}'s run, normal or not. A method of its own: in the
     * {@code finally} it would be compiled three times over (javac copies a finally block onto
     * each way out of the try), which tripled the bytecode of the hottest method on the per-work
     * path that every fresh JVM compiles at tier 3 and then at tier 4 (ARCHITECTURE 10, <i>A cold
     * flood, per thread and tier</i>; measured neutral on the JIT's time, kept for the size).
     */
    private void afterRun(jdk.jfr.Event traced, byte look) {
        // An interrupt never leaks into the next work.
        Thread.interrupted();
        blockDepth = 0;
        if (countedBlock) {
            endCountedBlock(); // left open (blockEnd not reached)
        }
        recountIfUncounted();
        leaveJoin(); // a join left open (joinEnd not reached) is over with the work
        CURRENT_NODE.lazySet(this, null);
        CURRENT_PWQ.lazySet(this, null);
        Events.ended(traced); // best effort: never throws
        // an undisturbed run with more work waiting may end at its estimate (RunAccounting:
        // only one that started at the previous run's end); the last run before the pool
        // runs dry reads the clock
        runs.ended(!runDisturbed && (look == LANE_MORE || pool.hasWork()));
        if (pool.tracksDemand() && runs.cpuMeasured()) {
            pool.noteRunDemand(runs.cpu, blocksThisRun);
        }
        FastRing r = pool.ring;
        if (r != null && look != LANE_EMPTY && runs.endedOnClock()) {
            // the admission time of what was offered since the last tick. Not after a lane run
            // whose take left the ring empty: what was offered since is next in the ring, and
            // counts as admitted at its start or listing (ARCHITECTURE 6, "Queue latency in the
            // lane"), most often right after this end; the tick's CAS would take the count's
            // line from the producers, who read it at every offer
            r.tick(runs.endedAt());
        }
    }

    // ------------------------------------------------------------------------------------------
    // The fast lane (ARCHITECTURE 6, "The fast lane").

    /** {@link #fastMark}: about to take from the ring, or between a take and its start. */
    static final Object IN_FLIGHT = new Mark("IN_FLIGHT");
    /** {@link #fastMark}: a node taken and not startable in the lane waits in {@link #handBack}. */
    static final Object HANDED_BACK = new Mark("HANDED_BACK");
    /** {@link #fastMark}: a lock holder counted the fast run in progress; colour in {@link #fastColor}. */
    static final Object CONVERTED = new Mark("CONVERTED");

    /** A value of {@link #fastMark} that is not a node, named for diagnostics. */
    private record Mark(String name) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * Where this worker stands in its pool's fast lane, for the pool's lock holders
     * ({@link WorkerPool#closeForHolder}): null (outside it); {@link #IN_FLIGHT} (about to take
     * from the ring, or between a take and its start: a holder waits); the node of the fast run
     * in progress (uncounted: a holder converts it); {@link #HANDED_BACK}; {@link #CONVERTED}.
     * Written by this worker (release stores, and the CAS at a run's end, {@link #fastEnd}) and
     * by a lock holder of its pool (the CAS to CONVERTED; HANDED_BACK back to null). While it is
     * IN_FLIGHT this worker takes no lock, of any pool: lock holders wait for it.
     */
    volatile Object fastMark;
    /** The pwq of the fast run in progress; written by this worker before the mark names the run. */
    PoolWorkqueue fastPwq;
    /** Colour a lock holder counted the fast run in (with CONVERTED); pool lock. */
    int fastColor;
    /** The node this worker took and handed back (with HANDED_BACK); taken by a lock holder. */
    WorkNode handBack;
    /** Ring position of this worker's last take ({@link FastRing#take}); own thread. */
    long fastTakePos;
    /**
     * What {@link #fastLoop} saw of the ring as it took a work ({@link #runOne}'s {@code look}):
     * nothing (not a lane run), the ring empty after it, or more behind it (its end need not look
     * at the pool for more).
     */
    private static final byte NOT_LANE = 0;
    private static final byte LANE_EMPTY = 1;
    private static final byte LANE_MORE = 2;
    /** Works this worker started in the lane; written by it, read racily (tests). */
    long laneStarts;
    /**
     * Since when (a run's end) the ring has held works whenever this worker took one, 0 if it
     * was left empty at the last take: the lane's {@code backlogSince}, by which a thief judges
     * a backlog ({@link WorkerPool#backlogSeenSince}). Own thread.
     */
    private long laneBacklogSince;
    /** When this worker last looked for an idle sibling for the lane's backlog ({@link #fastLoop}). Own thread. */
    private long laneThiefLook;
    /**
     * The lane ran a work queued by one of this pool's workers (a chain's successor) since the
     * work loop's last look at the balance. Without one, and with works too short to be worth a
     * thief one by one ({@link WorkerPool#stealWorthwhile}), nothing in the ring is stealable:
     * the look leaves the ring to the lane instead of listing it for a thief that would not
     * take it (an external producer's tiny works were listed, and run on the locked path, about
     * three in four, on two CPUs). Own thread.
     */
    private boolean laneSawChain;
    /** The lane's backlog lasted with an idle sibling: the work loop lists it and asks for a thief. Own thread. */
    private boolean listForThief;

    boolean casFastMark(Object expect, Object update) {
        return FAST_MARK.compareAndSet(this, expect, update);
    }

    /** A release store of {@link #fastMark}: its other writers CAS or hold the lock. */
    void fastMarkRelease(Object m) {
        FAST_MARK.lazySet(this, m);
    }

    /**
     * The work loop's look at the lane, lock held: with nothing listed, on the stack or handed
     * back, and the ring holding something, opens the ring and runs {@link #fastLoop} without
     * the lock, then locks again without a drain (what stays in the ring is for the lane).
     *
     * @return true if it took anything
     */
    private boolean fastFirst(WorkerPool p) {
        if (p.ring.isEmpty() || !p.mayStealMore() || !p.reopenFast()) {
            return false;
        }
        boolean took;
        p.unlock();
        try {
            took = fastLoop(p);
        } finally {
            p.lockBeforeDrain(); // closes the ring, collects what a take handed back
        }
        return took;
    }

    /**
     * The work loop's look at the lane ({@link #fastFirst}) on a stand-in worker of {@code p}
     * ({@link #rescuerStandIn}, listed in the pool: {@link WorkerPool#listForTests}), bound as the
     * current worker meanwhile, as {@link #runRescued} binds it: for {@code
     * WorkStateInterleavingTest}, which drives the lane step by step. Lock held on entry and exit.
     */
    boolean fastFirstForTests(WorkerPool p) {
        bindCurrent(this);
        try {
            return fastFirst(p);
        } finally {
            bindCurrent(null);
        }
    }

    /**
     * A worker of {@code pool} for {@code WorkStateInterleavingTest}'s idle scenarios, on thread
     * {@code t}, RUNNING (the caller lists it in the pool and counts it: {@link
     * WorkerPool#listForTests}); it goes idle with {@link #goIdleForTests}.
     */
    static Worker idleStandIn(WorkerPool pool, Thread t) {
        return standIn(pool, t, RUNNING);
    }

    /**
     * Goes idle as a worker whose work loop found nothing does ({@link #serve}: out of the
     * running count, then {@link #idleWait}), bound as the current worker meanwhile; with
     * {@code spin} false its idle spin is spent already (as after a linger that watched in
     * vain). For {@code WorkStateInterleavingTest}. Lock held on entry and exit.
     *
     * @return {@link #idleWait}'s result: true when woken (counted again), false to leave
     */
    boolean goIdleForTests(boolean spin) {
        bindCurrent(this);
        try {
            lingered = spin ? 0 : engine.idleSpinNanos;
            leaveCountForIdle();
            return idleWait();
        } finally {
            bindCurrent(null);
        }
    }

    /**
     * Takes works from the ring of this worker's pool without the lock and runs them uncounted,
     * while the ring is open, what it takes is startable in the lane, and the pool's concurrency
     * rule lets this worker go on ({@link WorkerPool#mayStealMore}), at most {@link #MAX_PASSES}
     * runs in a row. Lock not held on entry or exit; the caller's lock after it closes the ring
     * and admits what was handed back.
     *
     * @return true if it took anything (the caller looks at its pool again)
     */
    private boolean fastLoop(WorkerPool p) {
        FastRing r = p.ring;
        boolean took = false;
        Seam.lane(3);
        FAST_MARK.lazySet(this, IN_FLIGHT); // published by the take's CAS (a holder's close reads it after)
        try {
            Seam.lane(0);
            for (int k = 0; k < MAX_PASSES; k++) {
                if (laneBacklogSince != 0 && startClock - laneThiefLook >= engine.stealThresholdNanos) {
                    // the ring has held works past the steal threshold: list them for a thief if
                    // an idle sibling could take one, else look again a threshold later
                    if (p.stealWorthwhile() && Stealing.siblingIdle(p)) {
                        listForThief = true;
                        break;
                    }
                    laneThiefLook = startClock;
                }
                WorkNode n = r.take(this);
                if (n == null) {
                    break;
                }
                Seam.lane(1);
                if (!n.external()) {
                    laneSawChain = true; // a successor queued here: a chain a thief could move
                }
                // more offered after it? Read from the next slot, on the line the take just read
                // most often, not from the tail, which the producers write at every offer
                boolean more = r.holdsAfter(fastTakePos);
                if (!more) {
                    laneBacklogSince = 0;
                } else if (laneBacklogSince == 0 && engine.stealing) {
                    laneBacklogSince = startClock; // the last run's end (0 at a loop's first run: from the next)
                    laneThiefLook = startClock;
                }
                // for the drains of lock holders and a thief's look: a backlog with a chain in it
                // (a producer's tiny works are never stolen, so a thief need not lock for them)
                long hint = laneSawChain ? laneBacklogSince : 0;
                if (p.laneBacklogHint != hint) {
                    p.laneBacklogHint = hint;
                }
                took = true;
                PoolWorkqueue pwq = n.pwq;
                Runnable decorated = n.decorated; // before the start clears it
                long stamp = n.queuedAt; // the ring's clock count at its offer
                if (!startFast(n, pwq)) {
                    n.queuedAt = fastTakePos; // its place among what the ring held
                    handBack = n;
                    FAST_MARK.lazySet(this, HANDED_BACK);
                    return true;
                }
                fastPwq = pwq;
                FAST_MARK.lazySet(this, n);
                laneStarts++;
                if (engine.stealing && !p.runsAreShort() && r.size() >= 2) {
                    // a backlog of long works: an idle sibling may help. Asked with the mark
                    // naming the run, never IN_FLIGHT: the kick locks the sibling, whose holder
                    // would wait for its own takers, and one of those could be asking the same
                    // of this pool, whose holder would wait for this worker
                    Stealing.askForThief(p);
                }
                runDecorated = decorated;
                p.noteFastStart();
                untilBalance--;
                runs.queued(r.admittedAt(stamp)); // its latency from the first clock read after its offer
                Events.queued(n, pwq); // never throws
                runOne(n, pwq, more ? LANE_MORE : LANE_EMPTY);
                if (!fastEnd(n, pwq, p)) {
                    return true;
                }
                startClock = runs.endedAt(); // the next run starts where this one ended
                if (untilBalance <= 0 || p.closing || !p.mayStealMore()) {
                    break;
                }
            }
        } finally {
            startClock = 0;
            if (fastMark == IN_FLIGHT) {
                FAST_MARK.lazySet(this, null);
            }
        }
        return took;
    }

    /**
     * Starts {@code n}, taken from the ring, in the lane if its pwq allows it now
     * ({@link PoolWorkqueue#fastOk}) and no instance of it runs (a hand-off needs the node
     * counted). While the mark is IN_FLIGHT no lock holder changes what this reads.
     *
     * @return false if it must be handed back (PENDING, untouched)
     */
    private boolean startFast(WorkNode n, PoolWorkqueue pwq) {
        if (!pwq.fastOk()) {
            return false;
        }
        for (;;) {
            int s = n.state;
            if ((s & WorkNode.RUNNING) != 0) {
                return false;
            }
            if (n.startPending(s, (s & ~WorkNode.PENDING) | WorkNode.RUNNING)) {
                n.setWhereRelease(WorkNode.NOWHERE);
                pwq.laneStarts++; // before the mark names the run: see PoolWorkqueue.laneStarts
                return true;
            }
        }
    }

    /**
     * Ends the fast run of {@code n} (of {@code pwq}) that just returned: the state word's CAS and
     * the resolution, as every run; then the mark's CAS from the node to IN_FLIGHT, which decides
     * against a holder's conversion; then, still IN_FLIGHT, its statistics into this worker's
     * buffer ({@link #recordFast}). A converted run, or one with an instance handed to it (which
     * needs it counted), ends on the locked path instead, its statistics into its pwq.
     *
     * <p>The statistics come after the mark's CAS so that the buffer is written only while every
     * lock holder waits ({@link WorkerPool#closeForHolder} waits out an IN_FLIGHT mark, and a
     * holder that converted the run sees it end under the lock): a holder reading the buffer
     * never meets a write in progress, and the buffer needs no protocol of its own. (Before them,
     * a throw in the statistics, out of memory for a slot, left the mark naming a run that had
     * ended, for a later holder to count in and nobody to count out.)
     *
     * @return true if the loop may take again
     */
    private boolean fastEnd(WorkNode n, PoolWorkqueue pwq, WorkerPool p) {
        for (;;) {
            int s = n.state;
            if ((s & WorkNode.HANDOFF) != 0) {
                endWithHandoff(n, pwq, p);
                return false;
            }
            if (n.casState(s, s & ~(WorkNode.RUNNING | WorkNode.CANCELLED_BEHIND))) {
                n.resolve(1 + WorkNode.behind(s));
                break;
            }
        }
        Seam.lane(2);
        if (FAST_MARK.compareAndSet(this, n, IN_FLIGHT)) {
            return recordFast(pwq, p);
        }
        // a lock holder counted the run meanwhile (CONVERTED): its end gives the count back, and
        // its statistics go to its pwq as a counted run's do; the drain after the end (an
        // admission may throw)
        p.lockBeforeDrain();
        try {
            pwq.recordRun(this);
            pwq.workDone(fastColor);
            FAST_MARK.lazySet(this, null);
            p.drainAfterRun(false, 0);
        } finally {
            p.unlock();
        }
        return false;
    }

    /**
     * A fast run of {@code n} ended with an instance handed to it: has the run counted (this
     * lock converts it, unless a holder did), then ends it as a counted run, with the hand-off
     * ({@link #endCounted}), and ends the last run of that chain as {@link #process} does.
     */
    private void endWithHandoff(WorkNode n, PoolWorkqueue pwq, WorkerPool p) {
        int color;
        p.lockBeforeDrain(); // converts the run; no drain before its end (an admission may throw)
        try {
            color = fastColor;
            FAST_MARK.lazySet(this, null);
        } finally {
            p.unlock();
        }
        PoolWorkqueue last = endCounted(n, pwq, color);
        if (last.pool != p) {
            last.runDoneUnlocked(runColor, this);
        } else {
            p.lockBeforeDrain();
            try {
                endRun(last);
                p.drainAfterRun(false, 0); // after the end, as process drains
            } finally {
                p.unlock();
            }
        }
    }

    /** The statistics of this worker's fast runs, until a lock holder folds them into the pwqs. */
    private final FastStats fastStats = new FastStats();

    /**
     * Adds the fast run that just ended (its {@link #runs}) to the buffer, the mark IN_FLIGHT (see
     * {@link #fastEnd}). If every slot holds another pwq, folds the oldest under the pool lock,
     * which this worker takes only with its mark cleared: holders wait for an IN_FLIGHT mark, its
     * own lock included.
     *
     * @return true if the loop may take again; false after a fold (the mark is null)
     */
    private boolean recordFast(PoolWorkqueue pwq, WorkerPool p) {
        p.noteRunWall(runs.wall); // racy: a moving average's hint (see noteRunWall)
        if (fastStats.record(pwq, runs)) {
            return true;
        }
        FAST_MARK.lazySet(this, null);
        p.lock();
        try {
            fastStats.foldOldest();
            fastStats.record(pwq, runs); // a slot is free now
        } finally {
            p.unlock();
        }
        return false;
    }

    /** Folds the buffer into the pwqs; this worker leaves its pool (or its thread ended). Pool lock. */
    void foldFastStats() {
        fastStats.foldAll();
    }

    /**
     * Adds this worker's buffered statistics of {@code pwq} into a snapshot's sums
     * ({@code runsCpu}: executed, CPU). Any thread; pool lock.
     */
    void addFastStats(PoolWorkqueue pwq, long[] runsCpu, long[] lat, long[] latSumMax, long[] wall, long[] wallSumMax) {
        fastStats.addTo(pwq, runsCpu, lat, latSumMax, wall, wallSumMax);
    }

    // ------------------------------------------------------------------------------------------
    // Helping (see {@link Helping}).

    /**
     * Runs {@code n}, which {@link Helping} took off its list for the work this worker is
     * running (the outer work waits for it), in place on this thread; then ends it in its pwq.
     * The outer work's accounting is saved and restored around it: its node and pwq (kept on
     * the help stack, so that self-wait checks see every level), its announced-block depth and
     * its interrupt status. Worker thread only.
     */
    /**
     * Makes this worker's help stack on its first help, before the helped work is taken: out of
     * memory after the take (which starts the work) left it RUNNING, never run.
     */
    void ensureHelpStack() {
        if (helpNodes == null) {
            WorkNode[] nodes = new WorkNode[engine.maxHelpDepth];
            PoolWorkqueue[] pwqs = new PoolWorkqueue[engine.maxHelpDepth];
            boolean[] interrupts = new boolean[engine.maxHelpDepth];
            helpPwqs = pwqs;
            helpInterrupts = interrupts;
            helpNodes = nodes; // last: its being set says the three are
        }
    }

    void runHelped(WorkNode n, PoolWorkqueue pwq, int color, long queuedAt, Runnable decorated) {
        WorkNode outer = current;
        PoolWorkqueue outerPwq = currentPwq;
        long outerQueuedAt = runs.savedQueuedAt(); // the outer work's statistics resume after the help
        long outerStartedAt = runs.savedStartedAt();
        runs.queued(queuedAt);
        int outerBlockDepth = blockDepth;
        boolean outerCounted = countedBlock;
        if (outerCounted) {
            endCountedBlock(); // suspended while the help runs, as an uncounted block is
        }
        int outerBlocks = blocksThisRun;
        boolean interrupted;
        ensureHelpStack(); // made before the take (Helping.tryHelp): here it allocates nothing
        synchronized (helpLock) {
            // from here interruptRun(outer) keeps its interrupt for the outer work instead of
            // interrupting the helped run
            interrupted = Thread.interrupted(); // the outer work's, kept for it
            helpNodes[helpDepth] = outer;
            helpPwqs[helpDepth] = outerPwq;
            helpInterrupts[helpDepth] = false;
            helpDepth++;
        }
        blockDepth = 0;
        runDecorated = decorated; // its own, not the waiter's: the helped run sees the context it was queued with
        try {
            PoolWorkqueue last = execute(n, pwq, color);
            last.runDoneUnlocked(runColor, this);
        } finally {
            runs.resume(outerQueuedAt, outerStartedAt);
            synchronized (helpLock) {
                helpDepth--;
                interrupted |= helpInterrupts[helpDepth]; // aimed at the outer work meanwhile
                helpInterrupts[helpDepth] = false;
                helpNodes[helpDepth] = null;
                helpPwqs[helpDepth] = null;
                current = outer;
                currentPwq = outerPwq;
            }
            // the outer work resumes: the monitor gives it a fresh stall window
            runDisturbed = true;
            workStartedAt = System.nanoTime();
            WORK_SEQ.lazySet(this, workSeq + 1);
            blockDepth = outerBlockDepth;
            blocksThisRun = outerBlocks;
            if (outerPwq.wq.cpuIntensive && pool.managed) {
                // first: a CPU-intensive run stays out of the count through its blocks (a block
                // begun in it finds it uncounted already), and resumed as BLOCKED its block's end
                // would count it again for the rest of its run
                enterUncounted(CPU_INTENSIVE);
            } else if (outerBlockDepth > 0 && outerCounted && mayCountBlock()) {
                beginCountedBlock(); // the outer's block goes on, counted as before
            } else if (outerBlockDepth > 0) {
                enterUncounted(BLOCKED); // the helped run counted us again; the outer was blocked
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Interrupts the run of {@code n} on this worker, and no other run: if {@code n} runs
     * innermost, its thread is interrupted; if it is an outer work waiting while this thread runs
     * a work it helps, the interrupt is kept and delivered when it resumes (the helped run would
     * otherwise see it, and consume it when it ends); if it does not run here, nothing.
     */
    void interruptRun(WorkNode n) {
        synchronized (helpLock) {
            for (int k = helpDepth - 1; k >= 0; k--) {
                if (helpNodes[k] == n) {
                    helpInterrupts[k] = true;
                    return;
                }
            }
            if (current == n) {
                thread.interrupt();
            }
        }
    }

    /**
     * Interrupts the run of every task of {@code g} (one-shot or scheduled) on this worker, as
     * {@link #interruptRun} does for one work (innermost at once, an outer one when it resumes),
     * and only while that task still runs ({@link OneShotNode#interruptRun},
     * {@link ScheduledNode#interruptRun}).
     */
    void interruptGroup(WorkNode.Group g) {
        WorkNode[] found = null;
        int k = 0;
        synchronized (helpLock) {
            WorkNode c = current;
            int depth = helpDepth;
            for (int i = -1; i < depth; i++) {
                WorkNode n = i < 0 ? c : helpNodes[i];
                if (WorkNode.inGroup(n, g)) {
                    if (found == null) {
                        found = new WorkNode[depth + 1];
                    }
                    found[k++] = n;
                }
            }
        }
        for (int i = 0; i < k; i++) {
            found[i].interruptRun(this); // not under helpLock: it takes the node's monitor first
        }
    }

    /** This worker may run one more helped work in place (bounded nesting, bounded stack). */
    boolean mayHelp() {
        return current != null && helpDepth < engine.maxHelpDepth;
    }

    /** The work {@code n} is running on this thread, at the top or at an outer helping level. */
    boolean isRunning(WorkNode n) {
        if (current == n) {
            return true;
        }
        for (int i = 0; i < helpDepth; i++) {
            if (helpNodes[i] == n) {
                return true;
            }
        }
        return false;
    }

    /** A work of {@code wq} is running on this thread, at the top or at an outer helping level. */
    boolean isRunningWorkOf(WorkqueueCore wq) {
        PoolWorkqueue cur = currentPwq;
        if (cur != null && cur.wq == wq) {
            return true;
        }
        for (int i = 0; i < helpDepth; i++) {
            if (helpPwqs[i].wq == wq) {
                return true;
            }
        }
        return false;
    }

    /** A work of a freezable workqueue is running on this thread, at any helping level. */
    boolean isRunningFreezableWork() {
        PoolWorkqueue cur = currentPwq;
        if (cur != null && cur.wq.isFreezable()) {
            return true;
        }
        for (int i = 0; i < helpDepth; i++) {
            if (helpPwqs[i].wq.isFreezable()) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------
    // Starting a taken work (the worklist, a thief, a rescue).

    /**
     * Starts {@code n}, just taken off a worklist ({@link WorkerPool#takeFirst}) under the lock of
     * its pool, which the caller still holds: reads the pending instance's pwq, color and queue
     * time, then moves it to RUNNING. Leaves them in {@link #runPwq}, {@link #runColor} and
     * {@link #runs}.
     *
     * @return false if it was handed off instead to the worker running its previous instance
     *     (the caller just looks again)
     */
    boolean claim(WorkNode n) {
        assert n.pwq.pool.holdsLock();
        PoolWorkqueue pwq = n.pwq;
        int color = n.color;
        long queuedAt = n.queuedAt;
        Runnable decorated = n.decorated;
        if (!n.tryStart()) {
            return false;
        }
        runPwq = pwq;
        runColor = color;
        runDecorated = decorated;
        runs.queued(queuedAt);
        return true;
    }

    /**
     * The next run does not start where the last one ended (a balance look took locks first): it
     * reads the clock and is not chained ({@link RunAccounting}).
     */
    void clockLost() {
        startClock = 0;
    }

    /** May this worker, as a thief, take a tiny work now ({@link #tinyMissAt})? */
    boolean mayStealTiny(long now) {
        return tinyMissAt == 0 || now - tinyMissAt >= engine.stealThresholdNanos;
    }

    /** A tiny work stolen at {@code now} moved no chain here. */
    void tinyStealMissed(long now) {
        tinyMissAt = now == 0 ? 1 : now;
    }

    /**
     * Runs {@code n}, which {@link Stealing} had this worker claim on a sibling pool, and every
     * instance handed to it meanwhile; ends all but the last. No lock held.
     *
     * @return the last one's pwq, its color in {@link #runColor}: the caller ends it
     *     ({@link #endRun})
     */
    PoolWorkqueue runStolen(WorkNode n) {
        return execute(n, runPwq, runColor);
    }

    /**
     * Ends the run just finished in {@code last} (its color in {@link #runColor}), whose pool lock
     * the caller holds: records it and accounts its completion. A work this completion activates
     * takes the run's end as its queue time, with no clock read. For this worker's own pool
     * ({@link #process}) and for a stolen run's victim ({@link Stealing}).
     */
    void endRun(PoolWorkqueue last) {
        WorkerPool p = last.pool;
        last.recordRun(this);
        p.useListClock(runs.endedAt());
        try {
            last.workDone(runColor);
        } finally {
            p.clearListClock();
        }
    }

    /**
     * When the last run ended (its clock read, or its estimate), to judge what may be stolen next
     * without another read.
     */
    long lastRunEndedAt() {
        return runs.endedAt();
    }

    /**
     * On the rescuer thread, as this pool's stand-in: answers {@code pwq}'s mayday and, while the
     * pool still needs a worker, takes the oldest work of {@code pwq} from the worklist and claims
     * it. A work still running elsewhere is handed to that worker, and the next one is looked at.
     *
     * @return the claimed work, or null when none is left or the pool no longer needs rescue
     */
    WorkNode rescueNext(PoolWorkqueue pwq) {
        WorkerPool p = pwq.pool;
        p.lock();
        try {
            pwq.maydayAnswered();
            while (p.needsMayday()) {
                WorkNode n = p.takeFirstOf(pwq);
                if (n == null) {
                    return null;
                }
                if (claim(n)) {
                    return n;
                }
            }
            return null;
        } finally {
            p.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Idle.

    /**
     * Goes idle and waits. Lock held on entry and exit.
     *
     * @return true when woken (already counted as running by the waker), false to exit
     */
    private boolean idleWait() {
        WorkerPool p = pool;
        wstate = IDLE;
        p.reserveArrived(this);
        // nrRunning was left just before (uncountForIdle): now read the inbound stack, the
        // worker's half of the Dekker pair with a pusher (WorkerPool#pushNeedsKick)
        p.drainInbound();
        if (p.needMoreWorker() && !p.closing) {
            // work arrived while nobody ran and no idle worker was there to be woken: take it
            p.recount();
            return true;
        }
        p.pushIdle(this);
        long timeout = engine.idleTimeoutNanos;
        boolean spin = p.managed;
        for (;;) {
            if (p.closing) { // shutdown raced with going idle: close() may not have seen us
                p.removeIdle(this);
                return false;
            }
            boolean sawWork = false;
            p.unlock();
            try {
                Seam.idle(2);
                if (spin) {
                    spin = false;
                    sawWork = spinBeforePark(p);
                }
                // An interrupt aimed at a work that has ended is no one's now: clear it, or
                // parkNanos would return at once and the idle worker would spin.
                Thread.interrupted();
                Seam.idle(0);
                if (!woken && !sawWork && !Seam.park(this)) {
                    LockSupport.parkNanos(this, timeout);
                }
            } finally {
                Seam.idleRelock();
                p.lock(); // admits what is inbound: its kick may wake this very worker
            }
            if (woken) {
                return true;
            }
            if (retireNow) {
                // taken off the idle list by the retirer (WorkerPool.retireOneIdle): leave, even
                // with work seen while spinning; this lock admitted it and kicked for it. Asked
                // first: taking the work would unlink this worker from the idle list a second
                // time, dropping the list's other workers and the idle count below the workers
                return false;
            }
            if (sawWork && p.needMoreWorker() && !p.closing) {
                // a push this spin saw, left to it (pushNeedsKick counted it as searching) and
                // still not taken: run it
                p.removeIdle(this);
                p.recount();
                return true;
            }
            if (p.closing) {
                p.removeIdle(this);
                return false;
            }
            long idleFor = System.nanoTime() - idleSince;
            if (idleFor >= timeout && p.tooManyWorkers() && p.longestIdle() == this) {
                p.removeIdle(this);
                // the next longest idle may be due too: let it look now, not a timeout later
                Worker next = p.longestIdle();
                if (next != null && p.tooManyWorkers()) {
                    WorkerPool.unparkWorker(next.thread);
                }
                return false;
            }
            // Not yet due: sleep out the rest. Due but kept (the pool's reserve, or not the longest
            // idle): look again one full timeout later, not in a 1 ms loop.
            long rest = engine.idleTimeoutNanos - idleFor;
            timeout = rest > 0 ? Math.max(rest, 1_000_000L) : engine.idleTimeoutNanos;
        }
    }

    /**
     * Spins for a few microseconds before parking, if fewer than half the CPUs spin already
     * ({@link Engine#trySpin}) and the CPUs are not saturated ({@link CpuLoad}: runnable threads
     * wait for a CPU, which a spinner would only keep from them): a worker that just ran out of
     * work is likely to get more at once.
     * While it spins it counts as <em>searching</em> ({@link WorkerPool#nrSearching}) and watches
     * the pool's inbound stack itself, so a queuer that sees it needs neither the pool lock nor
     * an unpark ({@link WorkerPool#pushNeedsKick}); a waker that takes it off the idle list meanwhile
     * skips the unpark too ({@link #spinning}). No lock held.
     *
     * @return true if it saw work inbound, reading the stack after it left the searching count
     *     (the Dekker half against a queuer that read the count after its push): the caller
     *     takes the lock, which admits it, and runs it unless someone else did
     */
    private boolean spinBeforePark(WorkerPool p) {
        long budget = engine.idleSpinNanos - lingered;
        lingered = 0;
        if (budget <= 0 || engine.cpuLoad.saturated || !engine.trySpin()) {
            return false;
        }
        spinning = true;
        p.nrSearching.incrementAndGet();
        Seam.idle(3);
        try {
            long deadline = System.nanoTime() + budget;
            int i = 0;
            while (!woken && !p.hasInbound()) {
                Thread.onSpinWait();
                if (Seam.spinOver() || ((++i & 63) == 0 && System.nanoTime() - deadline >= 0)) {
                    break;
                }
            }
        } finally {
            p.nrSearching.decrementAndGet();
            spinning = false;
            engine.spinDone();
        }
        return p.hasInbound();
    }

    // ------------------------------------------------------------------------------------------
    // Announced blocking.

    /**
     * An announced block (not a join) that left this worker counted: its pool counts blocks
     * ({@link WorkerPool#countsBlocks}). Written by the worker thread; read by the monitor (a
     * counted worker it takes out while the pool is stuck is not profiled as a site) and by
     * snapshots (shown as blocked).
     */
    private volatile boolean countedBlock;
    /** Announced blocks of the run in progress (its own, not a helped run's); worker thread only. */
    private int blocksThisRun;

    /** In an announced block that left it counted ({@link #countedBlock}). */
    boolean inCountedBlock() {
        return countedBlock;
    }

    /** How long the counted block in progress has lasted, or -1 if there is none; monitor thread only (racy). */
    long countedBlockAge(long now) {
        if (!countedBlock) {
            return -1;
        }
        long start = blockStartedAt;
        if (start != UNTIMED) {
            return now - start;
        }
        // untimed: aged from the monitor's first sight of it (its only caller), so a block seen
        // at one look only is young, and one that outlasts the looks ages as a timed one would,
        // late by at most the time between its start and that first look
        long key = blockKey();
        if (key != untimedSeenKey) {
            untimedSeenKey = key;
            untimedSeenAt = now;
        }
        return now - untimedSeenAt;
    }

    /**
     * Which block this worker is in, for the monitor: its run and the run's count of blocks, read
     * racily from what the worker writes anyway (no store of its own on the block path).
     */
    private long blockKey() {
        return (workSeq << 24) ^ blocksThisRun;
    }

    /**
     * Whether the announced block beginning now reads the clock (at both ends). A clock read
     * costs 20-40 ns on the machines measured, and an announced block two of them: more than the
     * rest of its entry and exit together, and most of a block around a call that returns at
     * once (a cache hit wrapped in {@code Blocking.run}, BlockingBench). So while this worker's
     * last timed block lasted under {@link #SHORT_BLOCK_NANOS}, one block in {@link
     * #BLOCK_SAMPLE_EVERY} is timed, as {@link RunAccounting} samples short runs; any block
     * timed longer times every block again. The pool's usual block length ({@link
     * WorkerPool#noteBlock}) then averages the sampled blocks, and the monitor ages an untimed
     * counted block from the look that first saw it ({@link #countedBlockAge}).
     */
    private boolean timesNextBlock() {
        if (!shortBlocks || --untilTimedBlock <= 0) {
            untilTimedBlock = BLOCK_SAMPLE_EVERY;
            return true;
        }
        untimedBlocks++;
        return false;
    }

    /** The announced block in progress ends (or a help suspends it): its length is learned if it was timed. */
    private void blockTimed() {
        long start = blockStartedAt;
        if (start != UNTIMED) {
            long nanos = System.nanoTime() - start;
            blocksTimed++;
            shortBlocks = nanos < SHORT_BLOCK_NANOS;
            int blocks = untimedBlocks + 1;
            untimedBlocks = 0;
            pool.noteBlock(nanos, blocks);
        }
    }

    /**
     * Entry of an announced block on this worker's own thread; {@code countable}: a block on
     * something outside the pools, which a pool that counts blocks keeps counted.
     */
    void blockBegin(boolean countable) {
        int depth = blockDepth++;
        try {
            if (depth > 0) {
                if (!countable && countedBlock) {
                    // a wait for works inside a counted block (Blocking.call(() -> future.get())):
                    // it leaves the count, as such waits always do; the rest of the block stays out
                    endCountedBlock();
                    enterUncounted(BLOCKED);
                }
                return;
            }
            blocksThisRun++;
            if (countable && mayCountBlock()) {
                beginCountedBlock();
                return;
            }
            enterUncounted(BLOCKED);
        } catch (Throwable t) {
            abandonBlockBegin(depth);
            throw t;
        }
    }

    /**
     * The entry of an announced block at {@code depth} threw (its bookkeeping overflowed the
     * stack, or ran out of memory, after the worker's state had changed): its caller never got
     * the block, so it will not end it, and the block ends here. Left open, the rest of the run
     * went on as blocked: counted as in a counted block (off the CPU to the monitor, which could
     * raise the target for it), or out of the running count (a kick for a worker that was
     * running), and every later block of the run was taken for a nested one, until the run's
     * end reset it (ARCHITECTURE 5, <i>Faults</i>). Nothing is learned from the entry: a start
     * left from an earlier block would be read as this one's length. If ending it throws too,
     * the run's end resets what is left, as before.
     */
    private void abandonBlockBegin(int depth) {
        if (depth == 0) {
            blockStartedAt = UNTIMED;
        }
        try {
            blockEnd();
        } catch (Throwable ignored) {
            // afterRun resets the depth and the block's state at the run's end
        }
    }

    /** A block beginning now may leave this worker counted: not a join, counted, its pool counts blocks. */
    private boolean mayCountBlock() {
        return !joining && wstate == RUNNING && pool.countsBlocks();
    }

    /**
     * An announced block begins and the worker stays counted (ARCHITECTURE 2, <i>Counted
     * blocks</i>): counted as announced (engine, workqueue, JFR) but no kick. The pool's target
     * caps its works in flight; if the pool stalls, the monitor takes the worker out as it does
     * an unannounced block.
     */
    private void beginCountedBlock() {
        runDisturbed = true;
        countedBlock = true;
        pool.announcedBlockSeen();
        announcedBlockBegins();
    }

    /** A counted block ends (its outermost level, or a help suspends it): its length is learned. */
    private void endCountedBlock() {
        countedBlock = false;
        blockTimed();
        blockOver(BLOCKED);
    }

    /**
     * Entry of an announced block that waits for {@code awaited} (null: for something else, a
     * plain block). If that work is not pending (it runs on another thread, or it has just ended
     * and the wait returns at once), and this is the block that takes the worker out of
     * nrRunning, it is a <em>join</em>: the pool waits the join window rather than the stall
     * window before it creates a thread for it, and keeps no idle reserve for it (see
     * {@code Cmwq.Builder.joinWindow}).
     */
    void joinBegin(WorkNode awaited) {
        boolean joined = false;
        if (awaited != null && blockDepth == 0 && wstate == RUNNING && pool.managed && !awaited.isPending()) {
            joining = true;
            pool.nJoining.incrementAndGet();
            joined = true;
        }
        try {
            blockBegin(false);
        } catch (Throwable t) {
            if (joined) {
                leaveJoin(); // the join never began for the caller either (blockBegin ended its block)
            }
            throw t;
        }
    }

    /** Exit of {@link #joinBegin}'s block. */
    void joinEnd() {
        blockEnd();
        leaveJoin();
    }

    /** The join, if one is open, is over: the pool stops counting this worker as a joiner. */
    private void leaveJoin() {
        if (joining) {
            joining = false;
            pool.nJoining.decrementAndGet();
        }
    }

    /** Exit of an announced block. */
    void blockEnd() {
        if (--blockDepth > 0) {
            return;
        }
        if (countedBlock) {
            endCountedBlock();
            recountIfUncounted(); // the monitor took it out (DETECTED) while its pool was stuck
            return;
        }
        if (wstate == BLOCKED) {
            exitUncounted(BLOCKED);
        }
    }

    /**
     * RUNNING -> {@code to} (BLOCKED or CPU_INTENSIVE), on the worker's own thread: leave
     * nrRunning and kick the pool if it now needs a worker. A worker the monitor already took out
     * (DETECTED) stays out of the count: its detected block ends, and it records that the block
     * is now announced (BLOCKED) or that its run goes on CPU-intensive (CPU_INTENSIVE).
     */
    private void enterUncounted(int to) {
        runDisturbed = true;
        for (;;) {
            int s = wstate;
            if (s == RUNNING) {
                if (WSTATE.compareAndSet(this, RUNNING, to)) {
                    break;
                }
            } else if (s == DETECTED && to == BLOCKED) {
                if (WSTATE.compareAndSet(this, DETECTED, BLOCKED)) {
                    blockOver(DETECTED); // the rest of this block is the announced one
                    announcedBlockBegins();
                    return;
                }
            } else if (s == DETECTED && to == CPU_INTENSIVE) {
                // a CPU-intensive run resuming after a help, taken out by a detection since the
                // helped run ended (while its end waited for the pool lock): the detected block
                // is over, and the run stays out of the count as CPU-intensive; left DETECTED,
                // the monitor would count it again once it saw it running
                if (WSTATE.compareAndSet(this, DETECTED, CPU_INTENSIVE)) {
                    blockOver(DETECTED);
                    return;
                }
            } else {
                return; // already uncounted
            }
        }
        // The count first: nothing that may throw (the statistics' striped cells allocate; a block
        // announced at the end of a stack may overflow) comes between the state's CAS and it, or
        // the run's end would count this worker again on top of a count never left: a phantom
        // running worker for good. What follows may throw and lose at most a statistic or a kick
        // (queuers read the count, and the monitor looks at a pool that waits).
        int running = pool.managed ? pool.nrRunning.decrementAndGet() : -1;
        if (to == BLOCKED) {
            announcedBlockBegins();
        }
        leftNrRunning(running);
    }

    /** JFR: the block that began with {@code from} is over (the worker is counted again). */
    private void blockOver(int from) {
        Seam.blockOver();
        if (from == BLOCKED) {
            jdk.jfr.Event e = (jdk.jfr.Event) blockEvent;
            if (e != null) {
                blockEvent = null;
                Events.woken(e);
            }
        } else if (from == DETECTED) {
            jdk.jfr.Event e = (jdk.jfr.Event) detectedEvent;
            if (e != null) {
                detectedEvent = null;
                Events.woken(e);
            }
            // a plain read first: a detection the profiler did not sample costs no atomic here
            if (profiled != null) {
                DetectedBlock b = PROFILED.getAndSet(this, null);
                if (b != null) {
                    try {
                        b.ended(System.nanoTime());
                    } catch (Throwable t) {
                        // best effort, as the events are: the site's table may allocate, and
                        // this runs inside the end of a run (afterRun), which must not throw
                    }
                }
            }
        }
    }

    /** An announced block begins: count it (engine and workqueue) and open its JFR event. */
    private void announcedBlockBegins() {
        Seam.blockBegins();
        engine.blocksAnnounced.increment();
        PoolWorkqueue pwq = currentPwq;
        if (pwq != null) {
            pwq.wq.blocksAnnounced.increment();
        }
        blockStartedAt = timesNextBlock() ? System.nanoTime() : UNTIMED;
        blockEvent = Events.blocked("announced", this);
    }

    /** This worker has left nrRunning, which it took to {@code running}: kick the pool if it now needs a worker. */
    private void leftNrRunning(int running) {
        WorkerPool p = pool;
        if (!p.managed) {
            return;
        }
        Seam.leftCount();
        if (wstate == BLOCKED && !joining) {
            p.announcedBlockSeen();
        }
        if (p.fellBelowTarget(running) && p.kickUnlocked()) {
            countCmWakeup();
        }
    }

    /** A block of the current work made the pool wake or ask for another worker. */
    private void countCmWakeup() {
        PoolWorkqueue pwq = currentPwq;
        if (pwq != null) {
            pwq.wq.cmWakeups.increment();
        }
    }

    /** {@code from} -> RUNNING on the worker's own thread: count again. */
    private void exitUncounted(int from) {
        if (WSTATE.compareAndSet(this, from, RUNNING)) {
            // The count first, as enterUncounted leaves it first: the bookkeeping after it may
            // throw (a stack that ends there, the JFR event), and a worker back to RUNNING whose
            // count was skipped is never counted again (the run's end recounts only a worker out
            // of RUNNING): its pool would run one below its count for good, and at -1 once idle
            if (pool.managed) {
                pool.nrRunning.incrementAndGet();
            }
            if (from == BLOCKED) {
                blockTimed();
            }
            blockOver(from);
        } else if (wstate == DETECTED) {
            recountIfUncounted();
        }
    }

    /**
     * Whatever took the worker out of nrRunning, count it again (start or end of a work). IDLE
     * here means "woken and already counted by the waker": it just becomes RUNNING.
     */
    private void recountIfUncounted() {
        for (;;) {
            int s = wstate;
            if (s == RUNNING || s == RESCUER) {
                return;
            }
            if (s == IDLE) {
                if (WSTATE.compareAndSet(this, IDLE, RUNNING)) {
                    return;
                }
                continue;
            }
            if (WSTATE.compareAndSet(this, s, RUNNING)) {
                runDisturbed = true;
                if (pool.managed) {
                    pool.nrRunning.incrementAndGet(); // the count first (exitUncounted)
                }
                blockOver(s);
                return;
            }
        }
    }

    /** The work loop found nothing: out of the running count, before {@link #idleWait}. Lock. */
    private void leaveCountForIdle() {
        uncountForIdle();
        woken = false; // the next wake-up is the next idle wait's
    }

    /**
     * The worker stops being counted before it goes idle: RUNNING -> IDLE leaves nrRunning; if the
     * monitor already took it out (DETECTED, CPU_INTENSIVE), it only changes the word. Pool lock.
     */
    private void uncountForIdle() {
        for (;;) {
            int s = wstate;
            if (WSTATE.compareAndSet(this, s, IDLE)) {
                if ((s == RUNNING || s == IDLE) && pool.managed) {
                    pool.nrRunning.decrementAndGet(); // the count first (exitUncounted)
                }
                blockOver(s);
                return;
            }
        }
    }

    /**
     * Monitor: RUNNING -> {@code to} (DETECTED or CPU_INTENSIVE) for a worker seen stuck or
     * hogging the CPU. One CAS, so a concurrent {@code Blocking} entry or work end wins or loses
     * cleanly.
     *
     * <p>{@code profile}, for a detection the blocking-site profiler samples (else null), is hung
     * on the worker before the CAS, which publishes it to whoever later moves the word out of
     * DETECTED, and is told which workqueue counted the block. If the CAS fails, it is taken back;
     * if a closer took it meanwhile (see below), it gets the monitor's arrival here, unattributed.
     * A record still hanging there from an earlier detection (its closer moved the word out of
     * DETECTED but had not taken it yet when this detection came: a window of a few instructions
     * on the worker's side) is ended now, by the monitor.
     *
     * <p>A counted block (announced: {@code observed} false) taken out of the count is not a
     * detection to the statistics or to JFR: its block is counted and traced as announced
     * already, and its workqueue's {@code blocksDetected} stays the count of blocks nobody
     * announced.
     *
     * @return true if the monitor made the transition
     */
    boolean monitorUncount(int to, java.util.concurrent.atomic.LongAdder counter, DetectedBlock profile,
            boolean observed) {
        jdk.jfr.Event traced = to == DETECTED && observed ? Events.blocked("detected", this) : null;
        if (traced != null) {
            detectedEvent = traced; // published by the CAS below
        }
        if (profile != null) {
            DetectedBlock stale = PROFILED.getAndSet(this, profile); // published by the CAS below
            if (stale != null) {
                stale.ended(System.nanoTime());
            }
        }
        if (!WSTATE.compareAndSet(this, RUNNING, to)) {
            if (traced != null) {
                detectedEvent = null;
            }
            if (profile != null && !PROFILED.compareAndSet(this, profile, null)) {
                profile.attributed(null, null, null); // a closer took and ended it: settle it, empty
            }
            return false;
        }
        try {
            Seam.monitorUncounts();
            counter.increment(); // before the kick, so that whoever the kick lets run sees it
            PoolWorkqueue pwq = currentPwq;
            if (profile != null) {
                profile.countedIn(pwq == null ? null : pwq.wq, current, workSeq);
            }
            if (pwq != null && observed) {
                (to == DETECTED ? pwq.wq.blocksDetected : pwq.wq.cpuIntensiveViolations).increment();
            }
        } finally {
            // whatever the statistics threw (their striped cells allocate; the service thread logs
            // it): the state word says uncounted now and the worker's recount will add one, and a
            // stuck pool's monitor waits for the kick a detection makes
            uncountedByMonitor(to);
        }
        return true;
    }

    /** The end of {@link #monitorUncount}: the pool's count, and the kick its fall may need. */
    private void uncountedByMonitor(int to) {
        WorkerPool p = pool;
        if (to == DETECTED) {
            p.blockSeen();
        }
        if (p.managed && p.fellBelowTarget(p.nrRunning.decrementAndGet())) {
            // the block has already outlasted the stall window: no second wait for a thread
            if (p.kickNowUnlocked()) {
                countCmWakeup();
            }
        }
    }

    /** Monitor: DETECTED -> RUNNING for a worker seen running again. */
    void monitorRecount() {
        if (WSTATE.compareAndSet(this, DETECTED, RUNNING)) {
            if (pool.managed) {
                pool.nrRunning.incrementAndGet(); // the count first (exitUncounted)
            }
            blockOver(DETECTED);
        }
    }

    @Override
    public String toString() {
        Thread t = thread;
        return "Worker[" + (t == null ? "?" : t.getName()) + "]";
    }
}
