package dev.cmwq4j.internal;

import java.util.List;
import java.util.function.Predicate;

/**
 * A list of pending {@link WorkNode}s ordered by priority, FIFO within a priority. Intrusive:
 * linked through the nodes' own fields, so adding, polling, removing and moving a node allocate
 * nothing and cost O(1).
 *
 * <h2>Layout</h2>
 * Per level L (0 = LOW .. {@link #LEVELS}-1 = URGENT) there are two lists, each with a sentinel:
 * <ul>
 *   <li>the <em>base list</em> of L holds the nodes whose own priority ({@code WorkNode.prio},
 *       the priority of the pending instance) is L, in the order they were added; linked through
 *       {@code next}/{@code prev};
 *   <li>the <em>lent list</em> of L holds the nodes that waiters lend L, above their own
 *       priority (see {@link Inheritance}), in the order they were lent it; linked through
 *       {@code lentNext}/{@code lentPrev} of their {@link NodeWaits} (a node is lent only once a
 *       lender created that object). Such a node stays in its base list as well, at its
 *       place: when the lend ends it leaves the lent list and is exactly where it would have been.
 * </ul>
 * Bit {@code 2L+1} of {@link #bits} says that the base list of L is non-empty, bit {@code 2L}
 * the lent list. {@link #poll()} takes the head of the list of the highest set bit, so a level's
 * base list runs before its lent list, and both before any lower level: a lend makes a work the
 * equal of the works of the lent level, never their better (a NORMAL flusher lending NORMAL to a
 * LOW work must not reorder the NORMAL works). A node taken from a lent list also leaves its base
 * list. A node is never in a lent list at or below its own level, so a node polled from a base
 * list is in no lent list.
 *
 * <p>A <em>flat</em> worklist ({@code byPriority == false}: the inactive list of an ordered
 * workqueue, which must keep queueing order) puts every node in the base list of level 0 and
 * never moves it: a plain FIFO.
 *
 * <p>Not thread-safe: every list is guarded by the lock of the {@link WorkerPool} that owns it (a
 * pool's worklist, or the inactive list of a {@link PoolWorkqueue} of that pool). A node is on at
 * most one worklist at a time; its {@code baseList} and its {@code NodeWaits}'s {@code lentList}
 * say where in it.
 */
final class Worklist {
    /** Priority levels: LOW, NORMAL, HIGH, URGENT (the ordinals of {@code dev.cmwq4j.Priority}). */
    static final int LEVELS = 4;

    /** Sentinels: index 2L+1 is the base list of level L, 2L its lent list. */
    private final WorkNode[] heads = new WorkNode[2 * LEVELS];
    private final boolean byPriority;
    /** Bit i set iff list i is non-empty. */
    private int bits;
    /** The highest level with a listed node (its base or its lent list), or -1 if none is. */
    int topLevel() {
        int b = bits;
        return b == 0 ? -1 : (31 - Integer.numberOfLeadingZeros(b)) >> 1;
    }

    /** Nodes listed (each counted once, whether or not it is in a lent list too). */
    private int size;

    /** A worklist ordered by priority. */
    Worklist() {
        this(true);
    }

    /** @param byPriority false for a plain FIFO that ignores priorities (see class comment) */
    Worklist(boolean byPriority) {
        this.byPriority = byPriority;
        for (int i = 0; i < heads.length; i++) {
            WorkNode h = new WorkNode();
            h.next = h;
            h.prev = h;
            if ((i & 1) == 0) { // a lent list's sentinel
                NodeWaits w = h.waits();
                w.lentNext = h;
                w.lentPrev = h;
            }
            heads[i] = h;
        }
    }

    boolean isEmpty() {
        return bits == 0;
    }

    int size() {
        return size;
    }

    /**
     * Appends {@code n} at the tail of the base list of its priority, and of the lent list of the
     * level lent to it if that is higher. The caller publishes {@code n.where} before calling, so
     * that a concurrent lend either sees the node listed or is seen here (see {@link Inheritance}).
     */
    void add(WorkNode n) {
        size++;
        if (!byPriority) {
            n.baseList = 0;
            linkBase(n, 1);
            return;
        }
        int base = n.prio;
        n.baseList = (byte) base;
        linkBase(n, (base << 1) | 1);
        int lent = n.maxLent();
        if (lent > base) { // n's lentList is -1 while n is on no list
            linkLent(n, lent);
        }
    }

    /** The node {@link #poll()} would return, or null. */
    WorkNode peek() {
        int b = bits;
        if (b == 0) {
            return null;
        }
        int i = 31 - Integer.numberOfLeadingZeros(b);
        WorkNode h = heads[i];
        return (i & 1) == 1 ? h.next : h.waits.lentNext;
    }

    /** Removes and returns the first node of the highest non-empty list, or null. */
    WorkNode poll() {
        int b = bits;
        if (b == 0) {
            return null;
        }
        int i = 31 - Integer.numberOfLeadingZeros(b);
        WorkNode h = heads[i];
        size--;
        if ((i & 1) == 1) {
            WorkNode n = h.next;
            unlinkBase(n, i); // in no lent list: it would have been polled from there (class comment)
            return n;
        }
        WorkNode n = h.waits.lentNext;
        unlinkLent(n);
        unlinkBase(n, (n.baseList << 1) | 1);
        return n;
    }

    /** Unlinks {@code n}, which must be on this list. */
    void remove(WorkNode n) {
        unlinkBase(n, (n.baseList << 1) | 1);
        if (n.lentList() >= 0) {
            unlinkLent(n);
        }
        size--;
    }

    /**
     * Moves {@code n}, which must be on this list, to where the level lent to it now puts it: into
     * the lent list of that level if it is above the node's own, else out of any lent list (back
     * to its place in its base list). O(1).
     */
    void reposition(WorkNode n) {
        if (!byPriority) {
            return;
        }
        int want = n.maxLent();
        if (want <= n.baseList) {
            want = -1;
        }
        int now = n.lentList();
        if (want == now) {
            return;
        }
        if (now >= 0) {
            unlinkLent(n);
        }
        if (want >= 0) {
            linkLent(n, want);
        }
    }

    /**
     * The first node, in the order {@link #poll()} would return them, that is not pinned to its
     * CPU ({@link WorkNode#pinned}), among the first {@code within} nodes; null if there is none
     * there. A thief's look past the pinned works at the front ({@link WorkerPool}'s steal
     * candidate). O(within), allocation-free; the caller may then {@link #remove} it, O(1).
     */
    /** Listed nodes not pinned to a CPU (each counted once, lent or not); O(length), for a freeze. */
    int countUnpinned() {
        int count = 0;
        for (int i = heads.length - 1; i >= 0; i--) {
            if ((i & 1) == 1) { // every node is on its base list, whether or not it is lent
                WorkNode h = heads[i];
                for (WorkNode n = h.next; n != h; n = n.next) {
                    if (!n.pinned()) {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    WorkNode firstUnpinned(int within) {
        int left = within;
        for (int b = bits; b != 0; ) {
            int i = 31 - Integer.numberOfLeadingZeros(b); // the highest non-empty list left: poll order
            b &= ~(1 << i);
            WorkNode h = heads[i];
            boolean base = (i & 1) == 1;
            for (WorkNode n = base ? h.next : h.waits.lentNext; n != h; n = base ? n.next : n.waits.lentNext) {
                if (base && n.lentList() >= 0) {
                    continue; // seen already, in its (higher) lent list
                }
                if (!n.pinned()) {
                    return n;
                }
                if (--left <= 0) {
                    return null;
                }
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------
    // Scans, for lends only (slow path): O(length).

    /** Adds to {@code out} every node {@link #poll()} would return before {@code stop}. */
    void collectBefore(WorkNode stop, List<WorkNode> out) {
        collect(n -> true, stop, out, Integer.MAX_VALUE);
    }

    /**
     * Adds to {@code out}, in the order {@link #poll()} would return them, up to {@code max} nodes
     * that match {@code which}.
     */
    void collect(Predicate<WorkNode> which, List<WorkNode> out, int max) {
        collect(which, null, out, max);
    }

    /** Visits the nodes in poll order until {@code stop} (exclusive) or {@code max} matches. */
    private void collect(Predicate<WorkNode> which, WorkNode stop, List<WorkNode> out, int max) {
        int found = 0;
        for (int i = heads.length - 1; i >= 0; i--) {
            WorkNode h = heads[i];
            boolean base = (i & 1) == 1;
            for (WorkNode n = base ? h.next : h.waits.lentNext; n != h; n = base ? n.next : n.waits.lentNext) {
                if (n == stop || found >= max) {
                    return;
                }
                if (base && n.lentList() >= 0) {
                    continue; // listed already, with its (higher) lent list
                }
                if (which.test(n)) {
                    out.add(n);
                    found++;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Freezing and rescuers (slow paths).

    /**
     * Moves every node of {@code from} that counts against {@code pwq} to the front of this list
     * (the front of its level), keeping their order, and marks them {@code where}: freezing takes
     * unstarted works back to the inactive list. O(size of {@code from}).
     *
     * @return how many were moved
     */
    int moveToFrontFrom(Worklist from, PoolWorkqueue pwq, int where) {
        List<WorkNode> moving = new java.util.ArrayList<>();
        // by their base lists, each in its order: a lent node is listed in its base list too, at
        // its own place, and the move puts each level's nodes back in that order (collected in
        // poll order, a lent node came first, and went back ahead of its level's older works)
        for (int i = from.heads.length - 1; i >= 0; i -= 2) { // odd indexes: the base lists
            WorkNode h = from.heads[i];
            for (WorkNode n = h.next; n != h; n = n.next) {
                if (n.pwq == pwq) {
                    moving.add(n);
                }
            }
        }
        for (int k = moving.size() - 1; k >= 0; k--) {
            WorkNode n = moving.get(k);
            from.remove(n);
            addFirst(n);
            n.where = where;
        }
        return moving.size();
    }

    /** Puts {@code n} at the head of its base list and marks it {@code where} (deferred hand-off). */
    void addFront(WorkNode n, int where) {
        addFirst(n);
        n.where = where;
    }

    /** As {@link #add}, but at the head of the node's base list. */
    private void addFirst(WorkNode n) {
        size++;
        int base = byPriority ? n.prio : 0;
        n.baseList = (byte) base;
        int i = (base << 1) | 1;
        WorkNode h = heads[i];
        WorkNode first = h.next;
        n.prev = h;
        n.next = first;
        first.prev = n;
        h.next = n;
        bits |= 1 << i;
        int lent = byPriority ? n.maxLent() : -1;
        if (lent > base) {
            linkLent(n, lent);
        }
    }

    /** The first node, in poll order, that counts against {@code pwq}, or null (rescuers). */
    WorkNode firstOf(PoolWorkqueue pwq) {
        List<WorkNode> one = new java.util.ArrayList<>(1);
        collect(n -> n.pwq == pwq, one, 1);
        return one.isEmpty() ? null : one.get(0);
    }

    // ------------------------------------------------------------------------------------------

    private void linkBase(WorkNode n, int i) {
        WorkNode h = heads[i];
        WorkNode last = h.prev;
        n.prev = last;
        n.next = h;
        last.next = n;
        h.prev = n;
        bits |= 1 << i;
    }

    private void unlinkBase(WorkNode n, int i) {
        WorkNode nx = n.next;
        WorkNode pv = n.prev;
        pv.next = nx;
        nx.prev = pv;
        n.next = null;
        n.prev = null;
        if (pv == nx) { // only the sentinel is left
            bits &= ~(1 << i);
        }
    }

    /** Appends {@code n}, lent {@code level} (so it has its {@link NodeWaits}), to that level's lent list. */
    private void linkLent(WorkNode n, int level) {
        int i = level << 1;
        NodeWaits h = heads[i].waits;
        NodeWaits w = n.waits;
        WorkNode last = h.lentPrev;
        w.lentPrev = last;
        w.lentNext = heads[i];
        last.waits.lentNext = n;
        h.lentPrev = n;
        w.lentList = (byte) level;
        bits |= 1 << i;
    }

    private void unlinkLent(WorkNode n) {
        NodeWaits w = n.waits;
        int i = w.lentList << 1;
        WorkNode nx = w.lentNext;
        WorkNode pv = w.lentPrev;
        pv.waits.lentNext = nx;
        nx.waits.lentPrev = pv;
        w.lentNext = null;
        w.lentPrev = null;
        w.lentList = -1;
        if (pv == nx) {
            bits &= ~(1 << i);
        }
    }
}
