package dev.cmwq4j.internal;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A binary min-heap of {@link TimerEntry}s: delayed works, pool manager passes (thread
 * creation after the stall window, back-off after failed creation) and the JMX publisher's poll
 * while registrations wait for an MBean server ({@code Engine.PublisherPoll}), fired by the engine's one
 * service thread, the {@link Monitor}'s, between its looks at the pools ({@link #fireDue}). Arming,
 * re-arming and disarming are O(log n) and allocate nothing (the heap array only grows). There is
 * no thread per delayed item, and no thread of the timer's own.
 *
 * <p>The service thread parks until the earliest deadline with {@link LockSupport#parkNanos}, so
 * sub-millisecond deadlines (the 200 us stall window) work. Arming an entry that becomes the new
 * earliest unparks it if it naps past that deadline ({@link #beginNap}); an unpark before the park
 * is kept as a permit, so no wake-up is lost.
 */
final class Timer {
    private final ReentrantLock lock = new ReentrantLock();
    /** The heap; guarded by {@link #lock}. */
    private TimerEntry[] heap = new TimerEntry[64];
    /** Number of armed entries; guarded by {@link #lock}. */
    private int size;
    /**
     * The thread that fires the entries (the monitor's), unparked when the earliest deadline
     * moves; written once by {@link #firedBy} before that thread starts and the engine is shared.
     */
    private volatile Thread firer;

    /**
     * The service thread is parked, or about to park, until {@link #napEnd} (or an unpark); false
     * while it is awake, when it reads the heap before it parks again ({@link #beginNap}). Written
     * by that thread only.
     */
    private volatile boolean napping;
    /** When the current nap ends by itself; valid while {@link #napping}. Written by that thread only. */
    private volatile long napEnd;
    /**
     * Longest nap {@link #beginNap} plans for: an untimed park counts as this long, twice the
     * longest delay a work can have ({@code Workqueue.MAX_DELAY_NANOS}), so that every deadline
     * falls within it and an entry armed during an untimed park always unparks the thread.
     */
    static final long MAX_NAP_NANOS = Long.MAX_VALUE >> 1;

    /** Most entries fired in one {@link #fireDue} call, so the monitor's looks go on in a flood. */
    static final int MAX_FIRED_PER_CALL = 64;

    Timer() {}

    /** Names the thread that calls {@link #fireDue}; before it starts. */
    void firedBy(Thread t) {
        this.firer = t;
    }

    /** Arms {@code e} at {@code deadline}, or moves it there if it is armed already. */
    void schedule(TimerEntry e, long deadline) {
        arm(e, deadline, ALWAYS);
    }

    /** Arms {@code e} at {@code deadline}, or moves it earlier if it is armed later than that. */
    void scheduleNoLaterThan(TimerEntry e, long deadline) {
        arm(e, deadline, NO_LATER);
    }

    /**
     * {@link #scheduleNoLaterThan}, but a deadline that falls shortly before the end of the
     * service thread's current nap (within {@code slack}) is moved to that end: the entry then
     * fires in the wake-up the thread has planned anyway, instead of one of its own. For
     * deadlines that may be late by that much (a stall that is a lower bound, not a promise).
     */
    void scheduleNoLaterThan(TimerEntry e, long deadline, long slack) {
        long end = napEnd;
        if (napping && end - deadline >= 0 && end - deadline <= slack) {
            deadline = end;
        }
        arm(e, deadline, NO_LATER);
    }

    /**
     * Moves {@code e} to {@code deadline} only if it is armed here and was armed for {@code owner}
     * and {@code key} ({@link TimerEntry#armedFor}), asked in the same critical section as the
     * move. Asked before the lock, the answer could be stale by the move: the entry may fire in
     * between and be armed again for another owner, whose arming the move would then take.
     *
     * @return whether it was armed for them and moved
     */
    boolean rescheduleIfFor(TimerEntry e, long deadline, Object owner, int key) {
        return arm(e, deadline, IF_ARMED_FOR, owner, key);
    }

    private static final int ALWAYS = 0;
    private static final int NO_LATER = 1;
    private static final int IF_ARMED_FOR = 2;

    /** Frames an arming needs to spare (see {@link #arm}): far fewer than Helping's reserve. */
    private static final int ARM_RESERVE_FRAMES = 96;

    /** {@link #arm(TimerEntry, long, int, Object, int)} for the modes that ask no owner. */
    private boolean arm(TimerEntry e, long deadline, int mode) {
        return arm(e, deadline, mode, null, 0);
    }

    /**
     * The one arming path, in a single critical section: inserts or moves {@code e} as
     * {@code mode} allows, and unparks the service thread if {@code e} became the earliest.
     *
     * @return false only for IF_ARMED_FOR on an entry that was not armed for {@code owner} and
     *     {@code key} (the other modes ignore them)
     */
    private boolean arm(TimerEntry e, long deadline, int mode, Object owner, int key) {
        boolean earliest;
        if (Thread.currentThread() != firer && !Helping.stackLeft(ARM_RESERVE_FRAMES)) {
            // Before anything changes. Near the end of a stack the JVM finishes the lock's
            // acquisition (or release) on its reserved stack and throws right after it, so a
            // throw here could leave the one timer lock of the engine held for good, or a sift
            // half done. A small margin (the lock and the sift), checked on every arming path
            // but the service thread's (which fires the timer and runs the manager passes from
            // its own shallow loop): the paths that reach here from a kick (a queue's admission,
            // a thaw's activation, a helped run's end) checked a much larger one first
            // (Helping.stackLeft), which must leave this one always passing; a check as large
            // as theirs failed in a band of depths where theirs had passed, mid-operation.
            throw new StackOverflowError("cmwq4j: too little stack left to arm a timer safely");
        }
        Locks.acquire(lock);
        try {
            boolean armed = e.heapIndex >= 0;
            if (armed && !isHere(e)) {
                return false; // armed on another engine's timer (a work shared across engines)
            }
            if (mode == IF_ARMED_FOR && !(armed && e.armedFor(owner, key))) {
                return false;
            }
            if (mode == NO_LATER && armed && e.deadline - deadline <= 0) {
                return true;
            }
            e.deadline = deadline;
            if (armed) {
                siftUp(e.heapIndex);
                siftDown(e.heapIndex);
            } else {
                if (size == heap.length) {
                    heap = java.util.Arrays.copyOf(heap, size * 2);
                }
                e.heapIndex = size;
                heap[size++] = e;
                siftUp(e.heapIndex);
                e.armedChanged(true);
            }
            earliest = heap[0] == e;
        } finally {
            lock.unlock();
        }
        if (earliest && napsPast(deadline)) {
            Thread t = firer;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
        return true;
    }

    /**
     * The service thread naps past {@code deadline}: only then does a new earliest entry need to
     * wake it. Awake, it reads the heap before it parks again; napping until before the deadline,
     * it plans its next nap from the heap when it wakes. (An unpark for each manager request
     * whose deadline lay after the next look was a context switch of the service thread each:
     * about a third of a switch per work in {@code mixed-announced}.) Read after the entry is in
     * the heap: the other half of {@link #beginNap}'s publish-then-read.
     */
    private boolean napsPast(long deadline) {
        return napping && napEnd - deadline > 0;
    }

    /**
     * The service thread is about to park for {@code wait} ns ({@code Long.MAX_VALUE}: until
     * unparked): publishes the nap, then reads the earliest deadline, and returns the wait cut
     * to it if an entry armed meanwhile is due sooner (0: do not park). {@link #endNap} after the
     * park.
     */
    long beginNap(long now, long wait) {
        long planned = Math.min(wait, MAX_NAP_NANOS);
        napEnd = now + planned;
        napping = true;
        Locks.acquire(lock);
        try {
            if (size > 0) {
                long left = heap[0].deadline - now;
                if (left < planned) {
                    return Math.max(0, left);
                }
            }
        } finally {
            lock.unlock();
        }
        return wait;
    }

    /** The service thread woke: it reads the heap before its next nap. */
    void endNap() {
        napping = false;
    }

    /** Disarms {@code e}. @return true if it was armed (so it will not fire) */
    boolean cancel(TimerEntry e) {
        Locks.acquire(lock);
        try {
            int i = e.heapIndex;
            if (i < 0 || !isHere(e)) {
                return false;
            }
            removeAt(i);
            e.armedChanged(false);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds to {@code out} what {@code pick} makes of each armed entry, skipping nulls; in heap
     * order, not deadline order. {@code pick} runs under the lock: it must be quick and take no
     * lock. O(n) in all armed entries of the engine, so only for rare bulk operations (an executor
     * view's shutdown, a workqueue's close), never on a hot path. What was collected may fire or
     * be cancelled as soon as the lock is dropped: the caller acts through the entries' own
     * protocol (a grab), not on the snapshot.
     */
    <T> void collect(java.util.function.Function<TimerEntry, T> pick, java.util.List<T> out) {
        Locks.acquire(lock);
        try {
            for (int i = 0; i < size; i++) {
                T t = pick.apply(heap[i]);
                if (t != null) {
                    out.add(t);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fires the entries that are due, each outside the lock (a failing one is logged), at most
     * {@link #MAX_FIRED_PER_CALL}. Service thread only.
     *
     * @return nanoseconds until the earliest armed deadline, 0 if more are due now, or -1 if
     *     nothing is armed
     */
    long fireDue() {
        for (int fired = 0; fired < MAX_FIRED_PER_CALL; fired++) {
            TimerEntry due;
            Locks.acquire(lock);
            try {
                if (size == 0) {
                    return -1;
                }
                TimerEntry first = heap[0];
                long left = first.deadline - System.nanoTime();
                if (left > 0) {
                    return left;
                }
                removeAt(0);
                first.armedChanged(false);
                due = first;
            } finally {
                lock.unlock();
            }
            try {
                due.fire();
            } catch (Throwable t) {
                Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j timer entry failed: " + due, t);
            }
        }
        return 0;
    }

    // ---- heap helpers; all under lock ----

    /** {@code e}, known to be armed, is in this timer's heap (not another engine's). */
    private boolean isHere(TimerEntry e) {
        int i = e.heapIndex;
        return i < size && heap[i] == e;
    }

    private void removeAt(int i) {
        TimerEntry e = heap[i];
        int last = --size;
        TimerEntry moved = heap[last];
        heap[last] = null;
        e.heapIndex = -1;
        if (i != last) {
            heap[i] = moved;
            moved.heapIndex = i;
            siftUp(i);
            siftDown(moved.heapIndex);
        }
    }

    private void siftUp(int i) {
        TimerEntry e = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            TimerEntry p = heap[parent];
            if (p.deadline - e.deadline <= 0) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = e;
        e.heapIndex = i;
    }

    private void siftDown(int i) {
        TimerEntry e = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            TimerEntry c = heap[child];
            int right = child + 1;
            if (right < size && heap[right].deadline - c.deadline < 0) {
                child = right;
                c = heap[child];
            }
            if (e.deadline - c.deadline <= 0) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = e;
        e.heapIndex = i;
    }
}
