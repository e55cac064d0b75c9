package dev.cmwq4j.internal;

/**
 * Helping: a worker that is about to wait for a work that has not started yet runs it in place
 * instead, as {@code ForkJoinPool}'s join does. A fan-out tree whose parents wait for their
 * children then needs no thread per waiting parent.
 *
 * <h2>When a work may be helped</h2>
 * All of these, checked under the lock of the pool that holds the work:
 * <ul>
 *   <li>the caller is a worker running a work, nested less than {@code maxHelpDepth} (an engine option, default 64) helped runs
 *       deep (each level costs stack), with stack to spare ({@link #stackLeft});
 *   <li>the work's workqueue is not ordered (an ordered queue runs its works one at a time, in
 *       order, and the helper would jump the line);
 *   <li>it stays within {@code maxActive}: the pending instance is <em>active</em> (on a pool's
 *       worklist, already counted), or it is inactive and the waiter is itself a running work of
 *       the same workqueue, whose slot it borrows: the waiter is suspended while the helped
 *       work runs, so the works of that queue executing at once do not grow. The slot may be of
 *       another pool workqueue of the workqueue (the waiter was stolen, and is accounted to its
 *       victim's): the helped work's pwq then counts one above {@code maxActive} while the
 *       waiter's counts one suspended. A frozen workqueue lends nothing;
 *   <li>no earlier instance of the work is running anywhere (the RUNNING bit of its state word):
 *       a work never runs concurrently with itself;
 *   <li>it is not pinned to another CPU's pool by {@code queueOn}.
 * </ul>
 * A waiter that may not run the work in place only because of the nesting bound still lends its
 * slot to an inactive work of its own workqueue ({@link PoolWorkqueue#lendSlot}), so that a
 * chain of works each waiting for the next on one workqueue never deadlocks on
 * {@code maxActive}.
 *
 * <h2>Accounting</h2>
 * The take is an unlink from the worklist (or the inactive list), then one CAS of the state word
 * from PENDING to RUNNING, both under the pool lock, in the order {@link WorkerPool#popAndStart}
 * uses, so a concurrent cancel, steal or pop sees either the pending instance or none, and a
 * re-queue that follows the CAS finds the node off every list. The work stays counted by the
 * {@link PoolWorkqueue} it was queued to (its flush color included); when it ends, that pwq's
 * {@code workDone} runs as for any other work. The helper keeps counting as a running worker of
 * its own pool: it is busy on the CPU.
 *
 * <h2>What the helped work sees</h2>
 * It runs on the waiting thread, inside the outer work's stack frame: it sees that thread's
 * thread-locals and the locks the outer work holds. A helped work that takes a lock the waiting
 * work holds therefore enters it (reentrant locks) where, without helping, the pair would have
 * deadlocked. {@code ForkJoinPool}'s join behaves the same way.
 */
final class Helping {
    private Helping() {}

    /**
     * Frames {@link #stackLeft} recurses: far more stack than the engine's own frames of a helped
     * run need (taking it, running it, ending it in its pwq, locks included), whatever the
     * helped work itself uses.
     */
    private static final int STACK_RESERVE_FRAMES = 1024;

    /**
     * Whether the calling thread has stack to spare for a helped run. A wait deep in a recursion
     * (or in a StackOverflowError handler) must not help: the helped run's engine bookkeeping
     * would overflow half done, and leave the work RUNNING for good. The probe recurses
     * {@link #STACK_RESERVE_FRAMES} frames, about a microsecond, and only before a help.
     */
    static boolean stackLeft() {
        return stackLeft(STACK_RESERVE_FRAMES);
    }

    /** Whether {@code frames} more frames fit on the calling thread's stack (a smaller margin). */
    static boolean stackLeft(int frames) {
        try {
            return probe(frames) == frames;
        } catch (StackOverflowError e) {
            return false;
        }
    }

    private static int probe(int frames) {
        return frames == 0 ? 0 : 1 + probe(frames - 1);
    }

    /**
     * If the calling thread is a worker and {@code n}'s pending instance may be helped (see the
     * class comment), runs it here and returns true once it has finished. Otherwise returns
     * false, having at most lent the caller's slot to {@code n}; the caller then waits as usual.
     */
    static boolean tryHelp(WorkNode n) {
        Worker w = Worker.current();
        int where = n.where; // racy first look: filters the common "already started" case
        if (w == null || w.currentNode() == null
                || (where != WorkNode.WORKLIST && where != WorkNode.INACTIVE && where != WorkNode.INBOUND)) {
            return false;
        }
        PoolWorkqueue pwq = n.pwq;
        if (pwq == null || pwq.wq.ordered) {
            return false;
        }
        // The waiter holds a slot of this workqueue it may lend: of pwq itself, or of a sibling pwq
        // of the same workqueue. A stolen work is accounted to its victim's pwq, while the works
        // it queues go to its thief's pool: a chain of joins that crossed pools by a steal waited
        // for an inactive work of the thief's pwq, whose every slot was held by such waiters, and
        // deadlocked (a 1,000-deep supplyAsync chain on the system workqueue, once in a few
        // hundred runs on a loaded machine).
        PoolWorkqueue held = w.currentPwq();
        boolean ownPwq = held != null && held.wq == pwq.wq;
        // A work pinned to another pool is not run here, but a slot may still be lent to it.
        boolean inPlace = w.mayHelp() && !(n.pinned() && pwq.pool != w.pool);
        if (!inPlace && !ownPwq) {
            return false;
        }
        if (!stackLeft()) {
            // Both ways take a pool lock and change what it guards: not with too little stack.
            // The wait that follows needs the same margin and throws StackOverflowError first.
            return false;
        }
        if (inPlace) {
            w.ensureHelpStack(); // before the take: nothing may allocate between it and the run
        }
        int color = -1;
        long queuedAt = 0;
        Runnable decorated = null;
        WorkerPool pool = pwq.pool;
        pool.lock();
        try {
            if (inPlace) {
                color = pwq.takeForHelp(n, ownPwq);
                queuedAt = pwq.helpQueuedAt;
                decorated = pwq.helpDecorated;
                pwq.helpDecorated = null;
            }
            if (color < 0 && ownPwq) {
                // Not run here (an earlier instance of it runs elsewhere, or it is pinned to
                // another pool, or the help stack is full): if it waits inactive behind this
                // waiter's slot, lend the slot, or the two wait for each other for good. The
                // in-place take used to be the only way, and a work queued on one CPU while its
                // earlier instance ran on another deadlocked its waiter under maxActive 1.
                pwq.lendSlot(n);
            }
        } finally {
            pool.unlock();
        }
        if (color < 0) {
            return false;
        }
        w.runHelped(n, pwq, color, queuedAt, decorated);
        return true;
    }
}
