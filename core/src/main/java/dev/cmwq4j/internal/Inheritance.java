package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Priority inheritance: a thread that waits for works lends its priority to them while it waits.
 *
 * <h2>Implementation overview</h2>
 * A wait that lends is one {@link Lend}: a source level, the works it lends it to (its
 * <em>targets</em>), and the level it has applied. Each work counts what is lent to it in one
 * atomic word, {@link NodeWaits#lent} (in the work's {@link NodeWaits}, created by its first lender): a 21-bit count of lenders per level NORMAL, HIGH and URGENT
 * (a LOW lend changes nothing and is not counted). A work's <em>effective</em> priority is the
 * higher of its own and the highest level with a lender. So lends from many waiters add up, and
 * ending one takes back exactly what it gave.
 *
 * <p>Where a pending work sits depends on its effective priority ({@link Worklist}): after it
 * changes the count, the lender {@linkplain #reposition repositions} the work under the lock of the
 * pool whose list holds it. The lender and whoever lists the work race, and a Dekker pair on
 * volatiles settles it: a lister writes {@code where} and then reads {@code lent}
 * ({@link Worklist#add}); a lender adds to {@code lent} and then reads {@code where}. So either
 * the lister sees the lend and lists the work at the lent level, or the lender sees the work
 * listed and moves it under the pool lock; a work moving between lists is re-read and re-checked,
 * as {@code WorkNode.grab} does.
 *
 * <h2>Sources and transitivity</h2>
 * A plain thread lends the level of its {@code Thread} priority; it never changes during the wait.
 * A worker lends the effective priority of the work it runs (the wait's <em>source</em>), which
 * changes when someone lends to that work. While it waits, the worker publishes its Lend in the
 * source's {@link NodeWaits#runnerLend}; whoever changes the source's counts then
 * {@linkplain Lend#recompute recomputes} that Lend, which adjusts its targets and goes on down the
 * chain (at most {@link #MAX_DEPTH} waits deep, so a cycle of waits ends). The worker writes
 * {@code runnerLend} before it reads the source's level, and a lender adds to {@code lent} before
 * it reads {@code runnerLend}: the same Dekker pair, so no change is missed.
 *
 * <h2>Who must run first</h2>
 * A work waiting on the inactive list of its {@link PoolWorkqueue} cannot run before others of
 * that pwq: in an ordered workqueue, every work queued before it; behind {@code maxActive}, one of
 * the works holding the slots. Those are targets too (collected once, when the wait begins, under
 * the pool lock; see {@link PoolWorkqueue#collectAhead}): for ordered, all of them; for
 * {@code maxActive}, the slot holder the worklist runs first, plus the running ones (only their
 * waits, if any, gain from it). A non-ordered inactive list is itself ordered by priority, so the
 * waited-for work takes the first free slot.
 *
 * <h2>Wake-up</h2>
 * Moving the work ahead removes the queueing delay; the waiter then still needs a CPU, and on a
 * busy machine the scheduler can leave it waiting for milliseconds (Java thread priorities are only
 * a hint on Linux). So a thread that resolves a work lent a level above its own, with a waiter, yields
 * once ({@code WorkNode.resolve}).
 *
 * <h2>Locks</h2>
 * A Lend's monitor guards its applied level; it is held while adjusting the counts and positions
 * of its targets, so it is taken before pool locks, and never while holding one. Propagation down
 * the chain happens after the monitor is released, so no two Lend monitors are held at once.
 */
final class Inheritance {
    private Inheritance() {}

    static final int LOW = 0;
    static final int NORMAL = 1;
    static final int HIGH = 2;
    static final int URGENT = 3;

    /** Bits of one level's count of lenders in {@link NodeWaits#lent}. */
    private static final int COUNT_BITS = 21;
    /** How many waits deep a change is propagated; bounds a cycle of waits. */
    static final int MAX_DEPTH = 32;

    // ------------------------------------------------------------------------------------------
    // Levels.

    /** Thread priority 1-4: LOW, 5: NORMAL, 6-9: HIGH, 10: URGENT. */
    static int levelOfThreadPriority(int threadPriority) {
        if (threadPriority < Thread.NORM_PRIORITY) {
            return LOW;
        }
        if (threadPriority == Thread.NORM_PRIORITY) {
            return NORMAL;
        }
        return threadPriority < Thread.MAX_PRIORITY ? HIGH : URGENT;
    }

    /** What the calling thread lends if it waits now (see {@code Priority.current()}). */
    static int currentLevel() {
        Worker w = Worker.current();
        if (w != null) {
            WorkNode n = w.current;
            return n != null ? n.effectivePriority() : NORMAL;
        }
        return levelOfThreadPriority(Thread.currentThread().getPriority());
    }

    /** One lender at {@code level} in the packed counts; 0 for LOW. */
    private static long unit(int level) {
        return level == LOW ? 0 : 1L << ((level - 1) * COUNT_BITS);
    }

    /** The highest level with a lender in the packed counts {@code lent}, or LOW. */
    static int maxLevel(long lent) {
        if (lent == 0) {
            return LOW;
        }
        if (lent >>> (2 * COUNT_BITS) != 0) {
            return URGENT;
        }
        return lent >>> COUNT_BITS != 0 ? HIGH : NORMAL;
    }

    // ------------------------------------------------------------------------------------------
    // Waits.

    /**
     * Begins a wait for {@code n} (a work flush, a synchronous cancel, a future's get): lends the
     * caller's level to it and to the works that must run before it.
     *
     * @return the lend to {@link #end}, or null if nothing can be lent
     */
    static Lend beginWork(WorkNode n) {
        PoolWorkqueue p = n.pwq;
        if (p == null || !p.wq.engine.inheritance) {
            return null;
        }
        WorkNode source = waitingSource();
        int level = source != null ? -1 : levelOfThreadPriority(Thread.currentThread().getPriority());
        if (source == null && level == LOW) {
            return null; // a plain thread's level never changes: LOW lends nothing, ever
        }
        List<WorkNode> targets = new ArrayList<>(4);
        targets.add(n);
        collectAhead(n, targets);
        return start(new Lend(source, level, targets.toArray(new WorkNode[0])));
    }

    /**
     * Before the calling worker runs {@code n} in place while it waits for it ({@link Helping}):
     * lends it the level of the work it runs, if that outranks {@code n}'s, as the wait would. The
     * helped run is then {@code n} itself, and its own waits lend {@code n}'s level: without this
     * lend a chain of waits passed on nothing past a help (a HIGH thread flushes S, S runs T in
     * place, T waits for U: U stayed at T's own level).
     *
     * @return the lend to {@link #end}, or null if there is nothing to pass on
     */
    static Lend beginHelp(WorkNode n) {
        WorkNode source = waitingSource();
        if (source == null || source.effectivePriority() <= n.effectivePriority()) {
            return null;
        }
        return beginWork(n);
    }

    /**
     * Begins a wait for several works at once (an async domain's functions before a cookie):
     * lends the caller's level to each of them and to the works that must run before each.
     *
     * @return the lend to {@link #end}, or null if nothing can be lent
     */
    static Lend beginWorks(WorkNode[] nodes) {
        WorkNode source = waitingSource();
        int level = source != null ? -1 : levelOfThreadPriority(Thread.currentThread().getPriority());
        if (source == null && level == LOW) {
            return null;
        }
        List<WorkNode> targets = new ArrayList<>(nodes.length);
        for (WorkNode n : nodes) {
            PoolWorkqueue p = n.pwq;
            if (p != null && p.wq.engine.inheritance) {
                targets.add(n);
                collectAhead(n, targets);
            }
        }
        return targets.isEmpty() ? null : start(new Lend(source, level, targets.toArray(new WorkNode[0])));
    }

    /**
     * Begins a wait for every work of {@code wq} queued before now ({@code Workqueue.flush}, after
     * it moved the workqueue to its next flush color).
     *
     * @return the lend to {@link #end}, or null if nothing can be lent
     */
    static Lend beginQueue(WorkqueueCore wq) {
        if (!wq.engine.inheritance) {
            return null;
        }
        WorkNode source = waitingSource();
        int level = source != null ? -1 : levelOfThreadPriority(Thread.currentThread().getPriority());
        if (source == null && level == LOW) {
            return null;
        }
        List<WorkNode> targets = new ArrayList<>();
        for (PoolWorkqueue pwq : wq.pwqs) {
            pwq.pool.lock();
            try {
                pwq.collectInFlight(targets);
            } finally {
                pwq.pool.unlock();
            }
        }
        if (targets.isEmpty()) {
            return null;
        }
        return start(new Lend(source, level, targets.toArray(new WorkNode[0])));
    }

    /** Ends a wait: takes back everything {@code lend} lent. Null is a no-op. */
    static void end(Lend lend) {
        if (lend == null) {
            return;
        }
        WorkNode source = lend.source;
        if (source != null) {
            source.waits().runnerLend = lend.outer;
        }
        lend.close();
    }

    /** The work the calling worker runs, or null on any other thread. */
    private static WorkNode waitingSource() {
        Worker w = Worker.current();
        return w == null ? null : w.current;
    }

    private static Lend start(Lend lend) {
        WorkNode source = lend.source;
        if (source != null) {
            NodeWaits w = source.waits();
            lend.outer = w.runnerLend; // nested waits (a work run in place by its waiter)
            w.runnerLend = lend; // publish, then read the source's level (class comment)
        }
        lend.recompute(0);
        return lend;
    }

    /**
     * If {@code n} waits on the inactive list of its pwq, adds the works that must run before it
     * (see class comment).
     */
    private static void collectAhead(WorkNode n, List<WorkNode> out) {
        for (int spins = 0; ; spins++) {
            int w = n.where;
            if (w == WorkNode.INBOUND) {
                admit(n);
                continue;
            }
            if (w != WorkNode.INACTIVE) {
                return;
            }
            PoolWorkqueue p = n.pwq;
            p.pool.lock();
            try {
                if (n.pwq == p && n.where == WorkNode.INACTIVE) {
                    p.collectAhead(n, out);
                    return;
                }
            } finally {
                p.pool.unlock();
            }
            backOff(spins);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Counts and positions.

    /** Moves one lender of {@code n} from level {@code from} to level {@code to}. */
    static void adjust(WorkNode n, int from, int to) {
        long delta = unit(to) - unit(from);
        if (delta != 0) {
            NodeWaits.LENT.getAndAdd(n.waits(), delta); // then whoever lists n reads it (class comment)
        }
    }

    /**
     * Moves every pending target to where its counts now put it, holding each pool lock once per
     * run of targets of that pool. Called after {@link #adjust}; never under a pool lock.
     */
    static void repositionAll(WorkNode[] targets) {
        WorkerPool held = null;
        try {
            for (WorkNode n : targets) {
                int w = n.where;
                if (w != WorkNode.WORKLIST && w != WorkNode.INACTIVE) {
                    continue; // not listed: whoever lists it reads the counts after publishing
                }
                PoolWorkqueue p = n.pwq;
                if (p == null) {
                    continue;
                }
                if (held != p.pool) {
                    if (held != null) {
                        held.unlock();
                    }
                    held = p.pool;
                    held.lock();
                }
                if (n.pwq == p && n.where == w) {
                    p.reposition(n, w);
                } else {
                    held.unlock();
                    held = null;
                    reposition(n);
                }
            }
        } finally {
            if (held != null) {
                held.unlock();
            }
        }
    }

    /**
     * {@code n} was seen on its pool's inbound stack: has the pool admit it (a lock does), so
     * that it is listed, or gone, when looked at again. Never under a pool lock.
     */
    private static void admit(WorkNode n) {
        PoolWorkqueue p = n.pwq;
        if (p != null) {
            p.pool.admitUnlocked();
        }
    }

    /** Moves {@code n}, if it is listed, to where its counts now put it. Never under a pool lock. */
    static void reposition(WorkNode n) {
        for (int spins = 0; ; spins++) {
            int w = n.where;
            if (w != WorkNode.WORKLIST && w != WorkNode.INACTIVE) {
                return;
            }
            PoolWorkqueue p = n.pwq;
            if (p == null) {
                return;
            }
            p.pool.lock();
            try {
                if (n.pwq == p && n.where == w) {
                    p.reposition(n, w);
                    return;
                }
            } finally {
                p.pool.unlock();
            }
            backOff(spins); // it moved between lists meanwhile: look again
        }
    }

    /** A change of what {@code n} is lent reaches the wait of the worker running it, if any. */
    static void propagate(WorkNode n, int depth) {
        NodeWaits w = n.waits;
        Lend next = w == null ? null : w.runnerLend;
        if (next != null && depth < MAX_DEPTH) {
            next.recompute(depth + 1);
        }
    }

    private static void backOff(int spins) {
        if (spins < 100) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
