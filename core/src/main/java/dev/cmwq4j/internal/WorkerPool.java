package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Workers sharing one worklist.
 *
 * <h2>Implementation overview</h2>
 * There is one bound pool per CPU index at normal priority and one at high priority; these are
 * <em>concurrency-managed</em>. Unbound pools (one per priority) are not: a work there starts as
 * soon as a worker is free.
 *
 * <p>In a managed pool, {@link #nrRunning} counts the workers that execute a work and are neither
 * blocked nor CPU-intensive, plus workers that were woken or created to run and have not yet
 * looked at the worklist (counting them at wake-up time keeps two inserts from waking two
 * workers). The whole policy is the five predicates below, read as the kernel's table with
 * {@link #target} = 1:
 * <ul>
 *   <li>{@link #needMoreWorker()}: worklist non-empty and fewer than {@code target} running;
 *   <li>{@link #keepWorking()}: a worker that finished takes the next work only if the worklist is
 *       non-empty and at most {@code target} workers (itself included) run; a surplus after a
 *       wake-up dies out;
 *   <li>{@link #mayStartWorking()}: an idle worker exists;
 *   <li>{@link #needToCreateWorker()}: more workers needed and none idle;
 *   <li>{@link #tooManyWorkers()}: {@code nIdle > 2 && (nIdle - 2) * 4 >= nBusy}.
 * </ul>
 * Idle workers form a LIFO list; the most recently idle (cache-warm) worker is woken first, and
 * the longest idle retires first once there are too many and it has been idle past the timeout.
 *
 * <h2>The concurrency target (where the JVM differs from the kernel)</h2>
 * The kernel's scheduler tells cmwq the moment a worker sleeps, so one running worker per CPU is
 * enough. Here a block nobody announced is seen only by the {@link Monitor}, after the stall
 * window; a pool whose works keep sleeping for short spells would idle its CPU for a stall
 * window per sleep. So a managed pool keeps {@link #target} counted workers instead of one. It
 * is 1 until the monitor, sampling the counted workers' thread states, sees work waiting while
 * every counted worker is off the CPU ({@link #underCommitted}); then it rises by one. It falls
 * by one when two or more of its counted workers are on the CPU while all managed pools together
 * have clearly more on it than there are CPUs ({@link #overCommitted}), and returns to 1 when
 * the pool goes idle. Announced blocking never raises it (the blocked
 * worker leaves {@code nrRunning} instead), and CPU-bound works keep it at 1, so for them the
 * policy is exactly the kernel's.
 *
 * <p>Two more departures serve pools whose works block. A worker back from a block may keep
 * taking works while one counted worker beyond the target runs ({@link #spare}), so that the next
 * block finds a runnable worker instead of waking a parked one (a context switch, and on a loaded
 * machine a wait for a CPU). And the pool learns how long its announced blocks last
 * ({@link #noteBlock}): a need for a worker that arises while workers are blocked waits half a
 * usual block ({@link #stallNanos}) for one of them before a thread is created.
 *
 * <p>Only the pool's {@link Manager} creates threads, one pass at a time on the {@link Timer}
 * thread: a need that arises while some worker is blocked (and might return soon) is served
 * after the stall window, a need with no blocked worker at once; a need it cannot meet (thread
 * cap, failed creation) backs off for the cooldown and arms the mayday pass, which calls the
 * {@link Rescuer}s of memReclaim workqueues. Stealing between sibling pools is {@link Stealing}'s.
 * The pool owns its counts: the manager changes them through {@link #workerCreated} and
 * {@link #workerNotStarted}, a worker or a thief starts a work through {@link #takeFirst}, and a
 * worker whose run's successor is all that waits here starts it in the run's slot through
 * {@link #takeSuccessor}, straight off the inbound stack, with no count changed.
 *
 * <p>Locking: {@link #lock} guards the worklist, the idle list, the worker counts, the
 * {@link Manager}'s fields and every {@link PoolWorkqueue} of this pool; methods that need it
 * assert {@link #holdsLock()}. It is never held while taking another pool's lock.
 * {@link #nrRunning} is atomic because announced blocking changes it without the lock; the
 * predicate pair "nrRunning dropped to 0, then read nrPending" (blocker) against "nrPending
 * rose, then read nrRunning" (inserter) is a Dekker pair (the blocker's atomic decrement, the
 * inserter's full fence in {@link #worklistAdd}), so one of the two sides always sees the other
 * and kicks the pool. Other per-work writes of volatile fields are release stores (the take in
 * {@link #takeFirst}): no reader pairs them with a store of its own.
 */
final class WorkerPool {
    // ------------------------------------------------------------------------------------------
    // Written by the pool's workers at every run, without the lock: lines of their own.
    //
    // A queuer reads this pool's fields at every queue (managed, target, the inbound stack, the
    // ring, the running counts), and a worker that wrote a field on one of their lines at every
    // run took the line from the queuer's core and paid for it back at its next write: in the
    // external producer's form one miss each way per work, a quarter of the worker's cost
    // (ARCHITECTURE 10, <i>The external form's lines</i>). HotSpot lays a class's fields out by
    // size, and fields of one size in the order they are declared, so these come first among the
    // longs (all six are longs for that), with 64 bytes of padding on either side; the first int
    // declared fills the 4 bytes after the object header. Checked with the layout the JVM
    // reports (Unsafe.objectFieldOffset): ARCHITECTURE 4, <i>Lines of their own</i>.

    /** Fills the gap after the object header, so that no field a queuer reads lands there. */
    @SuppressWarnings("unused") private int headerGap;
    @SuppressWarnings("unused") private long pa0, pa1, pa2, pa3, pa4, pa5, pa6, pa7;
    /** Works started from this pool's worklist or its ring; written by its workers (release stores, or under the lock), read by the monitor. */
    volatile long progress;
    /**
     * A moving average (weight 1/16) of the CPU time of this pool's runs, ns ({@code
     * RunAccounting}: measured for runs of 50 us and more, their wall time below), over the runs
     * that ended since the pool first saw a block. Written by the workers at their runs' ends,
     * without the lock (two that end at once may lose a sample: an estimate), with release
     * stores ({@link #noteRunDemand}); read by the monitor ({@link #workersPerCpu}).
     */
    private volatile long runCpuAvg;
    /** A moving average (weight 1/16) of announced blocks per run, in 1/1024; with {@link #runCpuAvg}. */
    private volatile long blocksPerRun;
    /** Runs averaged into {@link #runCpuAvg}, up to {@link #COUNTED_BLOCKS_SAMPLES}; with it. */
    private volatile long demandSamples;
    /**
     * A moving average (weight 1/8) of the announced blocks of this pool's workers, nanoseconds;
     * 0 before the first. Written by the workers as their blocks end, without the lock (release
     * stores, {@link #noteBlock}): two that end at once may lose one sample, which an estimate
     * can afford. Read racily by the manager.
     */
    private volatile long blockAvgNanos;
    /**
     * A moving average (weight 1/8) of the wall time of the runs ended here, in nanoseconds, each
     * capped: whether a thief would save more per work than it costs. Starts at {@link
     * #UNKNOWN_RUN_NANOS}: until runs tell otherwise, works are taken to be worth a thief on a
     * free CPU. Written by the workers at their runs' ends (under the lock, or racily by a fast
     * run: a moving average's hint, {@link #noteRunWall}); what it says is published in
     * {@link #runClass}. A long only to share these lines (its values fit an int).
     */
    private long runWallAvg = UNKNOWN_RUN_NANOS;
    /**
     * Since when the ring has held works at every take of a lane worker (the worker's
     * {@code laneBacklogSince}: the end of the run before the take that first saw more behind
     * it), if that worker ran a chain's successor since its last look at the balance; 0 once a
     * take left it empty, or while it saw only a producer's works: the ring's chain backlog,
     * which a drain passes on to the worklist ({@link #backlogSeenSince}), so that works a lock
     * holder lists from the ring keep the age their backlog has (a thief's look at a sibling in
     * the lane drains its ring; the backlog would otherwise start again at every such drain, and
     * tiny chains never count as a lasting backlog: ARCHITECTURE 6, <i>Tiny chains: moved whole,
     * then balanced</i>). Written by the pool's lane workers (plain stores, only when it
     * changes), read by lock holders and racily by a thief's look
     * ({@link #tinyBacklogMayHaveLasted}): a hint.
     */
    long laneBacklogHint;
    @SuppressWarnings("unused") private long pb0, pb1, pb2, pb3, pb4, pb5, pb6, pb7;

    final Engine engine;
    /** CPU index for bound pools, -1 for unbound ones. */
    final int cpu;
    final boolean highPriority;
    /** True for bound (concurrency-managed) pools. */
    final boolean managed;
    final String name;

    final ReentrantLock lock = new ReentrantLock();
    /**
     * The inbound stack: nodes queued to this pool and not yet admitted, newest first, linked
     * through {@code inNext}. Queuers push with a CAS and take no lock ({@link #push}); whoever
     * next takes {@link #lock} takes the whole stack with one swap and admits it in queueing
     * order ({@link #drainInbound}). So every lock holder sees every queue that returned before
     * it locked, and the queue path never waits for the lock.
     */
    // The stack's head is CASed by every queuer and swapped by every drain: on a line of its own
    // (16 references, 64 bytes, on either side; references are laid out in declaration order),
    // away from the counts and flags a lock holder writes at every work. In the flood's path
    // (PerWorkCost locked external, execute) that took 18-29% off the worker's cost per work
    // (ARCHITECTURE 4, "Lines of their own"; checked by FieldLinesTest).
    @SuppressWarnings("unused") private Object ip0, ip1, ip2, ip3, ip4, ip5, ip6, ip7, ip8, ip9, ip10, ip11, ip12, ip13, ip14, ip15;
    private volatile WorkNode inbound;
    @SuppressWarnings("unused") private Object iq0, iq1, iq2, iq3, iq4, iq5, iq6, iq7, iq8, iq9, iq10, iq11, iq12, iq13, iq14, iq15;
    /**
     * The fast lane's ring (ARCHITECTURE 6, <i>The fast lane</i>): eligible nodes are offered here
     * instead of the inbound stack, and the pool's own workers take them without the lock while it
     * is open. Null for unbound pools and for engines without the lane. Closed by every lock
     * holder ({@link #closeForHolder}), reopened only by a worker under the lock
     * ({@link #reopenFast}); a drain absorbs it with the stack, in queueing order. With the
     * adaptive lane ({@code Engine.autoLane}) null until a drain finds the lane worth it
     * ({@link #laneWorthIt}), then set once, under the lock; read without it by queuers (a push
     * that read null orders its node ahead of every ring node: {@link #push}).
     */
    volatile FastRing ring;
    /**
     * The adaptive lane: drains in a row that admitted works and sent none to an inactive list
     * (a backlog within the pwqs' limits); {@link #lock}. Negative: never again (a ring could not
     * be made).
     */
    private int laneStreak;
    /**
     * The adaptive lane: drains in a row that admitted a producer's work ({@link WorkNode#external}),
     * reset by one that admitted none and by a slot pass ({@link #takeSuccessor}). Two in a row
     * are a producer its worker keeps up with; a lone chain restarted from outside (its restart
     * admitted once, its hops by slot passes or by drains of its own successors) never gets to
     * two. {@link #lock}.
     */
    private int producerDrains;
    /** Works sent to an inactive list by an admission ({@link PoolWorkqueue#insert}); {@link #lock}. */
    long inactiveAdds;
    /**
     * The drain in progress is a worker's at the end of a run ({@link #drainAtRunEnd}, from
     * {@link #drainAfterRun} and {@link #keepWorking}): the only drains the adaptive lane counts. Not a queuer's admission into an idle pool, nor a
     * worker's as it comes back from idling: a lone chain, whose successors take the slot pass
     * without a drain and which runs faster on it than in the lane, would otherwise build a
     * streak from its restarts. {@link #lock}.
     */
    private boolean runEndDrain;
    /**
     * Nodes lock-free takers handed back (not startable in the lane), collected by a lock holder
     * ({@link #closeForHolder}) in take order, linked through {@code inNext}, each with its ring
     * position in {@code queuedAt}; admitted first by the next drain. Lock.
     */
    private WorkNode handedBack;
    /**
     * Admission order of the stack taken last, not yet admitted (an admission threw); lock.
     * Non-null outside a drain only after a throw, and then {@link #admitLeft} says so to readers
     * without the lock.
     */
    private WorkNode admitting;
    /**
     * A drain left nodes in {@link #admitting} (an admission threw: out of memory, or a stack
     * overflow, inside an insert): works that are queued, neither inbound nor listed. Written
     * under {@link #lock} by {@link #drainInbound} only: set as a drain leaves by a throw with
     * nodes left there, cleared by the later drain that admits them all. Read racily by
     * {@link #hasWork()}, after its other checks, so that a worker deciding to idle, a placement
     * and the monitor (which keeps scanning while a pool has work, until the service thread has
     * admitted them: {@link #admitByServiceThread}) see them as the work they are. Without it
     * they were invisible until the next lock of this pool, and with nothing listed and no worker
     * counted nobody took it: they waited for the next queue to this pool
     * ({@code FaultsTest.worksAThrowingAdmissionLeftBehindRunWithoutAnotherQueue}).
     */
    private volatile boolean admitLeft;
    /** A drain is admitting: a lock taken inside it (reentrant) must not start another; lock. */
    private boolean draining;
    /**
     * A clock read the caller already made, the queue time of every node listed while it is set
     * ({@link #worklistAdd}): read once per drained stack by the drain in progress, or the end of
     * the run whose completion activates a waiting work ({@link #useListClock}). A clock read per
     * listed node cost a few percent of a flood of tiny works. Lock.
     */
    private long listClock;
    /** {@link #listClock} holds for listings outside a drain ({@link #useListClock}); lock. */
    private boolean listClockSet;
    /**
     * The end of a worker's run (the clock it read, or its estimate: {@link RunAccounting}), for
     * the drain its {@link #lockAfterRun} makes; 0 otherwise. Lock.
     */
    private long drainClock;
    /**
     * A drain of at most this many nodes takes {@link #drainClock} as its time: admitting a few
     * nodes takes well under a microsecond, a flood of them may take long enough that the time
     * read before is no longer now.
     */
    static final int SHORT_DRAIN = 16;
    /** Active works ready to run, by priority, FIFO within one (see {@link Worklist}); {@link #lock}. */
    private final Worklist worklist = new Worklist();
    /** Size of {@link #worklist}; written under {@link #lock}, read racily for placement. */
    volatile int nrPending;
    /**
     * Listed works not pinned to this CPU, the ones a thief may take; {@link #lock}. A plain
     * count kept with the list (listed in {@link #worklistAdd}, taken in {@link #taken} and
     * {@link #worklistRemove}, recounted after a freeze's {@link #takeBack}), so that the look
     * for a thief's candidate behind a pinned head ({@link #stealCandidate}), asked on every
     * work a worker starts, costs nothing in a pool whose listed works are all pinned.
     */
    private int nrUnpinned;
    /** Managed pools: running workers (see class comment). Atomic; changed with or without lock. */
    final AtomicInteger nrRunning = new AtomicInteger();
    /**
     * Managed pools: idle workers spinning before they park, watching the inbound stack (see
     * {@link #pushNeedsKick}). Changed by those workers only, without the lock. Atomic.
     */
    final AtomicInteger nrSearching = new AtomicInteger();
    /**
     * Managed pools: how many counted workers the pool keeps running, 1..{@link #MAX_TARGET} (see
     * class comment); written by the monitor thread only, read anywhere.
     */
    volatile int target = 1;
    /** Upper bound of {@link #target}: a guess never costs more than this many threads a pool. */
    static final int MAX_TARGET = 16;
    /** Unbound pools: workers woken or created to run that have not yet taken work; lock. */
    private int nWaking;
    /** All workers of the pool, including ones being created; lock. */
    int nWorkers;
    /** Idle workers; lock. */
    int nIdle;
    /** Head (most recently idle) and tail (longest idle) of the idle list; lock. */
    private Worker idleHead, idleTail;
    /** A thief was requested for this pool and has not yet finished looking; racy flag. */
    volatile boolean thiefKicked;
    /** Set once when the engine shuts down; workers exit. */
    volatile boolean closing;
    /**
     * A worker woken under the lock, to be unparked right after the lock is released so that it
     * does not wake up only to find the lock still held; lock.
     */
    private Thread toUnpark;
    /** Some work of this pool has blocked (or the monitor raised its target); set once, racy. */
    private volatile boolean sawBlock;
    /**
     * {@link #progress} when a block was last seen here ({@link #blockSeen}), refreshed at most
     * every quarter of {@link #BLOCK_MEMORY_RUNS}: the allowances a pool gets for its blocks
     * (one counted worker beyond the target, an idle reserve) lapse once that many works have
     * started without one ({@link #blocksLately}). Written by whoever sees a block (workers, the
     * monitor), racily; read by the workers and lock holders.
     */
    private volatile long blockSeenAt;
    /**
     * Workers out of nrRunning for a join (waiting for a work running on another thread); each
     * joiner increments before it leaves nrRunning and decrements after it is counted again.
     */
    final java.util.concurrent.atomic.AtomicInteger nJoining = new java.util.concurrent.atomic.AtomicInteger();
    /** Reserve workers created idle that have not yet reached the idle list; lock. */
    int nReserveStarting;
    /**
     * Works started in the slot of the run before them ({@link #takeSuccessor}); lock. A plain
     * count: the engine's statistics are LongAdders, which may allocate on this path.
     */
    private long slotPasses;
    /** The monitor's bookkeeping of this pool: its own class, written by the monitor thread only. */
    final Monitor.PoolLook look = new Monitor.PoolLook();
    /** Every worker of the pool, copy-on-write under lock, for the monitor. */
    private volatile Worker[] workers = new Worker[0];
    /** Creates this pool's workers and runs its mayday passes (its own fields, under {@link #lock}). */
    final Manager manager;
    /** Retires idle workers beyond the pool's recent need (see {@link Surplus}). */
    final Surplus surplus;

    // Field updaters, not VarHandles (see Worker's): lazySet is a release store.
    private static final AtomicReferenceFieldUpdater<WorkerPool, WorkNode> INBOUND =
            AtomicReferenceFieldUpdater.newUpdater(WorkerPool.class, WorkNode.class, "inbound");
    private static final AtomicIntegerFieldUpdater<WorkerPool> NR_PENDING =
            AtomicIntegerFieldUpdater.newUpdater(WorkerPool.class, "nrPending");
    private static final AtomicLongFieldUpdater<WorkerPool> PROGRESS =
            AtomicLongFieldUpdater.newUpdater(WorkerPool.class, "progress");
    private static final AtomicLongFieldUpdater<WorkerPool> RUN_CPU_AVG =
            AtomicLongFieldUpdater.newUpdater(WorkerPool.class, "runCpuAvg");
    private static final AtomicLongFieldUpdater<WorkerPool> BLOCK_AVG =
            AtomicLongFieldUpdater.newUpdater(WorkerPool.class, "blockAvgNanos");
    private static final AtomicLongFieldUpdater<WorkerPool> BLOCKS_PER_RUN =
            AtomicLongFieldUpdater.newUpdater(WorkerPool.class, "blocksPerRun");
    private static final AtomicLongFieldUpdater<WorkerPool> DEMAND_SAMPLES =
            AtomicLongFieldUpdater.newUpdater(WorkerPool.class, "demandSamples");

    WorkerPool(Engine engine, int cpu, boolean highPriority) {
        this.engine = engine;
        this.cpu = cpu;
        this.highPriority = highPriority;
        this.managed = cpu >= 0;
        // String.concat, not +: the first indy string concatenation of a JVM costs milliseconds
        String base = managed ? "cpu".concat(Integer.toString(cpu)) : "unbound";
        this.name = highPriority ? base.concat("H") : base;
        this.manager = new Manager(this);
        this.surplus = new Surplus(this);
        this.ring = managed && engine.fastLane ? new FastRing() : null; // auto: later, laneWorthIt
        this.countedBlocks = countsFromTheStart(managed, engine);
    }

    // ------------------------------------------------------------------------------------------
    // The policy: five predicates.

    /** Worklist non-empty and fewer running than the target (the kernel: nobody running). */
    boolean needMoreWorker() {
        if (!managed) {
            return nrPending > nWaking;
        }
        return nrPending > 0 && nrRunning.get() < target;
    }

    /**
     * Work is listed, inbound, or left in {@link #admitting} by an admission that threw: a racy
     * look, for decisions taken without the lock. The last is read only when the first two find
     * nothing, so a busy pool pays nothing for it.
     */
    boolean hasWork() {
        return nrPending > 0 || hasInbound() || admitLeft || handedBack != null;
    }

    /** Something waits on the inbound stack (racy). */
    boolean hasStacked() {
        return inbound != null;
    }

    /** Something was pushed or offered and not yet admitted or taken: what a searching worker watches. */
    boolean hasInbound() {
        FastRing r;
        return inbound != null || ((r = ring) != null && !r.isEmpty());
    }

    /** A worker that finished a work takes the next one (after admitting what is inbound). Lock. */
    boolean keepWorking() {
        if (inbound != null || ringToAdmit()) {
            drainAtRunEnd();
        }
        if (!managed) {
            return nrPending > 0;
        }
        return nrPending > 0 && nrRunning.get() <= target + spare();
    }

    /**
     * Counted workers a pool whose works block lets run beyond its target: one. A worker back
     * from a block finds the pool at its target (the worker that replaced it runs); under the
     * kernel's rule it would go idle, and the next block would wake an idle worker: a park and an
     * unpark per block. Kept working, it is the runnable worker the next block needs. A pool
     * whose works never blocked has no returning workers, so its rule is the kernel's.
     */
    private int spare() {
        return blocksLately() ? 1 : 0;
    }

    /**
     * Works started here without a block after which a pool's allowances for blocks lapse: a
     * pool whose works stopped blocking, or never did (a target the monitor raised in a cold JVM,
     * where the compilers held the CPUs: JMH {@code external}'s home pool kept a second counted
     * worker and a reserve for good, two workers on one ring for a producer one keeps up with),
     * returns to the kernel's rule. A pool whose works block at all keeps them: 65,536 starts.
     */
    static final long BLOCK_MEMORY_RUNS = 1 << 16;

    /** Some work of this pool has blocked, or the monitor raised its target, since it was made. Racy. */
    boolean sawBlock() {
        return sawBlock;
    }

    /** Works of this pool blocked within its last {@link #BLOCK_MEMORY_RUNS} starts. Racy. */
    boolean blocksLately() {
        return sawBlock && progress - blockSeenAt < BLOCK_MEMORY_RUNS;
    }

    /**
     * A worker whose own worklist ran dry may go and steal: the pool runs no more than its
     * target, itself included. A thief is a worker that keeps working on a sibling's list, so
     * {@link #keepWorking()}'s concurrency rule applies to it too; without it, every worker
     * that returned from a block (counted again, beyond the target) stole one more work, and a
     * pool fed only by stealing ran a dozen workers at once on two CPUs (the mixed load).
     */
    boolean mayStealMore() {
        return !managed || nrRunning.get() <= target + spare();
    }

    /**
     * A counted worker just left {@code nrRunning}, which is now {@code running}: does the pool
     * need a kick? Read after the decrement (the Dekker pair in the class comment).
     */
    boolean fellBelowTarget(int running) {
        return running < target && hasWork();
    }

    /**
     * A queuer just pushed onto the inbound stack and must see that someone admits it: true if
     * no worker is certain to look: fewer running or searching (an idle worker spinning on the
     * stack) than the target. Unbound pools count their wakers under the lock, so they always
     * look. Read after the push: the other half of each Dekker pair is a worker that leaves
     * nrRunning (or nrSearching), then reads the stack.
     */
    boolean pushNeedsKick() {
        return !managed || nrRunning.get() + nrSearching.get() < target;
    }

    /** An idle worker exists to be woken. */
    boolean mayStartWorking() {
        assert holdsLock();
        return nIdle > 0;
    }

    /** More workers are needed and none is idle. */
    boolean needToCreateWorker() {
        return needMoreWorker() && !mayStartWorking();
    }

    /** Idle workers beyond the reserve, as the kernel counts them. */
    boolean tooManyWorkers() {
        assert holdsLock();
        int nBusy = nWorkers - nIdle;
        return nIdle > 2 && (nIdle - 2) * 4 >= nBusy;
    }

    /**
     * Managed pools whose works have blocked keep one idle worker in reserve while any worker is
     * busy and nothing waits, so that the next block wakes it at once instead of waiting for a new
     * thread. A pool that never saw a block (CPU-bound works, or waits that helping absorbed)
     * needs none. Nor does a pool with a backlog: there a block is a need like any other, served
     * by the workers coming back from their blocks or, after the stall, by the manager. (With a
     * reserve made each time a backlog took the idle one, a steady blocking load grew a thread
     * per dip: most of the threads `mixed-announced` created were such reserves.)
     */
    boolean needReserve() {
        assert holdsLock();
        return managed && blocksLately() && nIdle == 0 && nReserveStarting == 0 && nWorkers > 0 && !closing && !hasWork();
    }

    /** A counted worker of this pool left nrRunning because it blocked (announced or detected). */
    void blockSeen() {
        long at = progress;
        if (!sawBlock) {
            blockSeenAt = at;
            sawBlock = true;
        } else if (at - blockSeenAt >= BLOCK_MEMORY_RUNS / 4) {
            blockSeenAt = at; // a store per 16,384 starts at most, however often works block
        }
    }

    /**
     * An announced block (not a join) began on this pool: {@link #blockSeen}, and with counting
     * enabled the CPU clock is obtained now, not a second after the first long run asks: the
     * demand estimate needs the runs' CPU times from the first blocks on.
     */
    void announcedBlockSeen() {
        boolean first = !sawBlock;
        blockSeen(); // also later ones: they keep the allowances (blocksLately)
        if (first && engine.countedBlocks) {
            ThreadCpu.obtainSoon();
        }
    }

    /**
     * Every busy worker that is not counted is a joiner: it waits for a work that is running on
     * another thread, so it returns when that work ends. Creation then waits out the join window.
     */
    boolean onlyJoinersOut() {
        return nJoining.get() >= busyUncounted();
    }

    /**
     * No worker is sent to steal for this pool, neither a new thread nor an idle one: its own
     * workers are out in blocks and the first one back steals (mayStealMore), while every CPU
     * has a counted worker anyway ({@link Engine#cpusTaken}). A thread made then would outlive
     * the dip; an idle one woken would be replaced by a reserve. Lock.
     */
    boolean thiefWaitsForReturn() {
        return someWorkerMayReturn() && engine.cpusTaken();
    }

    /** Some busy worker is not counted (blocked or CPU-intensive) and may come back soon. */
    boolean someWorkerMayReturn() {
        return managed && busyUncounted() > 0;
    }

    /** Busy workers out of nrRunning: blocked, detected, CPU-intensive or joining. Lock. */
    private int busyUncounted() {
        assert holdsLock();
        return nWorkers - nIdle - nrRunning.get();
    }

    // ------------------------------------------------------------------------------------------
    // The concurrency target, adapted by the monitor from {@code onCpu}: how many counted workers
    // it just saw on the CPU (RUNNABLE, or between two works).

    /** {@link #wantsAnotherRunning}, and the target is below its ceiling. */
    boolean underCommitted(int onCpu) {
        return wantsAnotherRunning(onCpu) && target < MAX_TARGET;
    }

    /**
     * Work waits, the pool runs its target, and none of those workers is on the CPU. Work still on
     * the inbound stack counts ({@link #runnableBacklog} admits it): a queuer that finds the
     * target running pushes without a kick (pushNeedsKick), and with every counted worker in a
     * block nobody admits it before one comes back (a counted native read kept its pool at
     * target 1 until it was taken out as a stall, seconds later).
     */
    private boolean wantsAnotherRunning(int onCpu) {
        return managed && onCpu == 0 && nrRunning.get() >= target && runnableBacklog();
    }

    /**
     * Monitor: works wait that a worker could start now. Works on the inbound stack are admitted
     * first (the lock's drain), which lists the active ones and parks those beyond their
     * workqueue's {@code maxActive}: counted as waiting unadmitted, a full workqueue's pushes
     * raised the target for works that could not run, and at the ceiling made the pool stop
     * counting blocks.
     */
    private boolean runnableBacklog() {
        if (backlog() > 0) {
            return true;
        }
        if (!hasWork()) {
            return false;
        }
        admitUnlocked();
        return backlog() > 0;
    }

    /**
     * Two or more counted workers of this pool are on the CPU while the managed pools together
     * have more on it than the CPUs plus {@link #OVERCOMMIT_SLACK}. (Two of ours on an otherwise
     * idle machine are not too many: the OS does not pin a pool to its CPU.)
     */
    boolean overCommitted(int onCpu, int totalOnCpu) {
        return overCommitted(onCpu, totalOnCpu, engine.cpus(), target);
    }

    /** {@link #overCommitted(int, int)} of a pool with {@code target} on {@code cpus} CPUs. */
    static boolean overCommitted(int onCpu, int totalOnCpu, int cpus, int target) {
        return onCpu >= 2 && totalOnCpu > cpus + OVERCOMMIT_SLACK && target > 1;
    }

    /**
     * Runnable counted workers beyond the CPUs that do not yet lower a target. The costs are not
     * symmetric: one runnable worker too many costs context switches, one too few leaves a CPU
     * idle while work waits. A pool with a raised target runs works that block, and the workers
     * a look finds on the CPU are mostly ones just back from a block, finishing their works
     * before the next: a target lowered for them left the next blocks without the works to fill
     * their CPU. (Mixed load, 2 CPUs: 0 gave about 1.4x the ideal time, 1 about 1.2x. One
     * external producer's pool serving both CPUs, the JDK {@code HttpServer} under {@code wrk}:
     * with 1 its target swung between 10 and 13 and the machine stayed 5-6% idle while requests
     * waited; with 2, idle under 1% and about 4-6% more requests a second with the same threads,
     * and the cold harness cells level: ARCHITECTURE 10, <i>{@code http} under {@code wrk}</i>.)
     */
    static final int OVERCOMMIT_SLACK = 2;

    /**
     * Monitor: one more counted worker. An idle one is woken at once; a new thread is created only
     * if the need outlasts a stall window (the blocked workers may be back by then).
     */
    void raiseTarget() {
        blockSeen();
        lock();
        try {
            target = target + 1;
            if (needMoreWorker()) {
                if (mayStartWorking()) {
                    wakeFirstIdle();
                } else {
                    manager.request(engine.stallWindowNanos);
                }
            }
        } finally {
            unlock();
        }
    }

    /** Monitor: one fewer; the surplus dies out through {@link #keepWorking()}. */
    void lowerTarget() {
        target = target - 1;
    }

    /**
     * Monitor: the pool stayed idle past its hold ({@link #idleLook}), or stopped counting blocks;
     * the next burst starts from the kernel's rule, or, while the pool counts blocks, from the
     * count Little's law gives its CPU ({@link #countingTarget}).
     */
    void resetTarget() {
        idleSince = 0;
        burstBlocked = false;
        int t = restingTarget();
        if (target != t) {
            target = t;
        }
    }

    /** The target of this pool at rest: the kernel's rule, or {@link #countingTarget} while it counts blocks. Monitor. */
    private int restingTarget() {
        return countedBlocks ? countingTarget() : 1;
    }

    /**
     * When ({@code nanoTime}) the monitor first found this pool idle since it was last busy; 0
     * while busy, or once the target is back at rest. Monitor only.
     */
    private long idleSince;
    /**
     * A look since the target was last at rest found one of this pool's workers in a block
     * (counted, announced or detected): only such a burst's target is held. A pool of works that
     * never block has no use for a raised target, which the monitor can raise when a loaded
     * machine keeps its worker off the CPU, and a held raise lets a second worker take turns at
     * its ring (ARCHITECTURE 2, <i>Decay to the rule, after a hold</i>). Monitor only.
     */
    private boolean burstBlocked;

    /**
     * How long an idle pool keeps the target its last burst reached, the gap within which the
     * next burst is the same load going on (a producer's batches, rounds of a job): reset at
     * every idle look, each burst 5 ms after the last climbed back from the rule, about ten
     * raises a burst, each a correction that kept the service thread at 1 ms ticks (ARCHITECTURE
     * 2, <i>Decay to the rule, after a hold</i>). The monitor's linger; a monitor that parks
     * meanwhile parks until the hold ends.
     */
    static final long TARGET_HOLD_NANOS = Monitor.LINGER_NANOS;
    /** {@link #TARGET_HOLD_NANOS}, or what a test set ({@code EngineProbe.targetHold}); read by the monitor. */
    static volatile long targetHoldNanos = TARGET_HOLD_NANOS;

    /**
     * Monitor, at a look that found this pool idle at {@code now}: its target decays to the
     * resting one ({@link #resetTarget}) once the pool has stayed idle {@link #TARGET_HOLD_NANOS}
     * (from the first look that found it idle: up to a tick more), or at once if no look of the
     * burst found a worker in a block ({@link #burstBlocked}).
     *
     * @return when ({@code nanoTime}) the hold ends while it still holds a raised target (the
     *     monitor looks again by then, parked or not), else {@code Long.MAX_VALUE}
     */
    long idleLook(long now) {
        if (burstBlocked && target != restingTarget()) {
            if (idleSince == 0) {
                idleSince = now == 0 ? 1 : now;
            }
            long until = idleSince + targetHoldNanos;
            if (now - until < 0) {
                return until;
            }
        }
        resetTarget();
        return Long.MAX_VALUE;
    }

    /**
     * Monitor: a look found this pool busy, with a worker in a block if {@code blocked}; an idle
     * spell's hold starts again at the next idle look.
     */
    void busyLook(boolean blocked) {
        idleSince = 0;
        if (blocked) {
            burstBlocked = true;
        }
    }

    /**
     * Monitor: the target jumps to {@code t} if it is lower, and idle workers are woken for the
     * listed works, one per work and as many as the new target leaves room for; if works are
     * still left for want of idle workers, a thread is asked for after a stall window, as
     * {@link #raiseTarget} does (the monitor raises no further while the pool runs below its
     * target, and works listed before the jump kicked nobody).
     */
    void raiseTargetTo(int t) {
        if (target >= t) {
            return;
        }
        lock();
        try {
            target = t;
            for (int woken = 0; woken < nrPending && needMoreWorker() && mayStartWorking(); woken++) {
                wakeFirstIdle();
            }
            if (needMoreWorker() && !mayStartWorking()) {
                manager.request(engine.stallWindowNanos);
            }
        } finally {
            unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Counted blocks (ARCHITECTURE 2, "Counted blocks"): while this pool's announced blocks are
    // short beside the CPU its works need, an announced block leaves its worker counted, as an
    // unannounced one does until the monitor sees the pool stuck, and the target caps the works
    // in flight.

    // runCpuAvg, blocksPerRun, demandSamples: at the top of the class (their lines).
    /**
     * Announced blocks (not joins) leave their workers counted. Written by the monitor only
     * ({@link #adaptBlockCounting}), read by workers as they block ({@link #countsBlocks}).
     */
    private volatile boolean countedBlocks;
    /** Until when ({@code nanoTime}) a pool that stopped counting blocks keeps the kernel's rule. Monitor only. */
    private long countedBlocksBarredUntil;
    /** How long a pool that stopped counting blocks keeps the kernel's rule before it may count again. */
    static final long COUNTED_BLOCKS_BAR_NANOS = 1_000_000_000L;
    /** Looks in a row that found this pool wanting more than its target's ceiling while counting blocks; monitor only. */
    private int looksAtCeiling;

    /**
     * Counting blocks, the pool's target reached its ceiling and the last look still found no
     * counted worker on the CPU with work waiting, at three looks in a row: the cap cannot give
     * the works in flight this pool needs (a server's long waits beside little CPU). Monitor only.
     */
    private boolean outgrewCountedBlocks() {
        boolean wanting = target >= MAX_TARGET && wantsAnotherRunning(look.onCpu);
        looksAtCeiling = wanting ? looksAtCeiling + 1 : 0;
        return looksAtCeiling >= 3;
    }

    /** Runs averaged before the pool's demand is trusted: a cold JVM's first runs are slow. */
    static final int COUNTED_BLOCKS_SAMPLES = 64;
    /** Blocks are counted while a CPU's worth of this pool's works needs at most this many workers. */
    static final int COUNTED_BLOCKS_ENTER = 10;
    /** ... and no longer once it needs more than this, the target's ceiling, while the CPUs have room. */
    static final int COUNTED_BLOCKS_LEAVE = MAX_TARGET;
    /**
     * ... or, while the CPUs are saturated, once it needs more than this: four times the
     * ceiling. A block's learned length is its wall time, which on saturated CPUs includes the
     * wait for a CPU after it ends (2 ms sleeps learned as 2.7-5.7 ms at a load of 5-7), so the
     * estimate grows with the very saturation that more works in flight would make worse;
     * blocks this much longer than the ceiling allows are long whatever the wait.
     */
    static final int COUNTED_BLOCKS_LEAVE_SATURATED = 4 * MAX_TARGET;

    /**
     * A run of {@code cpu} ns with {@code blocks} announced blocks ended on this pool (which saw
     * blocks). Release stores: the monitor's reads need no more, and a volatile store is a full
     * fence on x86, which waits for the run's earlier stores to leave the store buffer: three
     * per run took a sixth of an external producer's worker's samples (ARCHITECTURE 10, <i>The
     * external form's lines</i>).
     */
    void noteRunDemand(long cpu, int blocks) {
        long n = demandSamples;
        if (n < COUNTED_BLOCKS_SAMPLES) {
            DEMAND_SAMPLES.lazySet(this, n + 1);
        }
        long c = Math.max(0, cpu);
        long a = runCpuAvg;
        RUN_CPU_AVG.lazySet(this, n == 0 ? c : a + ((c - a) >> 4));
        long b = blocksPerRun;
        int sample = Math.min(blocks, 64) << 10;
        BLOCKS_PER_RUN.lazySet(this, n == 0 ? sample : b + ((sample - b) >> 4));
    }

    /**
     * Little's law for one CPU of this pool: a work's CPU time C between two announced blocks,
     * and its blocks' usual length W ({@link #noteBlock}), keep {@code 1 + W / C} workers busy
     * per running one, as many as the pool needs in flight to keep a CPU busy. A pool whose
     * works need at most {@link #COUNTED_BLOCKS_ENTER} such workers ({@code perCpu}) gives the
     * right count with its blocked workers counted and the target raised by the monitor (a cap
     * on the works in flight); one that needs more gets them from the kernel's rule (an
     * announced block uncounts its worker at once, and the pool starts another work).
     */
    private static boolean blocksFitCounting(long perCpu) {
        return perCpu > 0 && perCpu <= COUNTED_BLOCKS_ENTER;
    }

    /** {@code 1 + W / C} for this pool ({@link #blocksFitCounting}); 0 until its demand is trusted. Monitor (and tests, racily). */
    long workersPerCpu() {
        long w = blockAvgNanos;
        long perRun = blocksPerRun;
        long cpu = runCpuAvg;
        if (demandSamples < COUNTED_BLOCKS_SAMPLES || w <= 0 || perRun <= 0 || cpu <= 0) {
            return 0;
        }
        long perBlock = cpu * 1024 / perRun;
        return perBlock > 0 ? 1 + w / perBlock : 0;
    }

    /**
     * The target a pool that counts blocks starts from, as it starts counting and at each burst
     * after an idle spell: the works in flight Little's law gives its CPU ({@link
     * #workersPerCpu}), at most {@link #MAX_TARGET}; 1 while that is unknown. Started from 1, the
     * monitor's raises (one a look, and only while no counted worker is on the CPU) took 75 ms of
     * a cold {@code mixed} burst to reach it, with idle workers waiting and a CPU idle for part
     * of it.
     */
    private int countingTarget() {
        return (int) Math.max(1, Math.min(workersPerCpu(), MAX_TARGET));
    }

    /**
     * Monitor, at each look: whether announced blocks leave their workers counted. A pool counts
     * them from its start ({@link #countsFromTheStart}), and stops when they outgrow the count
     * ({@link #blocksOutgrewCounting}). Leaving resets the target (raised while blocked
     * workers counted, it would let as many more run at once under the kernel's rule) and keeps
     * the kernel's rule for {@link #COUNTED_BLOCKS_BAR_NANOS}, after which only a fitting
     * estimate brings counting back: a cold JVM's demand estimate moves as its code compiles,
     * and each switch costs a reset.
     */
    void adaptBlockCounting(long now) {
        Boolean forced = countedBlocksForTests;
        if (!managed || (forced == null && !engine.countedBlocks)) {
            return;
        }
        boolean on = countedBlocks;
        long perCpu = workersPerCpu();
        boolean fit = forced != null ? forced
                : on ? !blocksOutgrewCounting(perCpu, engine.cpuLoad.saturated)
                : now - countedBlocksBarredUntil >= 0 && blocksFitCounting(perCpu);
        if (fit != on) {
            countedBlocks = fit;
            if (fit) {
                raiseTargetTo(countingTarget());
            } else {
                countedBlocksBarredUntil = now + COUNTED_BLOCKS_BAR_NANOS; // no switching back and forth
                looksAtCeiling = 0;
                resetTarget();
            }
        }
    }

    /**
     * A managed pool counts announced blocks from its start, before it knows its works' demand,
     * so from its first announced block, the first that counting changes (unless the engine or a
     * test turned counting off). A pool that learned its demand under the kernel's rule had by
     * then started a work for every block, and created the threads for them: on
     * {@code mixed-announced}, a cold JVM's 4,000 works held 20-25 threads against 18-19 counted
     * from the start (ARCHITECTURE 10, <i>Counted from the start</i>). A pool that stops
     * counting comes back to it only once its demand is known to fit
     * ({@link #blocksFitCounting}).
     */
    private static boolean countsFromTheStart(boolean managed, Engine engine) {
        Boolean forced = countedBlocksForTests;
        return managed && (forced != null ? forced : engine.countedBlocks);
    }

    /**
     * A counting pool stops: its demand ({@code perCpu}: {@code 1 + W / C}, 0 while unknown) is
     * past the target's ceiling, or the target reached that ceiling and still leaves no counted
     * worker on the CPU ({@link #outgrewCountedBlocks}), and the CPUs have room. While they are
     * saturated the pool keeps counting unless its demand is past
     * {@link #COUNTED_BLOCKS_LEAVE_SATURATED}: a counted worker whose block ended but that waits
     * for a CPU looks off the CPU to the monitor, and the learned block includes that wait, so
     * both signals grow with the saturation itself; leaving then gave the works in flight back
     * to the kernel's rule, which added threads for CPUs that had none to give (the HTTP
     * scenario: 35-38 threads where counting kept 20-24, at about the same throughput). Monitor
     * only; the ceiling's count of looks advances at every look.
     */
    private boolean blocksOutgrewCounting(long perCpu, boolean saturated) {
        boolean wanting = outgrewCountedBlocks();
        if (perCpu > COUNTED_BLOCKS_LEAVE_SATURATED) {
            return true;
        }
        return !saturated && (wanting || perCpu > COUNTED_BLOCKS_LEAVE);
    }

    /**
     * Tests: every managed pool counts blocks (true) or none does (false) from its construction
     * or its next look, whatever its engine's setting; null: the pools decide (if their engine
     * counts blocks).
     */
    static volatile Boolean countedBlocksForTests;

    /** Tests and diagnostics: the estimates {@link #workersPerCpu} reads. */
    String demandEstimate() {
        return name + ": usual block " + blockAvgNanos + " ns, run CPU " + runCpuAvg + " ns, blocks per run "
                + blocksPerRun / 1024.0 + ", runs " + demandSamples + ", workers per CPU " + workersPerCpu()
                + ", counting " + countedBlocks;
    }

    /** An announced block (not a join) about to begin on this pool leaves its worker counted. */
    boolean countsBlocks() {
        return countedBlocks;
    }

    /** This pool's usual block ({@link #noteBlock}), racy (tests). */
    long usualBlockNanos() {
        return blockAvgNanos;
    }

    /** {@code w} is in a counted block that has lasted less than twice this pool's usual block (racy). */
    boolean countedBlockUsual(Worker w, long now) {
        long age = w.countedBlockAge(now);
        return age >= 0 && age < 2 * blockAvgNanos;
    }

    /** A run ended: average its demand if this pool saw blocks. */
    boolean tracksDemand() {
        return engine.countedBlocks && sawBlock;
    }

    // ------------------------------------------------------------------------------------------
    // How long blocks last here: how long a need for a worker may wait for a blocked one.

    // blockAvgNanos: at the top of the class (its line).

    /** Longest wait for a blocked worker before a thread is created, however long blocks last. */
    static final long MAX_STALL_NANOS = 2_000_000L;

    /**
     * An announced block of {@code nanos} ended on this pool, timed for itself and {@code
     * blocks - 1} untimed blocks before it on its worker ({@link Worker#timesNextBlock}): the
     * average moves as {@code blocks} blocks of that length would move it, each by an eighth of
     * the gap, so a sampled stream forgets a cold start's slow first blocks as fast, per block,
     * as a fully timed one (ARCHITECTURE 2, <i>Timing blocks</i>). A release store, as {@link
     * #noteRunDemand}'s.
     */
    void noteBlock(long nanos, int blocks) {
        nanos = Math.min(Math.max(nanos, 0), MAX_BLOCK_NOTED_NANOS);
        long avg = blockAvgNanos;
        long next;
        if (avg == 0) {
            next = nanos;
        } else {
            int k = Math.min(Math.max(blocks, 1), KEPT_AFTER.length - 1);
            next = nanos + ((avg - nanos) * KEPT_AFTER[k] >> 16); // 7/8 of the gap kept per block
        }
        BLOCK_AVG.lazySet(this, next);
    }

    /**
     * Longest block {@link #noteBlock} takes as it is (an hour: the stall wait it informs stops at
     * {@link #MAX_STALL_NANOS}, and the fixed point stays within a long).
     */
    static final long MAX_BLOCK_NOTED_NANOS = 3_600_000_000_000L;

    /** (7/8)^k in 16-bit fixed point, k = 0..8: what {@link #noteBlock} keeps of the gap after k blocks. */
    private static final long[] KEPT_AFTER = {65536, 57344, 50176, 43904, 38416, 33614, 29412, 25736, 22519};

    /**
     * How long a need for a worker that arose while workers were blocked waits for one of them
     * before a thread is created: the stall window, or half the blocks' usual length if that is
     * longer (at most {@link #MAX_STALL_NANOS}). A block expected to end within about the time a
     * new thread takes to start and reach the worklist is not worth a thread: the blocked worker
     * comes back and takes the work itself.
     */
    long stallNanos() {
        return Math.max(engine.stallWindowNanos, Math.min(blockAvgNanos >> 1, MAX_STALL_NANOS));
    }

    // ------------------------------------------------------------------------------------------
    // Placement hints, read without the lock.

    /** Nothing running, nothing queued. */
    boolean isIdle() {
        return !hasWork() && nrRunning.get() == 0;
    }

    /** The calling thread holds {@link #lock}: the lock rule of the fields tagged "lock", checked by assertions. */
    boolean holdsLock() {
        return lock.isHeldByCurrentThread();
    }

    /**
     * Takes {@link #lock} without allocating in the common case (see {@link Locks}), then admits
     * what is inbound: the lock holder sees every queue that returned before.
     */
    void lock() {
        lockAfterRun(0);
    }

    /**
     * {@link #lock()} for a worker whose run ended at {@code endedAt} (its clock read, or its
     * estimated end; 0 for none): a short drain lists what it admits with that time instead of
     * reading the clock again.
     *
     * @return true if {@code endedAt} may still serve as the time now (the lock came within the
     *     spin, and the drain, if any, was short): the worker's next run may take it as its start
     */
    boolean lockAfterRun(long endedAt) {
        boolean quick = Locks.acquire(lock);
        try {
            closeForHolder();
            return drainAfterRun(quick, endedAt);
        } catch (Throwable t) {
            // The caller's try has not begun: a lock() that throws must hold nothing, or the
            // caller's thread keeps the pool for good (an admission's kick may allocate, or
            // overflow a stack near its end: what was not admitted stays in admitting). With
            // unlock(): a worker woken by an admission before the throw is unparked.
            unlock();
            throw t;
        }
    }

    /**
     * The drain of {@link #lockAfterRun}, for a worker that already took the lock without one
     * ({@code quick}: it came within the spin). Lock.
     */
    boolean drainAfterRun(boolean quick, long endedAt) {
        assert holdsLock();
        if (inbound != null || admitting != null || fastPending()) {
            drainClock = endedAt;
            try {
                quick &= drainAtRunEnd();
            } finally {
                drainClock = 0;
            }
        }
        return quick;
    }

    /**
     * Takes {@link #lock} without admitting what is inbound: a worker that may take its run's
     * successor straight off the stack ({@link #takeSuccessor}) first. It drains next
     * ({@link #drainAfterRun}) unless it took it.
     *
     * @return true if the lock came within the spin
     */
    boolean lockBeforeDrain() {
        boolean quick = Locks.acquire(lock);
        closeForHolder(); // never throws
        return quick;
    }

    /**
     * Takes {@link #lock}, without a drain, unless this thread holds it already: for a worker
     * whose thread ends on a throw, which may have come with the lock held or not, and must not
     * admit (and so kick, or throw again) before it leaves the pool's counts. What this lock
     * leaves unadmitted, or what an earlier lock without a drain left (a lane's ring, a push since
     * the last drain, hand-backs that a close collected), is for the service thread to admit
     * (flags and a nudge: nothing here may throw or allocate), and its admission kicks: the
     * leaving worker's own kick sees only what is listed, and a chain's successor left in the
     * ring of a worker that died waited for the service thread's next timer
     * ({@code FaultsTest.outOfMemoryForALaneStatisticsSlotLosesOnlyThatRunsStatistics}).
     */
    void lockUnlessHeld() {
        if (!holdsLock()) {
            Locks.acquire(lock);
            closeForHolder();
        }
        if (handedBack != null || hasInbound()) {
            admitByServiceThread();
        }
    }

    /**
     * A run of {@code pwq}, in colour {@code color}, just ended on this pool, and the inbound
     * stack holds one work of {@code pwq} alone (usually the one that run queued: a chain's
     * successor) with nothing else waiting: takes that work off the stack for the worker to start
     * in the run's slot (ARCHITECTURE 6, <i>A chain's successor</i>). It is exactly the work the
     * locked path would admit, list, take and start next on this worker:
     * alone on the stack, nothing listed or left from a drain ahead of it (FIFO), this managed
     * pool runs no more than its target, no instance of it runs, and its pwq would admit it
     * active in that colour ({@link PoolWorkqueue#maySlotPassOn}). Lock held, before any drain:
     * for every other lock holder the work goes from the stack to running at once.
     *
     * @return the work, still pending and off every list; or null
     */
    WorkNode takeSuccessor(PoolWorkqueue pwq, int color) {
        assert holdsLock();
        WorkNode top = inbound;
        if (top == null || top.inNext != null || top.pwq != pwq || admitting != null || nrPending != 0
                || fastPending()
                || (top.state & WorkNode.RUNNING) != 0 || !managed || closing
                || nrRunning.get() > target || !pwq.maySlotPassOn(color)) {
            return null;
        }
        if (!INBOUND.compareAndSet(this, top, null)) {
            return null; // another push came: the drain takes both, in order
        }
        PROGRESS.lazySet(this, progress + 1); // a start, for the monitor's look at progress
        slotPasses++;
        producerDrains = 0; // a chain's hop
        return top;
    }

    /** {@link #slotPasses}, under the lock (tests). */
    long slotPasses() {
        lock();
        try {
            return slotPasses;
        } finally {
            unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The inbound stack.

    /**
     * Pushes {@code n}, whose PENDING bit, pwq and fields the caller owns and has written, onto
     * the inbound stack; from the CAS on, the pool owns it.
     *
     * @return true if the stack was empty: the edge on which the pool may have turned busy
     */
    boolean push(WorkNode n) {
        n.setWhereRelease(WorkNode.INBOUND); // the CAS below publishes it
        FastRing r = ring;
        // the ring's nodes up to here were offered before this push: a drain admits them first
        // ({@link #drainInbound}); held in queuedAt, which the admission rewrites. Without a
        // ring (yet): before every ring node, should a ring come before the drain
        n.queuedAt = r != null ? r.tailPosition() : Long.MIN_VALUE;
        for (;;) {
            WorkNode top = inbound;
            n.inNext = top;
            if (INBOUND.compareAndSet(this, top, n)) {
                if (r != null && r.isOpen()) {
                    // no lock-free take of a newer node while this one waits on the stack: the
                    // Dekker pair with reopenFast (its open, then its read of the stack)
                    r.close();
                }
                return top == null;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // The fast lane (ARCHITECTURE 6, "The fast lane").

    /**
     * Offers {@code n}, an eligible node whose PENDING bit, pwq and fields the caller owns and has
     * written, to the ring ({@link #ring} non-null); from a true return on, the pool owns it.
     *
     * @return {@link FastRing#offer}'s result: if FULL, the caller pushes it onto the stack
     */
    int offer(WorkNode n) {
        FastRing r = ring;
        n.queuedAt = r.epoch(); // a stack push rewrites it, should the offer fail
        n.setWhereRelease(WorkNode.INBOUND); // the offer's CAS and release publish it
        return r.offer(n);
    }

    /**
     * The work loop's drain ({@link #keepWorking}) admits the ring too: it holds hand-backs, or
     * nothing is listed (the worker's look at the lane, just before, declined it: the concurrency
     * rule, or a closing pool), or the pool is closing. Otherwise the ring stays for the lane:
     * what is listed is older than all it holds (every drain admits the ring up to its tail), so
     * the worker runs the listed works first and then the ring's, in order, without the lock.
     * Lock.
     */
    private boolean ringToAdmit() {
        FastRing r = ring;
        return r != null && (handedBack != null
                || ((nrPending == 0 || closing || worklist.topLevel() < FAST_LEVEL) && !r.isEmpty()));
    }

    /** A worker's drain at the end of a run ({@link #runEndDrain}: the ones the adaptive lane counts). Lock. */
    private boolean drainAtRunEnd() {
        runEndDrain = true;
        try {
            return drainInbound();
        } finally {
            runEndDrain = false;
        }
    }

    /** Drains in a row within the limits after which the adaptive lane gives a pool its ring. */
    static final int AUTO_LANE_DRAINS = 256;

    /**
     * The adaptive lane's look at a drain at a run's end ({@link #runEndDrain}) that admitted works
     * and left two or more listed (other chains, a producer's backlog; not a lone chain): one that sent none to an inactive
     * list extends the streak, one that did (a flood beyond the pwqs' limits, which runs on the
     * locked path anyway, the worklist never empty for the lane) ends it; after
     * {@link #AUTO_LANE_DRAINS} in a row the pool gets its ring. So the lane's code runs, and a
     * fresh JVM compiles it, only where backlogs stay small: producers a worker keeps up with,
     * chains. A ring made late starts closed; a worker opens it under the lock, as always. Lock.
     */
    private void laneWorthIt(boolean withinLimits) {
        if (!withinLimits) {
            if (laneStreak > 0) {
                laneStreak = 0;
            }
            return;
        }
        if (laneStreak < 0 || ++laneStreak < AUTO_LANE_DRAINS) {
            return;
        }
        try {
            ring = new FastRing();
        } catch (Throwable t) {
            laneStreak = Integer.MIN_VALUE; // out of memory, say: the locked path serves as before
        }
    }

    /**
     * The one level whose works take the fast lane (NORMAL): the ring is FIFO, not by priority,
     * so works of other levels go by the stack and the worklist (a push closes the ring); and
     * while only lower levels are listed, the work loop's drain admits the ring ahead of them
     * ({@link #ringToAdmit}).
     */
    static final int FAST_LEVEL = 1;

    /** Works listed or waiting in the ring: a racy hint, for decisions about thieves. */
    int backlog() {
        FastRing r = ring;
        return r == null ? nrPending : nrPending + r.size();
    }

    /**
     * Works the pool's workers started in the lane, over its workers alive and gone: a racy sum
     * without the lock (tests: a probe that locked would convert the runs it looks at).
     */
    long laneStarts() {
        long n = laneStartsOfGone;
        for (Worker w : workers) {
            n += w.laneStarts;
        }
        return n;
    }

    /** {@link #laneStarts} of workers that left; written under the lock, read racily. */
    private volatile long laneStartsOfGone;

    /** The ring holds nodes, or takers handed some back, for the next drain. Racy outside the lock. */
    private boolean fastPending() {
        FastRing r = ring;
        return r != null && (!r.isEmpty() || handedBack != null);
    }

    /**
     * What every holder of {@link #lock} does first in a pool with the lane: closes the ring to
     * lock-free takers, waits for the takers between their take and their start (a few
     * instructions), collects the nodes they handed back, and has every fast run of the pool
     * counted in its pwq (the conversion: {@link #convert}). From here to the unlock the holder
     * sees the pool as the locked path would: every unstarted work inbound or listed, every
     * running one counted. Lock; never throws (no allocation).
     */
    void closeForHolder() {
        FastRing r = ring;
        if (r == null) {
            return;
        }
        r.close();
        Worker[] ws = workers;
        for (Worker w : ws) {
            Object m = w.fastMark;
            if (m == null) {
                continue;
            }
            for (int i = 0; m == Worker.IN_FLIGHT; i++) {
                Seam.holderWait();
                FastRing.pause(i); // a few instructions, unless the taker lost its CPU meanwhile
                m = w.fastMark;
            }
            if (m == Worker.HANDED_BACK) {
                collectHandBack(w);
            } else if (m instanceof WorkNode run) {
                convert(w, run);
            }
        }
    }

    /**
     * Takes the node {@code w} handed back into {@link #handedBack}, in take order (its ring
     * position, in {@code queuedAt}). Lock.
     */
    private void collectHandBack(Worker w) {
        WorkNode n = w.handBack;
        w.handBack = null;
        w.fastMarkRelease(null);
        long pos = n.queuedAt;
        WorkNode prev = null;
        WorkNode h = handedBack;
        while (h != null && h.queuedAt < pos) {
            prev = h;
            h = h.inNext;
        }
        n.inNext = h;
        if (prev == null) {
            handedBack = n;
        } else {
            prev.inNext = n;
        }
    }

    /**
     * Counts the fast run {@code run} of worker {@code w} in its pwq, as if the locked path had
     * admitted it (active, in flight in the pwq's colour): one CAS on the worker's mark decides
     * against the run's end ({@link Worker#fastEnd}), which then ends it on the locked path.
     * Lock.
     */
    private void convert(Worker w, WorkNode run) {
        if (w.casFastMark(run, Worker.CONVERTED)) {
            w.fastColor = w.fastPwq.countConverted();
            conversions = conversions + 1;
        }
    }

    /**
     * Fast runs counted by a lock holder ({@link #convert}); written under the lock, read
     * without it (tests: a probe that locked would convert what it looks at).
     */
    private volatile long conversions;

    long conversions() {
        return conversions;
    }

    /**
     * A worker holding the lock, with nothing listed, inbound on the stack or left by a drain,
     * opens the ring to lock-free takes (it then unlocks and takes: {@link Worker}'s fast loop).
     * After the open it reads the stack: a node pushed meanwhile closes it again (the Dekker pair
     * with {@link #push}). Lock.
     *
     * @return true if the ring is open
     */
    boolean reopenFast() {
        assert holdsLock();
        FastRing r = ring;
        if (r == null || closing || nrPending != 0 || admitting != null || handedBack != null || inbound != null) {
            return false;
        }
        r.open();
        if (inbound != null) {
            r.close();
            return false;
        }
        return true;
    }

    /**
     * Has the stack admitted now, from a thread that does not hold the lock: taking the lock
     * admits it ({@link #lock}), and each admission kicks as it needs.
     */
    void admitUnlocked() {
        lock();
        unlock();
    }

    /**
     * The service thread is to admit this pool's stack ({@code Monitor.admitWanted}): set by a
     * queuer that pushed with no stack left to take the lock, or by a drain that left nodes in
     * {@link #admitting} (under the lock); cleared by the service thread before it admits.
     */
    volatile boolean admitWanted;

    /**
     * Asks the service thread to admit what is inbound or left in {@link #admitting} (no lock
     * taken here). The flags are plain stores; only the nudge is a call.
     */
    void admitByServiceThread() {
        admitWanted = true;
        engine.monitor.admitWanted = true;
        if (!engine.monitor.isServiceThread()) {
            // (on the service thread, whose own admission or kick threw, no nudge: an unpark of
            // itself cut its next nap at once, a hot loop while the error lasted; its scan looks
            // again at the next tick instead, Monitor.scan)
            engine.monitor.nudge();
        }
    }

    /**
     * Admits everything inbound, oldest first ({@link PoolWorkqueue#admit}). An admission that
     * throws leaves the rest in {@link #admitting}, for the next drain. Left to whoever next took
     * the lock, they waited for good when nothing else brought one: the thrower a worker whose
     * thread ends on the error (ARCHITECTURE 5, "A worker thread's end by a throw") with nothing
     * listed behind it, so that its leave kicks no one, or a caller the error returns to while
     * every worker idles; and {@link #hasWork()} did not show them, to a worker deciding to idle
     * or to the monitor. So the drain leaves by a throw with {@link #admitLeft} set and the
     * service thread asked to admit ({@link #admitByServiceThread}: its lock drains them, and each
     * admission kicks as it needs); if that admission throws again, it asks again, and the
     * monitor, which sees work here, keeps scanning. A drain that empties what a throw left
     * clears the flag. The loop per node writes no volatile field (one seam read per node). Lock.
     *
     * @return true if it was short (at most {@link #SHORT_DRAIN} nodes, or none)
     */
    boolean drainInbound() {
        assert holdsLock();
        if (draining) {
            return true;
        }
        draining = true;
        boolean isShort = true;
        boolean resumed = admitting != null; // the rest of a drain that threw: admitLeft is set
        long ringBacklog = 0;
        try {
            if (!resumed) {
                // one swap per drain: pushers that keep coming are admitted by the next lock
                WorkNode top = INBOUND.getAndSet(this, null);
                WorkNode ordered = null; // reverse: the stack is newest first
                int count = 0;
                while (top != null) {
                    WorkNode next = top.inNext;
                    top.inNext = ordered;
                    ordered = top;
                    top = next;
                    count++;
                }
                if (ring != null) {
                    ringBacklog = ring.isEmpty() ? 0 : laneBacklogHint;
                    ordered = mergeRing(ordered);
                    count = merged;
                }
                admitting = ordered;
                isShort = count <= SHORT_DRAIN;
            } else {
                isShort = false; // the rest of a drain that threw: its size is not known here
            }
            if (admitting != null) {
                listClock = isShort && drainClock != 0 ? drainClock : System.nanoTime();
            }
            WorkNode n;
            long inactiveBefore = inactiveAdds;
            boolean admitted = admitting != null;
            boolean external = false;
            while ((n = admitting) != null) {
                Seam.admit();
                admitting = n.inNext;
                n.inNext = null;
                external |= n.external();
                n.pwq.admit(n);
            }
            if (ringBacklog != 0) {
                backlogSeenSince(ringBacklog); // the listed ring's works, as old a backlog as the ring's
            }
            if (admitted) {
                producerDrains = external ? producerDrains + 1 : 0;
            }
            if (admitted && engine.autoLane && ring == null && managed && runEndDrain
                    && (nrPending >= 2 || (producerDrains >= 2 && runsAreTiny()))) {
                // a drain that leaves one work listed (a lone chain's successor, after its slot
                // passes ran out) does not count: a lone chain runs faster on the slot pass. One
                // that admitted a producer's tiny work, after another that did, does: a worker
                // that keeps up with its producer drains one at a time (ARCHITECTURE 6, "The
                // adaptive lane")
                laneWorthIt(inactiveAdds == inactiveBefore);
            }
        } finally {
            draining = false;
            if (resumed && admitting == null) {
                // all admitted (listed: nrPending shows them; or inactive), also when the last
                // admission threw after its node had left admitting: the flag follows the list,
                // not the path out, or a throw there kept an idle pool "with work" for good
                admitLeft = false;
            }
            if (admitting != null) {
                // Left by a throw: shown by hasWork() from now on, and admitted by the service
                // thread at its next scan (admitByServiceThread's flags, written here without the
                // call: stores cannot throw, a call may overflow at the end of a stack). The
                // nudge is best effort: the flags are set, so the next scan admits either way.
                admitLeft = true;
                admitWanted = true;
                engine.monitor.admitWanted = true;
                try {
                    engine.monitor.nudge();
                } catch (Throwable t) {
                    // the error that brought us here goes on, not this one
                }
            }
        }
        return isShort;
    }

    /**
     * The admission order of a drain in a pool with the lane: the nodes takers handed back and
     * the ring's nodes (in take order), merged with the stack's ({@code stack}, oldest first) by
     * the ring position each stack node read at its push: a ring node offered before that push
     * goes before it, one offered after it behind it. Then the rest of the ring, up to its tail
     * as read here (offers that keep coming wait for the next drain). Allocates nothing. Lock.
     */
    private WorkNode mergeRing(WorkNode stack) {
        merged = 0;
        FastRing r = ring;
        long end = r.tailPosition();
        WorkNode head = null;
        WorkNode tail = null;
        WorkNode back = handedBack;
        handedBack = null;
        WorkNode s = stack;
        for (;;) {
            // the oldest of: the hand-backs (taken from the ring, so older than what it holds),
            // the ring up to the next stack node's position (or the tail read), that stack node
            WorkNode n;
            if (back != null && (s == null || back.queuedAt < s.queuedAt)) {
                n = back;
                back = back.inNext;
            } else if (back == null && (n = r.pollBefore(s != null ? s.queuedAt : end)) != null) {
                // a ring node offered before the stack node's push
            } else if (s != null) {
                n = s;
                s = s.inNext;
            } else {
                break;
            }
            n.inNext = null;
            if (tail == null) {
                head = n;
            } else {
                tail.inNext = n;
            }
            tail = n;
            merged++;
        }
        return head;
    }

    /** Nodes in the order the last {@link #mergeRing} made; lock. */
    private int merged;

    /** Releases {@link #lock}, then unparks the worker woken meanwhile, if any. */
    void unlock() {
        Thread t = toUnpark;
        toUnpark = null;
        lock.unlock();
        if (t != null) {
            unparkWorker(t);
        }
    }

    /** Unparks a worker's thread (through {@link Seam#unpark}, which a test's model of the park records). */
    static void unparkWorker(Thread t) {
        Seam.unpark(t);
        LockSupport.unpark(t);
    }

    // ------------------------------------------------------------------------------------------
    // Worklist operations; all under lock.

    /**
     * Lists {@code n}. Two Dekker pairs meet here, and one fence serves both: {@code where} is
     * stored before the list reads the node's lends (against a lender, which stores the lend and
     * then reads {@code where}: {@link Worklist#add}), and {@code nrPending} is raised before the
     * pool's kick reads {@code nrRunning} (against a blocker: the class comment). Both stores go
     * first as release stores, then one full fence, then both reads; two volatile stores cost a
     * fence each. Lock.
     */
    void worklistAdd(WorkNode n) {
        assert holdsLock();
        n.setWhereRelease(WorkNode.WORKLIST);
        n.queuedAt = draining || listClockSet ? listClock : System.nanoTime();
        int pending = nrPending + 1;
        NR_PENDING.lazySet(this, pending); // racy readers that see it before the node is listed lock first
        java.lang.invoke.VarHandle.fullFence();
        worklist.add(n);
        if (!n.pinned()) {
            nrUnpinned++;
        }
        if (pending == 1) {
            backlogSince = n.queuedAt; // the worklist stops being empty
        }
    }

    /**
     * Since when the worklist has not been empty: the list clock of the insert that made it
     * non-empty; 0 while it is empty. Lock. A worklist that stays non-empty past the steal
     * threshold shows that the pool's running workers do not keep up: its head may be stolen
     * even if each work waits less (see {@link #untilStealable}). A single chain (a work that
     * queues its successor here) empties it at every run and never qualifies. Also read racily,
     * as a hint, by a thief's look before it locks ({@link #tinyBacklogMayHaveLasted}).
     */
    private long backlogSince;

    /**
     * The ring, just listed by a worker of the lane, had held works since {@code since} (a clock
     * its worker read; 0: unknown): the worklist's backlog began then, for thieves. Lock.
     */
    void backlogSeenSince(long since) {
        assert holdsLock();
        if (since != 0 && nrPending > 0 && (backlogSince == 0 || since - backlogSince < 0)) {
            backlogSince = since;
        }
    }

    /** The worklist shrank to {@code pending} works: if empty, no backlog. Lock. */
    private void pendingFell(int pending) {
        if (pending == 0) {
            backlogSince = 0;
        }
    }

    /**
     * Lists nodes with {@code now} as their queue time until {@link #clearListClock}: a worker
     * ending a run passes the clock it read at the run's end. Lock.
     */
    void useListClock(long now) {
        listClock = now;
        listClockSet = true;
    }

    void clearListClock() {
        listClockSet = false;
    }

    // runWallAvg: at the top of the class (its line).

    /**
     * {@link #runWallAvg}'s class ({@link #RUNS_TINY}, {@link #RUNS_SHORT} or {@link #RUNS_LONG})
     * in slot {@link #RUN_CLASS} of an array padded so that the slot has a cache line of its own:
     * read racily by queuers on every insert ({@link Stealing#afterInsert}) and by thieves (an
     * int: a racy read is never torn; a hint), written under the lock only when the class
     * changes. Reading the average itself, which the pool's worker rewrites on every run, cost a
     * producer a cache miss per queue and the worker the line back. An array, not a padded
     * object: no class of its own to load while the instance is built.
     */
    private final int[] runClass = new int[2 * RUN_CLASS + 1];

    {
        runClass[RUN_CLASS] = runClassOf(UNKNOWN_RUN_NANOS);
    }

    /** The slot of {@link #runClass}: 16 ints (64 bytes) on either side of it. */
    private static final int RUN_CLASS = 16;
    static final int RUNS_TINY = 0;
    static final int RUNS_SHORT = 1;
    static final int RUNS_LONG = 2;

    /** The class of an average run of {@code avg} ns. */
    static int runClassOf(int avg) {
        return avg < TINY_RUN_NANOS ? RUNS_TINY : avg < SHORT_RUN_NANOS ? RUNS_SHORT : RUNS_LONG;
    }

    /**
     * The class of an average run of {@code avg} ns for a pool now in class {@code current}: as
     * {@link #runClassOf}, except that tiny works stay tiny until the average reaches
     * {@link #TINY_EXIT_NANOS}. A run's wall time is its share of the time between two clock
     * reads, so it holds the engine's own cost per work too: about 60 ns in the lane, 150-400
     * on the locked path while a thief takes the pool's lock beside its worker. With one
     * boundary, no-op works measured tiny in the lane and short on the locked path; short, they
     * were offered to the idle sibling's thief, which took the pool to the locked path and kept
     * them short: on two CPUs an external producer's pool swapped classes thousands of times a
     * second and ran at a third of its speed for seconds at a time.
     */
    static int nextRunClass(int current, int avg) {
        if (current == RUNS_TINY && avg < TINY_EXIT_NANOS) {
            return RUNS_TINY;
        }
        return runClassOf(avg);
    }
    /** Works shorter than this on average are not worth a thief while every CPU is taken. */
    static final int SHORT_RUN_NANOS = 20_000;
    /**
     * Works shorter than this on average are not worth a thief even on a free CPU: stealing
     * them one at a time costs the victim's lock per work, which the victim's own worker takes
     * per work too, and the two threads then drain a flood of no-op works slower than the home
     * worker alone (2,000,000 {@code execute} calls on 2 CPUs: 1.0-1.9 s with a thief, 0.8-1.2 s
     * without); works of 1 us and more drain faster with one (200,000 such: 0.22-0.26 s against
     * 0.30 s).
     */
    static final int TINY_RUN_NANOS = 500;
    /** Tiny works become short once their average reaches this ({@link #nextRunClass}). */
    static final int TINY_EXIT_NANOS = 2 * TINY_RUN_NANOS;
    /**
     * How much one run may count, as a multiple of the average so far ({@link #runSample}).
     */
    static final int RUN_GROWTH = 4;

    /**
     * What a run of {@code wall} ns counts for in an average of {@code avg}: at most 2 x
     * {@link #SHORT_RUN_NANOS}, and at most {@link #RUN_GROWTH} x {@code avg} (but never less
     * than {@link #TINY_RUN_NANOS}). A sampled run's wall time holds whatever took its thread off
     * its CPU meanwhile (a tiny run's time is read once per batch of eight, so a preemption
     * anywhere in the batch lands in one run): counted whole, one preemption of 40 us among no-op
     * runs moved the average 5 us, past the tiny class, for the next seventeen samples. On two CPUs
     * with an external producer the tiny and short classes then swapped thousands of times a
     * second; while short, the pool asked its idle sibling for a thief (a wake-up on the CPU of
     * the very threads it should relieve: more preemptions, more swaps) and lost three quarters
     * of its throughput to it. With the limit a sample can raise the average by three eighths at
     * most: one preemption among tiny runs no longer changes their class, a few in a row do, and
     * works that really became long are classed long within about twenty runs (50 ns to 20 us).
     */
    static int runSample(long wall, long avg) {
        long cap = Math.min(2L * SHORT_RUN_NANOS, Math.max(TINY_RUN_NANOS, RUN_GROWTH * avg));
        return (int) Math.max(0, Math.min(wall, cap));
    }

    /** The run-wall average {@code avg} after a run of {@code wall} ns: an eighth of the way to its sample ({@link #runSample}). */
    static int nextRunWallAvg(long avg, long wall) {
        return (int) (avg + ((runSample(wall, avg) - avg) >> 3));
    }

    /** {@link #runWallAvg} before the first run: above {@link #TINY_RUN_NANOS}, below {@link #SHORT_RUN_NANOS}. */
    static final int UNKNOWN_RUN_NANOS = 4 * TINY_RUN_NANOS;

    /**
     * A run of {@code wall} ns ended on this pool (its statistics are recorded). Each run counts
     * at most 2 x {@link #SHORT_RUN_NANOS}, and at most {@link #RUN_GROWTH} times the average
     * (or {@link #TINY_RUN_NANOS}, if more; {@link #runSample}). Lock.
     */
    void noteRunWall(long wall) {
        int avg = nextRunWallAvg(runWallAvg, wall);
        runWallAvg = avg;
        int c = nextRunClass(runClass[RUN_CLASS], avg);
        if (c != runClass[RUN_CLASS]) {
            runClass[RUN_CLASS] = c;
        }
    }

    /**
     * This pool's works are short on average (under {@link #SHORT_RUN_NANOS}): a thief saves
     * more by not taking the lock once more per work than it risks by staying on this pool's list
     * ({@link Stealing}'s chain). A racy look.
     */
    boolean runsAreShort() {
        return runClass[RUN_CLASS] != RUNS_LONG;
    }

    /**
     * A thief taking works from here would pay for itself: a CPU is free for it and this pool's
     * works are not tiny (on average at least {@link #TINY_RUN_NANOS}), or they are long enough
     * (at least {@link #SHORT_RUN_NANOS}) that running them beside the busy threads beats
     * queueing them all behind one worker. While every CPU is taken ({@link CpuLoad}), a thief
     * for a flood of short works only takes turns with the producer and the home worker and
     * contends on this lock. A racy look.
     */
    boolean stealWorthwhile() {
        int c = runClass[RUN_CLASS];
        return c == RUNS_LONG || (c == RUNS_SHORT && !engine.cpuLoad.saturated);
    }

    /** This pool's works are tiny on average (under {@link #TINY_RUN_NANOS}). A racy look. */
    boolean runsAreTiny() {
        return runClass[RUN_CLASS] == RUNS_TINY;
    }

    /**
     * This pool holds chains of tiny works that its workers do not keep up with: its works are
     * tiny, more than the next one waits, and its worklist has not been empty for the steal
     * threshold while its steal candidate ({@link #stealCandidate}: the head, or the first
     * unpinned work behind pinned ones) is one of its own workers' (a successor queued by a run
     * here, not a work from outside). Tiny works are not worth a thief one by one ({@link
     * #stealWorthwhile}), but stealing the head of a chain moves the whole chain: its
     * successors are queued where it runs ({@link Stealing#trySteal}). Lock.
     */
    boolean hasTinyChainBacklog(long now) {
        assert holdsLock();
        if (nrPending < 2 || !runsAreTiny()) {
            return false;
        }
        WorkNode c = stealCandidate();
        return c != null && !c.external() && backlogLasted(now);
    }

    /** A listed node's lends changed: move it to its new place (O(1)). */
    void worklistReposition(WorkNode n) {
        assert holdsLock();
        worklist.reposition(n);
    }

    /** Adds to {@code out} up to {@code max} nodes of the worklist that match {@code which} (O(length)). */
    void collectListed(java.util.function.Predicate<WorkNode> which, java.util.List<WorkNode> out, int max) {
        assert holdsLock();
        worklist.collect(which, out, max);
    }

    void worklistRemove(WorkNode n) {
        assert holdsLock();
        worklist.remove(n);
        if (!n.pinned()) {
            nrUnpinned--;
        }
        assert nrUnpinned >= 0 && (nrPending > 64 || nrUnpinned == worklist.countUnpinned());
        n.where = WorkNode.NOWHERE;
        nrPending = nrPending - 1;
        pendingFell(nrPending);
    }

    /**
     * Moves the unstarted works of {@code pwq} from the worklist to the front of {@code into}
     * (its inactive list), keeping their order: freezing. Lock.
     *
     * @return how many were moved
     */
    int takeBack(PoolWorkqueue pwq, Worklist into) {
        assert holdsLock();
        int n = into.moveToFrontFrom(worklist, pwq, WorkNode.INACTIVE);
        nrPending = nrPending - n;
        pendingFell(nrPending);
        nrUnpinned = worklist.countUnpinned(); // a freeze, rare: a walk of what stays listed
        return n;
    }

    /**
     * Takes the first work (highest priority, then oldest) off the worklist: the pool's half of a
     * start; the taker then claims it ({@link Worker#claim}) before it lets go of the lock. Lock.
     *
     * @return the node, or null if the worklist is empty
     */
    WorkNode takeFirst() {
        assert holdsLock();
        WorkNode n = worklist.poll();
        return n == null ? null : taken(n);
    }

    /**
     * Takes the work a thief may take ({@link #stealCandidate}: the head, or the first unpinned
     * work behind pinned ones) off the worklist, with the accounting of {@link #takeFirst}: a
     * start's, whichever place it had. The caller judged it stealable in the same lock hold
     * ({@link #headStealableIn}, {@link #hasTinyChainBacklog}) and claims it ({@link
     * Worker#claim}) before it lets go of the lock. A worklist whose head is unpinned is taken
     * from as before, by {@link #takeFirst}. Lock.
     *
     * @return the node, or null if there is none a thief may take
     */
    WorkNode takeStealCandidate() {
        assert holdsLock();
        WorkNode head = worklist.peek();
        if (!headHidesCandidate(head)) {
            return takeFirst();
        }
        WorkNode n = worklist.firstUnpinned(STEAL_SCAN);
        if (n == null) {
            return null;
        }
        worklist.remove(n); // O(1): intrusive links
        return taken(n);
    }

    /** {@code n}, just taken off the worklist, is no longer pending: a start's accounting. Lock. */
    private WorkNode taken(WorkNode n) {
        n.setWhereRelease(WorkNode.NOWHERE);
        if (!n.pinned()) {
            nrUnpinned--;
        }
        assert nrUnpinned >= 0 && (nrPending > 64 || nrUnpinned == worklist.countUnpinned());
        // Release stores, not volatile ones: a decrement is not the Dekker half of nrPending (the
        // increment is: see the class comment), and progress has only readers that look again;
        // two full fences per work for nothing. The unlock publishes both.
        int pending = nrPending - 1;
        NR_PENDING.lazySet(this, pending);
        PROGRESS.lazySet(this, progress + 1);
        pendingFell(pending);
        return n;
    }

    /** As {@link #takeFirst}, the oldest work of {@code pwq} (a rescue). Lock. */
    WorkNode takeFirstOf(PoolWorkqueue pwq) {
        assert holdsLock();
        WorkNode n = worklist.firstOf(pwq);
        if (n == null) {
            return null;
        }
        worklistRemove(n);
        progress = progress + 1;
        return n;
    }

    /**
     * A worker started a work it took from the ring ({@code Worker.fastLoop}): a start for the
     * monitor's look at progress. No lock: two takers at once may count one, which a look for
     * change can afford.
     */
    void noteFastStart() {
        PROGRESS.lazySet(this, progress + 1);
    }

    /**
     * Adds the fast-run statistics of {@code pwq} that this pool's workers hold in their buffers
     * into a snapshot's sums (see {@link Worker#addFastStats}). Lock.
     */
    void addFastStats(PoolWorkqueue pwq, long[] runsCpu, long[] lat, long[] latSumMax, long[] wall, long[] wallSumMax) {
        assert holdsLock();
        if (ring == null) {
            return;
        }
        for (Worker w : workers) {
            w.addFastStats(pwq, runsCpu, lat, latSumMax, wall, wallSumMax);
        }
    }

    /** A work of this pool started without passing through the worklist. Lock. */
    void noteProgress() {
        assert holdsLock();
        progress = progress + 1;
    }

    /**
     * More than the next work waits (or the worklist has not been empty for the steal
     * threshold), and the steal candidate ({@link #stealCandidate}: the head, or the first
     * unpinned work behind pinned ones) may be stolen right now: waiting for longer
     * than the steal threshold or in a list that has not been empty that long (so a thief woken
     * for it does not just look and go back to sleep), and a thief would pay for itself ({@link
     * #stealWorthwhile}: asked first, since {@link Stealing#askForThief} would decline anyway).
     * Asked on every work a worker starts, so it reads no clock when it need not: not for a head
     * stealable at once ({@link #stealableAtOnce}), and not when the caller passes {@code now},
     * the clock it already holds (0 for none). Lock.
     */
    boolean hasStealableBacklog(long now) {
        assert holdsLock();
        int pending = nrPending;
        if (pending == 0 || (pending == 1 && backlogSince == 0) || !stealWorthwhile()) {
            return false;
        }
        WorkNode c = stealCandidate(); // pending > 1 if it is not the head: the pinned head waits too
        if (c == null) {
            return false;
        }
        if (pending > 1 && stealableAtOnce(c)) {
            return true;
        }
        long clock = now != 0 ? now : System.nanoTime();
        // a pending work of one is what the running worker takes next, unless the list stays non-empty
        return pending == 1 ? !c.external() && backlogLasted(clock) : untilStealable(c, clock) == 0;
    }

    /**
     * Whether a tiny chain backlog here may have lasted the steal threshold by {@code now}: the
     * worklist's, or the ring's as its lane workers saw it ({@link #laneBacklogHint}). Racy, no
     * lock: a thief's look before it locks this pool (whose drain would move the ring to the
     * worklist, and the lane's works to the locked path, for nothing when no backlog lasted).
     */
    boolean tinyBacklogMayHaveLasted(long now) {
        return lastedBy(backlogSince, now) || lastedBy(laneBacklogHint, now);
    }

    /** The worklist has not been empty for the steal threshold. Lock. */
    private boolean backlogLasted(long now) {
        return lastedBy(backlogSince, now);
    }

    /** A backlog that began at {@code since} (0: none) has lasted the steal threshold by {@code now}. */
    private boolean lastedBy(long since, long now) {
        return since != 0 && now - since >= engine.stealThresholdNanos;
    }

    /**
     * How many listed works a thief looks at, in poll order, for one that is not pinned ({@link
     * #stealCandidate}).
     */
    static final int STEAL_SCAN = 8;

    /**
     * The work a thief may take from here, if it has waited long enough (the caller's rules:
     * {@link #untilStealable}, {@link #stealableAtOnce}, {@link #stealWorthwhile}): the first
     * listed work that is not pinned to this CPU, among the first {@link #STEAL_SCAN} in poll
     * order (highest priority first, FIFO within a level, a lent work at its lent level), else
     * null. Lock.
     *
     * <p><b>Past pinned works, and no further.</b> A work queued with {@code queueOn} never runs
     * elsewhere, and a thief that looked at the head alone left every unpinned work behind a
     * pinned one to this pool's busy worker while a sibling's CPU idled ({@code
     * StealPastPinnedTest}: one behind a pinned work waited for a 60 s run to end). So the look
     * goes past pinned works, but stops at the first unpinned one, stealable or not: among the
     * works a thief may take the order is the worklist's, so a thief never takes a work of lower
     * priority while one of higher priority waits that it could take (only pinned works of
     * higher priority are passed over, and they wait for this pool's worker either way), nor one
     * queued after another of its level that it could take. A pinned work may be overtaken by
     * unpinned works listed after it, which run on the thief, as a stolen head runs beside the
     * works its pool started before it; ordered workqueues, whose works keep their order, are
     * unbound and never stolen. A fresh unpinned head still keeps the works behind it, for at
     * most the steal threshold. The bound keeps the look short on a worker's hot path (it is
     * asked on every work a worker starts, {@link #hasStealableBacklog}) in a pool flooded with
     * pinned works; a worklist whose head is unpinned is not scanned at all.
     */
    private WorkNode stealCandidate() {
        WorkNode head = worklist.peek();
        if (!headHidesCandidate(head)) {
            return head;
        }
        return nrUnpinned == 0 ? null : worklist.firstUnpinned(STEAL_SCAN); // all pinned: no look
    }

    /**
     * The worklist's {@code head} is pinned to this CPU, so a thief's candidate, if any, is
     * behind it ({@link #stealCandidate}). False for no head.
     */
    private static boolean headHidesCandidate(WorkNode head) {
        return head != null && head.pinned();
    }

    /**
     * How long until the steal candidate ({@link #stealCandidate}: the head, or the first unpinned
     * work behind pinned ones) may be stolen: 0 if now (waited past the steal threshold, or
     * stealable at once), Long.MAX_VALUE if never (no work a thief may take among the first
     * {@link #STEAL_SCAN}). Lock.
     */
    long headStealableIn(long now) {
        assert holdsLock();
        WorkNode c = stealCandidate();
        if (c == null) {
            return Long.MAX_VALUE;
        }
        if (stealableAtOnce(c)) {
            return 0;
        }
        return untilStealable(c, now);
    }

    /**
     * The steal candidate {@code c} may be stolen without waiting for the steal threshold: it was
     * queued from outside the pool (no chain of this pool's worker to keep warm) and this pool's
     * works are long ({@link #RUNS_LONG}), so a thief's CPU is worth more than a lock taken
     * twice. Short works queued from outside wait for the threshold like the pool's own: a thief
     * there took turns with the producer and the home worker on two CPUs and contended for this
     * lock on every work (one producer queueing pre-built works of about a microsecond: 2.6 M/s
     * with such thieves, 3.9 M/s without), while a backlog that outlasts the threshold is still
     * spread.
     */
    private boolean stealableAtOnce(WorkNode c) {
        return c.external() && runClass[RUN_CLASS] == RUNS_LONG;
    }

    /**
     * How long until the steal candidate {@code c} has waited past the steal threshold, or, for a
     * candidate queued by this pool's own worker, this pool's backlog has lasted past it ({@link
     * #backlogSince}); 0 if either has. The threshold keeps a work the running worker takes soon
     * on that worker's warm cache; a backlog of the pool's own works that outlasts it shows the
     * worker does not keep up (chains of works that queue their successors here wait a few runs
     * each, and kept every chain on this one CPU while the others idled). A flood from outside
     * keeps the list non-empty too, but there a thief for short works takes turns with the
     * producer on its CPU and contends for this lock on every work (one producer of pre-built ~1
     * us works on 2 CPUs: 1.1-3.3 M/s with the backlog rule for its works, 3.4-4.0 without
     * stealing); its heads are judged by their own wait. A candidate behind pinned works is
     * judged as a head: the pool's worker reaches it only after them.
     */
    private long untilStealable(WorkNode c, long now) {
        long since = c.queuedAt;
        long backlog = backlogSince;
        if (!c.external() && backlog != 0 && backlog - since < 0) {
            since = backlog;
        }
        return Math.max(0, engine.stealThresholdNanos - (now - since));
    }

    /** The thief sent for this pool has finished looking: another may be asked for. */
    void thiefDone() {
        thiefKicked = false;
    }

    // ------------------------------------------------------------------------------------------
    // Waking and creating workers.

    /**
     * Makes sure queued work will be picked up. Under lock. Does not throw for want of memory: a
     * manager request that cannot be armed becomes a kick by the service thread
     * ({@link #kickByServiceThread}).
     *
     * @return true if it woke a worker or asked the manager (or the service thread) for one
     */
    boolean kick() {
        assert holdsLock();
        if (!needMoreWorker()) {
            if (managed && nrPending == 1) {
                engine.monitor.nudge(); // a backlog just formed behind running workers: watch
            }
            return false;
        }
        if (mayStartWorking()) {
            wakeFirstIdle();
        } else {
            requestWorker();
        }
        return true;
    }

    /**
     * Asks the manager for a worker, now or after the stall window. Arming its timer entry grows
     * the timer's heap when it is full, which may run out of memory (or, near the end of a stack,
     * the arming refuses: {@code Timer.arm}); a kick is called where a throw would do harm (a
     * run's end between its counts, an admission after the push, a worker leaving its count,
     * a hand-off between its two ends), so such a throw becomes a kick by the service thread
     * instead. The timer's state is unchanged by it: the heap grows before anything moves. Lock.
     */
    private void requestWorker() {
        try {
            Seam.managerRequest();
            long delay = manager.creationDelay(System.nanoTime());
            if (delay > 0) {
                manager.requestStall(delay);
            } else {
                manager.request(0);
            }
        } catch (Throwable t) {
            kickByServiceThread();
        }
    }

    /**
     * Has the service thread kick this pool at its next scan, from where a kick could not ask the
     * manager: flags and a nudge, nothing that allocates. Its lock admits too
     * ({@link #admitByServiceThread}, whose flags these are), then it kicks ({@link #kickUnlocked}); if that kick cannot
     * arm the manager either, it asks itself again, for its next scan.
     */
    void kickByServiceThread() {
        admitByServiceThread();
    }

    /**
     * {@link #kick()} for a need found by the monitor: the blocked worker has been stuck past
     * the stall window already, so a thread is created without waiting again.
     */
    boolean kickNowUnlocked() {
        lock();
        try {
            if (needToCreateWorker()) {
                manager.stallWindowOver(); // kick() creates at once
            }
            return kick();
        } finally {
            unlock();
        }
    }

    /**
     * {@link #kick()} from a thread that does not hold the lock. Its lock admits first: so it is
     * also what the service thread does for {@link #admitByServiceThread} and {@link
     * #kickByServiceThread} (the stack, what a throwing drain left, then a kick, which finds
     * nothing to do unless a kick could not ask the manager).
     */
    boolean kickUnlocked() {
        lock();
        try {
            return kick();
        } finally {
            unlock();
        }
    }

    /** Wakes the most recently idle worker, counting it as running. Under lock. */
    void wakeFirstIdle() {
        assert holdsLock();
        Worker w = idleHead;
        removeIdle(w);
        recount();
        w.woken = true;
        Seam.idle(1);
        if (managed) {
            engine.monitor.nudge();
        }
        if (!w.spinning) {
            Thread previous = toUnpark;
            if (previous != null) {
                unparkWorker(previous); // a second wake in one critical section
            }
            toUnpark = w.thread;
        }
    }

    /**
     * Asks this otherwise idle pool to send one worker stealing. Called without any pool lock.
     *
     * <p>While {@link #thiefWaitsForReturn()} (a worker of this pool is out in a block and every
     * CPU has a counted worker), nobody is sent, not even an idle worker: the first worker back
     * steals. An idle worker woken then took the sibling's work beside the returning ones, and
     * the idle place it left was refilled by a reserve thread ({@link #needReserve()}): in a pool
     * fed only by stealing, each such wake cost a thread. {@code mixed-announced}: 25-27 peak
     * threads instead of 28-33, {@code many-subsystems} 26-28 instead of 28-31, wall time and
     * switches per work unchanged (four alternating runs of each).
     */
    void kickThief() {
        if (thiefKicked || closing || !Helping.stackLeft()) {
            return; // (no stack to take the lock with: a thief is an optimization)
        }
        thiefKicked = true;
        try {
            lock();
            try {
                if (thiefWaitsForReturn()) {
                    // a manager pass to find that out cost the service thread a wake-up per insert
                    thiefDone();
                } else if (mayStartWorking()) {
                    wakeFirstIdle();
                } else {
                    manager.wantThief();
                }
            } finally {
                unlock();
            }
        } catch (Throwable t) {
            thiefKicked = false; // the kick threw (its lock's drain, the manager's request): a later ask may kick again
            throw t;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Mayday: forward progress when no worker can be had (see Rescuer).

    /** The pool needs a worker and has none running or idle; rescuers may run its works. Lock. */
    boolean needsMayday() {
        return needToCreateWorker() && !closing;
    }

    // ------------------------------------------------------------------------------------------
    // Called by workers, under lock.

    /** A woken or newly created running worker starts looking at the worklist. */
    void workerStarted(Worker w) {
        assert holdsLock();
        if (!managed) {
            nWaking--;
        } else if (needReserve()) {
            manager.request(engine.stallWindowNanos);
        }
    }

    /**
     * Counts a worker that is about to look at the worklist: a woken or newly created worker, or
     * one that found work right after uncounting. Managed pools count it in nrRunning, unbound
     * pools in nWaking. Lock.
     */
    void recount() {
        assert holdsLock();
        if (managed) {
            nrRunning.incrementAndGet();
        } else {
            nWaking++;
        }
        surplus.noteBusy(nWorkers - nIdle);
    }

    /**
     * The manager made {@code w} (before its thread starts): a running worker is counted at
     * once, a reserve one as starting. {@code grown} is {@link #workersWith}{@code (w)}, which the
     * manager allocated before it counts anything (out of memory there leaves no phantom). Lock.
     */
    void workerCreated(Worker w, boolean running, Worker[] grown) {
        assert holdsLock() && grown[grown.length - 1] == w && grown.length == workers.length + 1;
        workers = grown;
        nWorkers++;
        if (running) {
            recount();
        } else {
            nReserveStarting++;
        }
    }

    /**
     * Undoes {@link #workerCreated}: the thread of {@code w} could not be started. The counts
     * first, then the list (which allocates, and the start may have failed for want of memory:
     * see {@link #dropWorker}). Lock.
     */
    void workerNotStarted(Worker w, boolean running) {
        assert holdsLock();
        engine.releaseThread();
        nWorkers--;
        if (running) {
            uncountStarting();
        } else {
            nReserveStarting--;
        }
        dropWorker(w);
    }

    /** Undoes {@link #recount()} for a worker whose thread could not be started. Lock. */
    private void uncountStarting() {
        assert holdsLock();
        if (managed) {
            nrRunning.decrementAndGet();
        } else {
            nWaking--;
        }
    }

    /**
     * A woken worker of this unbound pool ends (its thread threw) before it started working:
     * its waker's count in {@link #nWaking} goes, or the pool would take one more pending work
     * for served for good (a lone work never woke anyone). Lock.
     */
    void wokenWorkerLeft() {
        assert holdsLock() && !managed;
        nWaking--;
    }

    /** A reserve worker created idle reached its idle path: it is no longer "starting". Lock. */
    void reserveArrived(Worker w) {
        assert holdsLock();
        if (w.reserveStarting) {
            w.reserveStarting = false;
            nReserveStarting--;
        }
    }

    void pushIdle(Worker w) {
        assert holdsLock();
        w.idleNext = idleHead;
        w.idlePrev = null;
        if (idleHead != null) {
            idleHead.idlePrev = w;
        } else {
            idleTail = w;
        }
        idleHead = w;
        w.idle = true;
        w.woken = false;
        long now = System.nanoTime();
        w.idleSince = now;
        nIdle++;
        surplus.wentIdle(now);
    }

    void removeIdle(Worker w) {
        assert holdsLock();
        assert w.idle : "not on the idle list"; // unlinking a non-member would empty the list's head
        if (w.idlePrev != null) {
            w.idlePrev.idleNext = w.idleNext;
        } else {
            idleHead = w.idleNext;
        }
        if (w.idleNext != null) {
            w.idleNext.idlePrev = w.idlePrev;
        } else {
            idleTail = w.idlePrev;
        }
        w.idleNext = null;
        w.idlePrev = null;
        w.idle = false;
        nIdle--;
    }

    /**
     * Retires this pool's longest idle worker at once, for a pool starved by the thread cap
     * ({@link Engine#reclaimIdleThread}): it leaves the idle list now and its thread ends.
     *
     * @return true if one was retired
     */
    boolean retireOneIdle() {
        lock();
        try {
            Worker w = idleTail;
            if (w == null || closing) {
                return false;
            }
            retireIdle(w);
            return true;
        } finally {
            unlock();
        }
    }

    /**
     * Gives the thread of this pool's longest idle worker to {@code next}, a worker that the
     * manager of a sibling pool has just created and counted there (instead of starting a new
     * thread for it), if this pool can spare an idle worker ({@link #maySpareIdle}): the idle
     * worker retires as it would after its idle timeout, and its thread then serves the sibling
     * as {@code next}, named after {@code role} ({@link Worker#handOffTo}). One pool lock, this
     * one; the caller holds none.
     *
     * @return true if the thread was handed over; false: the caller starts a thread as usual
     */
    boolean handOffIdle(Worker next, String role) {
        lock();
        try {
            Worker w = idleTail;
            if (w == null || closing || w.spinning || !maySpareIdle()) {
                return false;
            }
            w.handOffTo(next, role);
            retireIdle(w);
            return true;
        } finally {
            unlock();
        }
    }

    /**
     * An idle worker of this pool may go to a sibling that needs one: the pool has two or more,
     * and keeps one. The one it keeps is its reserve for its own next block or burst ({@link
     * #needReserve}), so giving never makes it create one; and a pool whose only worker is idle
     * keeps it (a sibling whose works all hang cannot take a pool's last thread). Idle workers
     * belong to their pool, and without this a sibling that needed a worker created a thread while
     * this pool held idle ones (ARCHITECTURE 10). Lock.
     */
    boolean maySpareIdle() {
        assert holdsLock();
        return managed && nIdle >= 2;
    }

    /** Takes idle {@code w} off the idle list and lets its thread end when it wakes. Lock. */
    void retireIdle(Worker w) {
        assert holdsLock();
        removeIdle(w);
        w.retireNow = true;
        unparkWorker(w.thread);
    }

    /** The longest idle worker; lock. */
    Worker longestIdle() {
        assert holdsLock();
        return idleTail;
    }

    /**
     * The pool's worker list with {@code w} added, not yet installed ({@link #workerCreated}
     * installs it): allocated first, before anything is counted. Lock.
     */
    Worker[] workersWith(Worker w) {
        assert holdsLock();
        Seam.workerList(0);
        Worker[] a = java.util.Arrays.copyOf(workers, workers.length + 1);
        a[a.length - 1] = w;
        return a;
    }

    /**
     * Takes {@code w} off the worker list, last of what a leaving worker changes: the copy
     * allocates, and out of memory there (after the counts are right) leaves {@code w} listed, an
     * idle worker whose thread is gone, which the monitor passes over (it looks only at running
     * workers and woken idle ones). Never throws.
     */
    private void dropWorker(Worker w) {
        try {
            removeWorker(w);
        } catch (Throwable t) {
            // left listed: see above
        }
    }

    private void removeWorker(Worker w) {
        Seam.workerList(1);
        Worker[] a = workers;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == w) {
                Worker[] b = new Worker[a.length - 1];
                System.arraycopy(a, 0, b, 0, i);
                System.arraycopy(a, i + 1, b, i, a.length - i - 1);
                workers = b;
                return;
            }
        }
    }

    /**
     * Lists ({@code add}) or unlists a stand-in worker ({@link Worker#rescuerStandIn}) among the
     * pool's workers, which every lock holder's {@link #closeForHolder} looks at, and counts it
     * in {@link #nWorkers} (the lane's bound on {@code maxActive}, {@link PoolWorkqueue#fastOk}):
     * for {@code WorkStateInterleavingTest}, whose stand-ins take from the ring. Takes the lock.
     */
    void listForTests(Worker w, boolean add) {
        lock();
        try {
            if (add) {
                workers = workersWith(w);
                nWorkers++;
            } else {
                removeWorker(w);
                nWorkers--;
            }
        } finally {
            unlock();
        }
    }

    /** The pool's workers, for the monitor. */
    Worker[] workersSnapshot() {
        return workers;
    }

    /**
     * {@code w}'s thread leaves the pool (retired, handed to a sibling, closed, or after a throw):
     * the counts, then the list ({@link #dropWorker}). Never throws, so that the leaving thread
     * always unlocks after it. Lock.
     */
    void workerExited(Worker w) {
        assert holdsLock();
        try {
            w.foldFastStats(); // its buffered statistics leave with it otherwise
            laneStartsOfGone += w.laneStarts;
        } catch (Throwable t) {
            // never throws (no allocation); and the leave must go on whatever happens
        }
        nWorkers--;
        engine.releaseThread();
        dropWorker(w);
    }

    /** Engine shutdown: wake every idle worker so that it exits. */
    void close() {
        lock();
        try {
            closing = true;
            for (Worker w = idleHead; w != null; w = w.idleNext) {
                unparkWorker(w.thread);
            }
        } finally {
            unlock();
        }
        manager.cancel();
        surplus.cancel();
    }

    // ------------------------------------------------------------------------------------------
    // Introspection (tests, stats).

    String name() {
        return name;
    }

    int workers() {
        lock();
        try {
            return nWorkers;
        } finally {
            unlock();
        }
    }

    int idleWorkers() {
        lock();
        try {
            return nIdle;
        } finally {
            unlock();
        }
    }

    int running() {
        return nrRunning.get();
    }

    /** Workers out of nrRunning for a join now. */
    int joining() {
        return nJoining.get();
    }

    int pending() {
        return nrPending;
    }

    /** A snapshot of the pool's workers by state and its counts, taken under the lock. */
    Engine.PoolSnapshot snapshot() {
        lock();
        try {
            int idleN = 0, runningN = 0, blockedN = 0, detectedN = 0, cpuN = 0;
            for (Worker w : workers) {
                if (w.idle) {
                    idleN++;
                    continue;
                }
                if (w.inCountedBlock()) {
                    blockedN++; // an announced block that left the worker counted
                    continue;
                }
                switch (w.wstate) {
                    case Worker.BLOCKED -> blockedN++;
                    case Worker.DETECTED -> detectedN++;
                    case Worker.CPU_INTENSIVE -> cpuN++;
                    default -> runningN++; // RUNNING, or woken/starting and counted
                }
            }
            return new Engine.PoolSnapshot(name, cpu, highPriority, nWorkers, idleN, runningN, blockedN,
                    detectedN, cpuN, managed ? nrRunning.get() : 0, managed ? target : 1, nrPending);
        } finally {
            unlock();
        }
    }

    /**
     * The names of the works this pool's workers run now, one per worker with a current work
     * (blocked ones included), read without the lock from the copy-on-write worker array: a
     * moment's view, for display (JMX, {@code top}). An unnamed work's default name may call its
     * action's {@code toString()}.
     */
    java.util.List<String> runningWorks() {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (Worker w : workers) {
            WorkNode n = w.current;
            if (n != null) {
                names.add(n.workName());
            }
        }
        return names;
    }

    /** The concurrency target (1 unless observed blocking raised it). */
    int target() {
        return target;
    }

    @Override
    public String toString() {
        return "WorkerPool[" + name + "]";
    }
}
