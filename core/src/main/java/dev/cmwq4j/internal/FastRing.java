package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The fast lane's inbound ring of one managed pool (ARCHITECTURE 6, <i>The fast lane</i>): a
 * bounded queue that many queuers offer to and that the pool's workers take from without the pool
 * lock, in FIFO order.
 *
 * <h2>Design</h2>
 * A ring of {@link #CAPACITY} slots, each with a sequence number (the classic bounded MPMC
 * scheme: a slot is free for the offer at position {@code p} when its sequence is {@code p}, and
 * holds that offer's node when it is {@code p + 1}). An offer CASes {@link #tail} from {@code p}
 * to {@code p + 1}, writes the node and release-stores the sequence; a take CASes {@link #head}
 * the same way, reads the node and frees the slot for position {@code p + CAPACITY}.
 *
 * <p>The head word also carries {@link #CLOSED}. A lock-free taker ({@link #take}) needs it clear:
 * its take is a CAS on the head word, so a close (a CAS setting the bit) is ordered against every
 * take with no fence on the take path. The pool closes the ring whenever a thread holds its lock
 * (so that the holder sees every unstarted work, and no work starts without being counted behind
 * its back), and whenever something older than the ring's nodes waits elsewhere (the inbound
 * stack, the worklist); only a worker holding the pool lock reopens it
 * ({@link WorkerPool#reopenFast}). Queuers offer to it open or closed: a lock holder absorbs what
 * it holds ({@link #pollBefore}), as it admits the inbound stack.
 *
 * <p>A queue's latency in the lane counts from the pool's first clock read after its offer:
 * the ring keeps a clock count ({@link #epoch}) that queues stamp into their nodes and workers
 * advance at their clock reads ({@link #tick}, {@link #admittedAt}).
 *
 * <p>Every field is shared: {@link #head} is written by CAS by takers and closers, {@link #tail}
 * by CAS by offerers, a slot by the one offerer or taker that owns its position between the CAS
 * and the sequence store, {@link #epoch} by CAS and {@link #tickTimes} plainly by the pool's
 * workers at their clock reads. Padding keeps head, tail and epoch on lines of their own. An
 * offer reads no line a taker writes per node but the slots' (which it must): not the head.
 */
final class FastRing {
    /** {@link #offer}'s results. */
    static final int FULL = 0;
    static final int OFFERED = 1;
    static final int OFFERED_FIRST = 2;

    /** Slots; a power of two. A full ring sends the queuer to the inbound stack. */
    static final int CAPACITY = 1024;
    private static final int MASK = CAPACITY - 1;
    /** Bit of {@link #head}: closed to lock-free takers (lock holders still poll). */
    static final long CLOSED = 1L << 62;

    /**
     * A slot: its sequence number, and the node of the offer that holds it. Objects with fields,
     * not atomic arrays, for the same reason as the engine's field updaters (ARCHITECTURE 4): an
     * atomic array's access is a VarHandle call, which a fresh JVM runs through its linkers in
     * the interpreter and compiles with its guard chain at tier 3 (a cold flood of queues paid
     * about a microsecond more per offer).
     */
    private static final class Slot {
        /** {@code p}: free for the offer at position p; {@code p + 1}: holds that offer's node. */
        volatile long seq;
        /** The node, written before the release store of {@link #seq} that publishes it, and read after its volatile read. */
        WorkNode node;

        Slot(long seq) {
            this.seq = seq;
        }
    }

    private static final AtomicLongFieldUpdater<Slot> SEQ = AtomicLongFieldUpdater.newUpdater(Slot.class, "seq");

    /*
     * STORE_AFTER_AN_ERROR. The release store of a slot's sequence that ends an offer (or frees a
     * slot after a take) must happen once the position is claimed. Through the updater it is a
     * call in the interpreter and at tier 3, and a queuer at the end of its stack gets a
     * StackOverflowError at the entry of a call: the position stayed claimed and never published,
     * and every drain, which waits for an offer between its CAS and its store, waited under the
     * pool lock for good (a run of FaultsTest.aStackOverflowWhileQueueingLosesNothing in the lane
     * execution hung there, beside two busy loops). Such an Error comes before the store, so the
     * handler, in the same frame as the CAS, makes it as a volatile store, which is no call, and
     * rethrows. A volatile store every time would cost its fence per queue: a chain's hop on one
     * CPU (PerWorkCost lane chains) took 82-113 ns against 70.
     */

    private final Slot[] slots = new Slot[CAPACITY];

    @SuppressWarnings("unused") private long p0, p1, p2, p3, p4, p5, p6;
    /** Position of the next take, with {@link #CLOSED}; CAS by takers, closers and reopeners. */
    private volatile long head = CLOSED;
    @SuppressWarnings("unused") private long q0, q1, q2, q3, q4, q5, q6;
    /** Position of the next offer; CAS by offerers. */
    private volatile long tail;
    @SuppressWarnings("unused") private long r0, r1, r2, r3, r4, r5, r6;
    /**
     * The lane's clock count: how many times the pool's workers recorded a clock read
     * ({@link #tick}); CAS by those workers, read by every offer ({@link #epoch}). On a line of
     * its own: the head's is written at every take and poll, and an offer that read it missed
     * the cache on every node of a flood.
     */
    private volatile long epoch;
    @SuppressWarnings("unused") private long s0, s1, s2, s3, s4, s5, s6;

    /**
     * The time of each tick, by its count modulo {@link #CAPACITY}: entry {@code e & MASK} holds
     * the clock of the tick that made {@link #epoch} {@code e}. Written by the ticking worker
     * before its CAS publishes the count; read by takers after they read the count.
     */
    private final long[] tickTimes = new long[CAPACITY];

    private static final AtomicLongFieldUpdater<FastRing> HEAD = AtomicLongFieldUpdater.newUpdater(FastRing.class, "head");
    private static final AtomicLongFieldUpdater<FastRing> EPOCH = AtomicLongFieldUpdater.newUpdater(FastRing.class, "epoch");
    private static final AtomicLongFieldUpdater<FastRing> TAIL = AtomicLongFieldUpdater.newUpdater(FastRing.class, "tail");

    FastRing() {
        for (int i = 0; i < CAPACITY; i++) {
            slots[i] = new Slot(i);
        }
    }

    /**
     * Offers {@code n}, whose fields the caller has written: from the CAS on, the pool owns it.
     *
     * @return {@link #FULL} (the caller pushes onto the inbound stack instead), {@link #OFFERED},
     *     or {@link #OFFERED_FIRST} if nothing was left to take before it (the edge on which the
     *     pool may have turned busy)
     */
    int offer(WorkNode n) {
        for (;;) {
            long t = tail;
            Slot slot = slots[(int) t & MASK];
            long d = slot.seq - t;
            if (d == 0) {
                if (TAIL.compareAndSet(this, t, t + 1)) {
                    slot.node = n;
                    try {
                        SEQ.lazySet(slot, t + 1); // publishes the node to the taker of position t
                    } catch (Throwable e) {
                        slot.seq = t + 1; // (STORE_AFTER_AN_ERROR)
                        throw e;
                    }
                    // empty before it if the previous position was taken: read from the
                    // previous slot's sequence, most often on the line just read, not from the
                    // head, which takers and a drain's polls write per node. A taker between its
                    // head CAS and its sequence store makes this OFFERED where the head would
                    // say empty: then only the monitor's nudge is skipped (a backlog behind a
                    // running worker is seen a nap later); the kick is decided apart
                    return t == 0 || slots[(int) (t - 1) & MASK].seq == t - 1 + CAPACITY ? OFFERED_FIRST : OFFERED;
                }
            } else if (d < 0) {
                return FULL; // the slot still holds the node of position t - CAPACITY: full
            }
            // else another offer took position t: look again
        }
    }

    /**
     * A lock-free take by one of the pool's workers: the oldest node, or null if the ring is
     * closed, empty, or its oldest offer is still being written (a lock holder waits for that one:
     * {@link #poll}). A non-null result belongs to the caller, its position in
     * {@code w.fastTakePos} (the order a hand-back is admitted in).
     */
    WorkNode take(Worker w) {
        for (;;) {
            long h = head;
            if ((h & CLOSED) != 0) {
                return null;
            }
            WorkNode n = takeAt(h);
            if (n != RETRY) {
                w.fastTakePos = h;
                return n;
            }
        }
    }

    /** The position after the last offer so far (taken or not). */
    long tailPosition() {
        return tail;
    }

    /**
     * A lock holder's take of the oldest node if it was offered before position {@code end}
     * ({@link #tailPosition} read earlier); null once the ring holds none of those. Waits for an
     * offer that took its position and has not yet written it (a few instructions, unless its
     * thread lost the CPU: then it yields).
     *
     * <p>No CAS: the ring is closed and no taker is in flight (the holder saw to both:
     * {@link WorkerPool#closeForHolder}), and only a holder of the pool lock moves a closed head,
     * so the head is this caller's until it unlocks. A taker that read the head before the close
     * fails its CAS on the value that changed since. So a drain of a flood admits a ring's worth
     * of nodes with plain stores, where a CAS each cost as much as the stack's whole swap.
     */
    WorkNode pollBefore(long end) {
        long h = head;
        long p = h & ~CLOSED;
        if (p >= end) {
            return null;
        }
        Slot slot = slots[(int) p & MASK];
        for (int spins = 0; slot.seq != p + 1; spins++) {
            pause(spins); // position p was offered (p < end <= tail) and is being written
        }
        WorkNode n = empty(slot, p);
        HEAD.lazySet(this, h + 1); // keeps CLOSED
        return n;
    }

    // ------------------------------------------------------------------------------------------
    // Queue latency in the lane (ARCHITECTURE 6, "The fast lane", Statistics).

    /**
     * The stamp a queue writes into a node it offers ({@code queuedAt}, before the offer's CAS
     * publishes it): the clock count now. A clock read per queue would cost as much as the rest
     * of the queue.
     */
    long epoch() {
        return epoch;
    }

    /**
     * A worker of the pool read the clock ({@code now}) at the end of a run: the first such read
     * after an offer is that node's admission time, as the locked path's first lock hold after a
     * push admits it and stamps its list clock. One CAS, on the count's own line, which offers
     * read (a look at the tail first, to tick only after new offers, cost a line that the
     * producers write). A tick lost to another worker's concurrent one is not needed: that one is
     * as recent. (The loser's write may land after the winner's: then the entry holds the loser's
     * clock, read a little earlier, or, if the loser was preempted in between, earlier by that
     * preemption. And a node offered between the clock read, at the run's end, and this read of
     * the count is stamped with the count it raises: its latency counts from a moment before its
     * offer, about a microsecond too much, or a preemption's worth.)
     */
    void tick(long now) {
        long e = epoch;
        tickTimes[(int) (e + 1) & MASK] = now;
        EPOCH.compareAndSet(this, e, e + 1);
    }

    /**
     * When the node stamped {@code stamp} ({@link #epoch} at its offer) was admitted: the time of
     * the first tick after its offer, or {@link RunAccounting#AT_START} if there was none (it was offered
     * since this pool's last clock read at a run's end: its latency is taken as 0, as a work
     * admitted by the lock hold that starts it). A taker's call, before it starts the node.
     */
    long admittedAt(long stamp) {
        long e = epoch;
        if (e == stamp) {
            return RunAccounting.AT_START;
        }
        // more ticks since its offer than the table holds (it waited behind more than a
        // thousand runs of 1 us or more, or eight thousand shorter ones): the oldest kept, short
        // of the entry a concurrent tick may be rewriting; a later time, so the latency is
        // under-counted (it waited that long at least)
        long first = e - stamp >= CAPACITY - 1 ? e - (CAPACITY - 2) : stamp + 1;
        return tickTimes[(int) first & MASK];
    }

    /** Sentinel of {@link #takeAt}: the head moved, look again. */
    private static final WorkNode RETRY = new WorkNode();

    /** One attempt to take the node at head word {@code h}: the node, null if none is ready, or {@link #RETRY}. */
    private WorkNode takeAt(long h) {
        long p = h & ~CLOSED;
        Slot slot = slots[(int) p & MASK];
        long d = slot.seq - (p + 1);
        if (d == 0) {
            if (HEAD.compareAndSet(this, h, h + 1)) { // keeps the CLOSED bit as it was
                return empty(slot, p);
            }
            return RETRY;
        }
        if (d < 0) {
            return null; // empty, or the offer of position p has not written its node yet
        }
        return RETRY; // a take moved the head past p meanwhile
    }

    /**
     * Takes the node out of {@code slot}, which holds position {@code p} and now belongs to the
     * caller (a taker's CAS on the head, or a lock holder's closed head), and frees the slot for
     * the offer one lap later.
     */
    private static WorkNode empty(Slot slot, long p) {
        WorkNode n = slot.node;
        slot.node = null;
        try {
            SEQ.lazySet(slot, p + CAPACITY);
        } catch (Throwable e) {
            slot.seq = p + CAPACITY; // (STORE_AFTER_AN_ERROR)
            throw e;
        }
        return n;
    }

    /**
     * One round of a lock holder's wait for a thread that is a few instructions from done (an
     * offer between its CAS and its store, a taker between its take and its start): a spin, or
     * a yield once it has lasted long enough that the thread must have lost its CPU.
     */
    static void pause(int round) {
        if (round < 256) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** Closes the ring to lock-free takers (no effect if closed). A CAS: ordered against every take. */
    void close() {
        for (;;) {
            long h = head;
            if ((h & CLOSED) != 0 || HEAD.compareAndSet(this, h, h | CLOSED)) {
                return;
            }
        }
    }

    /** Opens the ring to lock-free takers; pool lock (a worker of the pool: {@link WorkerPool#reopenFast}). */
    void open() {
        for (;;) {
            long h = head;
            if ((h & CLOSED) == 0 || HEAD.compareAndSet(this, h, h & ~CLOSED)) {
                return;
            }
        }
    }

    boolean isOpen() {
        return (head & CLOSED) == 0;
    }

    /** Nodes offered and not yet taken (racy: a hint, at least 0). */
    int size() {
        long h = head & ~CLOSED;
        long n = tail - h;
        return n <= 0 ? 0 : (int) Math.min(n, CAPACITY);
    }

    /**
     * The position after {@code p} (a taker's last take) holds a published offer: a look at the
     * next slot, on the line of {@code p}'s slot most often, instead of at {@link #tail}, whose
     * line the producers take at every offer (a miss per work for a worker that read it;
     * ARCHITECTURE 10, <i>The external form's lines</i>). An offer that took the position and
     * has not yet published its node reads as none.
     */
    boolean holdsAfter(long p) {
        long q = p + 1;
        return slots[(int) q & MASK].seq == q + 1;
    }

    /** Nothing offered and not yet taken (an offer still being written counts as something). */
    boolean isEmpty() {
        return (head & ~CLOSED) == tail;
    }
}
