package dev.cmwq4j.internal;

/**
 * The one protocol by which a thread waits: <b>check, help, lend, join or announce, wait,
 * undo</b>. It is the only copy: every wait of the public API goes through it, so that each gets
 * the same fail-fast checks, the same helping and the same priority lending.
 *
 * <table>
 *   <caption>Who waits, and through which entry</caption>
 *   <tr><th>wait</th><th>check</th><th>help</th><th>lend to</th><th>entry</th></tr>
 *   <tr><td>{@code Work.flush}, the executor view's {@code get}, {@code supplyAsync} /
 *       {@code runAsync} futures' {@code join} / {@code get} and the stages derived from them</td>
 *       <td>{@link #checkNoDeadlock}</td><td>{@link #help}</td>
 *       <td>the awaited work, and the works that must run before it</td>
 *       <td>{@link #enterWork}</td></tr>
 *   <tr><td>{@code Work.cancelSync}</td><td>{@link #checkNotSelf}</td><td>no (it cancels the
 *       pending instance)</td><td>the running instance</td><td>{@link #enterWork}</td></tr>
 *   <tr><td>{@code Workqueue.flush}, {@code drain}, {@code close}</td>
 *       <td>{@link #checkNotOwnQueue}</td><td>no</td><td>every work queued before the wait</td>
 *       <td>{@link #enterQueue}</td></tr>
 *   <tr><td>{@code AsyncDomain} synchronize</td><td>{@link #checkNoDeadlock} for each awaited
 *       function, plus the domain's own check</td><td>{@link #help}, function by function</td>
 *       <td>every awaited function</td><td>{@link #enterWorks}</td></tr>
 *   <tr><td>{@code Blocking}; the executor view's {@code awaitTermination}</td><td>none</td>
 *       <td>no</td><td>nobody (what it waits for is not one work)</td><td>{@link #enterBlock}</td></tr>
 *   <tr><td>the executor view's {@code invokeAny}</td><td>from a work of the tasks' own
 *       workqueue, {@link #checkNoDeadlock} on the first pending task at each look</td><td>no (the
 *       tasks are waited for together)</td><td>no priority; from a work of their own workqueue, its
 *       {@code maxActive} slot to the first task waiting inactive behind it, one at a time
 *       ({@link #lendToFirstInactive})</td><td>{@link #enterBlock}</td></tr>
 * </table>
 *
 * <ol>
 *   <li><b>check</b>: a wait that can never end throws {@link IllegalStateException} naming both
 *       parties: a work that waits for its own run, a work of an ordered workqueue that waits for
 *       a work queued behind it on that queue, a work that waits for its own workqueue. The
 *       kernel finds these with lockdep; here they are checked directly.</li>
 *   <li><b>help</b> ({@link #help}): from a work, a pending instance that has not started may run
 *       in place on the waiting thread ({@link Helping}).</li>
 *   <li><b>lend</b> and <b>join or announce</b> ({@code enter*}): the waiter lends its priority to
 *       the awaited works ({@link Inheritance}); on a worker the wait is an announced block, a
 *       join while the awaited work runs elsewhere (the join window applies). Both need stack:
 *       with too little left, an entry that lends throws {@link StackOverflowError} before it
 *       changes anything ({@link #requireStack}).</li>
 *   <li><b>wait</b>: the caller's own blocking call.</li>
 *   <li><b>undo</b> ({@link #exit}): the block ends, then the loan.</li>
 * </ol>
 *
 * <p>Stateless; the state of one wait is the {@link Wait} an entry returns.
 */
public final class WaitProtocol {
    private WaitProtocol() {}

    /** One wait in progress: what {@link #exit} undoes. Confined to the waiting thread. */
    public static final class Wait {
        /** A wait off a worker that lends nothing: nothing to undo. */
        static final Wait NONE = new Wait(null, null);

        private final Lend lend;
        private final Worker worker;

        Wait(Lend lend, Worker worker) {
            this.lend = lend;
            this.worker = worker;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Check.

    /**
     * Throws if waiting for {@code awaited} from the current thread could never end: it is this
     * work itself ({@link #checkNotSelf}), or it is queued behind it on the ordered workqueue this
     * work belongs to.
     *
     * @param awaited the awaited work's node, or null (nothing to check)
     * @param op what the caller does, for the message ("flush", "join", ...)
     * @param what how to name the awaited work in the message
     */
    public static void checkNoDeadlock(WorkNode awaited, String op, Object what) {
        checkNotSelf(awaited, op, what);
        Worker w = Worker.current();
        PoolWorkqueue cur = w == null ? null : w.currentPwq();
        if (awaited != null && cur != null && cur.wq.ordered && awaited.isPending()) {
            PoolWorkqueue behind = awaited.pendingPwq();
            if (behind != null && behind.wq == cur.wq) {
                throw new IllegalStateException("work '" + w.currentNode() + "' of ordered workqueue '"
                        + cur.wq.name + "' calls " + op + " on work '" + what + "', which is queued behind it");
            }
        }
    }

    /**
     * Throws if {@code awaited} is the work the current thread runs (a wait for its own end). The
     * only check for a wait that first takes the pending instance back ({@code cancelSync}).
     */
    public static void checkNotSelf(WorkNode awaited, String op, Object what) {
        Worker w = Worker.current();
        if (awaited != null && w != null && w.isRunning(awaited)) {
            throw new IllegalStateException("work '" + what + "' calls " + op
                    + " on itself: it would wait for its own run to end");
        }
    }

    /**
     * Throws if the calling thread runs a work of {@code wq} (on a worker or a rescuer): waiting
     * for the workqueue would wait for itself.
     *
     * @param verb what the caller does, for the message ("flushes", "drains", "closes")
     */
    static void checkNotOwnQueue(WorkqueueCore wq, String verb) {
        Worker w = Worker.current();
        if (w != null && w.isRunningWorkOf(wq)) {
            throw new IllegalStateException("work '" + w.currentNode() + "' " + verb + " its own workqueue '"
                    + wq.name + "': it would wait for itself");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Help.

    /**
     * From a work, runs {@code awaited}'s pending instance in place if the queue's rules allow.
     *
     * @return false if helping is over for this wait (see {@link Helping#tryHelp})
     */
    public static boolean help(WorkNode awaited) {
        if (awaited == null) {
            return false;
        }
        Lend lend = Inheritance.beginHelp(awaited); // the helped run passes on the waiter's level
        try {
            return Helping.tryHelp(awaited);
        } finally {
            Inheritance.end(lend);
        }
    }

    /**
     * Whether the calling thread runs a work of {@code wq} itself (not through a help): it holds
     * one of the workqueue's {@code maxActive} slots while it waits.
     */
    public static boolean holdsSlotOf(WorkqueueCore wq) {
        PoolWorkqueue held = heldPwq();
        return held != null && held.wq == wq;
    }

    /** The pwq of the work the calling thread runs itself (not through a help), or null. */
    private static PoolWorkqueue heldPwq() {
        Worker w = Worker.current();
        return w == null ? null : w.currentPwq();
    }

    /** {@link #lendToFirstInactive}: nothing to lend to now. */
    public static final int LEND_NONE = -1;
    /** {@link #lendToFirstInactive}: a work waits inactive behind the caller, and the lend was refused (a freeze). */
    public static final int LEND_REFUSED = -2;

    /**
     * For a wait on whichever of {@code awaited} ends first ({@code invokeAny}) by a work of their
     * own workqueue ({@link #holdsSlotOf}), which holds one of its {@code maxActive} slots: if the
     * first of them still pending waits inactive behind {@code maxActive}, lends it the caller's
     * slot ({@link PoolWorkqueue#lendSlot}), so that the pool runs it while the caller waits.
     * Under {@code maxActive} 1 the caller otherwise kept the only slot the works need and waited
     * for them for good. Nothing runs in place (as {@link #help} would): the works are waited for
     * together, within the caller's deadline and interruptibly, and a run in place would hold the
     * caller in it while another might end first. The slot is lent, not the caller's priority.
     * The caller lends one at a time (it has one slot): it calls again only once the work it lent
     * to last has ended. Checks first, at each call, as a wait on one work does: a work of an
     * ordered workqueue waiting for a work queued behind it there throws ({@link
     * #checkNoDeadlock}); too little stack to take the pool lock throws {@link StackOverflowError}
     * ({@link #requireStack}).
     *
     * @param awaited the works, in the order they were queued; null entries (ended, or not
     *     queued) are skipped
     * @param what how to name the caller's works in a message
     * @return the index in {@code awaited} of the work lent to; {@link #LEND_NONE} if none needs
     *     it (the first pending one is listed, once the pool lock has admitted what was inbound,
     *     or of another workqueue, or none is pending, or the caller holds no slot of theirs); {@link #LEND_REFUSED} if the first pending one waits
     *     inactive and the lend was refused (a frozen workqueue lends nothing): the caller looks
     *     again after a while
     */
    public static int lendToFirstInactive(WorkNode[] awaited, Object what) {
        PoolWorkqueue held = heldPwq();
        if (held == null) {
            return LEND_NONE;
        }
        for (int i = 0; i < awaited.length; i++) {
            WorkNode n = awaited[i];
            if (n == null || !n.isPending()) {
                continue;
            }
            PoolWorkqueue pwq = n.pwq;
            if (pwq == null || pwq.wq != held.wq) {
                return LEND_NONE; // the first pending one is another queue's: nothing of ours to lend
            }
            checkNoDeadlock(n, "invokeAny", what);
            if (n.where == WorkNode.WORKLIST) {
                return LEND_NONE; // listed: the pool runs it without a lend
            }
            requireStack("lend a slot");
            WorkerPool pool = pwq.pool;
            pool.lock(); // admits what is inbound: a work pushed a moment ago may be inactive now
            try {
                if (n.where != WorkNode.INACTIVE || !n.isPending() || n.pwq != pwq) {
                    return LEND_NONE; // listed after all, started, or elsewhere
                }
                return pwq.lendSlot(n) ? i : LEND_REFUSED;
            } finally {
                pool.unlock();
            }
        }
        return LEND_NONE;
    }

    /**
     * The first two steps for a wait on one work: {@link #checkNoDeadlock}, then {@link #help}.
     *
     * @return true if it ran {@code awaited} in place (the caller checks whether that was enough)
     */
    public static boolean checkThenHelp(WorkNode awaited, String op, Object what) {
        checkNoDeadlock(awaited, op, what);
        return help(awaited);
    }

    // ------------------------------------------------------------------------------------------
    // The waits of a work, whole.

    /**
     * {@code Work.flush}: waits until the instance queued last before this call has finished
     * (an armed delayed work is queued now); check, help, then lend and wait.
     *
     * @param what how to name the work in a message
     * @return true if it had to wait, false if the work was already idle
     */
    public static boolean flush(WorkNode node, Object what) {
        checkNotSelf(node, "flush", what);
        int target = node.queued(); // every instance queued or armed before this call
        boolean waits = !node.resolvedThrough(target); // read before firing: the run may be quick
        node.fireNowIfArmed(); // an armed delayed work is queued now, so the check below sees where
        checkNoDeadlock(node, "flush", what);
        if (node.resolvedThrough(target)) {
            return waits;
        }
        // from a work, a pending instance that has not started may run here, now (helping)
        if (help(node) && node.resolvedThrough(target)) {
            return true;
        }
        awaitResolved(node, target);
        return true;
    }

    /**
     * {@code Work.cancelSync}: cancels the pending instance and waits for a running one, lending
     * to it; meanwhile queueing the work fails.
     *
     * @return true if a pending instance was cancelled
     */
    public static boolean cancelSync(WorkNode node, Object what) {
        checkNotSelf(node, "cancelSync", what);
        int r;
        while ((r = node.grab(WorkNode.CANCEL_HOLD)) == WorkNode.GRAB_BUSY) {
            Wait wait = enterBlock(); // another synchronous cancel holds it: wait for its end
            try {
                node.awaitNotCanceling();
            } finally {
                exit(wait);
            }
        }
        try {
            int target = node.queued();
            if (!node.resolvedThrough(target)) {
                awaitResolved(node, target);
            }
        } finally {
            node.releaseCanceling();
        }
        return r == WorkNode.GRABBED;
    }

    /** Lends and announces (a join while the work runs elsewhere) until {@code target} instances resolved. */
    private static void awaitResolved(WorkNode node, int target) {
        Wait wait = enterWork(node);
        try {
            node.awaitResolved(target);
        } finally {
            exit(wait);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Lend and announce; undo.

    /**
     * Lends the caller's priority to {@code awaited} (and to the works that must run before it)
     * and, on a worker, announces the block: a join while the awaited work runs elsewhere. Pair
     * with {@link #exit} in a {@code finally}.
     *
     * @param awaited the awaited work's node, or null: then the wait is only announced
     */
    public static Wait enterWork(WorkNode awaited) {
        if (awaited == null) {
            return enterBlock();
        }
        requireStack();
        return announce(Inheritance.beginWork(awaited), awaited);
    }

    /** Lends to every work in {@code awaited} (an async domain's functions), then announces. */
    public static Wait enterWorks(WorkNode[] awaited) {
        requireStack();
        return announce(Inheritance.beginWorks(awaited), null);
    }

    /** Lends to every work of {@code wq} queued before now (a workqueue flush), then announces. */
    static Wait enterQueue(WorkqueueCore wq) {
        requireStack();
        return announce(Inheritance.beginQueue(wq), null);
    }

    /**
     * Announces a block that waits for no work but may wait for one all the same (a future, a
     * lock, the end of a drain): no loan, no stack check, and no allocation (a worker's plain wait
     * is made once). It always takes the worker out of its pool's count (the kernel's rule).
     */
    public static Wait enterBlock() {
        return enterBlock(false);
    }

    /**
     * Announces a block on something outside the pools ({@code Blocking.run}, {@code call},
     * {@code sleep}, {@code managedBlock}: I/O, a sleep, a lock of the caller's): as
     * {@link #enterBlock()}, but a pool that counts blocks (ARCHITECTURE 2, <i>Counted blocks</i>)
     * keeps the worker counted.
     */
    public static Wait enterOutsideBlock() {
        return enterBlock(true);
    }

    private static Wait enterBlock(boolean countable) {
        Worker w = Worker.current();
        if (w == null) {
            return Wait.NONE;
        }
        w.blockBegin(countable);
        return w.plainWait;
    }

    /** On a worker, the block (a join if {@code awaited} runs elsewhere); the loan is undone if that throws. */
    private static Wait announce(Lend lend, WorkNode awaited) {
        Worker w = Worker.current();
        if (w == null) {
            return lend == null ? Wait.NONE : new Wait(lend, null);
        }
        try {
            w.joinBegin(awaited);
        } catch (Throwable t) {
            Inheritance.end(lend);
            throw t;
        }
        return lend == null ? w.plainWait : new Wait(lend, w);
    }

    /**
     * Throws {@link StackOverflowError} before the wait changes any state if the caller has too
     * little stack left for the protocol's own frames: a lend or an announced block that
     * overflowed half done would leave a pool's running count or a work's priority wrong for
     * good (an announced block whose depth was counted but whose worker was never uncounted
     * starved its pool). The caller, deep in a recursion, was about to overflow anyway.
     */
    static void requireStack() {
        requireStack("wait for a work");
    }

    /** Throws {@code StackOverflowError} now, before anything changes, if too little stack is left to {@code what} safely. */
    static void requireStack(String what) {
        if (!Helping.stackLeft()) {
            throw new StackOverflowError("cmwq4j: too little stack left to " + what + " safely");
        }
    }

    /** Undoes an entry: the announced block ends, then the loan. */
    public static void exit(Wait wait) {
        try {
            if (wait.worker != null) {
                wait.worker.joinEnd();
            }
        } finally {
            Inheritance.end(wait.lend);
        }
    }
}
