package dev.cmwq4j.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One daemon thread and a binary min-heap of {@link TimerEntry}s: delayed works and pool manager
 * passes (thread creation after the stall window, back-off after failed creation). Arming,
 * re-arming and disarming are O(log n) and allocate nothing (the heap array only grows). There is
 * no thread per delayed item.
 *
 * <p>The thread parks until the earliest deadline with {@link LockSupport#parkNanos}, so
 * sub-millisecond deadlines (the 200 us stall window) work. Arming an entry that becomes the new
 * earliest unparks it; an unpark before the park is kept as a permit, so no wake-up is lost.
 */
public final class Timer implements Runnable {
    private final ReentrantLock lock = new ReentrantLock();
    /** The heap; guarded by {@link #lock}. */
    private TimerEntry[] heap = new TimerEntry[64];
    /** Number of armed entries; guarded by {@link #lock}. */
    private int size;
    /** Written once by {@link #shutdown}; read by the timer thread. */
    private volatile boolean stopped;
    private final Thread thread;

    public Timer(ThreadFactory factory) {
        this.thread = factory.newThread(this);
        thread.setDaemon(true);
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    /** Arms {@code e} at {@code deadline}, or moves it there if it is armed already. */
    public void schedule(TimerEntry e, long deadline) {
        arm(e, deadline, ALWAYS);
    }

    /** Arms {@code e} at {@code deadline}, or moves it earlier if it is armed later than that. */
    public void scheduleNoLaterThan(TimerEntry e, long deadline) {
        arm(e, deadline, NO_LATER);
    }

    /** Moves {@code e} to {@code deadline} only if it is armed. @return whether it was armed */
    public boolean reschedule(TimerEntry e, long deadline) {
        return arm(e, deadline, IF_ARMED);
    }

    private static final int ALWAYS = 0;
    private static final int NO_LATER = 1;
    private static final int IF_ARMED = 2;

    /**
     * The one arming path, in a single critical section: inserts or moves {@code e} as
     * {@code mode} allows, and unparks the timer thread if {@code e} became the earliest.
     *
     * @return false only for IF_ARMED on an entry that was not armed
     */
    private boolean arm(TimerEntry e, long deadline, int mode) {
        boolean earliest;
        Locks.acquire(lock);
        try {
            boolean armed = e.heapIndex >= 0;
            if (armed && !isHere(e)) {
                return false; // armed on another engine's timer (a work shared across engines)
            }
            if (mode == IF_ARMED && !armed) {
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
        if (earliest) {
            LockSupport.unpark(thread);
        }
        return true;
    }

    /** Disarms {@code e}. @return true if it was armed (so it will not fire) */
    public boolean cancel(TimerEntry e) {
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

    public int armedCount() {
        Locks.acquire(lock);
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    public void shutdown() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (!stopped) {
            TimerEntry due = null;
            long waitNanos = -1;
            Locks.acquire(lock);
            try {
                if (size > 0) {
                    long now = System.nanoTime();
                    TimerEntry first = heap[0];
                    long left = first.deadline - now;
                    if (left <= 0) {
                        removeAt(0);
                        first.armedChanged(false);
                        due = first;
                    } else {
                        waitNanos = left;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (due != null) {
                try {
                    due.fire();
                } catch (Throwable t) {
                    Engine.LOG.log(System.Logger.Level.ERROR, "cmwq4j timer entry failed: " + due, t);
                }
            } else if (waitNanos < 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, waitNanos);
            }
        }
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
