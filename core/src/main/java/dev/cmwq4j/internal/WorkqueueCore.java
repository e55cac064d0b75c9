package dev.cmwq4j.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine side of a {@link dev.cmwq4j.Workqueue}: its attributes, its {@link PoolWorkqueue}s,
 * placement of queued works, flush colors, drain and close. It owns no threads.
 *
 * <h2>Flush colors</h2>
 * Works are colored with the workqueue's current epoch (mod {@link PoolWorkqueue#COLORS}) when
 * they are queued, and each pwq counts its works in flight per color. A flush flips every pwq to
 * the next epoch E+1 and then waits until every epoch up to E has drained. Works queued after the
 * flip carry E+1 or later, so they can never hold the flush up (no livelock), and the flush waits
 * for nothing queued after it started. {@link #drainedThrough} records the highest epoch D such
 * that every epoch up to D has drained; a color is reused for epoch E+16 only once E has drained,
 * so a color counter always counts a single epoch.
 */
public final class WorkqueueCore {
    static final int OPEN = 0;
    static final int DRAINING = 1;
    static final int CLOSED = 2;

    /** Freeze holders: {@code Workqueue.freeze()} and the JVM-wide {@link Freezer}. */
    static final int FREEZE_OWN = 1;
    static final int FREEZE_ALL = 2;

    /**
     * What a workqueue is, fixed when it is built: the API's builder validated it.
     *
     * @param unbound not bound to a CPU's pools; always true for an ordered workqueue
     * @param defaultPriority the level of works queued without one (0 = LOW .. 3 = URGENT)
     * @param taskDecorator applied to each queued instance's action on the queueing thread
     *     (context propagation), or null for none
     */
    public record Spec(String name, boolean unbound, boolean highPriority, boolean cpuIntensive, boolean ordered,
            int maxActive, int defaultPriority, boolean freezable, boolean memReclaim,
            java.util.function.UnaryOperator<Runnable> taskDecorator) {
        /** An ordered workqueue is unbound: the one place that rule is applied. */
        public Spec {
            unbound = unbound || ordered;
        }

        /** A spec without a task decorator. */
        public Spec(String name, boolean unbound, boolean highPriority, boolean cpuIntensive, boolean ordered,
                int maxActive, int defaultPriority, boolean freezable, boolean memReclaim) {
            this(name, unbound, highPriority, cpuIntensive, ordered, maxActive, defaultPriority, freezable, memReclaim,
                    null);
        }
    }

    final Spec spec;
    final String name;
    final Engine engine;
    final boolean unbound;
    final boolean highPriority;
    final boolean cpuIntensive;
    final boolean ordered;
    /** One pwq per CPU pool (bound) or a single one (unbound, ordered). Fixed at creation. */
    final PoolWorkqueue[] pwqs;

    /** Priority level of works queued without one (0 = LOW .. 3 = URGENT). */
    private final int defaultPriority;
    /**
     * Applied to the action of every instance queued here, on the queueing thread, when it is
     * claimed ({@link #decorate}); null for none, which costs one null check per queue.
     */
    private final java.util.function.UnaryOperator<Runnable> taskDecorator;
    /** Written under {@link #flushLock} by setMaxActive; each pwq keeps its own copy. */
    private volatile int maxActive;
    /** Takes part in freezing; written once by {@link #makeFreezable} before the queue is used. */
    private volatile boolean freezable;
    /** Who holds this workqueue frozen ({@link #FREEZE_OWN}, {@link #FREEZE_ALL}); flushLock. */
    private volatile int freezeHolds;
    /**
     * Held by the one closing drain in progress ({@link #close}); a second closer waits for it,
     * then finds the queue CLOSED. Two closing drains at once could undo each other's seal: one
     * that found a straggler clears the seal ({@link #sealed}, the pwqs') after the other sealed
     * and closed, and a queuer that had passed the open check before either began then reads no
     * seal, returns true, and leaves its node held in a pwq the other sealed, never run (or run
     * after that close returned). Two closers are common enough: {@code Cmwq.close} closes every
     * workqueue, perhaps while the application closes one, or from a shutdown hook as well.
     */
    private final java.util.concurrent.locks.ReentrantLock closeLock = new java.util.concurrent.locks.ReentrantLock();

    /** The closing drain's lock ({@link #closeLock}), for tests. */
    java.util.concurrent.locks.ReentrantLock closeLock() {
        return closeLock;
    }

    /** OPEN, DRAINING or CLOSED; written under {@link #flushLock}. */
    private volatile int lifecycle = OPEN;
    /**
     * {@link #close} has begun (and passed its own-work check). Written under {@link #flushLock}
     * by close: set as it begins; cleared only when the last close in progress fails and the
     * queue is not closed ({@link #closers}). A scheduled view's periodic task reads it after
     * re-arming itself (see {@link #closeArmedTasks}).
     */
    private volatile boolean closing;
    /**
     * Calls of {@link #close} in progress; {@link #flushLock}. A close that throws (its drain
     * ran out of memory or stack) leaves the queue open; if no other close is still on its way,
     * it clears {@link #closing} too, or the open queue's periodic tasks would stop re-arming as
     * in a close, for good. With another closer on its way the flag stays: that closer's drain
     * needs it (a periodic task that kept re-arming would hold the drain up for good).
     */
    private int closers;
    /** Nested drains in progress; guarded by {@link #flushLock}. */
    private int drainDepth;
    /**
     * A closing drain found nothing left and is about to declare the queue CLOSED: direct inserts
     * ({@link #queue}, a zero-delay {@link #modDelayed}) read it right after their push (see
     * {@link #enqueue}), and the arming of a delayed work reads it right after counting itself in
     * {@link #delayedPending}. Written by the closing drain only (set, then it seals and counts
     * again under each pool lock; cleared if something slipped in): so a queue that raced the
     * close either is seen by that count and drained, or sees the seal and is rejected, never lost.
     */
    private volatile boolean sealed;
    /**
     * The rescuer of a memReclaim workqueue, or null. Written once by {@link #startRescuer()},
     * under {@link #flushLock} (which {@link #stopRescuer} reads it under), before the workqueue
     * is handed to its user; read by mayday passes under a pool lock that every queueing of a
     * work of this workqueue has taken since.
     */
    Rescuer rescuer;
    /** The rescuer was stopped by close; under {@link #flushLock}. */
    private boolean rescuerStopped;
    /** Delayed works armed on the timer for this workqueue. Atomic. */
    private final AtomicInteger delayedPending = new AtomicInteger();

    // Event counters for statistics (the pwqs count executed works, the rescuer its maydays and
    // rescues); atomic adders, written by workers, Blocking and the monitor.
    /** Blocks announced by this queue's works. */
    final java.util.concurrent.atomic.LongAdder blocksAnnounced = new java.util.concurrent.atomic.LongAdder();
    /** Blocks of its works the monitor observed. */
    final java.util.concurrent.atomic.LongAdder blocksDetected = new java.util.concurrent.atomic.LongAdder();
    /** Its works the monitor flagged CPU-intensive. */
    final java.util.concurrent.atomic.LongAdder cpuIntensiveViolations = new java.util.concurrent.atomic.LongAdder();
    /** Blocks of its works that made a pool wake or ask for another worker. */
    final java.util.concurrent.atomic.LongAdder cmWakeups = new java.util.concurrent.atomic.LongAdder();

    /**
     * Its blocking-site profile, or null until the monitor profiles the first unannounced block of
     * one of its works; written once, by the monitor thread ({@link #blockingSites()}).
     */
    private volatile BlockingSites blockingSites;

    /** Its JMX name, or null; written once by the engine right after construction. */
    volatile Object publication;

    private final Object flushLock = new Object();
    /** Current flush epoch; written under {@link #flushLock}. */
    private long epoch;
    /** Every epoch up to this one has no work in flight; under {@link #flushLock}. */
    private long drainedThrough = -1;
    /** Threads waiting in flush or drain: atomic count (read by colorDone), and the threads. */
    private final AtomicInteger flushWaiterCount = new AtomicInteger();
    /** Wake-ups sent to flush and drain waiters; atomic, bumped before each round of unparks. */
    private final java.util.concurrent.atomic.AtomicLong wakeups = new java.util.concurrent.atomic.AtomicLong();
    private final ConcurrentLinkedQueue<Thread> flushThreads = new ConcurrentLinkedQueue<>();

    WorkqueueCore(Engine engine, Spec spec) {
        this.engine = engine;
        this.spec = spec;
        this.name = spec.name();
        this.unbound = spec.unbound();
        this.highPriority = spec.highPriority();
        this.cpuIntensive = spec.cpuIntensive();
        this.ordered = spec.ordered();
        this.defaultPriority = spec.defaultPriority();
        this.taskDecorator = spec.taskDecorator();
        int maxActive = spec.maxActive();
        this.maxActive = maxActive;
        if (this.unbound) {
            pwqs = new PoolWorkqueue[] {new PoolWorkqueue(this, engine.unboundPool(highPriority), maxActive)};
        } else {
            WorkerPool[] pools = engine.boundPools(highPriority);
            pwqs = new PoolWorkqueue[pools.length];
            for (int i = 0; i < pools.length; i++) {
                pwqs[i] = new PoolWorkqueue(this, pools[i], maxActive);
            }
        }
    }

    /** What this workqueue was built as. */
    public Spec spec() {
        return spec;
    }

    /** The current {@code maxActive}. */
    public int maxActive() {
        return maxActive;
    }

    /**
     * Monitor thread only: the blocking-site profile, made on first use (the monitor is its one
     * writer, so no race makes two).
     */
    BlockingSites blockingSites() {
        BlockingSites s = blockingSites;
        if (s == null) {
            s = new BlockingSites();
            blockingSites = s;
        }
        return s;
    }

    /** The blocking-site profile, or null if none was made yet; any thread. */
    BlockingSites blockingSitesOrNull() {
        return blockingSites;
    }

    /**
     * A statistics snapshot: sums over the pwqs, each read under its pool lock. The blocking sites
     * are read first: a site is counted after {@code blocksDetected} (the monitor's order), so
     * their counts read before it never exceed it.
     */
    public Engine.WorkqueueSnapshot snapshot() {
        BlockingSites profile = blockingSites;
        java.util.List<Engine.SiteSnapshot> sites = profile == null ? java.util.List.of() : profile.snapshot();
        long total = 0;
        long cpu = 0;
        long inFlight = 0;
        long[] latCounts = new long[LogHistogram.BUCKETS];
        long[] latSumMax = new long[2];
        long[] execCounts = new long[LogHistogram.BUCKETS];
        long[] execSumMax = new long[2];
        long[] fastRunsCpu = new long[2]; // the fast lane's buffered runs and CPU, over the pools
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                total += pwq.executed;
                cpu += pwq.cpuNanos;
                inFlight += pwq.totalInFlight();
                pwq.queueLatency.addTo(latCounts, latSumMax);
                pwq.execTime.addTo(execCounts, execSumMax);
                pwq.pool.addFastStats(pwq, fastRunsCpu, latCounts, latSumMax, execCounts, execSumMax);
            } finally {
                pwq.pool.unlock();
            }
        }
        total += fastRunsCpu[0];
        cpu += fastRunsCpu[1];
        return new Engine.WorkqueueSnapshot(name, total, inFlight, cpu, cpuIntensiveViolations.sum(),
                cmWakeups.sum(), maydays(), rescued(), blocksAnnounced.sum(), blocksDetected.sum(),
                latCounts, latSumMax[0], latSumMax[1], execCounts, execSumMax[0], execSumMax[1], sites);
    }

    /**
     * Makes this a memReclaim workqueue: creates and starts its rescuer thread now, before threads
     * might run out. Called once, by the builder, before the workqueue is used. If the thread
     * cannot be created, the workqueue is unregistered and the error propagates.
     */
    void startRescuer() {
        try {
            Rescuer r = new Rescuer(this);
            r.start();
            synchronized (flushLock) { // against stopRescuer, which reads it there
                rescuer = r;
            }
            engine.rescuerStarted();
        } catch (RuntimeException | Error e) {
            engine.unregister(this);
            throw e;
        }
        // An instance's close that reached this workqueue meanwhile (it was registered before
        // this call) found no rescuer to stop: stop it now, or it would stay parked for good.
        stopRescuer();
    }

    boolean isMemReclaim() {
        return rescuer != null;
    }

    /** Times a pool called this workqueue's rescuer (0 without one). */
    long maydays() {
        Rescuer r = rescuer;
        return r == null ? 0 : r.maydays.sum();
    }

    /** Works this workqueue's rescuer ran (0 without one). */
    long rescued() {
        Rescuer r = rescuer;
        return r == null ? 0 : r.rescued.sum();
    }

    /** The rescuer's thread, or null; for tests. */
    Thread rescuerThread() {
        Rescuer r = rescuer;
        return r == null ? null : r.thread();
    }

    public boolean isClosed() {
        return lifecycle == CLOSED;
    }

    /** {@link #close} has begun on this workqueue (it may have completed). */
    public boolean isClosing() {
        return closing;
    }

    // ------------------------------------------------------------------------------------------
    // Queueing.

    /**
     * Queues {@code n} unless it is pending.
     *
     * @param cpu a CPU index, or -1 for placement by the engine
     * @return false if it was already pending
     */
    public boolean queue(WorkNode n, int cpu) {
        return queue(n, cpu, defaultPriority);
    }

    /** As {@link #queue(WorkNode, int)}, at priority level {@code prio} (0 = LOW .. 3 = URGENT). */
    public boolean queue(WorkNode n, int cpu, int prio) {
        checkAccepting();
        if (!n.tryClaim()) {
            return false;
        }
        int instance = n.queued;
        decorate(n); // gives the claim up itself if it throws (outside the repair: see queueFailed)
        try {
            n.prio = (byte) prio;
            n.place(WorkNode.PINNED, cpu >= 0 && !unbound);
            insertOrReject(n, cpu);
        } catch (Throwable t) {
            queueFailed(n, instance);
            throw t;
        }
        return true;
    }

    /**
     * The queue of instance {@code instance} of {@code n} threw after its claim: a
     * {@code StackOverflowError} (where the frames it threw through have given their stack back),
     * out of memory, or anything else (a bug in the path must not leave the work pending for good,
     * as an index out of bounds in placement once did: {@code CrossInstanceTest}). Only for a
     * claim nothing has given up yet: a path that unclaims itself throws outside the repair, or
     * the repair could take a claim another thread made since (the decoration), or leaves the
     * unclaim to it (the arming). The locks a
     * queue takes after its push are taken only with stack to spare ({@link #enqueue}), so what
     * is left to repair is an instance claimed and never pushed
     * ({@link WorkNode#pushed} is written right after the push): it would stay pending for good
     * and refuse every later queue, so it is given up, as a rejected queue gives it up. A pool
     * lock still held (which the probes should make impossible) is released.
     */
    private void queueFailed(WorkNode n, int instance) {
        for (WorkerPool p : engine.pools()) {
            if (p.holdsLock()) {
                p.unlock();
            }
        }
        if (n.queued == instance && (n.state & WorkNode.PENDING) != 0 && n.pushed != (short) instance) {
            if (n.where == WorkNode.INBOUND) {
                n.where = WorkNode.NOWHERE; // set by the push, whose CAS did not happen
            }
            n.unclaim();
            n.gaveUp = true;
        } else if (n.queued == instance && n.pushed == (short) instance) {
            // pushed, then the throw skipped the wake-up: the service thread admits it (no
            // lock, no allocation here), or it could wait inbound, unseen, behind an idle pool
            PoolWorkqueue pwq = n.pwq;
            if (pwq != null) {
                pwq.pool.admitByServiceThread();
            }
        }
    }

    /** Queues {@code n} after {@code delayNanos} (> 0) unless it is pending. */
    public boolean queueDelayed(WorkNode node, int cpu, long delayNanos) {
        DelayedNode n = (DelayedNode) node;
        if (!claimDelayed(n)) {
            return false;
        }
        placeAt(n, cpu, System.nanoTime() + delayNanos, false);
        return true;
    }

    /**
     * A delayed queue of instance {@code instance} of {@code n} threw after its claim (or its
     * steal), neither armed nor pushed: out of memory, a stack overflow (the timer refuses to arm
     * without stack to spare, before it changes anything), or a bug. Gives the instance up as
     * {@link #queueFailed} does; an instance armed or pushed already is left to fire or run. It
     * used to stay claimed for good: every later queue refused, a cancel spun, a drain waited.
     */
    private void delayedQueueFailed(DelayedNode n, int instance) {
        if (n.queued == instance && (n.state & WorkNode.PENDING) != 0 && n.where != WorkNode.TIMER) {
            queueFailed(n, instance);
        }
    }

    /**
     * The first steps of queueing a delayed node: the open check, the claim of a new instance
     * (false if one is pending), its decoration and the workqueue's default priority.
     */
    private boolean claimDelayed(DelayedNode n) {
        checkAccepting();
        if (!n.tryClaim()) {
            return false;
        }
        decorate(n);
        n.prio = (byte) defaultPriority;
        return true;
    }

    /**
     * Queues {@code node} at {@code deadline}, a {@link System#nanoTime()} value at most
     * {@code MAX_DELAY_NANOS} ahead, unless it is pending; a deadline not in the future queues it
     * now. It runs as {@code decorated} (what {@link #decorateOnce} gave for its action; null: as
     * its action): a scheduled view's task is decorated once, when it is scheduled, and every run
     * of a periodic one sees that context (decorated at each re-arm, on the worker inside the run
     * that ended, each run saw what the previous one left). The timer fires it at that very deadline, so that a caller that keeps its own due time
     * (a scheduled view's task: its {@code getDelay}, a fixed rate's next run) and the timer
     * agree exactly.
     *
     * @return false if it was already pending
     */
    public boolean queueAt(WorkNode node, int cpu, long deadline, Runnable decorated) {
        DelayedNode n = (DelayedNode) node;
        checkAccepting();
        if (!n.tryClaim()) {
            return false;
        }
        n.decorated = decorated; // decorated once, by the caller (decorateOnce)
        n.prio = (byte) defaultPriority;
        placeAt(n, cpu, deadline, deadline - System.nanoTime() <= 0);
        return true;
    }

    /**
     * The task decorator's version of {@code action}, or null without a decorator: for a caller
     * that decorates a task once and queues it many times ({@link #queueAt}).
     *
     * @throws NullPointerException if the decorator returns null
     */
    public Runnable decorateOnce(Runnable action) {
        if (taskDecorator == null) {
            return null;
        }
        Runnable d = taskDecorator.apply(action);
        if (d == null) {
            throw new NullPointerException("the task decorator of workqueue '" + name + "' returned null");
        }
        return d;
    }

    /**
     * Gives the instance just claimed ({@code n}, PENDING owned by the caller) the task
     * decorator's version of its action, if the workqueue has a decorator, which runs in place of the action wherever the instance
     * runs (a worker, a waiter that helps it, a rescuer, a handoff). If the decorator throws or
     * returns null, the claim is given up (nothing is queued) and the caller's queue call throws.
     */
    private void decorate(WorkNode n) {
        if (taskDecorator == null) {
            return; // no decorator: the one check an undecorated queue pays
        }
        Runnable d;
        try {
            d = taskDecorator.apply(n.action);
        } catch (Throwable t) {
            n.unclaim();
            n.gaveUp = true;
            throw t;
        }
        if (d == null) {
            n.unclaim();
            n.gaveUp = true;
            throw new NullPointerException("the task decorator of workqueue '" + name + "' returned null");
        }
        n.decorated = d;
    }

    /**
     * Inserts a claimed node now, unless a closing drain has sealed this queue meanwhile (the
     * caller passed {@link #checkAccepting} before the close began): then gives the instance up
     * and throws.
     */
    private void insertOrReject(WorkNode n, int cpu) {
        if (!enqueue(n, cpu, true)) {
            n.unclaim();
            throw closedMeanwhile();
        }
    }

    /**
     * Arms a claimed delayed node, unless a closing drain sealed this queue meanwhile: then throws,
     * and the caller's repair gives the claim up ({@link #delayedQueueFailed}), once. (An unclaim
     * here and another in the repair could take a claim another thread made in between.)
     */
    private void armOrReject(DelayedNode n, int cpu, long deadline) {
        if (!n.arm(this, cpu, deadline)) {
            throw closedMeanwhile();
        }
        // not sealed when it counted itself: the closing drain sees it armed and waits for it
    }

    /**
     * The seal, read by an arming after it counted itself in {@link #delayedPending} and before it
     * schedules its timer ({@link DelayedNode#arm}): the drain sets the seal, then reads the
     * count, so either it sees the arming or the arming sees the seal.
     */
    boolean sealedAfterCount() {
        return sealed;
    }

    private RejectedExecutionException closedMeanwhile() {
        return new RejectedExecutionException("workqueue '" + name + "' was closed while the work was being queued");
    }

    /**
     * Modifies the timer of a delayed work, on this workqueue and {@code cpu} (-1: placement):
     * moves the timer if it was armed for them (checked with the move, under the timer lock:
     * {@link DelayedNode#rearmIfArmedFor}); takes it back from another workqueue's timer or
     * from a worklist and arms it here if pending; queues it afresh otherwise. A delay of 0 queues it now. If the
     * arming of a work taken back throws (out of memory, a stack overflow), that instance is
     * given up, as a cancel would, and the call throws.
     *
     * @return true if it was pending before the call
     */
    public boolean modDelayed(WorkNode node, int cpu, long delayNanos) {
        DelayedNode n = (DelayedNode) node;
        checkAccepting();
        for (;;) {
            // moved in place only if armed for this workqueue and CPU, checked under the timer
            // lock with the move (a check before it could be stale by then: the timer fired and
            // the work was armed elsewhere); otherwise taken off the timer (grab) and armed here,
            // as the kernel's mod_delayed_work_on does: a timer armed by another workqueue used
            // to fire there
            if (n.where == WorkNode.TIMER && delayNanos > 0) {
                Seam.modDelayed();
                if (n.rearmIfArmedFor(this, cpu, delayNanos)) {
                    return true;
                }
            }
            if (n.tryClaim()) {
                decorate(n);
                n.prio = (byte) defaultPriority;
                place(n, cpu, delayNanos);
                return false;
            }
            // Counted as armed while it moves: the steal gives up its slot and colour, and
            // until the arming counts it (or the insert lists it) a drain or close would find
            // nothing in flight and return, with the instance then rejected by the seal or run
            // after the close (a review found it). The hold ends once the move is done.
            delayedArmed();
            int g;
            try {
                g = n.grab(WorkNode.STEAL);
                if (g == WorkNode.GRABBED) {
                    place(n, cpu, delayNanos);
                    return true;
                }
            } finally {
                delayedDone();
            }
            Thread.onSpinWait(); // it started meanwhile, or a cancelSync holds it
            if ((n.state & WorkNode.CANCELING) != 0) {
                return true; // as the kernel: being cancelled counts as pending; nothing is queued
            }
        }
    }

    private void place(DelayedNode n, int cpu, long delayNanos) {
        placeAt(n, cpu, delayNanos <= 0 ? 0 : System.nanoTime() + delayNanos, delayNanos <= 0);
    }

    /**
     * Queues the instance of {@code n} the caller owns: inserted now if {@code now}, else armed to
     * fire at {@code deadline}; if that throws, gives it up ({@link #delayedQueueFailed}).
     */
    private void placeAt(DelayedNode n, int cpu, long deadline, boolean now) {
        int instance = n.queued;
        try {
            if (now) {
                n.place(WorkNode.PINNED, cpu >= 0 && !unbound);
                insertOrReject(n, cpu);
            } else {
                armOrReject(n, cpu, deadline);
            }
        } catch (Throwable t) {
            delayedQueueFailed(n, instance);
            throw t;
        }
    }

    /** Inserts a node whose PENDING bit the caller owns (the timer's path: never sealed off). */
    void enqueue(WorkNode n, int cpu) {
        enqueue(n, cpu, false);
    }

    /**
     * Queues a node whose PENDING bit the caller owns: pushes it on its pool's inbound stack,
     * without the pool lock, and makes sure someone admits it. With {@code sealable}, refuses
     * (returns false; the node is back in the caller's hands, on no list) if a closing drain has
     * sealed the queue meanwhile. A timer's insert is not sealable: its work is still counted in
     * {@link #delayedPending} while it inserts, so no drain can have found the queue empty.
     *
     * <p>The seal, against a push: the pusher reads {@link #sealed} after its push, and the
     * closing drain sets it before it locks each pool (which admits what is inbound) and seals
     * the pwq there. A push the drain's lock did not admit therefore reads the seal and takes its
     * node back; a node admitted after its pwq was sealed is held, never run, until then.
     */
    private boolean enqueue(WorkNode n, int cpu, boolean sealable) {
        Worker self = Worker.current();
        PoolWorkqueue pwq;
        if (unbound) {
            pwq = pwqs[0];
        } else if (cpu >= 0) {
            pwq = pwqs[cpu];
        } else {
            pwq = pwqs[engine.placeBound(highPriority, self)];
        }
        WorkerPool pool = pwq.pool;
        // a release store: the push below (a CAS) publishes it; a volatile store's fence on
        // every queue bought nothing more
        WorkNode.PWQ.lazySet(n, pwq);
        n.place(WorkNode.EXTERNAL, self == null || self.pool != pool);
        int instance = n.queued;
        Seam.push(0);
        boolean wasEmpty;
        // to the ring while the stack is empty: once a flood overflowed it onto the stack, the
        // stack takes the rest until a drain empties it (an offer that would fail costs a look
        // at a line the worker writes; the drain merges both in order either way)
        int offered = pool.ring != null && pwq.fastWq && n.prio == WorkerPool.FAST_LEVEL && !freezable
                && !pool.hasStacked() ? pool.offer(n) : FastRing.FULL;
        if (offered != FastRing.FULL) {
            wasEmpty = offered == FastRing.OFFERED_FIRST;
        } else {
            wasEmpty = pool.push(n);
        }
        n.pushed = (short) instance; // no call since the push returned: an Error cannot come between
        Seam.push(1);
        if (sealable && sealed && takeBackSealed(n, pwq, instance)) {
            return false;
        }
        if (pool.pushNeedsKick()) {
            Seam.push(2);
            // The admission locks the pool: only with stack to spare (Helping.stackLeft, about a
            // microsecond, on this path only: it also wakes a worker). At the end of a stack the
            // JVM finishes a ReentrantLock acquisition on its reserved stack and throws right
            // after it, before any try, and an Error in the admission's own calls left works
            // counted and not listed; there the service thread admits instead.
            if (Helping.stackLeft()) {
                pool.admitUnlocked();
            } else {
                pool.admitByServiceThread();
            }
        } else if (wasEmpty) {
            engine.monitor.nudge(); // a backlog may be forming behind the running workers: watch
        }
        if (!n.pinned() && pool.managed) {
            Stealing.afterInsert(pool);
        }
        return true;
    }

    /**
     * A pusher read the seal after its push: takes its instance ({@code instance}-th) back if it
     * has not started, under the pool lock (which admits it first if it is still inbound).
     *
     * @return true if it was taken back (held, or listed: then it leaves its counts); false if
     *     it started already (it was counted before the seal, or ran; not lost either way)
     */
    private boolean takeBackSealed(WorkNode n, PoolWorkqueue pwq, int instance) {
        WorkerPool pool = pwq.pool;
        pool.lock();
        try {
            return n.queued == instance && n.pwq == pwq && pwq.unlink(n);
        } finally {
            pool.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Groups of one-shot tasks (the executor view).

    /**
     * Takes back every task of {@code group} queued here, or armed on the timer for here, that has
     * not started: each is cancelled (it will not run, and resolves as cancelled; the group is not
     * told) and its action added to {@code out}: the armed ones first, then the queued ones in
     * queueing order per pool. A task pushed while this runs may be missed: the view rechecks its
     * shutdown flag after queueing, and a scheduled task checks it when it starts.
     */
    public void cancelGroup(WorkNode.Group group, java.util.List<Runnable> out) {
        // The group's scheduled nodes armed on the timer first: one that fires meanwhile is seen
        // by the look at the lists below if its push came before its pool's lock; one pushed
        // after it is missed, and cancels itself as it starts (the view is stopped).
        for (DelayedNode n : armedNodes(group)) {
            if (n.grab(WorkNode.CANCEL) == WorkNode.GRABBED) { // it may have fired and started meanwhile
                out.add(n.action);
            }
        }
        for (WorkNode n : listedOf(group, true)) {
            n.clearPending(false);
            out.add(n.action);
        }
    }

    /**
     * Adds to {@code out} the action of every task of {@code group} that waits for its run now,
     * armed on the timer for here or queued here (worklist, inactive list, held), without taking
     * any back: the caller does, through the task's own cancel, which finds the instance wherever
     * it has gone meanwhile (fired, activated). The armed ones first, as {@link #cancelGroup}
     * scans them: one that fires between the two scans is seen by the second if its push came
     * before that pool's lock (possibly twice, which a cancel tolerates); one pushed after it is
     * not, and the group hears of it from the timer's thread after the push
     * ({@link WorkNode.Group#fired}). Not seen: an
     * instance handed off to the worker that runs its previous instance ({@code WorkNode.HANDOFF}),
     * which that worker starts next (or, should the workqueue freeze first, puts back on the
     * inactive list). O(armed timers of the engine + listed works of the
     * workqueue): for a view's shutdown.
     */
    public void pendingTasks(WorkNode.Group group, java.util.List<Runnable> out) {
        for (DelayedNode n : armedNodes(group)) {
            out.add(n.action);
        }
        for (WorkNode n : listedOf(group, false)) {
            out.add(n.action);
        }
    }

    /**
     * The unstarted task nodes of {@code group} on this workqueue's lists (worklist, inactive,
     * held), pool by pool under each pool lock (which admits what is inbound first); taken off
     * their lists as a cancel takes them ({@link PoolWorkqueue#takeGroup}) if {@code take}, else
     * left there ({@link PoolWorkqueue#collectGroup}).
     */
    private java.util.List<WorkNode> listedOf(WorkNode.Group group, boolean take) {
        java.util.List<WorkNode> nodes = new java.util.ArrayList<>();
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                if (take) {
                    pwq.takeGroup(group, nodes);
                } else {
                    pwq.collectGroup(group, nodes);
                }
            } finally {
                pwq.pool.unlock();
            }
        }
        return nodes;
    }

    /**
     * A snapshot of the task nodes armed on the engine's timer that belong to {@code group}, or,
     * with a null group, to any group, armed for this workqueue.
     */
    private java.util.List<DelayedNode> armedNodes(WorkNode.Group group) {
        java.util.List<DelayedNode> found = new java.util.ArrayList<>();
        engine.timer.collect(e -> {
            DelayedNode n = DelayedNode.of(e);
            if (n == null) {
                return null;
            }
            WorkNode.Group g = n.group();
            boolean mine = n.armedOn() == this && (group != null ? g == group : g != null);
            return mine ? n : null;
        }, found);
        return found;
    }

    /**
     * Interrupts every running one-shot task of {@code group} (its run only: see
     * {@link Worker#interruptGroup}), on every worker of the instance and this workqueue's
     * rescuer's stand-ins: a sibling may have stolen the task, and a worker of any pool (another
     * priority, an unbound pool) may run it in place while it waits for it ({@link Helping}). Only
     * this workqueue's pools were scanned, and such a run went on uninterrupted. A worker of
     * another instance that helps one is not reached.
     */
    public void interruptGroup(WorkNode.Group group) {
        for (WorkerPool p : engine.pools()) {
            for (Worker w : p.workersSnapshot()) {
                w.interruptGroup(group);
            }
        }
        Rescuer r = rescuer;
        if (r != null) {
            r.interruptGroup(group);
        }
    }

    /** Rejects queueing to a closed workqueue, or to a draining one from outside its own works. */
    private void checkAccepting() {
        int l = lifecycle;
        if (l == OPEN) {
            return;
        }
        if (l == CLOSED) {
            throw new RejectedExecutionException("workqueue '" + name + "' is closed");
        }
        if (!isCurrentWorkOfThis()) {
            throw new RejectedExecutionException("workqueue '" + name
                    + "' is draining: only its own works may queue to it");
        }
    }

    /** The calling thread is a worker running a work of this workqueue. */
    boolean isCurrentWorkOfThis() {
        Worker w = Worker.current();
        return w != null && w.isRunningWorkOf(this);
    }

    void delayedArmed() {
        delayedPending.incrementAndGet();
    }

    void delayedDone() {
        if (delayedPending.decrementAndGet() == 0 && hasFlushWaiters()) {
            wakeFlushers();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Flush.

    /** Waits for every work queued before the call to finish. */
    public void flush() {
        WaitProtocol.checkNotOwnQueue(this, "flushes");
        long[] target = {-1};
        blockUntil(() -> (target[0] = tryFlip()) >= 0, false, 0);
        if (isDrainedThrough(target[0])) {
            return;
        }
        // lend the caller's priority to what it now waits for: the works of the older colors
        WaitProtocol.Wait wait = WaitProtocol.enterQueue(this);
        try {
            waitUntil(() -> isDrainedThrough(target[0]), false, 0);
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * {@link #flush} in the two steps it blocks between, for {@code WorkStateInterleavingTest}:
     * the flip ({@link #tryFlip}: -1 while the next colour is not free), then, as often as the
     * test likes, whether the works of the colours before it have drained.
     */
    long flipForTests() {
        return tryFlip();
    }

    boolean drainedThroughForTests(long target) {
        return isDrainedThrough(target);
    }

    /**
     * Flips every pwq to the next epoch if its color is free (the epoch 16 back has drained).
     *
     * @return the epoch the flush must wait for, or -1 if the color is not free yet
     */
    private long tryFlip() {
        synchronized (flushLock) {
            advanceDrained();
            long next = epoch + 1;
            if (drainedThrough < next - PoolWorkqueue.COLORS) {
                return -1;
            }
            int color = (int) (next & (PoolWorkqueue.COLORS - 1));
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock();
                try {
                    pwq.workColor = color;
                } finally {
                    pwq.pool.unlock();
                }
            }
            long target = epoch;
            epoch = next;
            return target;
        }
    }

    /** Every epoch up to {@code target} has drained. */
    private boolean isDrainedThrough(long target) {
        synchronized (flushLock) {
            advanceDrained();
            return drainedThrough >= target;
        }
    }

    /**
     * {@link #waitUntil} as a plain announced block (see {@link WaitProtocol#enterBlock}): the
     * waits that lend nothing (a flush color not yet free, armed delayed works, a freeze).
     */
    private boolean blockUntil(java.util.function.BooleanSupplier done, boolean timed, long deadline) {
        // No block announced for a wait that is over before it began: a worker announcing one
        // leaves its pool's running count, and its pool wakes or creates a worker to replace it,
        // for nothing (a flush of a queue with nothing in flight, whose colour is free: every flip)
        if (done.getAsBoolean()) {
            return true;
        }
        WaitProtocol.Wait wait = WaitProtocol.enterBlock();
        try {
            return waitUntil(done, timed, deadline);
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * The one wait loop of flush, drain and freeze, inside a wait of the {@link WaitProtocol}:
     * registered as a flush waiter (colorDone and delayedDone unpark it), until {@code done}, or
     * {@code deadline} if {@code timed}; uninterruptible, with the interrupt status restored on
     * return.
     *
     * @return false if the deadline passed first
     */
    private boolean waitUntil(java.util.function.BooleanSupplier done, boolean timed, long deadline) {
        registerWaiter();
        boolean interrupted = false;
        try {
            for (;;) {
                long seen = wakeups.get();
                if (done.getAsBoolean()) {
                    break;
                }
                // Evaluating the condition takes pool locks, and a contended ReentrantLock parks:
                // that park can swallow the permit of a wake-up that came meanwhile, after the
                // condition had read stale state. A wake-up also bumps the count, so look again.
                if (wakeups.get() != seen) {
                    continue;
                }
                if (!timed) {
                    LockSupport.park(this);
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    LockSupport.parkNanos(this, left);
                }
                interrupted |= Thread.interrupted();
            }
            return true;
        } finally {
            unregisterWaiter();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Under flushLock: advance drainedThrough over every drained epoch older than the current. */
    private void advanceDrained() {
        while (drainedThrough + 1 < epoch) {
            int color = (int) ((drainedThrough + 1) & (PoolWorkqueue.COLORS - 1));
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock();
                try {
                    if (pwq.inFlight(color) != 0) {
                        return;
                    }
                } finally {
                    pwq.pool.unlock();
                }
            }
            drainedThrough++;
        }
    }

    private void registerWaiter() {
        flushThreads.add(Thread.currentThread());
        flushWaiterCount.incrementAndGet();
    }

    private void unregisterWaiter() {
        flushWaiterCount.decrementAndGet();
        flushThreads.remove(Thread.currentThread());
    }

    /**
     * Some thread waits in flush or drain. Read straight from the atomic count: a separate
     * volatile copy written after each increment or decrement could be overwritten by a stale
     * value (one waiter leaving while another arrives) and hide a waiter, losing its wake-up.
     * Waiter: register, then evaluate its condition; waker: change the state, then read this.
     */
    boolean hasFlushWaiters() {
        return flushWaiterCount.get() > 0;
    }

    void wakeFlushers() {
        wakeups.incrementAndGet();
        for (Thread t : flushThreads) {
            LockSupport.unpark(t);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Drain, close, maxActive.

    /**
     * Nothing of this workqueue is in flight, and was not at some moment during the call: a
     * first pass counts each pwq under its pool lock (which admits what is inbound first) and
     * notes its insert count; a second finds every insert count unchanged. One pass is not
     * enough: an own work of a pwq not yet counted can queue onto one counted already and end
     * before its own pwq is counted, and both counts say 0 while its successor is in flight. A
     * drain then returned while that chain went on, and a closing drain sealed the queue and
     * rejected the chain's next queue. With the second pass, any work in flight between the
     * passes was either in flight at its pwq's first count, or inserted after it: both are seen.
     */
    private boolean nothingInFlight() {
        long[] inserts = new long[pwqs.length];
        int sum = 0;
        for (int i = 0; i < pwqs.length; i++) {
            PoolWorkqueue pwq = pwqs[i];
            pwq.pool.lock();
            try {
                sum += pwq.totalInFlight();
                inserts[i] = pwq.insertsAndLaneStarts();
            } finally {
                pwq.pool.unlock();
            }
            Seam.count(i);
        }
        if (sum != 0) {
            return false;
        }
        for (int i = 0; i < pwqs.length; i++) {
            PoolWorkqueue pwq = pwqs[i];
            pwq.pool.lock();
            try {
                if (pwq.insertsAndLaneStarts() != inserts[i]) {
                    return false;
                }
            } finally {
                pwq.pool.unlock();
            }
        }
        return true;
    }

    private int totalInFlight() {
        int sum = 0;
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                sum += pwq.totalInFlight();
            } finally {
                pwq.pool.unlock();
            }
        }
        return sum;
    }

    /**
     * The closing drain's count under the seal: under each pool lock (which admits what is
     * inbound first), seals the pwq and adds what is in flight there (see {@link #enqueue}).
     */
    private int sealPwqs() {
        int sum = 0;
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                sum += pwq.seal();
            } finally {
                pwq.pool.unlock();
            }
        }
        return sum;
    }

    /** Undoes {@link #sealPwqs}: what was held meanwhile is queued after all. */
    private void unsealPwqs() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                pwq.unseal();
            } finally {
                pwq.pool.unlock();
            }
        }
    }

    /** Waits until nothing is queued, running or armed; meanwhile only own works may queue. */
    public void drain() {
        drain(false);
    }

    /**
     * Drains, then rejects all further queueing. Idempotent. First marks the queue
     * {@linkplain #isClosing closing} and offers the armed tasks of executor views back to their
     * groups ({@link #closeArmedTasks}).
     */
    public void close() {
        synchronized (flushLock) {
            if (lifecycle == CLOSED) {
                return;
            }
        }
        WaitProtocol.checkNotOwnQueue(this, "closes"); // before closing is set: a refused close changes nothing
        synchronized (flushLock) {
            closers++;
            closing = true;
        }
        boolean closed = false;
        try {
            closeArmedTasks();
            if (!closeLock.tryLock()) { // one closing drain at a time (see closeLock)
                // another closer drains: wait for it as an announced block, so that a worker that
                // waits here leaves its pool's running count (the drain's own waits announce too)
                WaitProtocol.Wait wait = WaitProtocol.enterBlock();
                try {
                    closeLock.lock();
                } finally {
                    WaitProtocol.exit(wait);
                }
            }
            try {
                drain(true);
            } finally {
                closeLock.unlock();
            }
            closed = true;
        } finally {
            synchronized (flushLock) {
                if (--closers == 0 && !closed && lifecycle != CLOSED) {
                    closing = false; // the close failed, and no other is on its way: still open
                }
            }
        }
        engine.unregister(this);
        stopRescuer();
        if (freezable) {
            Freezer.unregister(this);
        }
    }

    /**
     * Tells the group of each task armed on the timer for this workqueue that the queue closes
     * ({@link WorkNode.Group#armedAtClose}): an executor view cancels its periodic tasks there,
     * which would otherwise hold the closing drain up for a period each, and re-arm. One that
     * is not armed now (queued, or running) reads {@link #closing} when it would re-arm itself:
     * set before this scan, read after its arming, so one of the two sees the other (the timer
     * lock orders the scan and the arming).
     */
    private void closeArmedTasks() {
        for (DelayedNode n : armedNodes(null)) {
            n.group().armedAtClose(n.action);
        }
    }

    /** After close: stops and joins the rescuer, once, whoever closes concurrently. */
    private void stopRescuer() {
        Rescuer r;
        synchronized (flushLock) {
            r = rescuer;
            if (r == null || lifecycle != CLOSED || rescuerStopped) {
                return;
            }
            rescuerStopped = true;
        }
        r.stop();
        engine.rescuerStopped();
    }

    private void drain(boolean closing) {
        WaitProtocol.checkNotOwnQueue(this, closing ? "closes" : "drains");
        synchronized (flushLock) {
            if (lifecycle == CLOSED) {
                return;
            }
            drainDepth++;
            lifecycle = DRAINING;
        }
        boolean done = false;
        try {
            for (;;) {
                flush();
                // armed count first: a timer queues its work before it leaves that count
                if (delayedPending.get() == 0 && nothingInFlight()) {
                    if (!closing) {
                        break;
                    }
                    // Nothing left, and no own work runs to queue more. A caller that passed
                    // checkAccepting before the drain began may still be about to insert: seal,
                    // then count again under each pool lock (see sealed).
                    sealed = true;
                    Seam.seal(0);
                    if (delayedPending.get() == 0 && sealPwqs() == 0) {
                        break;
                    }
                    unsealPwqs(); // one slipped in before the seal: drain it too
                    Seam.seal(1);
                    sealed = false;
                    Seam.seal(2);
                    continue;
                }
                if (delayedPending.get() > 0) {
                    blockUntil(() -> delayedPending.get() == 0 || totalInFlight() != 0, false, 0);
                }
            }
            done = true;
        } finally {
            if (!done && sealed) {
                unsealAfterThrow();
            }
            synchronized (flushLock) {
                drainDepth--;
                if (closing && done) {
                    lifecycle = CLOSED;
                } else if (drainDepth == 0 && lifecycle == DRAINING) {
                    lifecycle = OPEN;
                }
            }
        }
    }


    /**
     * A closing drain threw between setting the seal and clearing it again (out of memory, or
     * a stack overflow in a close called deep in a stack): the queue goes back to OPEN, so the
     * seal goes too, or every later queue would be refused as "closed meanwhile", and a timer's
     * insert (never sealable) would be held for good in a sealed pwq. Best effort: a second throw
     * here leaves the rest sealed.
     */
    private void unsealAfterThrow() {
        try {
            unsealPwqs();
        } finally {
            sealed = false;
        }
    }

    public void setMaxActive(int max) {
        // Before anything changes: these (and freeze, thaw) set the workqueue's own field first
        // and then each pwq's under its pool lock, whose admission may overflow a stack near its
        // end. Half done, a thaw left the pwqs frozen with the queue saying thawed, and every
        // later thaw returned at once (a review reproduced it from the end of a stack).
        WaitProtocol.requireStack("change maxActive");
        synchronized (flushLock) {
            maxActive = max;
            if (freezeHolds != 0) {
                return; // frozen pwqs keep a limit of 0; thaw applies the new one
            }
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock();
                try {
                    pwq.setMaxActive(max);
                } finally {
                    pwq.pool.unlock();
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Freezing: a frozen workqueue is one whose pwqs have a maxActive of 0.

    /** Marks this workqueue freezable and registers it for JVM-wide freezes; once, at build. */
    void makeFreezable() {
        freezable = true;
        Freezer.register(this);
    }

    boolean isFreezable() {
        return freezable;
    }

    public boolean isFrozen() {
        return freezeHolds != 0;
    }

    /**
     * Adds a freeze hold. The first hold stops works from starting: every pwq's limit drops to 0,
     * so new and re-activated works stay inactive, and the active works that have not started
     * go back, in their order, to the front of the inactive lists. Queueing still works and
     * loses nothing. Does not wait for the running works: see {@link #awaitFrozen}.
     */
    void freezeBegin(int holder) {
        WaitProtocol.requireStack("freeze"); // before anything changes: see setMaxActive
        synchronized (flushLock) {
            if (freezeHolds == 0) {
                for (PoolWorkqueue pwq : pwqs) {
                    pwq.pool.lock();
                    try {
                        pwq.freeze();
                    } finally {
                        pwq.pool.unlock();
                    }
                }
            }
            freezeHolds |= holder;
        }
    }

    /**
     * Waits until no work of this frozen workqueue is active (the running ones have finished),
     * or until it is thawed, as an announced block on a worker.
     *
     * @param deadline a {@link System#nanoTime()} deadline, used if {@code timed}
     * @return false if the deadline passed first
     */
    boolean awaitFrozen(boolean timed, long deadline) {
        return blockUntil(() -> freezeHolds == 0 || activeNow() == 0, timed, deadline);
    }

    /** Removes a freeze hold; when the last goes, the works held inactive start, in order. */
    /**
     * This workqueue's own freeze ({@code Workqueue.freeze}): nothing new starts, then waits for
     * the running works.
     *
     * @return false if the deadline passed first
     * @throws IllegalStateException if it is not freezable, or if called from one of its own
     *     works, which would wait for itself
     */
    public boolean freezeOwn(boolean timed, long deadline) {
        if (!freezable) {
            throw new IllegalStateException("workqueue '" + name
                    + "' is not freezable: build it with Workqueue.Builder.freezable()");
        }
        if (isCurrentWorkOfThis()) {
            throw new IllegalStateException("a work of workqueue '" + name + "' freezes it: it would wait for itself");
        }
        freezeBegin(FREEZE_OWN);
        return awaitFrozen(timed, deadline);
    }

    /** Ends {@link #freezeOwn}: the held works start, unless a JVM-wide freeze still holds. */
    public void thawOwn() {
        thaw(FREEZE_OWN);
    }

    void thaw(int holder) {
        WaitProtocol.requireStack("thaw"); // before anything changes: see setMaxActive
        synchronized (flushLock) {
            if ((freezeHolds & holder) == 0) {
                return;
            }
            freezeHolds &= ~holder;
            if (freezeHolds != 0) {
                return;
            }
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock();
                try {
                    pwq.setMaxActive(maxActive);
                } finally {
                    pwq.pool.unlock();
                }
            }
        }
    }

    /** Active works summed over the pwqs, each read under its pool lock. */
    private int activeNow() {
        int sum = 0;
        for (PoolWorkqueue pwq : pwqs) {
            sum += pwq.active();
        }
        return sum;
    }

    /** Works held inactive (beyond maxActive, or frozen), summed over pools; tests and stats. */
    int inactive() {
        int sum = 0;
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock();
            try {
                sum += pwq.inactiveCount();
            } finally {
                pwq.pool.unlock();
            }
        }
        return sum;
    }

    // ------------------------------------------------------------------------------------------
    // For async domains.

    /**
     * No worker can be had for this workqueue now: the engine cannot add threads and none of its
     * pools has an idle worker. Racy reads: a hint for callers that degrade to running work
     * themselves rather than wait (async domains).
     */
    public boolean starvedOfThreads() {
        if (!engine.mayNotAddThreads()) {
            return false;
        }
        for (PoolWorkqueue pwq : pwqs) {
            if (pwq.pool.nIdle > 0) {
                return false;
            }
        }
        return true;
    }

    /** Reports a failure of {@code n}'s action, run outside a worker, to the failure handler. */
    public void reportFailure(WorkNode n, Throwable t) {
        engine.reportFailure(n, this, t);
    }

    /** Works active (in worklists or running) summed over pools; for tests and stats. */
    int active() {
        int sum = 0;
        for (PoolWorkqueue pwq : pwqs) {
            sum += pwq.active(); // takes the pool lock
        }
        return sum;
    }

    @Override
    public String toString() {
        return name;
    }
}
