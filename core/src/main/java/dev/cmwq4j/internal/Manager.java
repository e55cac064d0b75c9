package dev.cmwq4j.internal;

/**
 * The manager of one {@link WorkerPool}: creates the workers its predicates ask for, and runs its
 * mayday passes when it cannot.
 *
 * <h2>Manager pass</h2>
 * Only the manager creates threads, and at most one pass per pool runs at a time: it runs on the
 * engine's {@link Timer} thread ({@link #request} arms it no later than a given delay). A pass
 * wakes an idle worker if one went idle since the request, else creates one worker at a time,
 * outside the pool lock:
 * <ul>
 *   <li>a need that arises while some worker is blocked (and might return soon) is served only
 *       after the stall window ({@link #creationDelay}; the join window while only joiners are
 *       out); a need with no blocked worker, at once;</li>
 *   <li>a thief wanted by a loaded sibling ({@link #wantThief}) gets a running worker even with
 *       an empty worklist;</li>
 *   <li>a pool whose works have blocked keeps one idle reserve ({@link WorkerPool#needReserve});</li>
 *   <li>a creation that fails (thread cap, the factory or {@code Thread.start} throwing, out of
 *       memory) leaves no phantom worker: the worker is allocated before it is counted, and
 *       uncounted if its thread does not start. The manager backs off for the cooldown and
 *       arms the mayday pass.</li>
 * </ul>
 *
 * <h2>Mayday pass</h2>
 * While a need for a worker goes unmet, the pass calls the {@link Rescuer} of every memReclaim
 * workqueue with works in the worklist, first after {@link Rescuer#MAYDAY_INITIAL_NANOS}, then
 * every {@link Rescuer#MAYDAY_INTERVAL_NANOS}, numbering its passes so that a rescuer is asked
 * once per pass.
 *
 * <p>Locking: every field is guarded by the pool's lock (asserted); the pool's counts change only
 * through its own methods ({@link WorkerPool#workerCreated}, {@link WorkerPool#workerNotStarted}).
 */
final class Manager {
    private final WorkerPool pool;
    private final Engine engine;

    /**
     * When a need that arose while some worker was blocked may be met with a new thread (the end
     * of its stall window), or 0 when no such need is waiting; pool lock.
     */
    private long stallDeadline;
    /** When the need behind {@link #stallDeadline} arose; pool lock. */
    private long needSince;
    /** Create a running worker to steal even with an empty worklist; pool lock. */
    private boolean thiefWanted;
    /**
     * Sequence number for worker thread names ({@code cpu1-0}, {@code cpu1-1}, ...): never reused
     * within the pool, so a new worker never takes a live one's name; pool lock.
     */
    private long workerSeq;
    /** The mayday pass is armed on the timer (a need for a worker went unmet); pool lock. */
    private boolean maydayArmed;
    /** Mayday passes run so far (numbers them, so a rescuer is called once per pass); pool lock. */
    private long maydayPasses;

    /** The manager pass, armed on the engine timer. */
    private final TimerEntry managerEntry = new TimerEntry() {
        @Override
        protected void fire() {
            manage();
        }

        @Override
        public String toString() {
            return "manager of " + pool.name;
        }
    };

    /** The mayday pass, armed on the engine timer while a need for a worker goes unmet. */
    private final TimerEntry maydayEntry = new TimerEntry() {
        @Override
        protected void fire() {
            maydayPass();
        }

        @Override
        public String toString() {
            return "mayday of " + pool.name;
        }
    };

    Manager(WorkerPool pool) {
        this.pool = pool;
        this.engine = pool.engine;
    }

    /** Arms the manager pass no later than {@code delayNanos} from now. Under the pool lock or not. */
    void request(long delayNanos) {
        if (pool.closing) {
            return;
        }
        engine.timer.scheduleNoLaterThan(managerEntry, System.nanoTime() + delayNanos);
    }

    /**
     * Arms the manager pass for a stall: no earlier than {@code delayNanos} from now, and up to
     * {@link #STALL_SLACK_NANOS} later if the service thread wakes then anyway. A stall is a
     * lower bound (a blocked worker gets that long to come back), and most stalls end with the
     * worker back before the pass: a wake-up of the service thread for each of them was two
     * thirds of its context switches under a steady blocking load.
     */
    void requestStall(long delayNanos) {
        if (pool.closing) {
            return;
        }
        engine.timer.scheduleNoLaterThan(managerEntry, System.nanoTime() + delayNanos, STALL_SLACK_NANOS);
    }

    /** How much later than its stall a manager pass may run to share a planned wake-up. */
    static final long STALL_SLACK_NANOS = 500_000L;

    /** A loaded sibling asked for a thief and no worker is idle: create a running one. Pool lock. */
    void wantThief() {
        assert pool.holdsLock();
        thiefWanted = true;
        request(0);
    }

    /** The monitor found the blocked worker stuck past the stall window: create without waiting again. Pool lock. */
    void stallWindowOver() {
        assert pool.holdsLock();
        long now = System.nanoTime();
        if (stallDeadline == 0) {
            needSince = now;
        }
        stallDeadline = now;
    }

    /**
     * How long to wait before creating a worker for the current need: none if no busy worker can
     * come back, else until the end of the stall window that started with this need, or of the
     * join window while only joiners are out. Pool lock.
     */
    long creationDelay(long now) {
        assert pool.holdsLock();
        if (!pool.someWorkerMayReturn()) {
            stallDeadline = 0;
            return 0;
        }
        if (stallDeadline == 0) {
            needSince = now;
            stallDeadline = now + pool.stallNanos();
        }
        long deadline = pool.onlyJoinersOut() ? stallDeadline + engine.joinExtraNanos : stallDeadline;
        long wait = deadline - now;
        if (wait <= 0 && deferWhileCpusTaken(now)) {
            stallDeadline = now + engine.stallWindowNanos;
            return engine.stallWindowNanos;
        }
        return Math.max(0, wait);
    }

    /**
     * The stall is over, but every CPU has a counted worker ({@link Engine#cpusTaken}): a new
     * thread would wait for a CPU like the works it is meant for, and the blocked workers may be
     * back before one frees. So the creation waits a stall window more, up to
     * {@link WorkerPool#MAX_STALL_NANOS} after the need arose: a bound, because other pools
     * that keep their counts up would otherwise hold this one back indefinitely. Pool lock.
     */
    private boolean deferWhileCpusTaken(long now) {
        return now - needSince < WorkerPool.MAX_STALL_NANOS && engine.cpusTaken();
    }

    /** Engine shutdown: disarms both passes. */
    void cancel() {
        engine.timer.cancel(managerEntry);
        engine.timer.cancel(maydayEntry);
    }

    /**
     * The manager pass, on the service (monitor) thread: creates the workers the predicates ask
     * for, one at a time, outside the lock. A failed creation backs off (the kernel's cooldown)
     * and retries.
     */
    void manage() {
        WorkerPool p = pool;
        boolean reclaim = false;
        p.lock();
        try {
            for (;;) {
                if (p.closing) {
                    return;
                }
                if (p.needMoreWorker() && p.mayStartWorking()) {
                    // a worker went idle since the request: waking it beats creating one
                    p.wakeFirstIdle();
                    continue;
                }
                boolean running;
                if (p.needToCreateWorker()) {
                    long delay = creationDelay(System.nanoTime());
                    if (delay > 0) {
                        // a blocked worker may still return: wait out its stall window
                        requestStall(delay);
                        return;
                    }
                    running = true;
                } else if (thiefWanted && p.nIdle == 0 && !p.thiefWaitsForReturn()) {
                    running = true;
                } else if (p.needReserve()) {
                    running = false;
                } else {
                    if (thiefWanted) {
                        // not served (a worker is idle, or one may be back soon): the next insert may ask again
                        thiefWanted = false;
                        p.thiefDone();
                    }
                    stallDeadline = 0;
                    return;
                }
                if (!engine.reserveThread()) {
                    if (running) {
                        creationUnmet();
                        // after the unlock (never two pool locks): free a slot held by an idle worker elsewhere
                        reclaim = p.needToCreateWorker();
                    }
                    request(engine.createCooldownNanos);
                    return;
                }
                thiefWanted = false;
                stallDeadline = 0;
                Worker w;
                String role;
                Worker[] grown;
                try { // allocate before counting: out of memory here must leave no phantom worker
                    w = new Worker(p, running);
                    // a builder, not '+': the JDK's string concatenation bootstraps a hidden class
                    // per shape, a few ms that a fresh JVM would pay while its first works wait
                    role = new StringBuilder(p.name).append('-').append(workerSeq++).toString();
                    grown = p.workersWith(w);
                } catch (Throwable t) {
                    engine.releaseThread();
                    engine.creationFailed(p, t);
                    if (running) {
                        creationUnmet();
                    }
                    request(engine.createCooldownNanos);
                    return;
                }
                p.workerCreated(w, running, grown);
                if (running && p.managed) {
                    engine.monitor.nudge();
                }
                p.unlock();
                Throwable failure = null;
                try {
                    // a sibling's idle thread if one can be spared, else a new one; named
                    // <base><pool>-<seq> either way (ThreadNames)
                    if (!handOffIdleThread(w, role)) {
                        w.start(role);
                    }
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    p.lock();
                }
                if (failure != null) {
                    p.workerNotStarted(w, running);
                    engine.creationFailed(p, failure);
                    if (running) {
                        creationUnmet();
                    }
                    request(engine.createCooldownNanos);
                    return;
                }
            }
        } finally {
            p.unlock();
            if (reclaim) {
                engine.reclaimIdleThread(p);
            }
        }
    }

    /**
     * The thread of new worker {@code w} threw before it served its pool: undoes its creation
     * as when the thread could not be started, and tries again after the back-off. While it was
     * counted, queuers and idling workers took it for the one that would run their works: an
     * idle worker is woken for what waits now. The failure is counted and logged last (which
     * allocates, and the start failed for want of memory, likely). Pool lock.
     */
    void workerFailedToStart(Worker w, boolean running, Throwable failure) {
        assert pool.holdsLock();
        pool.workerNotStarted(w, running);
        if (running) {
            creationUnmet();
        }
        request(engine.createCooldownNanos);
        try {
            pool.drainInbound(); // each admission kicks as it needs
            if (pool.needMoreWorker() && pool.mayStartWorking()) {
                pool.wakeFirstIdle();
            }
        } catch (Throwable t) {
            // the manager pass requested above looks again
        }
        engine.creationFailed(pool, failure); // never throws
    }

    /**
     * Gives new worker {@code w} a sibling's idle thread ({@link Engine#handOffIdleThread}). A
     * throw there (a lock that could not queue, out of memory) happens before anything changed:
     * the worker gets a new thread instead.
     */
    private boolean handOffIdleThread(Worker w, String role) {
        try {
            return engine.handOffIdleThread(pool, w, role);
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * The manager could not create a worker the pool needs (thread cap, or the factory or
     * {@code Thread.start} failed): unless the mayday pass is armed already, arm it to run after
     * the initial mayday delay. Only when some workqueue has a rescuer to call. Pool lock.
     */
    private void creationUnmet() {
        assert pool.holdsLock();
        if (!maydayArmed && engine.hasRescuers()) {
            maydayArmed = true;
            engine.timer.schedule(maydayEntry, System.nanoTime() + Rescuer.MAYDAY_INITIAL_NANOS);
        }
    }

    /**
     * The mayday pass, on the service (monitor) thread: while the need lasts, calls the rescuer of
     * every memReclaim workqueue with works in the worklist, and comes back after the mayday
     * interval.
     */
    void maydayPass() {
        WorkerPool p = pool;
        p.lock();
        try {
            if (!p.needsMayday()) {
                maydayArmed = false; // the need was met: a new one starts a new initial delay
                return;
            }
            long pass = ++maydayPasses;
            java.util.List<WorkNode> rescuable = new java.util.ArrayList<>();
            p.collectListed(n -> n.pwq.wq.rescuer != null, rescuable, Integer.MAX_VALUE);
            for (WorkNode n : rescuable) {
                n.pwq.wq.rescuer.mayday(n.pwq, pass);
            }
            engine.timer.schedule(maydayEntry, System.nanoTime() + Rescuer.MAYDAY_INTERVAL_NANOS);
        } finally {
            p.unlock();
        }
    }
}
