package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * Who waits on one {@link WorkNode}, and what they lend it: the node's rare state, kept out of
 * the node itself. Most nodes never have a waiter (a one-shot task run once, a work nobody
 * flushes), so the node holds only a reference, null until the first wait or lend needs this
 * object ({@link WorkNode#waits()} creates it with one CAS; it is never replaced nor removed).
 * This keeps 25 bytes of fields out of every node, and every task of {@code execute(Runnable)},
 * for a 4-byte reference (see {@code WorkNode}'s class comment, <em>Size</em>): a flood of tasks
 * allocates that much less, and the collector copies that much less of a backlog.
 *
 * <h2>The protocols, unchanged by the move</h2>
 * Each Dekker pair of the node (see {@link Inheritance} and {@link WorkNode#resolve}) now runs
 * on fields of this object, reached from the node through a volatile reference:
 * <ul>
 *   <li>a lister writes {@code where} and then reads {@link #lent} (through {@link
 *       WorkNode#maxLent}); a lender creates this object if needed (a CAS), adds to {@link #lent}
 *       and then reads {@code where}. A lister that finds no object here read the node's
 *       reference before the lender's CAS, so the lender, after it, sees the node listed;
 *   <li>the worker running a node writes {@link #runnerLend} and then reads {@link #lent}; a
 *       lender adds to {@link #lent} and then reads {@link #runnerLend}: both on this one object,
 *       which both sides created or found through the same CAS;
 *   <li>a waiter counts itself in {@link #waiters} and then reads {@code resolved} (or the
 *       state word); a resolver adds to {@code resolved} (or CASes the state word) and then
 *       reads the node's reference and {@link #waiters}. A resolver that finds no object read
 *       the reference before the waiter's CAS, so the waiter, after it, sees the resolution.
 * </ul>
 */
final class NodeWaits {
    /**
     * Levels lent to the node by waiters: per level NORMAL, HIGH and URGENT a count of lenders,
     * packed by {@link Inheritance}. Atomic add only ({@link Inheritance#adjust}).
     */
    volatile long lent;
    /**
     * While the worker running the node waits: that wait's {@link Lend}, so that a change of what
     * is lent to the node reaches what its worker waits for. Written by that worker only.
     */
    volatile Lend runnerLend;
    /** Threads waiting in {@code WorkNode.awaitUntil}; changed under {@code synchronized (node)}. */
    volatile int waiters;
    /**
     * Links in the lent list of a {@link Worklist} (see there); guarded by the pool lock of the
     * list holding the node.
     */
    WorkNode lentNext, lentPrev;
    /** The {@link Worklist} level of the lent list holding the node (-1: none); same guard. */
    byte lentList = -1;

    static final AtomicLongFieldUpdater<NodeWaits> LENT = AtomicLongFieldUpdater.newUpdater(NodeWaits.class, "lent");
}
