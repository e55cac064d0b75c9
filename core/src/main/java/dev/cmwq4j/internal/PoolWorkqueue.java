package dev.cmwq4j.internal;

/**
 * The link between one workqueue and one {@link WorkerPool}.
 *
 * <p>It counts the works that are active (in the pool's worklist or running) against
 * {@code maxActive}, parks the rest on its inactive list in queueing order, and counts works in
 * flight per flush color so that {@code Workqueue.flush()} can wait for exactly the works queued
 * before it.
 *
 * <p>Every field is guarded by the lock of {@link #pool}.
 */
public final class PoolWorkqueue {
    /** Number of flush colors. A flush may have to wait for the oldest color to drain. */
    static final int COLORS = 16;

    public final WorkqueueCore wq;
    public final WorkerPool pool;

    /** Works in the pool's worklist or running; pool lock. */
    int nrActive;
    /** Limit on {@link #nrActive}; pool lock. */
    int maxActive;
    /** Works beyond maxActive, in queueing order; pool lock. */
    private final Worklist inactive = new Worklist();
    /** Works in flight (queued, active or inactive, or running) per color; pool lock. */
    private final int[] nrInFlight = new int[COLORS];
    /** Color given to newly queued works; pool lock (changed by a flush). */
    int workColor;
    /**
     * The pool called this workqueue's {@link Rescuer} for this pwq and it has not answered yet:
     * set by the mayday pass, cleared by the rescuer, both under the pool lock; volatile for the
     * rescuer's lock-free look.
     */
    volatile boolean maydayRequested;
    /** Number of the last mayday pass of {@link #pool} that called the rescuer for us; pool lock. */
    long lastMaydayPass;

    PoolWorkqueue(WorkqueueCore wq, WorkerPool pool, int maxActive) {
        this.wq = wq;
        this.pool = pool;
        this.maxActive = maxActive;
    }

    /** Queues a claimed node: active if maxActive allows, inactive otherwise. Pool lock. */
    void insert(WorkNode n) {
        n.pwq = this;
        n.color = workColor;
        nrInFlight[workColor]++;
        if (nrActive < maxActive) {
            nrActive++;
            pool.worklistAdd(n);
            pool.kick();
        } else {
            n.where = WorkNode.INACTIVE;
            inactive.add(n);
        }
    }

    /** A work of this pwq finished. Pool lock. */
    void workDone(int color) {
        nrActive--;
        activate();
        colorDone(color);
    }

    void workDoneUnlocked(int color) {
        pool.lock();
        try {
            workDone(color);
        } finally {
            pool.unlock();
        }
    }

    /**
     * Removes a pending node from whichever of our lists holds it (cancel or steal). Pool lock.
     *
     * @return true if it was on one of our lists
     */
    boolean unlink(WorkNode n) {
        byte w = n.where;
        if (n.pwq != this) {
            return false;
        }
        if (w == WorkNode.WORKLIST) {
            pool.worklistRemove(n);
            nrActive--;
            activate();
        } else if (w == WorkNode.INACTIVE) {
            inactive.remove(n);
            n.where = WorkNode.NOWHERE;
        } else {
            return false;
        }
        colorDone(n.color);
        return true;
    }

    /** A handed-off instance was cancelled: it was active and counted. Pool lock. */
    void handoffCancelled(int color) {
        workDone(color);
    }

    private void activate() {
        boolean added = false;
        while (nrActive < maxActive && !inactive.isEmpty()) {
            WorkNode n = inactive.poll();
            nrActive++;
            pool.worklistAdd(n);
            added = true;
        }
        if (added) {
            pool.kick();
        }
    }

    private void colorDone(int color) {
        if (--nrInFlight[color] == 0 && wq.hasFlushWaiters()) {
            wq.wakeFlushers();
        }
    }

    void setMaxActive(int max) {
        maxActive = max;
        activate();
    }

    int inFlight(int color) {
        return nrInFlight[color];
    }

    int totalInFlight() {
        int sum = 0;
        for (int c : nrInFlight) {
            sum += c;
        }
        return sum;
    }

    public int active() {
        pool.lock();
        try {
            return nrActive;
        } finally {
            pool.unlock();
        }
    }
}
