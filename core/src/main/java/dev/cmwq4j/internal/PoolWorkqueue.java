package dev.cmwq4j.internal;

/**
 * The link between one workqueue and one {@link WorkerPool}.
 *
 * <p>It counts the works that are active (in the pool's worklist or running) against
 * {@code maxActive}, parks the rest on its inactive list, and counts works in
 * flight per flush color so that {@code Workqueue.flush()} can wait for exactly the works queued
 * before it.
 *
 * <p>The inactive list is ordered by priority, FIFO within a priority (so a work lent a higher
 * level takes the next free slot), except for an ordered workqueue, where it is a plain FIFO: there
 * the works queued before a waited-for work are lent its level instead ({@link #collectAhead}).
 *
 * <p>Every field is guarded by the lock of {@link #pool}.
 */
final class PoolWorkqueue {
    /** Number of flush colors. A flush may have to wait for the oldest color to drain. */
    static final int COLORS = 16;

    final WorkqueueCore wq;
    final WorkerPool pool;

    /** Works in the pool's worklist or running; pool lock. */
    int nrActive;
    /** Limit on {@link #nrActive}; 0 while the workqueue is frozen; pool lock. */
    int maxActive;
    /** Works beyond maxActive: by priority, or in queueing order if ordered (class comment); pool lock. */
    private final Worklist inactive;
    /** Works in flight (queued, active or inactive, or running) per color; pool lock. */
    private final int[] nrInFlight = new int[COLORS];
    /**
     * Works counted in flight here so far (each {@link #insert}); pool lock. A drain that counts
     * the pwqs one by one compares it across two passes: a work that moved from a pwq not yet
     * counted to one counted already (an own work queueing on another CPU, then ending) shows
     * here, though both counts said 0.
     */
    long inserts;
    /** Color given to newly queued works; pool lock (changed by a flush). */
    int workColor;
    /**
     * The pool called this workqueue's {@link Rescuer} for this pwq and it has not answered yet:
     * set by the mayday pass, cleared by the rescuer, both under the pool lock; volatile for the
     * rescuer's lock-free look.
     */
    private volatile boolean maydayRequested;
    /** Number of the last mayday pass of {@link #pool} that called the rescuer for us; pool lock. */
    private long lastMaydayPass;

    /**
     * Mayday pass number {@code pass} of the pool asks the rescuer for this pwq: true the first
     * time in that pass (the request is then marked); false if this pass asked already. Lock.
     */
    boolean requestMayday(long pass) {
        assert pool.holdsLock();
        if (lastMaydayPass == pass) {
            return false;
        }
        lastMaydayPass = pass;
        maydayRequested = true;
        return true;
    }

    /** The rescuer answers the request; a later pass may ask again. Lock. */
    void maydayAnswered() {
        assert pool.holdsLock();
        maydayRequested = false;
    }

    /** A mayday request waits for the rescuer; a racy look, without the lock. */
    boolean maydayRequested() {
        return maydayRequested;
    }

    // Statistics of the works this pwq ran (see WorkqueueStats); all guarded by the pool lock.
    /** Works executed to the end. */
    long executed;
    /** Their CPU time, as {@link RunAccounting#cpu} measures it. */
    long cpuNanos;
    /** Queue-to-start latency of each executed work. */
    final LogHistogram queueLatency = new LogHistogram();
    /** Wall time of each executed work. */
    final LogHistogram execTime = new LogHistogram();

    PoolWorkqueue(WorkqueueCore wq, WorkerPool pool, int maxActive) {
        this.wq = wq;
        this.pool = pool;
        this.maxActive = maxActive;
        this.inactive = new Worklist(!wq.ordered);
        this.fastWq = !wq.ordered && !wq.cpuIntensive;
    }

    /**
     * A closing drain of the workqueue found nothing in flight here and sealed this pwq: what is
     * admitted from now on is held, not queued (see {@link WorkqueueCore#close}); pool lock.
     */
    private boolean sealed;
    /** Nodes admitted while {@link #sealed}, in admission order, linked through inNext; pool lock. */
    private WorkNode heldHead, heldTail;

    /** Admits a node its pool took off the inbound stack: queued, or held while sealed. Pool lock. */
    void admit(WorkNode n) {
        assert pool.holdsLock();
        if (sealed) {
            n.where = WorkNode.HELD;
            n.inNext = null;
            if (heldTail == null) {
                heldHead = n;
            } else {
                heldTail.inNext = n;
            }
            heldTail = n;
        } else {
            insert(n);
        }
    }

    /**
     * The closing drain seals this pwq (after its lock admitted what was inbound) and returns
     * what is in flight here, which it must find 0 to close. Pool lock.
     */
    int seal() {
        assert pool.holdsLock();
        sealed = true;
        return totalInFlight();
    }

    /** The closing drain found works in flight after all: admits the held nodes, in order. Pool lock. */
    void unseal() {
        assert pool.holdsLock();
        sealed = false;
        WorkNode n = heldHead;
        heldHead = heldTail = null;
        while (n != null) {
            WorkNode next = n.inNext;
            n.inNext = null;
            insert(n);
            n = next;
        }
    }

    /** Takes {@code n} off the held list, if it is there. Pool lock. */
    private boolean unhold(WorkNode n) {
        assert pool.holdsLock();
        WorkNode prev = null;
        for (WorkNode h = heldHead; h != null; prev = h, h = h.inNext) {
            if (h == n) {
                if (prev == null) {
                    heldHead = n.inNext;
                } else {
                    prev.inNext = n.inNext;
                }
                if (heldTail == n) {
                    heldTail = prev;
                }
                n.inNext = null;
                n.where = WorkNode.NOWHERE;
                return true;
            }
        }
        return false;
    }

    /** Queues an admitted node: active if maxActive allows, inactive otherwise. Pool lock. */
    void insert(WorkNode n) {
        assert pool.holdsLock();
        WorkNode.PWQ.lazySet(n, this); // readers without the lock look again under it: no fence needed
        n.color = (byte) workColor;
        nrInFlight[workColor]++;
        inserts++;
        Events.queued(n, this);
        if (nrActive < maxActive) {
            nrActive++;
            pool.worklistAdd(n);
            pool.kick();
        } else {
            n.where = WorkNode.INACTIVE;
            inactive.add(n);
            pool.inactiveAdds++;
        }
    }

    /**
     * May the slot of a run of this pwq that just ended, in colour {@code color}, pass to a
     * successor queued during it, with no count changed (the run's end and the successor's
     * admission cancel out)? Only if the successor would be admitted active in that colour: the
     * pwq is not sealed by a closing drain, no flush moved the colour on since, the slot fits
     * under {@link #maxActive} (0 while frozen; a waiter's borrowed slot may put nrActive above
     * it), and nothing waits on the inactive list ahead of it. Pool lock.
     */
    boolean maySlotPassOn(int color) {
        assert pool.holdsLock();
        return !sealed && workColor == color && nrActive <= maxActive && inactive.isEmpty();
    }

    // ------------------------------------------------------------------------------------------
    // The fast lane (ARCHITECTURE 6, "The fast lane").

    /**
     * The workqueue's works may take the fast lane at all: unordered (an ordered queue's order
     * is its worklist's), not CPU-intensive (its runs leave the running count), and not freezable
     * (a freeze then needs no conversion of what runs). Fixed at creation, but for the last,
     * read per queue ({@link WorkqueueCore#isFreezable}).
     */
    final boolean fastWq;

    /**
     * May a worker of this pool start a node of this pwq it took from the ring, uncounted? Not
     * while sealed by a closing drain, frozen ({@link #maxActive} 0) or with works waiting
     * inactive, and only while every worker of the pool could run one of these at once within
     * {@link #maxActive} beside the counted ones: fast runs are never counted, so this bound is
     * what keeps them within it. Read by a taker between its take and its start, with the ring
     * open: every lock holder closes it and waits for such takers first, so no holder writes
     * these fields meanwhile, and the taker's take read what the last holder wrote (the reopen
     * happened under the lock).
     */
    boolean fastOk() {
        return !sealed && nrActive + pool.nWorkers < maxActive && inactive.isEmpty();
    }

    /**
     * Works of this pwq started in the lane: raised by the taker (a plain increment, before its
     * mark names the run, so every later lock holder sees it), for the drain's second pass
     * ({@code WorkqueueCore.nothingInFlight}), which would otherwise miss a work that was offered,
     * ran in the lane and ended between its two counts. Takers of one open spell may lose each
     * other's increments, but no increment spans a lock hold, so a spell with a take always
     * leaves the count changed.
     *
     * <p>On a line of its own, between eight padding longs on either side (longs are laid out
     * first, in declaration order; {@code FieldLinesTest} checks it): written at every lane run,
     * it shared a line with {@link #pool} and {@link #fastWq}, which every queuer reads, whenever
     * the object's place in its cache line put them together, and the external producer's worker
     * then paid a miss per work (ARCHITECTURE 4, <i>Lines of their own</i>).
     */
    @SuppressWarnings("unused") private long lp0, lp1, lp2, lp3, lp4, lp5, lp6, lp7;
    long laneStarts;
    @SuppressWarnings("unused") private long lq0, lq1, lq2, lq3, lq4, lq5, lq6, lq7;

    /** What the drain's passes compare: {@link #inserts} and lane starts together. Pool lock. */
    long insertsAndLaneStarts() {
        assert pool.holdsLock();
        return inserts + laneStarts;
    }

    /**
     * A fast run of this pwq is counted by a lock holder ({@link WorkerPool#closeForHolder}): as
     * admitted active in the current colour and started. Pool lock.
     *
     * @return its colour, which its end ({@link #workDone}) gives back
     */
    int countConverted() {
        assert pool.holdsLock();
        int c = workColor;
        nrInFlight[c]++;
        inserts++;
        nrActive++;
        return c;
    }

    /**
     * Folds statistics of fast runs that a worker buffered ({@link Worker#foldFastStats}) into
     * this pwq's. Pool lock.
     */
    void addFastStats(long runs, long cpu, LogHistogram latency, LogHistogram wall) {
        assert pool.holdsLock();
        executed += runs;
        cpuNanos += cpu;
        queueLatency.absorb(latency);
        execTime.absorb(wall);
    }

    /**
     * A work of this pwq finished. Pool lock. The colour's count first: the activation kicks a
     * worker for each work it activates, and a kick may throw (arming the manager grows the
     * timer's heap when it is full); after the activation, such a throw left the colour counted
     * for good and its flush waiting ({@code FaultsTest.aKickThatThrowsAsARunEndsLeavesNoColourCounted}).
     * Nothing the activation changes is what a flush of this colour waits for: the works it
     * moves were counted in their own colours as they were queued.
     */
    void workDone(int color) {
        assert pool.holdsLock();
        nrActive--;
        colorDone(color);
        activate();
    }

    /** When the node {@link #takeForHelp} last took was queued; pool lock. */
    long helpQueuedAt;
    /** The decorated action of the node {@link #takeForHelp} last took, or null; pool lock. */
    Runnable helpDecorated;

    /** Records the run {@code w} just finished (its run* fields). Pool lock. */
    void recordRun(Worker w) {
        assert pool.holdsLock();
        executed++;
        RunAccounting r = w.runs;
        cpuNanos += r.cpu;
        queueLatency.record(r.latency);
        execTime.record(r.wall);
        pool.noteRunWall(r.wall);
    }

    /**
     * {@link #recordRun} then {@link #workDone}, taking the pool lock, then the drain that lock
     * owes (what is inbound). The run's end comes before the drain, whose admissions may throw:
     * a throw there leaves the run ended (and what it did not admit to the service thread,
     * {@link WorkerPool#drainInbound}), as {@code Worker.process} does for its own pool's runs.
     */
    void runDoneUnlocked(int color, Worker w) {
        pool.lockBeforeDrain();
        try {
            recordRun(w);
            workDone(color);
            pool.drainAfterRun(false, 0);
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
        assert pool.holdsLock();
        int w = n.where;
        if (n.pwq != this) {
            return false;
        }
        if (nLent > 0) {
            pruneLent(n); // taken off: its lend is over, and its next instance is not lent to
        }
        if (w == WorkNode.WORKLIST) {
            pool.worklistRemove(n);
            nrActive--;
            activate();
        } else if (w == WorkNode.INACTIVE) {
            inactive.remove(n);
            n.where = WorkNode.NOWHERE;
        } else if (w == WorkNode.HELD) {
            return unhold(n); // never counted
        } else {
            return false;
        }
        colorDone(n.color);
        return true;
    }

    /**
     * Takes {@code n} off whichever of our lists holds it and starts it, for a worker that runs it
     * in place ({@link Helping}). A node on the worklist is active already and stays counted as
     * is. An inactive node may be taken only with {@code borrow}: the waiter is itself a running
     * work of this pwq, suspended while it waits, so the node runs on the waiter's slot (nrActive
     * rises by one, and the number of works of this pwq executing at once does not). Never while
     * frozen. {@link #workDone} ends it.
     *
     * <p>As in {@link WorkerPool#popAndStart}, the node leaves its list and its color is read
     * before PENDING is cleared: from that CAS on, a new instance may be queued, which rewrites
     * the node's links, pwq and color. While the node is pending on one of our lists and no
     * earlier instance runs, only this lock's holder can change its state, so the CAS cannot fail
     * for long. Pool lock.
     *
     * @return the color of the started instance, or -1 if {@code n} may not be taken: not a
     *     pending instance on our lists, inactive without {@code borrow}, or an earlier instance is
     *     running (it would run concurrently with itself)
     */
    int takeForHelp(WorkNode n, boolean borrow) {
        assert pool.holdsLock();
        if (n.pwq != this) {
            return -1;
        }
        int where = n.where;
        if (where != WorkNode.WORKLIST && !(where == WorkNode.INACTIVE && borrow && maxActive > 0)) {
            return -1;
        }
        if ((n.state & (WorkNode.PENDING | WorkNode.RUNNING | WorkNode.HANDOFF)) != WorkNode.PENDING) {
            return -1;
        }
        int color = n.color;
        // statistics: queue-to-start latency from the worklist entry; an inactive one starts now
        helpQueuedAt = where == WorkNode.WORKLIST ? n.queuedAt : System.nanoTime();
        if (where == WorkNode.WORKLIST) {
            pool.worklistRemove(n);
        } else {
            inactive.remove(n);
            n.where = WorkNode.NOWHERE;
            nrActive++; // the waiter's slot
        }
        pool.noteProgress();
        helpDecorated = n.decorated; // before the start clears it
        for (;;) {
            int s = n.state;
            if (n.startPending(s, (s & ~WorkNode.PENDING) | WorkNode.RUNNING)) {
                return color;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Priority inheritance (see Inheritance); all under the pool lock.

    /** Moves a listed node ({@code where} is WORKLIST or INACTIVE) to where its lends now put it. */
    void reposition(WorkNode n, int where) {
        assert pool.holdsLock();
        if (where == WorkNode.WORKLIST) {
            pool.worklistReposition(n);
        } else {
            inactive.reposition(n);
        }
    }

    /**
     * {@code n} waits on our inactive list: adds the works that must run before it. Ordered: every
     * inactive work ahead of it, and the active one. Otherwise one slot is enough: the active work
     * that the worklist runs first (a lend moves {@code n} to the front of the inactive list, so it
     * takes the slot that work frees), and the running ones (which are sped up only if their
     * workers wait, transitively). Lending to every slot holder would be worse: they would share
     * the lent level with {@code n} and run before it.
     */
    void collectAhead(WorkNode n, java.util.List<WorkNode> out) {
        assert pool.holdsLock();
        if (wq.ordered) {
            inactive.collectBefore(n, out);
        }
        pool.collectListed(a -> a.pwq == this, out, 1);
        collectRunning(out);
    }

    /**
     * Takes every unstarted task node of {@code g} (one-shot or scheduled) off our lists (worklist, inactive, held),
     * as a cancel does, and adds it to {@code out}; the caller then clears their PENDING bits.
     * Pool lock (taking it admitted what was inbound).
     */
    void takeGroup(WorkNode.Group g, java.util.List<WorkNode> out) {
        assert pool.holdsLock();
        int from = out.size();
        collectGroup(g, out);
        for (int i = from; i < out.size(); i++) {
            unlink(out.get(i));
        }
    }

    /**
     * Adds to {@code out} every unstarted task node of {@code g} on our lists (worklist, inactive,
     * held), leaving them there: {@link #takeGroup}, or a caller that takes them back one by one
     * through their own cancel. Pool lock (taking it admitted what was inbound).
     */
    void collectGroup(WorkNode.Group g, java.util.List<WorkNode> out) {
        assert pool.holdsLock();
        java.util.function.Predicate<WorkNode> mine = n -> n.pwq == this && WorkNode.inGroup(n, g);
        pool.collectListed(mine, out, Integer.MAX_VALUE);
        inactive.collect(mine, out, Integer.MAX_VALUE);
        for (WorkNode h = heldHead; h != null; h = h.inNext) {
            if (WorkNode.inGroup(h, g)) {
                out.add(h);
            }
        }
    }

    /**
     * Adds the works in flight that a flush started now waits for: every listed work of an older
     * color than {@link #workColor} (the flush has just moved it on), and every running work.
     */
    void collectInFlight(java.util.List<WorkNode> out) {
        assert pool.holdsLock();
        int current = workColor;
        java.util.function.Predicate<WorkNode> older = n -> n.pwq == this && n.color != current;
        pool.collectListed(older, out, Integer.MAX_VALUE);
        inactive.collect(older, out, Integer.MAX_VALUE);
        collectRunning(out);
    }

    /**
     * Adds the works of this pwq that workers run now: on our pool, or, for a bound pool, stolen by
     * a sibling. Racy reads of the workers' current work: a work that just ended is lent to for
     * nothing until the wait ends, which is harmless.
     */
    private void collectRunning(java.util.List<WorkNode> out) {
        assert pool.holdsLock();
        WorkerPool[] pools = pool.managed ? wq.engine.boundPools(pool.highPriority) : new WorkerPool[] {pool};
        for (WorkerPool p : pools) {
            for (Worker w : p.workersSnapshot()) {
                WorkNode c = w.current;
                if (c != null && w.currentPwq == this) {
                    out.add(c);
                }
            }
        }
    }

    /**
     * Activates the inactive pending node {@code n} out of turn, for a running work of this
     * workqueue (of this pwq, or of a sibling pwq when the waiter was stolen and is accounted to
     * its victim's) that is about to wait for it and cannot run it in place: the waiter lends it
     * its slot, so
     * nrActive may exceed maxActive by one per such waiter while the number of works executing
     * at once does not. Without this, a work waiting for a work queued behind maxActive on its own
     * workqueue would wait forever once every slot is held by such waiters. Never while frozen.
     * Pool lock.
     *
     * @return true if {@code n} moved to the worklist
     */
    boolean lendSlot(WorkNode n) {
        assert pool.holdsLock();
        if (n.pwq != this || n.where != WorkNode.INACTIVE || maxActive == 0 || !n.isPending()) {
            return false;
        }
        reserveLentSlot(); // the one allocation of a lend, before anything changes
        inactive.remove(n);
        nrActive++;
        lentNodes[nLent] = n;
        lentInstances[nLent++] = n.queued;
        pool.worklistAdd(n);
        pool.kick();
        return true;
    }

    /**
     * The works running, or waiting to run, on a slot a waiter lent them ({@link #lendSlot}), with
     * the instance that was lent to ({@link WorkNode#queued}), in {@code [0, nLent)}; null until
     * the first lend. A freeze that takes one back (off the worklist, {@link #freeze}, or at its
     * hand-off, {@link #deferHandedOff}) subtracts it from {@link #nrActive} while its waiter
     * keeps its own slot; the thaw lends it the slot again ({@link #relendTakenBack}). Without
     * that, the thaw activated nothing for it (the waiters' slots fill {@code maxActive}), and
     * each waiter and its work waited for each other for good. An entry whose instance is no
     * longer pending here is stale: dropped at the next lend, freeze or thaw, and an entry of a
     * node taken off our lists ({@link #unlink}: a cancel, a steal, a {@code modDelayed}) at once,
     * so that its next instance is not taken for lent. Arrays, not a list of records: a lend, a
     * freeze and a thaw change counts and lists, and must not allocate in the middle (out of
     * memory there left a node on no list, or a pwq frozen after its thaw); a lend grows them
     * first ({@link #reserveLentSlot}). Not a flag on the node, which would make every node 8
     * bytes larger. Pool lock.
     */
    private WorkNode[] lentNodes;
    private int[] lentInstances;
    private int nLent;
    /** A freeze took back a work on a lent slot: the thaw lends again. Pool lock. */
    private boolean borrowedTakenBack;

    /** Entry {@code i} of the lends is still pending here. Pool lock. */
    private boolean lentPending(int i) {
        WorkNode n = lentNodes[i];
        return n.pwq == this && n.queued == lentInstances[i] && n.isPending();
    }

    /** Drops stale entries of the lends, and those of {@code gone} (null: none), in place. Pool lock. */
    private void pruneLent(WorkNode gone) {
        int kept = 0;
        for (int i = 0; i < nLent; i++) {
            if (lentNodes[i] != gone && lentPending(i)) {
                lentNodes[kept] = lentNodes[i];
                lentInstances[kept++] = lentInstances[i];
            }
        }
        for (int i = kept; i < nLent; i++) {
            lentNodes[i] = null; // no reference kept to a finished node
        }
        nLent = kept;
    }

    /** Room for one more lend, made before a lend changes anything. Pool lock. */
    private void reserveLentSlot() {
        pruneLent(null);
        if (lentNodes == null || nLent == lentNodes.length) {
            int size = lentNodes == null ? 2 : 2 * lentNodes.length;
            WorkNode[] nodes = new WorkNode[size];
            int[] instances = new int[size];
            if (nLent > 0) {
                System.arraycopy(lentNodes, 0, nodes, 0, nLent);
                System.arraycopy(lentInstances, 0, instances, 0, nLent);
            }
            lentInstances = instances;
            lentNodes = nodes;
        }
    }

    /** Some work on a lent slot waits on the inactive list (a freeze took it back). Pool lock. */
    private boolean lentWaitsInactive() {
        pruneLent(null);
        for (int i = 0; i < nLent; i++) {
            if (lentNodes[i].where == WorkNode.INACTIVE) {
                return true;
            }
        }
        return false;
    }

    /** Lends the slots a freeze took back again; allocates nothing. Pool lock. */
    private void relendTakenBack() {
        assert pool.holdsLock() && maxActive > 0;
        pruneLent(null);
        for (int i = 0; i < nLent; i++) {
            WorkNode n = lentNodes[i];
            if (n.where == WorkNode.INACTIVE) {
                inactive.remove(n);
                nrActive++;
                pool.worklistAdd(n);
                pool.kick();
            }
        }
        borrowedTakenBack = false;
    }

    /**
     * A handed-off instance of this pwq was cancelled or taken back to be queued again: it was
     * active and counted, and ends here as if it had run. Pool lock.
     */
    void handoffTaken(int color) {
        assert pool.holdsLock();
        workDone(color);
    }

    private void activate() {
        assert pool.holdsLock();
        if (maxActive == 0) { // frozen: nothing activates; tell a freezer when the last one ends
            if (nrActive == 0 && wq.hasFlushWaiters()) {
                wq.wakeFlushers();
            }
            return;
        }
        while (nrActive < maxActive && !inactive.isEmpty()) {
            WorkNode n = inactive.poll();
            nrActive++;
            pool.worklistAdd(n);
            Events.activated(n, this);
            // one kick per work, as insert does: an unbound pool wakes one worker per kick, so
            // a thaw or a raised maxActive that activates several works must kick for each
            Seam.activationKick();
            pool.kick();
        }
    }

    private void colorDone(int color) {
        assert pool.holdsLock();
        if (--nrInFlight[color] == 0 && wq.hasFlushWaiters()) {
            wq.wakeFlushers();
        }
    }

    /**
     * Freezes this pwq: a limit of 0, and its active works that have not started go back to the
     * front of the inactive list in their order (so an ordered queue keeps its order). The
     * running ones stay active until they end. Pool lock.
     */
    void freeze() {
        assert pool.holdsLock();
        maxActive = 0;
        nrActive -= pool.takeBack(this, inactive);
        borrowedTakenBack |= lentWaitsInactive();
    }

    /**
     * A worker ending a run found its next instance {@code n} handed to it ({@code s}, with
     * HANDOFF and RUNNING set) while this pwq is frozen: that instance must not start. It goes
     * back to the front of the inactive list, pending, and leaves the active count (a freezer
     * waiting for it is woken when the count reaches 0). Pool lock held, HANDOFF checked
     * ({@link WorkNode#isHandedOffFrom}).
     *
     * @return false if the state word changed meanwhile (the caller reads it again)
     */
    boolean deferHandedOff(WorkNode n, int s) {
        assert pool.holdsLock();
        int ns = s & ~(WorkNode.HANDOFF | WorkNode.RUNNING | WorkNode.CANCELLED_BEHIND);
        if (!n.casState(s, ns)) {
            return false;
        }
        nrActive--;
        inactive.addFront(n, WorkNode.INACTIVE);
        borrowedTakenBack |= lentWaitsInactive(); // a hand-off of a work on a lent slot: the thaw lends it again
        if (nrActive == 0 && wq.hasFlushWaiters()) {
            wq.wakeFlushers();
        }
        return true;
    }

    int inactiveCount() {
        assert pool.holdsLock();
        return inactive.size();
    }

    void setMaxActive(int max) {
        assert pool.holdsLock();
        maxActive = max;
        if (max > 0 && borrowedTakenBack) {
            relendTakenBack(); // a thaw: the lent slots first, then the pwq's own
        }
        activate();
    }

    int inFlight(int color) {
        assert pool.holdsLock();
        return nrInFlight[color];
    }

    int totalInFlight() {
        assert pool.holdsLock();
        int sum = 0;
        for (int c : nrInFlight) {
            sum += c;
        }
        return sum;
    }

    int active() {
        pool.lock();
        try {
            return nrActive;
        } finally {
            pool.unlock();
        }
    }
}
