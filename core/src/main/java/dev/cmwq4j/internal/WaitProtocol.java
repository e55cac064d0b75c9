package dev.cmwq4j.internal;

/**
 * The one protocol by which a thread waits for a work: <b>check, help, lend, join or announce,
 * wait, undo</b>. Every wait for a work's run goes through it ({@code Work.flush} and
 * {@code cancelSync}, the executor view's {@code get}, and the {@code supplyAsync} /
 * {@code runAsync} futures' {@code join} and {@code get}), so that each gets the same fail-fast
 * checks, the same helping and the same priority lending.
 *
 * <ol>
 *   <li><b>check</b> ({@link #checkNoDeadlock}): a wait that can never end throws
 *       {@link IllegalStateException} naming both parties: a work that waits for its own run, and
 *       a work of an ordered workqueue that waits for a work queued behind it on that queue. The
 *       kernel finds these with lockdep; here they are checked directly.</li>
 *   <li><b>help</b> ({@link #help}): from a work, a pending instance that has not started may run
 *       in place on the waiting thread ({@link Helping}).</li>
 *   <li><b>lend</b> and <b>join or announce</b> ({@link #begin}): the waiter lends its priority
 *       to the awaited work ({@link Inheritance}); on a worker the wait is an announced block, a
 *       join while the awaited work runs elsewhere (the join window applies). Both need stack:
 *       with too little left, {@code begin} throws {@link StackOverflowError} before it changes
 *       anything ({@link #requireStack}).</li>
 *   <li><b>wait</b>: the caller's own blocking call.</li>
 *   <li><b>undo</b> ({@link #end}): the block ends, then the loan.</li>
 * </ol>
 *
 * <p>Stateless; the state of one wait is the {@link Wait} that {@link #begin} returns.
 */
public final class WaitProtocol {
    private WaitProtocol() {}

    /** One wait in progress: what {@link #end} undoes. Confined to the waiting thread. */
    public static final class Wait {
        private final Lend lend;
        private final Worker worker;

        private Wait(Lend lend, Worker worker) {
            this.lend = lend;
            this.worker = worker;
        }
    }

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
     * From a work, runs {@code awaited}'s pending instance in place if the queue's rules allow.
     *
     * @return false if helping is over for this wait (see {@link Helping#tryHelp})
     */
    public static boolean help(WorkNode awaited) {
        return awaited != null && Helping.tryHelp(awaited);
    }

    /**
     * Lends the caller's priority to {@code awaited} and, on a worker, announces the block (a
     * join while the awaited work runs elsewhere). Pair with {@link #end} in a {@code finally}.
     *
     * @param awaited the awaited work's node, or null: then the wait is only announced
     */
    public static Wait begin(WorkNode awaited) {
        requireStack();
        Lend lend = awaited == null ? null : Inheritance.beginWork(awaited);
        Worker w;
        try {
            w = Worker.joinBeginIfWorker(awaited);
        } catch (Throwable t) {
            Inheritance.end(lend);
            throw t;
        }
        return new Wait(lend, w);
    }

    /**
     * Throws {@link StackOverflowError} before the wait changes any state if the caller has too
     * little stack left for the protocol's own frames: a lend or an announced block that
     * overflowed half done would leave a pool's running count or a work's priority wrong for
     * good (an announced block whose depth was counted but whose worker was never uncounted
     * starved its pool). The caller, deep in a recursion, was about to overflow anyway.
     */
    static void requireStack() {
        if (!Helping.stackLeft()) {
            throw new StackOverflowError("cmwq4j: too little stack left to wait for a work safely");
        }
    }

    /** Undoes {@link #begin}: the announced block ends, then the loan. */
    public static void end(Wait wait) {
        try {
            Worker.joinEnd(wait.worker);
        } finally {
            Inheritance.end(wait.lend);
        }
    }
}
