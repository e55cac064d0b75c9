package dev.cmwq4j.internal;

/**
 * Helping: a worker that is about to wait for a work that has not started yet runs it in place
 * instead, as {@code ForkJoinPool}'s join does. A fan-out tree whose parents wait for their
 * children then needs no thread per waiting parent.
 *
 * <h2>When a work may be helped</h2>
 * All of these, checked under the lock of the pool whose worklist holds the work:
 * <ul>
 *   <li>the caller is a worker running a work, nested less than {@link #MAX_DEPTH} helped runs
 *       deep (each level costs stack);
 *   <li>the work's workqueue is not ordered (an ordered queue runs its works one at a time, in
 *       order, and the helper would jump the line);
 *   <li>the pending instance is <em>active</em>: on a pool's worklist, already counted against
 *       {@code maxActive}. Inactive works (beyond {@code maxActive}, or on a frozen workqueue)
 *       are never helped, so helping never raises the number of active works;
 *   <li>no earlier instance of the work is running anywhere (the RUNNING bit of its state word):
 *       a work never runs concurrently with itself;
 *   <li>it is not pinned to another CPU's pool by {@code queueOn}.
 * </ul>
 *
 * <h2>Accounting</h2>
 * The take is an unlink from the worklist, then one CAS of the state word from PENDING to RUNNING,
 * both under the pool lock, in the order {@link WorkerPool#popAndStart} uses, so a concurrent
 * cancel, steal or pop sees either the pending instance or none, and a re-queue that follows the
 * CAS finds the node off every list. The work stays active in, and
 * counted by, the {@link PoolWorkqueue} it was queued to (its flush color included); when it ends,
 * that pwq's {@code workDone} runs as for any other work. The helper keeps counting as a running
 * worker of its own pool: it is busy on the CPU.
 *
 * <h2>What the helped work sees</h2>
 * It runs on the waiting thread, inside the outer work's stack frame: it sees that thread's
 * thread-locals and the locks the outer work holds. A helped work that takes a lock the waiting
 * work holds therefore enters it (reentrant locks) where, without helping, the pair would have
 * deadlocked. {@code ForkJoinPool}'s join behaves the same way.
 */
public final class Helping {
    private Helping() {}

    /** Most helped runs nested on one thread; deeper waits block (announced) instead. */
    public static final int MAX_DEPTH = Integer.getInteger("cmwq4j.maxHelpDepth", 64);

    /**
     * If the calling thread is a worker and {@code n}'s pending instance may be helped (see the
     * class comment), runs it here and returns true once it has finished. Otherwise returns
     * false at once, having changed nothing.
     */
    public static boolean tryHelp(WorkNode n) {
        Worker w = Worker.current();
        if (w == null || !w.mayHelp() || n.where != WorkNode.WORKLIST) {
            return false; // the racy look at where filters the common "already started" case
        }
        PoolWorkqueue pwq = n.pwq;
        if (pwq == null || pwq.wq.ordered || (n.pinned && pwq.pool != w.pool)) {
            return false;
        }
        int color;
        WorkerPool pool = pwq.pool;
        pool.lock();
        try {
            color = pwq.takeForHelp(n);
        } finally {
            pool.unlock();
        }
        if (color < 0) {
            return false;
        }
        w.runHelped(n, pwq, color);
        return true;
    }
}
