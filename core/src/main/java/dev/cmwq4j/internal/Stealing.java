package dev.cmwq4j.internal;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Stealing between the bound pools of one priority: a worker whose worklist ran empty takes an
 * unstarted work from a loaded sibling and runs it (it still counts against the pool workqueue
 * it was queued to).
 *
 * <h2>When</h2>
 * <ul>
 *   <li><b>Asking for a thief</b> ({@link #askForThief}): after an unpinned insert into a pool
 *       of long works that is busy and has a backlog of two or more (a backlog of one is what
 *       the running worker takes next), one random sibling that is idle is asked for a thief
 *       ({@link WorkerPool#kickThief}). A worker that starts a work while a stealable backlog
 *       waits asks too, so that a burst queued once does not leave the sibling idle; and so does
 *       the monitor, for a pool whose backlog waits behind runs that have not ended since its
 *       last look. For short works only these two ask.</li>
 *   <li><b>What may be stolen</b> ({@link WorkerPool#headStealableIn}): the head of a sibling's
 *       worklist, or, if the head is pinned by {@code queueOn}, the first unpinned work behind
 *       the pinned ones within the first {@link WorkerPool#STEAL_SCAN} in poll order (pinned
 *       works never leave their CPU, and used to hide the works behind them), if it has waited
 *       past the steal threshold, or the worklist has not been empty that long: a worker about
 *       to take it anyway keeps its cache-warm chain, and a worker that does not keep up (chains
 *       of works that queue their successors here) does not keep it all. Below, "the head" is
 *       that candidate.</li>
 *   <li><b>The thief</b> ({@link #trySteal}): up to four rounds over the siblings from a random
 *       start; between rounds it parks until the soonest head becomes stealable, and gives up as
 *       soon as its own pool has work.</li>
 *   <li><b>The chain</b> ({@link #runChain}): through a victim's short works, the thief ends one
 *       and claims the next under one hold of the victim's lock.</li>
 *   <li><b>Not worth it</b> ({@link WorkerPool#stealWorthwhile}): works under half a microsecond
 *       on average are never stolen, short ones not while the CPUs are saturated.</li>
 * </ul>
 *
 * <p>Stateless: the victim's head is judged, taken and claimed in one hold of the victim's lock
 * ({@link WorkerPool#takeStealCandidate}, {@link Worker#claim}), the thief never holds two pool
 * locks, and the thief-requested flag is the pool's ({@link WorkerPool#thiefDone}).
 */
final class Stealing {
    private Stealing() {}

    /**
     * After an unpinned insert into {@code pool}: if it is busy with long works, ask an idle
     * sibling for a thief. Short works get none here: a thief sent per insert found them not
     * yet stealable (they wait for the threshold), parked, looked again, and was sent again by
     * the next insert; the worker that starts a work while such a backlog is stealable asks
     * ({@link #askForThief}, from {@code Worker.process}).
     */
    static void afterInsert(WorkerPool pool) {
        // a backlog of one is what the running worker takes next (a chain): no thief for that
        // cheapest first: the run-length class sits on a line the worker rarely writes, while
        // nrPending's is rewritten on every work
        if (!pool.runsAreShort() && pool.backlog() >= 2) {
            askForThief(pool);
        }
    }

    /**
     * If {@code pool} is busy with pending work worth a thief, ask an idle sibling for one (the
     * caller judged the backlog: {@link #afterInsert}, or a worker that found it stealable).
     * Best effort, never throws: a thief is an optimization (the monitor asks again for a
     * backlog that stays stuck), and two of the callers ask between a work's start and its run
     * (a worker's {@code process}, the lane's loop), where a throw out of the sibling's lock (its
     * drain's admissions may allocate) or the manager's request cost that work: it stayed
     * started and never ran, and a flush of its workqueue waited for good
     * ({@code FaultsTest.anErrorAskingForAThiefLosesNoWork}).
     */
    static void askForThief(WorkerPool pool) {
        Engine e = pool.engine;
        // no thief for short works while every CPU is taken: it would only take turns with busy threads
        if (!e.stealing || !pool.stealWorthwhile() || pool.nrRunning.get() == 0 || pool.backlog() == 0) {
            return;
        }
        try {
            Seam.askForThief();
            WorkerPool[] pools = e.boundPools(pool.highPriority);
            WorkerPool candidate = pools[Engine.otherIndex(pool.cpu, pools.length)];
            if (candidate.isIdle() && !candidate.thiefKicked) {
                candidate.kickThief();
            }
        } catch (Throwable t) {
            // no thief this time (the kick gave its flag back)
        }
    }

    /**
     * With {@code w}'s worklist empty, takes one unstarted work that has waited past the threshold
     * in a sibling pool and runs it on {@code w}. {@code w}'s pool lock is held on entry and exit,
     * released while looking.
     *
     * @return true if a work was stolen and run
     */
    static boolean trySteal(Worker w) {
        WorkerPool p = w.pool;
        WorkerPool[] siblings = p.engine.boundPools(p.highPriority);
        int n = siblings.length;
        if (n < 2) {
            return false;
        }
        p.unlock();
        try {
            for (int round = 0; round < 4; round++) {
                long now = System.nanoTime();
                boolean tinyToo = w.mayStealTiny(now);
                long minWait = Long.MAX_VALUE;
                int start = ThreadLocalRandom.current().nextInt(n);
                for (int i = 0; i < n; i++) {
                    WorkerPool victim = siblings[(start + i) % n];
                    if (victim == p || !victim.hasWork()) {
                        continue;
                    }
                    boolean worthwhile = victim.stealWorthwhile();
                    if (!worthwhile && !(tinyToo && victim.runsAreTiny() && victim.tinyBacklogMayHaveLasted(now))) {
                        // (no lasting chain backlog, listed or ringed: the victim's lock would
                        // move its ring to the locked path and convert its lane run, for nothing)
                        continue;
                    }
                    WorkNode stolen = null;
                    long wait;
                    victim.lock(); // the head is taken and claimed under the victim's lock only
                    try {
                        if (worthwhile) {
                            wait = victim.headStealableIn(now);
                        } else {
                            wait = victim.hasTinyChainBacklog(now) ? 0 : Long.MAX_VALUE;
                        }
                        if (wait == 0) {
                            WorkNode c = victim.takeStealCandidate(); // the one just judged, in this hold
                            if (c != null && w.claim(c)) {
                                stolen = c;
                            } else {
                                wait = Long.MAX_VALUE; // handed off to its running instance's worker
                            }
                        }
                    } finally {
                        victim.unlock();
                    }
                    if (stolen != null) {
                        runChain(w, victim, stolen);
                        if (!worthwhile && !p.hasWork()) {
                            // the tiny work moved no chain here: no more of them for a while
                            w.tinyStealMissed(now);
                        }
                        return true;
                    }
                    minWait = Math.min(minWait, wait);
                }
                if (minWait == Long.MAX_VALUE || p.hasWork()) {
                    return false;
                }
                LockSupport.parkNanos(w, minWait);
            }
            return false;
        } finally {
            p.thiefDone();
            p.lock();
        }
    }

    /**
     * How many runs a worker lets pass between two looks at the balance ({@link #rebalance}):
     * a look reads a sibling's counters, a line that sibling's worker rewrites on every work.
     */
    static final int BALANCE_EVERY = 64;

    /**
     * A sibling of {@code p} (same priority) is idle: a thief could take from {@code p}'s backlog
     * now, so a worker in the fast lane lists its ring, where thieves look ({@code Worker.workLoop}).
     */
    static boolean siblingIdle(WorkerPool p) {
        if (!p.engine.stealing) {
            return false;
        }
        for (WorkerPool s : p.engine.boundPools(p.highPriority)) {
            if (s != p && s.isIdle()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A worker's look at the balance between its pool and a sibling, every {@link
     * #BALANCE_EVERY} runs. Chains of works that queue their successors stay on the pool where
     * they run, and an idle sibling's thief moves one at a time: after it took one it is busy and
     * steals no more, so a burst of chains started on one pool stayed there, all but one, while
     * the thief's CPU ran one chain. Two corrections, both for a pool its workers do not keep up
     * with:
     * <ul>
     *   <li>this pool holds chains of tiny works ({@link WorkerPool#hasTinyChainBacklog}): ask an
     *       idle sibling for a thief, which tiny works get nowhere else ({@link #askForThief}
     *       declines them);</li>
     *   <li>a random sibling waits on at least two more works than this pool, and its head may be
     *       stolen ({@link WorkerPool#headStealableIn}, or its tiny chain backlog): take that
     *       head and run it here, so that its successors come here too. Repeated every
     *       {@link #BALANCE_EVERY} runs, the pools' backlogs even out.</li>
     * </ul>
     * {@code w}'s pool lock is held on entry and exit, released while stealing.
     *
     * @return true if it released the lock (the caller looks at its pool again)
     */
    static boolean rebalance(Worker w) {
        WorkerPool p = w.pool;
        WorkerPool[] siblings = p.engine.boundPools(p.highPriority);
        int n = siblings.length;
        if (n < 2 || !p.engine.stealing || !p.managed || p.closing) {
            return false;
        }
        long now = w.lastRunEndedAt();
        if (now == 0) {
            now = System.nanoTime();
        }
        int own = p.backlog();
        WorkerPool sibling = siblings[Engine.otherIndex(p.cpu, n)];
        if (p.hasTinyChainBacklog(now)) {
            if (sibling.isIdle() && !sibling.thiefKicked) {
                p.unlock();
                try {
                    sibling.kickThief();
                } finally {
                    p.lock();
                }
                return true;
            }
            return false;
        }
        if (sibling.backlog() < own + 2 || !p.mayStealMore()
                || (sibling.runsAreTiny() && !sibling.tinyBacklogMayHaveLasted(now))) { // racy: hints
            return false;
        }
        p.unlock();
        try {
            WorkNode stolen = null;
            sibling.lock();
            try {
                boolean stealable = sibling.runsAreTiny()
                        ? sibling.hasTinyChainBacklog(now)
                        : sibling.headStealableIn(now) == 0;
                if (stealable && sibling.nrPending >= own + 2) {
                    WorkNode c = sibling.takeStealCandidate();
                    if (c != null && w.claim(c)) {
                        stolen = c;
                    }
                }
            } finally {
                sibling.unlock();
            }
            if (stolen != null) {
                try {
                    p.engine.balanceSteals.increment();
                } catch (Throwable t) {
                    // a striped count may allocate: out of memory costs the count, never the claimed run
                }
                w.clockLost(); // locks came between: the stolen run is not chained to the last one
                runChain(w, null, stolen); // one work: no chain on a sibling for a busy worker
            }
        } finally {
            p.lock();
        }
        return true;
    }

    /**
     * Runs {@code first}, claimed on {@code victim}, then, while the victim's works are short,
     * goes on taking its stealable head (the chain, {@link #mayTakeNext}). Each work of a chain
     * ends and the next is claimed under one acquisition of the victim's lock, as often as the
     * victim's own worker takes it; a thief that took it twice per work (claim, then end) made
     * 2,000,000 no-op works slower to drain with two threads than with one. Long works end the
     * chain after one: for them the lock costs nothing that matters, and a thief that stays on a
     * victim's list through the victim's blocking works holds its pool's thief request meanwhile
     * ({@link WorkerPool#thiefDone} comes at the end), so no sibling is sent while it sleeps
     * ({@code mixed-announced} took 0.70-0.89 s with such chains, 0.60-0.62 s without). A null
     * {@code victim} runs {@code first} alone ({@link #rebalance}). No lock held.
     */
    private static void runChain(Worker w, WorkerPool victim, WorkNode first) {
        WorkerPool own = w.pool;
        WorkNode n = first;
        while (n != null) {
            PoolWorkqueue last = w.runStolen(n);
            n = null;
            WorkerPool done = last.pool;
            // the run's end before the drain this lock owes: an admission may throw, and thrown
            // before the end it took the stolen run's count and colour with it for good (the
            // next claim comes after the drain: a throw leaves nothing started)
            done.lockBeforeDrain();
            try {
                w.endRun(last);
                done.drainAfterRun(false, 0);
                if (done == victim && mayTakeNext(own, victim, w.lastRunEndedAt())) {
                    WorkNode c = victim.takeStealCandidate();
                    if (c != null && w.claim(c)) {
                        n = c;
                    }
                }
            } finally {
                done.unlock();
            }
        }
    }

    /**
     * The policy for going on with a steal chain: the victim's works are short ({@link
     * WorkerPool#runsAreShort}) and still worth a thief, the thief's own pool has no work and
     * runs no more than its target ({@link WorkerPool#mayStealMore}, read without the own
     * pool's lock: a hint, looked at again after every work), and the victim's head may be
     * stolen now. Victim's lock.
     */
    private static boolean mayTakeNext(WorkerPool own, WorkerPool victim, long now) {
        return victim.runsAreShort() && victim.stealWorthwhile() && !own.hasWork() && !own.closing
                && own.mayStealMore() && victim.headStealableIn(now) == 0;
    }
}
