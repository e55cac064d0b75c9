package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * The engine-side state of one {@link dev.cmwq4j.Work}: its state word, its list links, the
 * fields of its pending instance, and the counters that {@code flush} waits on.
 *
 * <h2>The state word</h2>
 * Every transition of a work goes through one CAS on {@link #state}:
 * <ul>
 *   <li>{@link #PENDING}: an instance is queued and has not started. Whoever sets it owns the
 *       pending instance (the queuer, then the list that holds it) until it starts or is
 *       cancelled. {@code queue} returns false while it is set.
 *   <li>{@link #RUNNING}: an instance is executing on some worker. Set together with clearing
 *       PENDING when the instance starts, cleared when it ends.
 *   <li>{@link #HANDOFF}: a worker popped a pending instance while a previous instance was still
 *       running elsewhere. It leaves the node to the running worker, which runs it right after the
 *       current run. This gives non-reentrancy across the whole JVM with no cross-pool lock. The
 *       bit is set and cleared only under the lock of the pool of the handed-off instance's pwq
 *       (see {@link #isHandedOffFrom}).
 *   <li>{@link #CANCELLED_BEHIND}: a count (bits 5 to 30), not a flag: instances cancelled while
 *       a previous one ran. Each can be queued and cancelled again during one long run, so one
 *       bit would lose all but the first. The runner resolves itself plus this count when it
 *       ends, so instances always resolve in queueing order.
 *   <li>{@link #CANCELING}: held by {@code cancelSync} while it waits; {@code queue} fails.
 * </ul>
 *
 * <h2>Resolution and flush</h2>
 * {@link #queued} counts instances ever queued; {@link #resolved} counts instances that finished
 * or were cancelled. Instances resolve in queueing order (the RUNNING bit serializes them and
 * CANCELLED_BEHIND defers an out-of-order cancel), so {@code resolved >= k} means instance k and
 * all before it are done: {@code flush} waits for {@code resolved >= queued-at-call}. Both count
 * modulo 2^32 (ints, to keep the node small), so "{@code >=}" is {@link #resolvedThrough}, a
 * difference that holds across the wrap.
 *
 * <h2>Priority</h2>
 * {@link #prio} is the level of the pending instance, written with its other fields by the
 * PENDING owner. What waiters lend this work, and the wait of the worker running it, live in its
 * {@link NodeWaits} ({@link #waits}), with the count of threads waiting on it: state most nodes
 * never need, so a node holds only a reference to it. Where the node sits in a {@link Worklist}
 * follows from both ({@code baseList}, and the lent list its {@code NodeWaits} names).
 *
 * <h2>Size</h2>
 * A node is allocated per task by {@code execute(Runnable)}, so its fields are kept few and
 * narrow: 80 bytes for a one-shot task with compressed references, 120 before the rare state
 * moved out ({@link NodeWaits}: 25 bytes of fields for a 4-byte reference), the colour and the
 * push stamp narrowed (5 bytes) and the instance counters became ints (8 bytes; the rest is
 * alignment). A flood of tasks allocates, and a backlog holds, that much per task.
 */
public class WorkNode {
    static final int PENDING = 1;
    static final int RUNNING = 2;
    static final int HANDOFF = 4;
    static final int CANCELING = 16;
    /** One instance in the {@link #CANCELLED_BEHIND} count. */
    static final int BEHIND_ONE = 1 << 5;
    /** Mask of the count of instances cancelled behind the running one (bits 5 to 30). */
    static final int CANCELLED_BEHIND = 0x7FFF_FFE0;

    /** Instances cancelled behind the running one, from a state word. */
    static int behind(int s) {
        return (s & CANCELLED_BEHIND) >>> 5;
    }

    /**
     * {@code s} with one more instance cancelled behind the running one; or -1 if the count is
     * full (2^26 - 1 cancels during one run): the caller waits for the run to end and retries.
     */
    private static int plusBehind(int s) {
        return (s & CANCELLED_BEHIND) == CANCELLED_BEHIND ? -1 : s + BEHIND_ONE;
    }

    /** Where the pending instance is ({@link #where}): on no list, a worklist, an inactive list, the timer. */
    static final byte NOWHERE = 0;
    static final byte WORKLIST = 1;
    static final byte INACTIVE = 2;
    static final byte TIMER = 3;
    /**
     * Pushed on its pool's inbound stack ({@link WorkerPool#push}), not yet admitted to a list:
     * the next holder of the pool lock admits it ({@link WorkerPool#drainInbound}).
     */
    static final byte INBOUND = 4;
    /**
     * Set aside by an admission because a closing drain had sealed its pool workqueue
     * ({@link PoolWorkqueue#hold}): not counted anywhere; its queuer takes it back and is
     * rejected, or an unseal admits it after all.
     */
    static final byte HELD = 5;
    /** The names of the places, indexed by place: the one place a place becomes a name. */
    private static final String[] WHERE_NAMES = {"NOWHERE", "WORKLIST", "INACTIVE", "TIMER", "INBOUND", "HELD"};

    /** The name of place {@code w} (diagnostics). */
    static String whereName(int w) {
        return w >= 0 && w < WHERE_NAMES.length ? WHERE_NAMES[w] : "UNKNOWN(" + w + ")";
    }

    /** What to run; null only for list sentinels. */
    final Runnable action;
    /** The public object, for failure reports and toString; set once by {@link #bind}. */
    Object owner;

    /** CAS only (see class comment). */
    volatile int state;
    /**
     * Which list holds the node; written under the lock of that list (pool lock, or timer lock),
     * or by the pusher before the push's CAS. Racy readers look again under the lock. A volatile
     * write where a reader's store pairs with it (listing, against a lend: {@link Worklist#add});
     * a release store ({@link #setWhereRelease}) where nothing does.
     */
    volatile int where;

    /**
     * Sets {@link #where} with a release store, without the full fence of a volatile one: for
     * writes that a CAS or the list lock's release publishes anyway and that no reader's own store
     * pairs with (the push onto an inbound stack; taking a node off the worklist).
     */
    void setWhereRelease(int w) {
        WHERE.lazySet(this, w);
    }
    /** List links; guarded by the pool lock of the list holding the node. */
    WorkNode next, prev;
    /**
     * Link on the inbound stack of a pool (newest first), then, once a drain took the stack, in
     * its admission order; or in a pwq's held list. Written by the pusher before its CAS, then
     * only under the pool lock.
     */
    WorkNode inNext;
    /** The {@link Worklist} level of the base list holding the node; same guard. */
    byte baseList;

    // Fields of the pending instance. Written only by the thread that owns PENDING, before it
    // publishes the node in a list; stable while PENDING is held. Of a handed-off instance they
    // are read only under the lock of pwq's pool, with isHandedOffFrom(pwq) checked there: a read
    // without it may belong to an earlier instance (see isHandedOffFrom).
    /** The pool workqueue the pending instance counts against. */
    volatile PoolWorkqueue pwq;
    /**
     * The low 16 bits of the last instance ({@link #queued}) its queuer pushed onto a pool's
     * inbound stack, written by that queuer right after the push and read by it alone, when its
     * queue threw ({@code WorkqueueCore.queueFailed}: an instance claimed and never pushed is given
     * up). A stamp, not a flag: a queuer that pushed may write it after the instance ran and a
     * new one was claimed, and the stamps of the two differ (they would match only if 65,536
     * instances in a row were never pushed, armed delayed works cancelled before they fired).
     */
    short pushed;
    /** Flush color of the pending instance (0 .. {@code PoolWorkqueue.COLORS} - 1). */
    byte color;
    /**
     * System.nanoTime() when the pending instance entered a worklist (steal threshold, queue
     * latency). Before that, while inbound: the ring's tail position at a stack push (the merge
     * order, {@code WorkerPool.push}), or the ring's clock count at an offer (its queue latency if
     * it runs in the lane, {@code FastRing.admittedAt}); for a node handed back from the lane,
     * its ring position.
     */
    long queuedAt;
    /**
     * Where the pending instance was queued from and to: {@link #PINNED} (to an explicit CPU:
     * never stolen by another pool) and {@link #EXTERNAL} (by a thread that is not a worker of
     * the pool it went to: no cache-warm chain to keep, so in a pool of long works a thief may
     * take it at once, see {@link WorkerPool#headStealableIn}). Written only by the PENDING owner
     * before it publishes the node (the arming thread, then the timer thread that fires it,
     * ordered by the timer lock), so the read-modify-writes of the two bits never race. One byte
     * for both: with a byte each, every task node ({@link OneShotNode}) took 88 bytes, not 80.
     */
    private byte placed;

    static final byte PINNED = 1;
    static final byte EXTERNAL = 2;

    /** Queued to an explicit CPU: never stolen by another pool. */
    final boolean pinned() {
        return (placed & PINNED) != 0;
    }

    /** Queued by a thread that is not a worker of the pool it went to ({@link #placed}). */
    final boolean external() {
        return (placed & EXTERNAL) != 0;
    }

    /** Sets or clears {@code bit} of {@link #placed}; the PENDING owner only. */
    final void place(byte bit, boolean on) {
        placed = (byte) (on ? placed | bit : placed & ~bit);
    }
    /**
     * What the pending instance runs in place of {@link #action}: the workqueue's task decorator
     * applied to it on the queueing thread (context propagation); null without a decorator.
     * Whoever starts the instance reads it before the CAS that clears PENDING, which clears it
     * ({@link #startPending}), so a started instance holds no captured context
     * and a newer instance's decoration never runs for an older one.
     */
    Runnable decorated;
    /**
     * Priority level of the pending instance (0 = LOW .. 3 = URGENT); once it starts, of the
     * instance queued last. Written only by the PENDING owner before it publishes the node.
     */
    byte prio = 1;

    /**
     * Who waits on this work and what they lend it, or null while nobody ever did: set once, by
     * the CAS of {@link #waits()}, never cleared. See {@link NodeWaits} for the protocols.
     */
    volatile NodeWaits waits;

    /**
     * Instances ever queued, modulo 2^32; written only by the PENDING owner. Compared with
     * {@link #resolved} only through {@link #resolvedThrough}, which is exact across the wrap:
     * fewer than 2^31 instances are ever outstanding (one pending, one running, and at most
     * 2^26 - 1 cancelled behind it).
     */
    volatile int queued;
    /** Instances finished or cancelled, modulo 2^32; atomic add (see {@link #resolve}). */
    volatile int resolved;

    // Field updaters, not VarHandles (see Worker's): lazySet is a release store.
    private static final AtomicIntegerFieldUpdater<WorkNode> STATE =
            AtomicIntegerFieldUpdater.newUpdater(WorkNode.class, "state");
    private static final AtomicIntegerFieldUpdater<WorkNode> RESOLVED =
            AtomicIntegerFieldUpdater.newUpdater(WorkNode.class, "resolved");
    static final AtomicReferenceFieldUpdater<WorkNode, PoolWorkqueue> PWQ =
            AtomicReferenceFieldUpdater.newUpdater(WorkNode.class, PoolWorkqueue.class, "pwq");
    private static final AtomicIntegerFieldUpdater<WorkNode> WHERE =
            AtomicIntegerFieldUpdater.newUpdater(WorkNode.class, "where");
    private static final AtomicReferenceFieldUpdater<WorkNode, NodeWaits> WAITS =
            AtomicReferenceFieldUpdater.newUpdater(WorkNode.class, NodeWaits.class, "waits");

    /**
     * This work's {@link NodeWaits}, created by the first caller that needs one (a waiter, a
     * lender, a worker that waits while running it): one CAS, and every caller gets the same
     * object.
     */
    final NodeWaits waits() {
        NodeWaits w = waits;
        if (w == null) {
            w = new NodeWaits();
            if (!WAITS.compareAndSet(this, null, w)) {
                w = waits;
            }
        }
        return w;
    }

    /** Sentinel constructor for {@link Worklist}. */
    WorkNode() {
        this.action = null;
    }

    WorkNode(Runnable action) {
        this.action = action;
    }

    /**
     * A node for a work that runs {@code action}, owned by {@code owner} (the API's work object:
     * failure reports and waits name it); {@code delayed} for one that can be armed on the timer.
     */
    public static WorkNode create(Runnable action, Object owner, boolean delayed) {
        WorkNode n = delayed ? new DelayedNode(action) : new WorkNode(action);
        n.owner = owner;
        return n;
    }

    /**
     * The tasks of one owner, such as an executor view: told when each of its one-shot nodes has
     * run (or was cancelled by {@link WorkqueueCore#cancelGroup}, which reports those itself).
     * Its scheduled nodes ({@link #scheduled}) report their own end, since only the task knows
     * which of its runs is the last.
     */
    public interface Group {
        /** One of the group's one-shot tasks has run (returned or threw); on the worker, after the task. */
        void ended();

        /**
         * The workqueue of the group's scheduled task {@code action}, armed on the timer now,
         * begins to close ({@link WorkqueueCore#close}): the group may take it back at once
         * rather than let the closing drain wait for its timer (a periodic task would otherwise
         * hold the close up for a period). Called by the closing thread, outside every lock,
         * before the drain; possibly twice for one task if two threads close. The default does
         * nothing: the drain waits for the timer and runs the task, as for a delayed work.
         */
        default void armedAtClose(Runnable action) {}

        /**
         * The timer queued the group's scheduled task {@code action} (its delay ran out): called
         * by the timer's thread right after the push, outside every lock. A view that is shut
         * down cancels a periodic task here: its {@code shutdown} sets its flag, then looks for
         * the task on the timer and on the lists, and a fire that took the task off the timer
         * before that look and pushed it after the lists were looked at is seen by neither; the
         * flag, read after the push, is (one of the two sees the other). The default does nothing.
         */
        default void fired(Runnable action) {}

        /**
         * The group was stopped ({@code shutdownNow}): a one-shot task that starts now runs with
         * its thread interrupted, as {@code ThreadPoolExecutor} interrupts a task that starts once
         * the pool is stopping. The take-back and the interrupt of {@code shutdownNow} miss a task
         * a worker has taken but not yet started; this catches it. Read after the task is marked
         * running ({@link #runMarked}), so that one of the two sees the other.
         */
        default boolean stopped() {
            return false;
        }
    }

    /**
     * A task of an executor view as its node sees it, so that a decorated run that fails before
     * the task itself ran (a task decorator's wrapper threw: a context it could not restore) still
     * ends the task: its future completes exceptionally and its view counts it ended. Otherwise
     * the future's {@code get} waited for good and the view never terminated.
     */
    public interface TrackedTask {
        /** Runs of this task begun so far; written by the running thread, at each run's start. */
        int runsBegun();

        /** The decorated run threw {@code t} before this run of the task began: end the task with it. */
        void failedBeforeRun(Throwable t);
    }

    /**
     * Runs {@code run}, this node's action as decorated, marked as its run ({@link #runMarked}),
     * and ends a {@link TrackedTask} action whose run never began because {@code run} threw
     * first. Task nodes only.
     */
    final void runTask(Runnable run, Group group) {
        TrackedTask task = run != action && action instanceof TrackedTask t ? t : null;
        int begun = task == null ? 0 : task.runsBegun();
        try {
            runMarked(run, group);
        } catch (Throwable t) {
            if (task != null && task.runsBegun() == begun) {
                task.failedBeforeRun(t);
            }
            throw t;
        }
    }

    /**
     * A one-shot node running {@code action}, with no API work object: queued once, never again.
     * The whole task is this one object.
     *
     * @param group told when it has run, and the key of {@link WorkqueueCore#cancelGroup} and
     *     {@link WorkqueueCore#interruptGroup}; or null
     */
    public static WorkNode oneShot(Runnable action, Group group) {
        return new OneShotNode(action, group);
    }

    /**
     * A node for a task of {@code group} that can be armed on the timer and queued again by its
     * own action, any number of times (a periodic task re-arms itself at the end of each run):
     * the whole task is its action plus this node. Unlike a one-shot node it does not tell its
     * group when a run ends (see {@link Group}). {@link WorkqueueCore#cancelGroup} takes it back
     * from the timer as well as from the lists, and {@link WorkqueueCore#interruptGroup} reaches
     * its runs.
     *
     * @param group the key of {@link WorkqueueCore#cancelGroup}, {@link WorkqueueCore#interruptGroup}
     *     and {@link WorkqueueCore#pendingTasks}; not null
     */
    public static WorkNode scheduled(Runnable action, Group group) {
        return new ScheduledNode(action, group);
    }

    /** The group of a task node (one-shot or scheduled), or null for a work's node. */
    Group group() {
        return null;
    }

    /** {@code n} is a task node of group {@code g} (false for a null node). */
    static boolean inGroup(WorkNode n, Group g) {
        return n != null && g != null && n.group() == g;
    }

    /**
     * Runs the instance: {@code decorated} (its {@link #decorated}, read when it started) if not
     * null, else the action. A one-shot node then tells its group.
     */
    void runAction(Runnable decorated) {
        orAction(decorated).run();
    }

    /** What an instance started with {@code decorated} runs: it, or without one the action. */
    final Runnable orAction(Runnable decorated) {
        return decorated != null ? decorated : action;
    }

    /**
     * What failure reports name: the API's work object, or for a one-shot node (which has none)
     * its action.
     */
    final Object reportable() {
        return owner != null ? owner : action;
    }

    // ------------------------------------------------------------------------------------------
    // Names. A work's name is for people (logs, watchdog reports, JFR, top), never an identity;
    // it is computed when asked, so naming costs the queue and run paths nothing.

    /** Names the API's work objects; see {@link #nameOwnersWith}. */
    public interface OwnerNames {
        /** The name of {@code owner}, an API work object the engine holds as {@link #owner}. */
        String nameOf(Object owner);
    }

    /**
     * Names the API's work objects ({@code Work.name()}), so that the engine, which never names an
     * API class, can report a work by its name. Set once, by {@code Work}'s class initializer:
     * before any {@code Work}, so before any node with an {@link #owner}, exists. Read on cold
     * paths only (reports, JFR, statistics).
     */
    private static volatile OwnerNames ownerNames;

    /** Installs the API's namer; called once, from {@code Work}'s class initializer. */
    public static void nameOwnersWith(OwnerNames names) {
        ownerNames = java.util.Objects.requireNonNull(names, "names");
    }

    /**
     * The name reports show for this work: its API work object's name, or for a one-shot node a
     * name derived from its action ({@link #defaultName}). A {@code Work} that is named calls no
     * user code here; one that is not may call its action's {@code toString()}.
     */
    final String workName() {
        Object o = owner;
        OwnerNames names = ownerNames;
        if (o != null && names != null) {
            return names.nameOf(o);
        }
        return action == null ? "sentinel" : defaultName(action);
    }

    /**
     * A readable name for a work built without one, derived from its action:
     * <ul>
     *   <li>the action's own {@code toString()}, if its class overrides {@code Object}'s (a record,
     *       or a task that describes itself); if that throws or returns null or a blank string,
     *       the rules below;
     *   <li>for a lambda or a method reference, the simple name of the class that defines it with
     *       {@code $$Lambda} appended ({@code Cache$$Lambda}), without the hidden class's address
     *       and the identity hash that {@code toString()} would show;
     *   <li>for an anonymous class, the last part of its binary name ({@code Cache$1});
     *   <li>else the simple name of its class ({@code RefreshTask}).
     * </ul>
     * Works built from lambdas of one class share that name: give a work a name where it matters.
     *
     * @param action a work's action (or any object)
     * @return its default name
     */
    public static String defaultName(Object action) {
        Class<?> c = action.getClass();
        if (overridesToString(c)) {
            try {
                String s = action.toString();
                if (s != null && !s.isBlank()) {
                    return s;
                }
            } catch (Throwable e) {
                // a broken toString (an assertion in it, say): fall back on the class. The name
                // is asked for by reports, JFR events and the watchdog, none of which may fail
                // because a work's toString does
            }
        }
        String binary = c.getName();
        int lambda = binary.indexOf("$$Lambda");
        if (lambda >= 0) { // a lambda's hidden class: Outer$$Lambda/0x000071... (its address)
            String outer = binary.substring(0, lambda);
            return outer.substring(outer.lastIndexOf('.') + 1).concat("$$Lambda");
        }
        String simple = c.getSimpleName();
        return simple.isEmpty() ? binary.substring(binary.lastIndexOf('.') + 1) : simple;
    }

    /** {@code c} or a superclass declares {@code toString()}, other than {@code Object}. */
    private static boolean overridesToString(Class<?> c) {
        try {
            return c.getMethod("toString").getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException | SecurityException e) {
            return false;
        }
    }

    /** A pending instance exists: queued, inactive, or armed on the timer. */
    public final boolean pending() {
        return isPending();
    }

    /** An instance runs now. */
    public final boolean running() {
        return isRunning();
    }

    /**
     * Cancels the pending instance, if any; a running one is not touched.
     *
     * @return true if a pending instance was cancelled (it will not run)
     */
    public final boolean cancel() {
        return grab(CANCEL) == GRABBED;
    }

    /**
     * A handle on the run the calling thread is in (its worker), for {@link #interruptRun}; null
     * off a worker. Opaque to the caller.
     */
    public static Object currentRunner() {
        return Worker.current();
    }

    /**
     * Interrupts this work's run on {@code runner} (from {@link #currentRunner}) if it is still
     * that run, and no other run: while it helps another work, the interrupt waits for it to
     * resume.
     */
    public void interruptRun(Object runner) {
        ((Worker) runner).interruptRun(this);
    }

    /**
     * A task node's action is executing ({@link #runMarked}): written by the running thread under
     * this node's monitor, so that an interrupt aimed at the task ({@link #interruptIfRunning}) is
     * sent only while it runs, and never reaches the work its worker runs next. Task nodes only
     * ({@link OneShotNode}, {@link ScheduledNode}).
     */
    private boolean taskRunning;

    /**
     * Runs {@code run} marked as this task's run (see {@link #taskRunning}); interrupted from the
     * start if {@code group} was stopped (see {@link Group#stopped}). The interrupt ends with the
     * run: the worker clears it before its next work.
     */
    final void runMarked(Runnable run, Group group) {
        synchronized (this) {
            taskRunning = true;
        }
        if (group != null && group.stopped()) {
            Thread.currentThread().interrupt();
        }
        try {
            run.run();
        } finally {
            synchronized (this) {
                taskRunning = false;
            }
        }
    }

    /** As {@link #interruptRun}, only while a {@link #runMarked} run of this task executes. */
    final void interruptIfRunning(Object runner) {
        synchronized (this) {
            if (taskRunning) {
                ((Worker) runner).interruptRun(this);
            }
        }
    }

    /** If this is a delayed work's node whose timer is armed, queues it now (a flush). */
    void fireNowIfArmed() {}

    /** Instances finished or cancelled so far, modulo 2^32. */
    final int resolved() {
        return resolved;
    }

    /** Instances queued so far, modulo 2^32: the number of the last one. */
    final int queued() {
        return queued;
    }

    /**
     * Instance {@code instance} (a value of {@link #queued()}) and every one before it have
     * resolved. A difference, not a comparison, so that it holds across the counters' wrap.
     */
    final boolean resolvedThrough(int instance) {
        return resolved - instance >= 0;
    }

    /** The pool workqueue of the pending instance; meaningful only while pending. */
    final PoolWorkqueue pendingPwq() {
        return pwq;
    }

    /** Priority level of the pending instance, or of the last one queued (0 = LOW .. 3 = URGENT). */
    final int basePriority() {
        return prio;
    }

    /** The highest level lent to this work by waiters, or 0 (LOW) if none. */
    final int maxLent() {
        return Inheritance.maxLevel(lentCounts());
    }

    /** The level this work runs at: its own, or the highest lent to it if that is higher. */
    final int effectivePriority() {
        return Math.max(prio, maxLent());
    }

    /** The raw lend counts ({@link NodeWaits#lent}): zero when no wait lends anything. */
    final long lentCounts() {
        NodeWaits w = waits;
        return w == null ? 0 : w.lent;
    }

    /** The level of the lent list holding this node, or -1 (none); under the list's pool lock. */
    final int lentList() {
        NodeWaits w = waits;
        return w == null ? -1 : w.lentList;
    }

    final boolean casState(int expect, int update) {
        return STATE.compareAndSet(this, expect, update);
    }

    final boolean isPending() {
        return (state & PENDING) != 0;
    }

    final boolean isRunning() {
        return (state & RUNNING) != 0;
    }

    /**
     * Takes ownership of a new pending instance: sets PENDING unless it, or CANCELING, is set.
     *
     * @return false if the work is already pending (or being cancelled synchronously)
     */
    final boolean tryClaim() {
        for (;;) {
            int s = state;
            if ((s & (PENDING | CANCELING)) != 0) {
                return false;
            }
            if (casState(s, s | PENDING)) {
                queued = queued + 1; // single writer: the PENDING owner
                return true;
            }
        }
    }

    /**
     * Gives up a pending instance that was claimed but never published (for example because the
     * queue was rejected after the claim). Counts as cancelled.
     */
    final void unclaim() {
        clearPending(false);
    }

    /**
     * A queue call of this node threw and gave its claim up (the decoration threw, or the repair
     * of a failed queue unclaimed it): that instance never runs. Written by the queueing thread,
     * read by it ({@link #queueGaveUp}).
     */
    boolean gaveUp;

    /**
     * After a queue call of this fresh node threw: whether the call gave the instance up, so that
     * it never runs; false if it was pushed or armed before the throw (it runs, or is cancelled,
     * as any queued instance). For the executor views, which count a task ended exactly once.
     */
    public final boolean queueGaveUp() {
        return gaveUp;
    }

    /**
     * A handed-off instance of {@code p} waits for the worker running the previous instance: the
     * handoff protocol. HANDOFF is set ({@link #tryStart}) and cleared (a grab here, the runner in
     * {@code Worker.execute}) only under the lock of the pool of the handed-off instance's pwq, and
     * {@link #pwq} does not change while HANDOFF is set. So under {@code p.pool}'s lock, a true
     * answer names this very instance, and its pwq and color may be read and the bit cleared.
     *
     * <p>Outside that lock they may not: between a read of HANDOFF, pwq and color and a CAS from
     * that state word, the instance may be taken by its runner, a newer one queued on another
     * workqueue and handed off again, which gives back the same state word (ABA). The CAS would
     * then succeed with the older instance's pwq, and end one instance twice in one workqueue's
     * counts and never in the other's, whose flush then never returns (issue 20). Caller holds
     * {@code p.pool}'s lock.
     */
    final boolean isHandedOffFrom(PoolWorkqueue p) {
        return (state & HANDOFF) != 0 && pwq == p;
    }

    /**
     * Starts the popped pending instance. Called under the lock of the pool whose worklist held it,
     * which is the lock of {@link #HANDOFF} if the instance is handed off.
     *
     * @return true if the caller now runs it; false if it was handed off to the worker that runs
     *     the previous instance
     */
    final boolean tryStart() {
        for (;;) {
            int s = state;
            if ((s & RUNNING) == 0) {
                if (startPending(s, (s & ~PENDING) | RUNNING)) {
                    return true;
                }
            } else if (casState(s, s | HANDOFF)) {
                return false;
            }
        }
    }

    /**
     * The CAS that starts the pending instance ({@code expect} to {@code update}, which clears
     * PENDING), clearing {@link #decorated} with it: cleared before the CAS, while the caller
     * still owns the pending instance, and put back if the CAS fails. After a successful CAS a
     * queuer may claim a new instance and write its own decoration, so the field is never
     * written by the starter after it. The caller read {@link #decorated} before.
     */
    final boolean startPending(int expect, int update) {
        Runnable d = decorated;
        if (d == null) {
            return casState(expect, update);
        }
        decorated = null;
        if (casState(expect, update)) {
            return true;
        }
        decorated = d;
        return false;
    }

    /**
     * Clears PENDING of an instance the caller removed from its list (cancel). If a previous
     * instance is running, the cancel is counted in CANCELLED_BEHIND so that the runner resolves
     * it after itself, in order; otherwise the instance resolves now.
     */
    final void clearPending(boolean holdCanceling) {
        decorated = null; // still ours: a cancelled instance keeps no captured context
        for (;;) {
            int s = state;
            int ns = s & ~PENDING;
            if ((s & RUNNING) != 0) {
                ns = plusBehind(ns);
                if (ns < 0) {
                    Thread.onSpinWait(); // the count is full: wait for the run to end
                    continue;
                }
            }
            if (holdCanceling) {
                ns |= CANCELING;
            }
            if (casState(s, ns)) {
                if ((s & RUNNING) == 0) {
                    resolve(1);
                }
                return;
            }
        }
    }

    /** {@link #grab} outcomes. */
    static final int GRAB_NONE = 0;
    static final int GRABBED = 1;
    static final int GRAB_BUSY = 2;
    /** {@link #grab} modes. */
    static final int CANCEL = 0;
    static final int CANCEL_HOLD = 1;
    static final int STEAL = 2;

    /**
     * Takes the pending instance off whatever holds it: a worklist, an inactive list, the timer,
     * or a handoff to a running worker.
     *
     * <ul>
     *   <li>{@link #CANCEL}: the instance is dropped (it resolves as cancelled);
     *   <li>{@link #CANCEL_HOLD}: the same, and CANCELING is taken (also when nothing was pending)
     *       so that no new instance can be queued until {@link #releaseCanceling()};
     *   <li>{@link #STEAL}: PENDING stays set and the caller owns the instance, to re-queue it.
     * </ul>
     * A pending instance that is between its claim and its list (being queued, or fired by the
     * timer) is waited for with a short spin; those windows are a few instructions long.
     *
     * @return {@link #GRABBED}, {@link #GRAB_NONE} if nothing was pending, or {@link #GRAB_BUSY}
     *     if another synchronous cancel holds CANCELING (CANCEL_HOLD only)
     */
    final int grab(int mode) {
        for (int spins = 0; ; spins++) {
            int r = tryGrab(mode);
            if (r != GRAB_RETRY) {
                return r;
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** {@link #tryGrab} outcome: the instance is between its claim and its list; try again. */
    static final int GRAB_RETRY = 3;

    /**
     * One attempt of {@link #grab}: the loop body, with no waiting, so that a test can step
     * through grabs one attempt at a time.
     *
     * @return as {@link #grab}, or {@link #GRAB_RETRY} if the pending instance could not be taken
     *     right now (it is being queued or fired, or a CAS lost a race)
     */
    final int tryGrab(int mode) {
        int s = state;
        if ((s & PENDING) == 0) {
            if (mode != CANCEL_HOLD) {
                return GRAB_NONE;
            }
            if ((s & CANCELING) != 0) {
                return GRAB_BUSY;
            }
            return casState(s, s | CANCELING) ? GRAB_NONE : GRAB_RETRY;
        }
        if ((s & HANDOFF) != 0) {
            return tryGrabHandoff(pwq, mode);
        }
        int w = where;
        if (w == TIMER) {
            if (((DelayedNode) this).disarm()) {
                finishGrab(mode);
                return GRABBED;
            }
        } else if (w == WORKLIST || w == INACTIVE || w == INBOUND || w == HELD) {
            PoolWorkqueue p = pwq;
            if (p != null) {
                boolean unlinked;
                p.pool.lock(); // admits what is inbound: an INBOUND node is listed or held now
                try {
                    unlinked = p.unlink(this);
                } finally {
                    p.pool.unlock();
                }
                if (unlinked) {
                    finishGrab(mode);
                    return GRABBED;
                }
            }
        }
        return GRAB_RETRY;
    }

    /**
     * One attempt to take a handed-off instance, {@code p} being the pwq read for it without a
     * lock: under {@code p.pool}'s lock, if it is still handed off from {@code p}, clears HANDOFF
     * (and PENDING, unless stolen) and ends the instance in {@code p}, where it was active.
     *
     * @return {@link #GRABBED}, or {@link #GRAB_RETRY} if it was taken meanwhile or the count of
     *     instances cancelled behind the run is full
     */
    private int tryGrabHandoff(PoolWorkqueue p, int mode) {
        Seam.handoffPwqRead();
        p.pool.lock();
        try {
            if (!isHandedOffFrom(p)) {
                return GRAB_RETRY; // taken meanwhile; the next attempt looks at the node again
            }
            int c = color; // before the CAS: from it on, a new instance may be queued elsewhere
            for (;;) {
                int s = state;
                int ns = mode == STEAL
                        ? s & ~HANDOFF
                        : plusBehind(s & ~(HANDOFF | PENDING)) | (mode == CANCEL_HOLD ? CANCELING : 0);
                if (ns < 0) {
                    return GRAB_RETRY; // the behind count is full: wait for the run to end
                }
                if (casState(s, ns)) {
                    p.handoffTaken(c);
                    return GRABBED;
                }
            }
        } finally {
            p.pool.unlock();
        }
    }

    private void finishGrab(int mode) {
        if (mode != STEAL) {
            clearPending(mode == CANCEL_HOLD);
        }
    }

    /** Releases CANCELING taken by a synchronous cancel and wakes anyone waiting on this node. */
    final void releaseCanceling() {
        for (;;) {
            int s = state;
            if (casState(s, s & ~CANCELING)) {
                break;
            }
        }
        if (hasWaiters()) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Some thread waits in {@link #awaitUntil}; read after the write it must see the waiter for. */
    private boolean hasWaiters() {
        NodeWaits w = waits;
        return w != null && w.waiters > 0;
    }

    /**
     * Marks {@code n} more instances resolved and wakes flushers. If a waiter lent this work a
     * priority above its own, the caller (a worker, usually) then yields its CPU once: the waiter
     * outranks the works of this one's level, and on a busy machine it could otherwise wait
     * milliseconds for the scheduler (Java priorities are only a hint on Linux). A waiter of the
     * work's own level (the default case) costs no yield.
     */
    final void resolve(int n) {
        RESOLVED.getAndAdd(this, n);
        if (hasWaiters()) {
            synchronized (this) {
                notifyAll();
            }
            if (maxLent() > prio) {
                Thread.yield();
            }
        }
    }

    /** Waits, uninterruptibly, until {@link #resolvedThrough}{@code (target)}. Preserves the interrupt status. */
    final void awaitResolved(int target) {
        if (!resolvedThrough(target)) {
            awaitUntil(target, false);
        }
    }

    /** Waits, uninterruptibly, until no synchronous cancel holds this node. */
    final void awaitNotCanceling() {
        awaitUntil(0, true);
    }

    /**
     * The one wait loop of a node: until {@link #resolvedThrough}{@code (target)}, or, with
     * {@code canceling}, until CANCELING is clear. Woken by {@link #resolve} and
     * {@link #releaseCanceling}.
     */
    private void awaitUntil(int target, boolean canceling) {
        boolean interrupted = false;
        NodeWaits w = waits();
        synchronized (this) {
            w.waiters++;
            try {
                while (canceling ? (state & CANCELING) != 0 : !resolvedThrough(target)) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                w.waiters--;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        if (action == null) {
            return "sentinel";
        }
        return owner == null ? "Work[" + workName() + "]" : String.valueOf(owner);
    }
}
