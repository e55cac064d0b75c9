package dev.cmwq4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A model, not an executor to use: the least that a queue -> execute of a work with cmwq4j's
 * per-work semantics has to do, on one worker thread. {@link PerWorkCost} runs it beside cmwq4j
 * and {@code ForkJoinPool} to show how much of cmwq4j's cost per work the semantics themselves
 * explain.
 *
 * <p>Per work, and nothing else:
 * <ul>
 *   <li>the queuer sets the work's pending bit with a CAS (a work already pending is not queued
 *       twice: {@code queue} returns false), counts the instance (a plain store: the pending
 *       bit's owner writes it), and offers the node to a bounded ring that many threads may
 *       offer to and take from (a CAS on the tail, then a release store of the slot's
 *       sequence number);
 *   <li>the worker takes it off the ring (a CAS on the head), moves it from pending to running
 *       with a CAS (so an instance never runs beside another instance of the same work), runs
 *       it, clears running with a CAS, and counts the instance resolved with an atomic add (what
 *       a flush of the work waits for).
 * </ul>
 * No workqueue, flush colours, {@code maxActive}, priorities, statistics, monitor, stealing or
 * cancellation: whatever cmwq4j costs beyond this model is the price of those and of how they
 * are built, not of a work's semantics.
 */
final class FloorExecutor implements AutoCloseable {
    static final int PENDING = 1;
    static final int RUNNING = 2;

    /** A work: its state word, its instance counters and what it runs. */
    static final class Node {
        volatile int state;
        /** Instances queued; written by the owner of the pending bit. */
        int queued;
        volatile int resolved;
        final Runnable action;

        Node(Runnable action) {
            this.action = action;
        }
    }

    private static final VarHandle STATE;
    private static final VarHandle RESOLVED;
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Node.class, "state", int.class);
            RESOLVED = l.findVarHandle(Node.class, "resolved", int.class);
            HEAD = l.findVarHandle(FloorExecutor.class, "head", long.class);
            TAIL = l.findVarHandle(FloorExecutor.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The ring: slot {@code i} may take the element of position {@code p} (with {@code p & mask
     * == i}) when its sequence number is {@code p}, and holds it when that number is {@code p +
     * 1}; the taker sets it to {@code p + capacity}, freeing it for the next lap.
     */
    private final int mask;
    private final long[] seq;
    private final Object[] slots;
    /** Next position to take; CAS by takers. Padded off {@link #tail}: the two sides' lines. */
    private volatile long head;
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7;
    /** Next position to offer; CAS by offerers. */
    private volatile long tail;
    @SuppressWarnings("unused")
    private long q1, q2, q3, q4, q5, q6, q7;

    private final Thread worker;
    /** The worker is about to park or parked: an offer unparks it. Dekker pair with the ring. */
    private volatile boolean parked;
    private volatile boolean closed;

    FloorExecutor(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        mask = capacity - 1;
        seq = new long[capacity];
        slots = new Object[capacity];
        for (int i = 0; i < capacity; i++) {
            seq[i] = i;
        }
        worker = new Thread(this::workLoop, "floor-worker");
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Queues {@code n} unless it is pending; spins while the ring is full.
     *
     * @return false if it was already pending
     */
    boolean queue(Node n) {
        for (;;) {
            int s = n.state;
            if ((s & PENDING) != 0) {
                return false;
            }
            if (STATE.compareAndSet(n, s, s | PENDING)) {
                break;
            }
        }
        n.queued++;
        while (!offer(n)) {
            Thread.onSpinWait();
        }
        if (parked) {
            parked = false;
            LockSupport.unpark(worker);
        }
        return true;
    }

    private boolean offer(Object o) {
        for (;;) {
            long t = tail;
            int i = (int) t & mask;
            long s = (long) SEQ.getAcquire(seq, i);
            if (s == t) {
                if (TAIL.compareAndSet(this, t, t + 1)) {
                    slots[i] = o;
                    SEQ.setRelease(seq, i, t + 1);
                    return true;
                }
            } else if (s < t) {
                return false; // full: the slot still holds the element of the previous lap
            }
        }
    }

    private Object poll() {
        for (;;) {
            long h = head;
            int i = (int) h & mask;
            long s = (long) SEQ.getAcquire(seq, i);
            if (s == h + 1) {
                if (HEAD.compareAndSet(this, h, h + 1)) {
                    Object o = slots[i];
                    slots[i] = null;
                    SEQ.setRelease(seq, i, h + mask + 1);
                    return o;
                }
            } else if (s < h + 1) {
                return null; // empty
            }
        }
    }

    private boolean isEmpty() {
        return head == tail;
    }

    private void workLoop() {
        int misses = 0;
        while (!closed) {
            Node n = (Node) poll();
            if (n == null) {
                if (++misses < 1_000) {
                    Thread.onSpinWait();
                } else {
                    misses = 0;
                    parked = true;
                    if (isEmpty() && !closed) {
                        LockSupport.parkNanos(this, 1_000_000L);
                    }
                    parked = false;
                }
                continue;
            }
            misses = 0;
            for (;;) {
                int s = n.state;
                if (STATE.compareAndSet(n, s, (s & ~PENDING) | RUNNING)) {
                    break;
                }
            }
            try {
                n.action.run();
            } catch (Throwable t) {
                // a model: a failing work ends like any other
            }
            for (;;) {
                int s = n.state;
                if (STATE.compareAndSet(n, s, s & ~RUNNING)) {
                    break;
                }
            }
            RESOLVED.getAndAdd(n, 1);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(worker);
    }
}
