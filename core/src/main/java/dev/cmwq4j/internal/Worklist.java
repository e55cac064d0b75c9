package dev.cmwq4j.internal;

/**
 * An intrusive FIFO list of {@link WorkNode}s, linked through the nodes' own {@code next}/{@code
 * prev} fields, so adding, removing and polling allocate nothing and cost O(1).
 *
 * <p>Not thread-safe: every list is guarded by the lock of the {@link WorkerPool} that owns it (a
 * pool's worklist, or the inactive list of a {@link PoolWorkqueue} of that pool). A node is on at
 * most one list at a time.
 */
public final class Worklist {
    private final WorkNode head = new WorkNode(); // sentinel; head.next is the oldest node
    private int size;

    public Worklist() {
        head.next = head;
        head.prev = head;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /** Appends at the tail. */
    public void add(WorkNode n) {
        WorkNode last = head.prev;
        n.prev = last;
        n.next = head;
        last.next = n;
        head.prev = n;
        size++;
    }

    /** Inserts at the head. */
    private void addFirst(WorkNode n) {
        WorkNode first = head.next;
        n.prev = head;
        n.next = first;
        first.prev = n;
        head.next = n;
        size++;
    }

    /**
     * Moves every node of {@code from} that counts against {@code pwq} to the front of this list,
     * in their order, and marks them {@code where}. O(size of {@code from}).
     *
     * @return how many were moved
     */
    int moveToFrontFrom(Worklist from, PoolWorkqueue pwq, byte where) {
        int moved = 0;
        WorkNode n = from.head.prev;
        while (n != from.head) {
            WorkNode before = n.prev;
            if (n.pwq == pwq) {
                from.remove(n);
                addFirst(n);
                n.where = where;
                moved++;
            }
            n = before;
        }
        return moved;
    }

    /** The oldest node, or null. */
    public WorkNode peek() {
        return size == 0 ? null : head.next;
    }

    /** The oldest node that counts against {@code pwq}, or null; O(size) (rescuers only). */
    public WorkNode firstOf(PoolWorkqueue pwq) {
        for (WorkNode n = head.next; n != head; n = n.next) {
            if (n.pwq == pwq) {
                return n;
            }
        }
        return null;
    }

    /** The node after {@code n} (oldest first), or null at the tail; for walks under the lock. */
    public WorkNode after(WorkNode n) {
        WorkNode next = n.next;
        return next == head ? null : next;
    }

    /** Removes and returns the oldest node, or null. */
    public WorkNode poll() {
        if (size == 0) {
            return null;
        }
        WorkNode n = head.next;
        remove(n);
        return n;
    }

    /** Unlinks {@code n}, which must be on this list. */
    public void remove(WorkNode n) {
        n.prev.next = n.next;
        n.next.prev = n.prev;
        n.next = null;
        n.prev = null;
        size--;
    }
}
