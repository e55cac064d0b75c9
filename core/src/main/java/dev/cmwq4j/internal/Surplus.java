package dev.cmwq4j.internal;

/**
 * The retirement of one {@link WorkerPool}'s surplus idle workers, on a schedule that follows the
 * load.
 *
 * <h2>Design</h2>
 * The kernel retires an idle worker after a fixed 300 s, and only while idle workers are many
 * against busy ones ({@link WorkerPool#tooManyWorkers}). A burst of blocking works leaves a pool
 * with all the threads its peak needed for those five minutes. Here the pool also remembers its
 * <em>recent need</em>: the most workers it had busy at once ({@link #noteBusy}), decaying toward
 * the number busy now with a half-life of {@link #halfLifeNanos}. Idle workers beyond that need
 * plus two (the kernel's floor of idle workers, one of them the reserve a blocking pool keeps)
 * retire once idle for a half-life, longest idle first, by a pass on the engine's timer
 * ({@link #pass}). So a load that comes back within a few half-lives finds its threads warm, and
 * one that does not is back to two idle workers after a few more.
 *
 * <p>The half-life is the idle timeout divided by {@link #IDLE_TIMEOUT_PER_HALF_LIFE}: 5 s for
 * the default 300 s, so the builder's {@code idleTimeout} scales both schedules.
 *
 * <p>Locking: every field is guarded by the pool's lock; the pass runs on the service thread and
 * takes that lock. A worker is retired by {@link WorkerPool#retireIdle}: off the idle list,
 * {@code retireNow}, unpark; the worker ends its thread when it wakes.
 */
final class Surplus {
    /** The idle timeout over the recent need's half-life. */
    static final long IDLE_TIMEOUT_PER_HALF_LIFE = 60;
    /** Idle workers always kept (the kernel's {@code too_many_workers} floor). */
    static final int KEEP_IDLE = 2;

    private final WorkerPool pool;
    private final long halfLifeNanos;
    /** The most workers busy at once lately, decayed toward the busy count ({@link #decay}); lock. */
    private int recentNeed;
    /** When {@link #recentNeed} was last decayed; lock. */
    private long decayedAt;
    /** The pass is on the timer; lock. */
    private boolean armed;

    private final TimerEntry entry = new TimerEntry() {
        @Override
        protected void fire() {
            pass();
        }

        @Override
        public String toString() {
            return "surplus of " + pool.name;
        }
    };

    Surplus(WorkerPool pool) {
        this.pool = pool;
        this.halfLifeNanos = Math.max(1, pool.engine.idleTimeoutNanos / IDLE_TIMEOUT_PER_HALF_LIFE);
        this.decayedAt = System.nanoTime();
    }

    /** The pool's busy workers rose to {@code busy} (a worker woken or created): the need is at least that. Lock. */
    void noteBusy(int busy) {
        if (busy > recentNeed) {
            recentNeed = busy;
        }
    }

    /**
     * A worker went idle: while more than {@link #KEEP_IDLE} are, have a pass look at them a
     * half-life from now (the need may have decayed by then). Lock.
     */
    void wentIdle(long now) {
        if (!armed && pool.nIdle > KEEP_IDLE) {
            arm(now + halfLifeNanos);
        }
    }

    private void arm(long at) {
        armed = true;
        pool.engine.timer.scheduleNoLaterThan(entry, at);
    }

    /** Lets the recent need decay toward {@code busy}: halved excess per half-life elapsed. Lock. */
    private void decay(long now, int busy) {
        long halves = (now - decayedAt) / halfLifeNanos;
        if (halves <= 0) {
            return;
        }
        decayedAt += halves * halfLifeNanos;
        int excess = Math.max(0, recentNeed - busy);
        recentNeed = busy + (int) (halves >= 31 ? 0 : excess >> halves);
    }

    /** Idle workers beyond the recent need (and the floor) may retire. */
    private boolean isSurplus(int workers, int idle) {
        return idle > KEEP_IDLE && workers > recentNeed + KEEP_IDLE;
    }

    /**
     * The timer's pass: retires the longest idle workers that are surplus and have been idle a
     * half-life, and comes back while idle workers beyond the floor remain.
     */
    void pass() {
        WorkerPool p = pool;
        p.lock();
        try {
            armed = false;
            if (p.closing) {
                return;
            }
            long now = System.nanoTime();
            int workers = p.nWorkers;
            int idle = p.nIdle;
            decay(now, workers - idle);
            long next = now + halfLifeNanos;
            while (isSurplus(workers, idle)) {
                Worker w = p.longestIdle();
                long idleFor = now - w.idleSince;
                if (idleFor < halfLifeNanos) {
                    next = w.idleSince + halfLifeNanos;
                    break;
                }
                p.retireIdle(w);
                workers--; // it leaves nWorkers when its thread ends
                idle--;
            }
            if (idle > KEEP_IDLE) {
                arm(next);
            }
        } finally {
            p.unlock();
        }
    }

    /** Engine shutdown: disarms the pass. */
    void cancel() {
        pool.engine.timer.cancel(entry);
    }

    /** The recent need, for tests. Lock. */
    int recentNeed() {
        return recentNeed;
    }
}
