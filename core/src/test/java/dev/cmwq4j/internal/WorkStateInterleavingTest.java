package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An exhaustive interleaving test of the work state machine: {@link WorkNode}'s state word with
 * the worklists, driven through the internal API by {@code queue}, {@code cancel}, {@code flush}
 * and execution of the pending instance, under a deterministic scheduler that explores
 * <em>every</em> ordering of the operations' steps.
 *
 * <h2>How</h2>
 * Each actor of a scenario is a real (virtual) thread, but the {@link Explorer} lets only one run at a
 * time, and switches only at yield points placed between the steps of an operation:
 * <ul>
 *   <li>queue: claim ({@code tryClaim}) | publish ({@code enqueue} into a pool's worklist), as
 *       {@code WorkqueueCore.queue} does them, so a cancel can meet an instance that is claimed and
 *       not yet on a list;
 *   <li>cancel: one {@code tryGrab} attempt per step; an attempt that must wait ({@code
 *       GRAB_RETRY}) is retried after some other actor has moved;
 *   <li>flush: read the target | wait until it is resolved (the actor is disabled until then);
 *   <li>execution, as a worker of one pool: take and claim ({@code takeFirst}, {@code claim}) | the work's run
 *       up to a yield point in its middle | the rest of the run, the end of the instance (with any
 *       hand-off to the next) and its accounting ({@code Worker.runRescued}, the real execute
 *       path, on a stand-in worker).
 * </ul>
 * Every step between two yield points is real engine code run to completion by one thread, so
 * a step is atomic with respect to the others. A depth-first search over the choice of which
 * enabled actor moves next replays each schedule from the start and enumerates all of them. An
 * interleaving in which no actor can move while some have not finished is a hang, and fails.
 *
 * <h2>Invariants, checked after every schedule</h2>
 * <ul>
 *   <li>the work never runs concurrently with itself;
 *   <li>every queue that returned true ends in exactly one run or one successful cancel;
 *   <li>every flush returns, and then every instance queued before it began has ended;
 *   <li>the work is neither pending nor running, resolved == queued, and the pools and pool
 *       workqueues are back at rest.
 * </ul>
 *
 * <p>The engine has no timer, monitor or worker threads (it is shut down before the first
 * workqueue exists, which only stops its threads and closes its pools), so the scenario's actors
 * are the only threads that touch the work.
 */
class WorkStateInterleavingTest {
    private static Engine engine;

    /** The same, with the fast lane's ring in every bound pool from the start. */
    private static Engine laneEngine;

    @BeforeAll
    static void quietEngine() {
        // built, never started: no thread of its own; the actors are the only threads that run
        engine = quietEngine("interleaving");
        laneEngine = EngineProbe.withLane(true, () -> quietEngine("interleaving-lane"));
    }

    private static Engine quietEngine(String name) {
        return new Engine(new Engine.Config(name, 2, 16, 300_000_000_000L, 200_000, 2_000_000,
                100_000, 1_000_000_000L, 20_000, 64, 10_000_000, 250_000, 20_000_000, 30_000_000_000L,
                r -> { }, Thread::new, name + "-", (work, wq, error) -> {
                    throw new AssertionError("a work failed", error);
                }, null, true, false, true, true));
    }

    /** A bound, normal-priority workqueue of the model. */
    private static WorkqueueCore.Spec spec(String name, int maxActive) {
        return new WorkqueueCore.Spec(name, false, false, false, false, maxActive, Inheritance.NORMAL, false, false);
    }

    /** The same, CPU-intensive: its works never take the lane's ring (they go by the inbound stack). */
    private static WorkqueueCore.Spec stackSpec(String name) {
        return new WorkqueueCore.Spec(name, false, false, true, false, 256, Inheritance.NORMAL, false, false);
    }

    // ------------------------------------------------------------------------------------------
    // The scheduler.

    /**
     * Explores every schedule of a scenario, depth first, replaying each from the start. The
     * scheduler and the actors are virtual threads, so a switch costs a continuation, not a
     * kernel context switch.
     */
    private static final class Explorer {
        long schedules;
        int longest;

        void exploreAll(Function<Run, Model> scenario) {
            Throwable[] failure = new Throwable[1];
            Thread t = Thread.ofVirtual().name("explorer").start(() -> {
                try {
                    explore(scenario);
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (failure[0] instanceof Error err) {
                throw err;
            }
            if (failure[0] != null) {
                throw new AssertionError(failure[0]);
            }
        }

        private void explore(Function<Run, Model> scenario) {
            int[] prefix = new int[0];
            for (;;) {
                Run run = new Run(prefix);
                Model m = scenario.apply(run);
                try {
                    run.execute();
                    m.afterActors();
                    m.assertInvariants(run);
                } finally {
                    m.release();
                }
                schedules++;
                longest = Math.max(longest, run.choices.size());
                int i = run.choices.size() - 1;
                while (i >= 0 && run.choices.get(i) + 1 >= run.counts.get(i)) {
                    i--;
                }
                if (i < 0) {
                    return;
                }
                prefix = new int[i + 1];
                for (int j = 0; j < i; j++) {
                    prefix[j] = run.choices.get(j);
                }
                prefix[i] = run.choices.get(i) + 1;
            }
        }
    }

    /** One actor: a (virtual) thread that runs only when the scheduler says so. */
    private static final class Actor {
        final String name;
        final Runnable body;
        final Semaphore go = new Semaphore(0);
        Thread thread;
        /** Written by the actor before it hands back; read by the scheduler after. */
        BooleanSupplier enabled = () -> true;
        boolean done;
        Throwable failure;
        /** In the model's park ({@link #exploreWithIdleSeams}): moves again only once an unpark reached it. */
        boolean parked;
        /** Rounds of idle spin so far (the spin ends at every second one). */
        int spinRounds;

        Actor(String name, Runnable body) {
            this.name = name;
            this.body = body;
        }
    }

    /** One schedule: runs the actors one step at a time, choosing by the prefix, then the first. */
    private static final class Run {
        private static final ThreadLocal<Actor> ME = new ThreadLocal<>();
        private static final int MAX_STEPS = 500;

        final int[] prefix;
        final List<Integer> choices = new ArrayList<>();
        final List<Integer> counts = new ArrayList<>();
        final List<String> trace = new ArrayList<>();
        final List<Actor> actors = new ArrayList<>();
        final Semaphore back = new Semaphore(0);
        /** Steps taken so far; read by retry predicates. */
        int steps;
        /** Threads with an unpark not yet consumed by a park: the model of the park's permit. */
        final java.util.Set<Thread> permits = new java.util.HashSet<>();
        /**
         * Run when no actor can move and every one not done is parked (a quiescent schedule, not
         * a hang): it checks that no work was left behind and lets the parked ones leave, in the
         * order they come (no more choices are explored). Null: that is a hang, as any other.
         */
        Runnable onQuiescent;
        /** After {@link #onQuiescent}: the rest of the schedule runs without choices. */
        boolean finishing;

        Run(int[] prefix) {
            this.prefix = prefix;
        }

        void actor(String name, Runnable body) {
            actors.add(new Actor(name, body));
        }

        /**
         * A switch point. On an actor's thread: hands control back to the scheduler; the actor
         * moves again once chosen, which happens only while {@code until} holds. Elsewhere (a
         * sequential epilogue) it does nothing.
         */
        void yieldPoint(BooleanSupplier until) {
            Actor me = ME.get();
            if (me == null) {
                return;
            }
            me.enabled = until;
            back.release();
            me.go.acquireUninterruptibly();
        }

        void yieldPoint() {
            yieldPoint(() -> true);
        }

        /** A switch point after which this actor moves again only once another has moved since step {@code stamp}. */
        void yieldUntilMovedSince(int stamp) {
            yieldPoint(() -> steps > stamp);
        }

        /** Every actor not done waits in the model's park. */
        private boolean allParked() {
            for (Actor a : actors) {
                if (!a.done && !a.parked) {
                    return false;
                }
            }
            return true;
        }

        void execute() {
            for (Actor a : actors) {
                a.thread = Thread.ofVirtual().name("actor-" + a.name).unstarted(() -> {
                    ME.set(a);
                    a.go.acquireUninterruptibly();
                    try {
                        a.body.run();
                    } catch (Throwable t) {
                        a.failure = t;
                    } finally {
                        a.done = true;
                        back.release();
                    }
                });
                a.thread.start();
            }
            for (;;) {
                List<Actor> enabled = new ArrayList<>();
                boolean allDone = true;
                for (Actor a : actors) {
                    if (!a.done) {
                        allDone = false;
                        if (a.enabled.getAsBoolean()) {
                            enabled.add(a);
                        }
                    }
                }
                if (allDone) {
                    break;
                }
                if (enabled.isEmpty()) {
                    if (onQuiescent != null && !finishing && allParked()) {
                        finishing = true;
                        onQuiescent.run();
                        continue;
                    }
                    throw new AssertionError("hang: no actor can move; schedule " + trace);
                }
                if (steps >= MAX_STEPS) {
                    throw new AssertionError("livelock: over " + MAX_STEPS + " steps; schedule " + trace);
                }
                Actor a;
                if (finishing) {
                    a = enabled.get(0);
                } else {
                    int k = choices.size();
                    int c = k < prefix.length ? prefix[k] : 0;
                    if (c >= enabled.size()) {
                        throw new AssertionError("non-deterministic replay at step " + k + "; schedule " + trace);
                    }
                    choices.add(c);
                    counts.add(enabled.size());
                    a = enabled.get(c);
                }
                trace.add(a.name);
                steps++;
                a.go.release();
                back.acquireUninterruptibly();
                if (a.failure != null) {
                    throw new AssertionError("actor " + a.name + " failed; schedule " + trace, a.failure);
                }
            }
            for (Actor a : actors) {
                try {
                    a.thread.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // The work and its operations, in steps.

    /** One work, its counters, and its operations split at their yield points. */
    private static final class Model {
        final Run run;
        final WorkqueueCore wq;
        /** A second workqueue on the same pools, with maxActive 1, for works that move between queues. */
        final WorkqueueCore other;
        /** A third, CPU-intensive (by the inbound stack, never the ring), for the order across the two. */
        final WorkqueueCore slow;
        /**
         * With the lane: per CPU, a stand-in worker listed in that pool ({@link #lanePass}), so
         * that every lock holder waits for its takes and converts its runs, then any further ones
         * a scenario lists ({@link #secondLaneWorker}); else empty.
         */
        Worker[] laneWorkers;
        final WorkNode node = new WorkNode(this::action);
        /** CPU onto which the first run queues the work again from inside itself, or -1. */
        final int requeueOnCpu;
        /** The workqueue it queues it on (wq unless the scenario says otherwise before the actors start). */
        WorkqueueCore requeueTo;
        // Counters: written by one actor at a time (the scheduler's hand-offs order them).
        int inside;
        int overlaps;
        int runsStarted;
        int runs;
        int queuedOk;
        int cancels;
        int flushes;
        int flushBroken;
        /** Snapshots that counted a run not yet ended, went back, or counted latencies or run times apart from runs. */
        int statsBroken;
        /** Instance number (node.queued() after its claim) of the latest claimed instance. */
        int lastClaimSeq;
        /** Instance number of the latest instance whose queue returned (published on a list or the ring). */
        int lastPublishedSeq;
        /** Instance number of the instance running now (valid while inside > 0). */
        int runningSeq;
        Runnable epilogue = () -> { };

        Model(Run run, int requeueOnCpu) {
            this(run, requeueOnCpu, false);
        }

        /** With {@code lane}: on the engine whose bound pools have the fast lane's ring. */
        Model(Run run, int requeueOnCpu, boolean lane) {
            this(run, requeueOnCpu, lane, lane);
        }

        /**
         * With {@code laneStandIns} (and {@code lane}), a lane worker listed and counted as running
         * in each pool ({@link #laneWorkers}); without, the pools start with no worker counted (the
         * idle scenarios list their own: {@link #idler}).
         */
        Model(Run run, int requeueOnCpu, boolean lane, boolean laneStandIns) {
            this.run = run;
            this.requeueOnCpu = requeueOnCpu;
            Engine e = lane ? laneEngine : engine;
            wq = new WorkqueueCore(e, spec("model", 256));
            other = new WorkqueueCore(e, spec("other", 1));
            slow = new WorkqueueCore(e, stackSpec("slow"));
            requeueTo = wq;
            laneWorkers = new Worker[lane && laneStandIns ? wq.pwqs.length : 0];
            for (int cpu = 0; cpu < laneWorkers.length; cpu++) {
                laneWorkers[cpu] = listedLaneWorker(wq.pwqs[cpu].pool);
            }
        }

        /**
         * A stand-in lane worker listed and counted in {@code pool}, and counted as running, as a
         * worker that takes from the ring is: a queue then leaves its work in the ring for it,
         * instead of locking to admit it ({@code WorkerPool.pushNeedsKick}, with no worker
         * running). {@link #release} undoes it.
         */
        private static Worker listedLaneWorker(WorkerPool pool) {
            return listedAndCounted(Worker.rescuerStandIn(pool, null));
        }

        /** Lists stand-in {@code w} in its pool and counts it as running; {@link #unlisted} undoes it. */
        private static Worker listedAndCounted(Worker w) {
            w.pool.listForTests(w, true);
            w.pool.nrRunning.incrementAndGet();
            return w;
        }

        /** Unlists stand-in {@code w}, and takes it out of the running count if it is {@code counted}. */
        private static void unlisted(Worker w, boolean counted) {
            w.pool.listForTests(w, false);
            if (counted) {
                w.pool.nrRunning.decrementAndGet();
            }
        }

        /**
         * Lists a second lane worker in CPU {@code cpu}'s pool (before the actors start); its
         * passes: {@link #lanePass(Worker)}.
         */
        Worker secondLaneWorker(int cpu) {
            WorkerPool pool = wq.pwqs[cpu].pool;
            Worker w = listedLaneWorker(pool);
            // a pool whose concurrency target lets both run (WorkerPool.mayStealMore): a target
            // of 1 keeps the second off the lane, as the monitor's raise would not
            raisedPool = pool;
            savedTarget = pool.target;
            pool.target = 2;
            laneWorkers = java.util.Arrays.copyOf(laneWorkers, laneWorkers.length + 1);
            laneWorkers[laneWorkers.length - 1] = w;
            return w;
        }

        /** The pool whose target {@link #secondLaneWorker} raised, or null; and its target before, to restore. */
        private WorkerPool raisedPool;
        private int savedTarget;

        // Idle workers (the idle scenarios): each listed and counted as running before the
        // actors start; its actor takes it out of the count and into the idle protocol.

        /** The idle scenarios' workers, in their pools' lists. */
        final List<Worker> idlers = new ArrayList<>();
        /** The idlers counted as running now (from {@link #idler}, and again after an idle wait returned). */
        final java.util.Set<Worker> countedNow = new java.util.HashSet<>();
        /** The idlers inside their idle wait now (a failed schedule may leave one there, woken and so counted). */
        final java.util.Set<Worker> inIdleWait = new java.util.HashSet<>();
        /** Idle waits that returned counted: woken by a waker ({@code woken} set), or back before the park. */
        int wokenByWaker;
        int backBeforePark;

        /**
         * A worker of CPU {@code cpu}'s pool, RUNNING, listed and counted, as a worker whose work
         * loop is about to find nothing: its actor is {@link #idleThenPass}.
         */
        Worker idler(int cpu) {
            // its actor's thread, from its first step
            Worker w = listedAndCounted(Worker.idleStandIn(wq.pwqs[cpu].pool, null));
            idlers.add(w);
            countedNow.add(w);
            return w;
        }

        /**
         * An actor's body: idler {@code w} goes idle as its work loop's end does (its spin run or,
         * without {@code spin}, spent), may park (the model's park: until an unpark reaches it),
         * and each time its idle wait returns it counted, runs what its pool has (a pass of the
         * locked path, {@link #workerPass}, whose lock admits the ring too) and goes idle again;
         * it leaves when its idle wait says so (retired at a quiescent end: {@link #quiescent}).
         */
        void idleThenPass(Worker w, boolean spin) {
            w.thread = Thread.currentThread();
            WorkerPool pool = w.pool;
            for (;;) {
                boolean back;
                pool.lock();
                try {
                    countedNow.remove(w);
                    inIdleWait.add(w);
                    back = w.goIdleForTests(spin);
                    inIdleWait.remove(w);
                } finally {
                    pool.unlock();
                }
                if (!back) {
                    return;
                }
                countedNow.add(w);
                if (w.woken) {
                    wokenByWaker++;
                } else {
                    backBeforePark++;
                }
                run.yieldPoint();
                workerPass(pool.cpu);
            }
        }

        /**
         * At a quiescent end of an idle scenario (every actor left is parked): no queued work was
         * left behind by a parked worker, then each parked idler leaves, retired as the pool's
         * retirer does it (off the idle list, its unpark).
         */
        void quiescent() {
            boolean lost = runs + cancels != queuedOk || !extrasAllRan();
            String state = "(runs " + runs + ", cancels " + cancels + ", queued " + queuedOk + ", state " + node.state + ")";
            if (lost) {
                // run what was left behind, here (a yield point off the actors' threads does
                // nothing), so that the failure leaves the shared engine's pools at rest for the
                // scenarios after it, which would otherwise run this schedule's work
                for (Worker w : idlers) {
                    workerPass(w.pool.cpu);
                }
                throw new AssertionError("lost wake-up: every worker left is parked, and a queued work had not run "
                        + state + "; schedule " + run.trace);
            }
            for (Worker w : idlers) {
                WorkerPool pool = w.pool;
                pool.lock();
                try {
                    if (w.idle) {
                        pool.retireIdle(w);
                    }
                } finally {
                    pool.unlock();
                }
            }
        }

        private boolean extrasAllRan() {
            for (WorkNode n : extras) {
                if (n.resolved() != n.queued()) {
                    return false;
                }
            }
            return true;
        }

        /** Unlists the lane's stand-ins and the idlers, and their counts (the engine's pools outlive the schedule). */
        void release() {
            for (Worker w : laneWorkers) {
                unlisted(w, true);
            }
            for (Worker w : idlers) {
                WorkerPool pool = w.pool;
                pool.lock();
                try {
                    if (w.idle) { // a failed schedule may leave it listed idle
                        pool.removeIdle(w);
                    }
                } finally {
                    pool.unlock();
                }
                unlisted(w, countedNow.contains(w) || (inIdleWait.contains(w) && w.woken));
            }
            if (raisedPool != null) {
                raisedPool.target = savedTarget;
            }
        }

        private void action() {
            if (inside++ != 0) {
                overlaps++;
            }
            // it started in this same step (claim or the hand-off), so no newer claim can
            // exist: the instance that runs is the latest claimed
            runningSeq = lastClaimSeq;
            run.yieldPoint(); // others act while this instance runs
            if (runsStarted++ == 0 && requeueOnCpu >= 0) {
                queue(requeueTo, requeueOnCpu);
                run.yieldPoint(); // the new instance is published while this one still runs
            }
            inside--;
            runs++;
        }

        /** WorkqueueCore.queue in two steps: claim, then publish (its own two lines). */
        boolean queue(int cpu) {
            return queue(wq, cpu);
        }

        /** {@link #queue(int)} on workqueue {@code q}. */
        boolean queue(WorkqueueCore q, int cpu) {
            if (!node.tryClaim()) {
                return false;
            }
            lastClaimSeq = node.queued();
            int seq = node.queued();
            run.yieldPoint(); // claimed, on no list yet
            node.place(WorkNode.PINNED, true);
            q.enqueue(node, cpu);
            queuedOk++;
            lastPublishedSeq = seq;
            return true;
        }

        /**
         * WorkqueueCore.modDelayed with no delay on a pending work, in steps: take the pending
         * instance back (one {@code tryGrab(STEAL)} attempt per step), then queue it on {@code q}.
         * Does nothing if no instance is pending.
         */
        boolean move(WorkqueueCore q, int cpu) {
            for (;;) {
                int stamp = run.steps;
                int r = node.tryGrab(WorkNode.STEAL);
                if (r == WorkNode.GRAB_NONE) {
                    return false;
                }
                if (r == WorkNode.GRABBED) {
                    break;
                }
                run.yieldUntilMovedSince(stamp); // wait for a move, as cancel does
            }
            run.yieldPoint(); // taken back, on no list
            node.place(WorkNode.PINNED, true);
            q.enqueue(node, cpu);
            return true;
        }

        /**
         * Work.cancel as grab's loop, one attempt per step. An attempt that must wait is retried
         * once some actor has moved since it began: another actor, or this one at a seam inside
         * the attempt, after which the state it failed on may be gone already.
         */
        boolean cancel() {
            for (;;) {
                int stamp = run.steps;
                int r = node.tryGrab(WorkNode.CANCEL);
                if (r != WorkNode.GRAB_RETRY) {
                    if (r == WorkNode.GRABBED) {
                        cancels++;
                    }
                    return r == WorkNode.GRABBED;
                }
                run.yieldUntilMovedSince(stamp); // wait for a move
            }
        }

        /** Work.flush: the target, then the wait (this actor is disabled until it is met). */
        void flush() {
            int before = queuedOk;
            int target = node.queued();
            run.yieldPoint(() -> node.resolvedThrough(target));
            node.awaitResolved(target); // returns at once: the real check
            flushes++;
            if (runs + cancels < before) {
                flushBroken++; // fewer instances ended than had been queued when it began
            }
            if (inside > 0 && runningSeq - target <= 0) {
                flushBroken++; // an instance queued before it began still runs
            }
            if (node.isPending() && lastClaimSeq - target <= 0) {
                flushBroken++; // an instance queued before it began is still pending
            }
        }

        /** A worker of CPU {@code cpu}'s pool: pops and runs until that worklist is empty. */
        void workerPass(int cpu) {
            WorkerPool pool = wq.pwqs[cpu].pool;
            Worker w = Worker.rescuerStandIn(pool, Thread.currentThread());
            for (;;) {
                WorkNode n;
                pool.lock();
                try {
                    n = pool.takeFirst();
                    if (n != null && !w.claim(n)) {
                        n = null; // handed off to the worker running its previous instance
                    }
                } finally {
                    pool.unlock();
                }
                if (n != null) {
                    w.runRescued(n);
                } else if (pool.nrPending == 0) {
                    return;
                }
                run.yieldPoint();
            }
        }

        /** An actor's body: queues the work on CPU {@code cpu}, then a pass of that pool's worker (the lane's, with {@code lane}). */
        void queueThenPass(int cpu, boolean lane) {
            queue(cpu);
            run.yieldPoint();
            pass(cpu, lane);
        }

        /** A pass of CPU {@code cpu}'s pool: its lane worker's with {@code lane} ({@link #lanePass}), else a worker's ({@link #workerPass}). */
        void pass(int cpu, boolean lane) {
            if (lane) {
                lanePass(cpu);
            } else {
                workerPass(cpu);
            }
        }

        /**
         * {@link WorkqueueCore#flush} of {@link #wq} in its steps: the flip (tried again after
         * another actor moved, while the next colour is not free), then its wait, polled once
         * each time another actor moved (the poll takes the pool locks, as the real wait's
         * condition does, and a lock holder converts the lane's runs). When it returns, every
         * instance whose queue had returned before it began has ended.
         */
        void wqFlush() {
            int before = queuedOk;
            int seqBefore = lastPublishedSeq;
            long target;
            while ((target = wq.flipForTests()) < 0) {
                run.yieldUntilMovedSince(run.steps);
            }
            while (!wq.drainedThroughForTests(target)) {
                run.yieldUntilMovedSince(run.steps);
            }
            flushes++;
            if (runs + cancels < before) {
                flushBroken++; // fewer instances ended than had been queued when it began
            }
            if (inside > 0 && runningSeq - seqBefore <= 0 && before > 0) {
                flushBroken++; // an instance queued before it began still runs
            }
            if (node.isPending() && lastClaimSeq - seqBefore <= 0 && before > 0) {
                flushBroken++; // an instance queued before it began is still pending
            }
        }

        /**
         * A worker of CPU {@code cpu}'s pool with the lane, as its work loop goes: the lane when
         * the pool lets it ({@link Worker#fastFirstForTests}: nothing listed or inbound, the ring
         * not empty), else a drain and the locked path, until the pool has nothing for it. Its
         * stand-in is listed in the pool, so lock holders wait for its takes and convert its runs.
         */
        void lanePass(int cpu) {
            lanePass(laneWorkers[cpu]);
        }

        /** {@link #lanePass(int)} by lane worker {@code w} of its pool. */
        void lanePass(Worker w) {
            WorkerPool pool = w.pool;
            for (;;) {
                WorkNode n = null;
                boolean took;
                pool.lockBeforeDrain();
                try {
                    took = w.fastFirstForTests(pool);
                    if (!took) {
                        pool.drainInbound();
                        n = pool.takeFirst();
                        if (n != null && !w.claim(n)) {
                            n = null; // handed off to the worker running its previous instance
                        }
                    }
                } finally {
                    pool.unlock();
                }
                if (n != null) {
                    w.runRescued(n);
                } else if (!took && !pool.hasWork()) {
                    return;
                }
                run.yieldPoint();
            }
        }

        void afterActors() {
            epilogue.run();
        }

        void assertInvariants(Run r) {
            check(r, overlaps == 0, "the work ran concurrently with itself");
            check(r, runs + cancels == queuedOk, "runs + cancels != successful queues");
            check(r, flushBroken == 0, "a flush returned before an instance queued before it ended");
            check(r, statsBroken == 0, "a statistics snapshot counted ahead of the runs, went back, or split its counts");
            check(r, node.state == 0, "state word not at rest");
            check(r, node.resolved() == node.queued(), "resolved != queued");
            for (WorkNode n : extras) {
                check(r, n.state == 0 && n.queued() == 1 && n.resolved() == 1, "a further work not run once: state "
                        + n.state + ", resolved " + n.resolved());
            }
            check(r, starts.size() + returned.size() == extras.size(), "further works started: " + starts
                    + ", returned by a take-back: " + returned);
            for (String name : returned) {
                check(r, !starts.contains(name), "a task returned by the take-back also ran: " + name);
            }
            check(r, missed.isEmpty(), "a task queued before the take-back began was still pending after it, not returned: "
                    + missed);
            check(r, otherRunningMost <= 1, "more works of a workqueue of maxActive 1 ran at once than 1");
            for (Worker w : laneWorkers) {
                check(r, w.fastMark == null, "a lane worker's mark not cleared: " + w.fastMark);
                check(r, w.handBack == null, "a node handed back and never collected");
            }
            if (laneWorkers.length > 0) {
                // every run counted once, in the lane's buffers or in the pwqs (each snapshot
                // locks the pools, which converts and collects, as a flush's would)
                Engine.WorkqueueSnapshot a = wq.snapshot();
                Engine.WorkqueueSnapshot b = other.snapshot();
                Engine.WorkqueueSnapshot c = slow.snapshot();
                long counted = a.total() + b.total() + c.total();
                check(r, counted == runs + starts.size(), "runs counted in the statistics: " + counted);
                check(r, a.inFlight() + b.inFlight() + c.inFlight() == 0, "works in flight in the statistics");
                check(r, sum(a.latencyCounts()) == a.total() && sum(a.execCounts()) == a.total(),
                        "latencies or run times not one per run");
            }
            for (PoolWorkqueue pwq : allPwqs()) {
                pwq.pool.lock();
                try {
                    String where = pwq.wq + "@" + pwq.pool;
                    check(r, !pwq.pool.hasWork(), "work left inbound, in the ring or listed in " + where);
                    check(r, pwq.pool.nrPending == 0, "pending works left in " + where);
                    check(r, pwq.nrActive == 0, "active works counted in " + where + ": " + pwq.nrActive);
                    check(r, pwq.totalInFlight() == 0, "works in flight counted in " + where + ": "
                            + pwq.totalInFlight());
                } finally {
                    pwq.pool.unlock();
                }
            }
        }

        private static long sum(long[] counts) {
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            return n;
        }

        private List<PoolWorkqueue> allPwqs() {
            List<PoolWorkqueue> all = new ArrayList<>(List.of(wq.pwqs));
            all.addAll(List.of(other.pwqs));
            all.addAll(List.of(slow.pwqs));
            return all;
        }

        // Further works, beside the one the counters above follow: each runs once, logs its
        // start, and counts how many works of workqueue "other" (maxActive 1) run at once.

        /** Starts of the further works, in order. */
        final List<String> starts = new ArrayList<>();
        final List<WorkNode> extras = new ArrayList<>();
        int otherRunning;
        int otherRunningMost;

        /** A further work named {@code name}, of workqueue {@code q} when queued ({@link #queueExtra}). */
        WorkNode extra(String name, WorkqueueCore q) {
            WorkNode n = new WorkNode(() -> {
                starts.add(name);
                boolean limited = q == other;
                if (limited && ++otherRunning > otherRunningMost) {
                    otherRunningMost = otherRunning;
                }
                run.yieldPoint(); // others act while it runs
                if (limited) {
                    otherRunning--;
                }
            });
            extras.add(n);
            extraNames.add(null);
            return n;
        }

        /** The names of {@link #extras} made by {@link #task}, at their indexes (null for the others). */
        final List<String> extraNames = new ArrayList<>();
        /** The further works an executor view's take-back returned ({@link #takeBackAll}), by name. */
        final List<String> returned = new ArrayList<>();
        /** The tasks' actions, by name, to name what a take-back returns. */
        private final java.util.Map<Runnable, String> taskNames = new java.util.HashMap<>();

        /**
         * A further work that is a task of an executor view: a one-shot node of {@code group}
         * (what the view's {@code execute} queues), logged as {@link #extra} logs its start.
         */
        WorkNode task(String name, WorkNode.Group group) {
            Runnable action = () -> {
                starts.add(name);
                run.yieldPoint(); // others act while it runs
            };
            taskNames.put(action, name);
            WorkNode n = WorkNode.oneShot(action, group);
            extras.add(n);
            extraNames.add(name);
            return n;
        }

        /** Tasks whose queue has returned ({@link #queueTask}), by name. */
        final List<String> queuedTasks = new ArrayList<>();
        /** Tasks queued before a take-back began and still pending, not returned, after it: missed. */
        final List<String> missed = new ArrayList<>();

        /** {@link #queueExtra} of task {@code n}, logged in {@link #queuedTasks} once its queue returned. */
        void queueTask(String name, WorkNode n, WorkqueueCore q, int cpu) {
            queueExtra(n, q, cpu);
            queuedTasks.add(name);
        }

        /**
         * The take-back of the view's {@code shutdownNow} on workqueues {@code qs} in turn (the
         * engine's part, {@link WorkqueueCore#cancelGroup}: every task of {@code group} not yet
         * started, taken back; what it returns is logged in {@link #returned}): once it returns,
         * no task whose queue returned before it began may still be pending unless it was
         * returned (started ones are the view's interrupt's business).
         */
        void takeBackAll(WorkNode.Group group, WorkqueueCore... qs) {
            List<String> before = new ArrayList<>(queuedTasks);
            for (WorkqueueCore q : qs) {
                List<Runnable> out = new ArrayList<>();
                q.cancelGroup(group, out);
                for (Runnable a : out) {
                    returned.add(taskNames.get(a));
                }
            }
            for (String name : before) {
                WorkNode n = extras.get(extraNames.indexOf(name));
                if (n.isPending() && !returned.contains(name)) {
                    missed.add(name);
                }
            }
        }

        /** Queues a further work on {@code q}, pinned to {@code cpu}, in two steps, as {@link #queue} does. */
        void queueExtra(WorkNode n, WorkqueueCore q, int cpu) {
            assertThat(n.tryClaim()).isTrue();
            run.yieldPoint(); // claimed, on no list yet
            n.place(WorkNode.PINNED, true);
            q.enqueue(n, cpu);
        }

        private void check(Run r, boolean ok, String what) {
            if (!ok) {
                throw new AssertionError(what + " (runs " + runs + ", cancels " + cancels + ", queued " + queuedOk
                        + ", state " + node.state + "); schedule " + r.trace);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Scenarios.

    @Test
    void queueAndExecutionAgainstCancelAndFlush() {
        Explorer e = new Explorer();
        int[] outcomes = new int[2];
        e.exploreAll(run -> {
            Model m = new Model(run, -1);
            run.actor("W", () -> m.queueThenPass(0, false));
            run.actor("C", () -> {
                if (m.cancel()) {
                    outcomes[0]++;
                }
                run.yieldPoint();
                m.flush();
            });
            m.epilogue = () -> outcomes[1] += m.runs;
            return m;
        });
        report("queue+execute | cancel+flush", e);
        assertThat(outcomes[0]).as("some schedules cancel the pending instance").isPositive();
        assertThat(outcomes[1]).as("some schedules run it").isPositive();
    }

    @Test
    void twoQueuersOnTwoPoolsWithExecutionAgainstCancelAndFlush() {
        Explorer e = new Explorer();
        int[] handoffs = new int[1];
        e.exploreAll(run -> {
            Model m = new Model(run, -1);
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> m.queueThenPass(1, false));
            run.actor("C", () -> {
                m.cancel();
                run.yieldPoint();
                m.flush();
            });
            m.epilogue = () -> {
                if (m.queuedOk == 2 && m.runs == 2) {
                    handoffs[0]++;
                }
            };
            return m;
        });
        report("queue0+execute0 | queue1+execute1 | cancel+flush", e);
        assertThat(handoffs[0]).as("schedules where both queues succeed and both run").isPositive();
    }

    @Test
    void flushDuringARunIsNotReleasedByTheCancelOfALaterInstance() {
        Explorer e = new Explorer();
        e.exploreAll(run -> {
            Model m = new Model(run, -1);
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> {
                m.queue(1);
                run.yieldPoint();
                m.cancel();
            });
            run.actor("F", () -> {
                m.flush();
                run.yieldPoint();
                m.flush();
            });
            // B's instance, if B's cancel came too late to take it, waits for a worker: run it
            m.epilogue = () -> m.workerPass(1);
            return m;
        });
        report("queue0+execute0 | queue1+cancel | flush+flush", e);
    }

    @Test
    void requeueDuringARunPoppedByAnotherWorkerIsHandedOffAndFlushWaitsForIt() {
        Explorer e = new Explorer();
        e.exploreAll(run -> {
            Model m = new Model(run, 0); // the first run queues the work again on CPU 0
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> m.workerPass(0)); // a second worker of the same pool
            run.actor("F", () -> {
                m.flush();
                run.yieldPoint();
                m.flush();
            });
            return m;
        });
        report("queue0+execute0 (re-queues itself) | execute0 | flush+flush", e);
    }

    @Test
    void severalInstancesCancelledBehindOneRunAllResolveInOrder() {
        exploreCancelledBehind(false, 1, 2, "queue0+execute0 | (queue1+cancel) x2 | flush");
    }

    /**
     * The work queued on CPU 0 and run by that pool's worker ({@code lane}: the lane worker), while
     * another actor queues it on CPU {@code cpu} and cancels it, {@code behind} times, and a
     * third flushes it: the run's end resolves itself and every instance cancelled behind it, in
     * order, and some schedules cancel every one of them behind the one run.
     */
    private static void exploreCancelledBehind(boolean lane, int cpu, int behind, String scenario) {
        Explorer e = new Explorer();
        int[] allBehind = new int[1];
        Function<Run, Model> model = run -> {
            Model m = new Model(run, -1, lane);
            run.actor("A", () -> m.queueThenPass(0, lane));
            run.actor("B", () -> {
                for (int i = 0; i < behind; i++) {
                    m.queue(cpu);
                    run.yieldPoint();
                    m.cancel();
                    run.yieldPoint();
                }
            });
            run.actor("F", m::flush);
            m.epilogue = () -> {
                if (m.cancels == behind && m.runs == 1) {
                    allBehind[0]++;
                }
                m.pass(cpu, lane);
            };
            return m;
        };
        if (lane) {
            exploreWithLaneSeams(e, model);
        } else {
            e.exploreAll(model);
        }
        report(scenario, e);
        assertThat(allBehind[0]).as("schedules with every instance behind the run cancelled").isPositive();
    }

    @Test
    void requeueOntoAnotherPoolDuringARunAgainstCancel() {
        Explorer e = new Explorer();
        e.exploreAll(run -> {
            Model m = new Model(run, 1); // the first run queues the work again on CPU 1
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> {
                m.workerPass(1);
                run.yieldPoint();
                m.workerPass(1);
            });
            run.actor("C", () -> {
                m.cancel();
                run.yieldPoint();
                m.cancel();
            });
            // an instance queued after B's last look waits for a worker: run it here
            m.epilogue = () -> m.workerPass(1);
            return m;
        });
        report("queue0+execute0 (re-queues onto 1) | execute1 x2 | cancel x2", e);
    }

    // ------------------------------------------------------------------------------------------
    // Works that move between workqueues (issue 20). The handed-off instance's pwq is read
    // without a lock before it is acted on; the seam there (Seam.onHandoffPwqRead) is a yield
    // point in these scenarios, as if the thread were preempted right after that read.

    /** The run whose actors yield at the seam; set by each schedule of a seam scenario. */
    private static volatile Run seamRun;

    /**
     * A seam hook's yield point in the current run: none before the first schedule and after the
     * last (no run), and none on a thread that is not an actor ({@link Run#yieldPoint}).
     */
    private static void seamYield() {
        Run r = seamRun;
        if (r != null) {
            r.yieldPoint();
        }
    }

    /** Explores {@code scenario} with a yield point at the handoff seam. */
    private static void exploreWithHandoffSeam(Explorer e, Function<Run, Model> scenario) {
        Seam.onHandoffPwqRead = WorkStateInterleavingTest::seamYield;
        try {
            e.exploreAll(run -> {
                seamRun = run;
                return scenario.apply(run);
            });
        } finally {
            Seam.onHandoffPwqRead = null;
            seamRun = null;
        }
    }

    @Test
    void requeueOntoAnotherWorkqueueDuringARunAgainstCancel() {
        Explorer e = new Explorer();
        int[] moved = new int[1];
        exploreWithHandoffSeam(e, run -> {
            Model m = new Model(run, 1); // the first run queues the work again on CPU 1 of "other"
            m.requeueTo = m.other;
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> m.workerPass(1));
            run.actor("C", () -> {
                m.cancel();
                run.yieldPoint();
                m.cancel();
            });
            m.epilogue = () -> {
                if (m.runs == 2) {
                    moved[0]++;
                }
                m.workerPass(1);
            };
            return m;
        });
        report("queue0+execute0 (re-queues onto other@1) | execute1 | cancel x2", e);
        assertThat(moved[0]).as("schedules where the work runs on both workqueues").isPositive();
    }

    /**
     * A cancel reads the pwq of an instance handed off to the worker running the work (model@1);
     * before it acts, that worker takes the instance and runs it, and a newer instance is queued on
     * another workqueue (other@1) and handed off the same way, which restores the state word. The
     * cancel must end the instance it takes in the newer one's pwq, not in the one it read.
     */
    @Test
    void cancelOfAHandedOffInstanceAgainstItsRunnerAndARequeueOnAnotherWorkqueue() {
        Explorer e = new Explorer();
        int[] cancelledHandoff = new int[1];
        exploreWithHandoffSeam(e, run -> {
            Model m = new Model(run, -1);
            run.actor("R", () -> m.queueThenPass(0, false));
            run.actor("Q", () -> {
                m.queue(1);
                run.yieldPoint();
                m.workerPass(1); // hands model@1's instance off to R
                run.yieldPoint();
                m.queue(m.other, 1);
                run.yieldPoint();
                m.workerPass(1); // hands other@1's instance off to R
            });
            run.actor("C", m::cancel);
            m.epilogue = () -> {
                if (m.cancels == 1 && m.runs == 2) {
                    cancelledHandoff[0]++;
                }
                m.workerPass(0);
                m.workerPass(1);
            };
            return m;
        });
        report("queue0+execute0 | queue1+execute1+queue(other)1+execute1 | cancel (seam)", e);
        assertThat(cancelledHandoff[0]).as("schedules that cancel a handed-off instance").isPositive();
    }

    /**
     * The runner reads the pwq of the instance handed off to it (model@1); before it takes it,
     * modDelayed takes that instance back and queues it on another workqueue (other@1), where a
     * worker pops it and hands it off again, which restores the state word. The runner must run it
     * and end it in other@1, not in the pwq it read.
     */
    @Test
    void runnerTakingAHandoffAgainstModDelayedMovingItToAnotherWorkqueue() {
        Explorer e = new Explorer();
        int[] movedHandoff = new int[1];
        exploreWithHandoffSeam(e, run -> {
            Model m = new Model(run, -1);
            run.actor("R", () -> m.queueThenPass(0, false));
            run.actor("Q", () -> {
                m.queue(1);
                run.yieldPoint();
                m.workerPass(1); // hands model@1's instance off to R
            });
            run.actor("M", () -> {
                boolean moved = m.move(m.other, 1);
                run.yieldPoint();
                m.workerPass(1); // hands the moved instance off to R, if R still runs
                if (moved) {
                    movedHandoff[0]++;
                }
            });
            m.epilogue = () -> {
                m.workerPass(0);
                m.workerPass(1);
            };
            return m;
        });
        report("queue0+execute0 | queue1+execute1 | modDelayed(other@1)+execute1 (seam)", e);
        assertThat(movedHandoff[0]).as("schedules that move the pending instance").isPositive();
    }

    // ------------------------------------------------------------------------------------------
    // The fast lane (ARCHITECTURE 6, "The fast lane"; issue 16's proof obligations). The model's
    // bound pools have their ring from the start; a queue offers the work to it, a lane worker
    // (a stand-in listed in its pool) takes it without the lock and runs it uncounted, and every
    // lock holder (a cancel's grab, a flush's flip and polls, another worker, a snapshot) closes
    // the ring, waits for a take in progress and converts a fast run into a counted one. Yield
    // points: the lane's three seams (IN_FLIGHT before a take; a node taken, not started; a run
    // ended and resolved, its mark not yet CASed), a holder's wait for a taker, and a lock found
    // held by an actor stopped in that wait (its other contenders wait until it is free).

    /**
     * Explores {@code scenario} with yield points at the lane's seams. The hooks act only on the
     * actors' threads (a yield point elsewhere does nothing), and before the first schedule and
     * after the last there is no run: a thread of another engine in this JVM that passes a seam
     * meanwhile goes on untouched.
     */
    private static void exploreWithLaneSeams(Explorer e, Function<Run, Model> scenario) {
        Seam.onLane = phase -> seamYield();
        Seam.onHolderWait = () -> {
            Run r = seamRun;
            if (r != null) {
                r.yieldUntilMovedSince(r.steps); // the taker moves first
            }
        };
        Seam.onLockBusy = lock -> {
            Run r = seamRun;
            if (r != null && lock.isLocked()) {
                r.yieldPoint(() -> !lock.isLocked());
            }
        };
        try {
            exploreWithHandoffSeam(e, scenario);
        } finally {
            Seam.onLane = null;
            Seam.onHolderWait = null;
            Seam.onLockBusy = null;
        }
    }

    /** Lane starts and conversions over the lane engine's pools, for the scenarios' coverage checks. */
    private static long[] laneCounts() {
        long starts = 0;
        long conversions = 0;
        for (WorkerPool p : laneEngine.pools()) {
            starts += p.laneStarts();
            conversions += p.conversions();
        }
        return new long[] {starts, conversions};
    }

    /**
     * A work offered to the ring and run in the lane, against a cancel with a flush of the work
     * and a flush of its workqueue: the cancel's grab and the flush's flip and polls lock the
     * pool, so they meet the take in progress (and wait for it) or the run (and convert it).
     */
    @Test
    void laneTakeAndRunAgainstCancelFlushAndWorkqueueFlush() {
        Explorer e = new Explorer();
        int[] outcomes = new int[3]; // cancelled, ran in the lane, converted
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, -1, true);
            long[] before = laneCounts();
            run.actor("W", () -> m.queueThenPass(0, true));
            run.actor("C", () -> {
                if (m.cancel()) {
                    outcomes[0]++;
                }
                run.yieldPoint();
                m.flush();
            });
            run.actor("F", m::wqFlush);
            m.epilogue = () -> {
                long[] after = laneCounts();
                if (after[0] > before[0]) {
                    outcomes[1]++;
                }
                if (after[1] > before[1]) {
                    outcomes[2]++;
                }
            };
            return m;
        });
        report("queue0+lane0 | cancel+flush | flush(wq)", e);
        assertThat(outcomes[0]).as("schedules that cancel the pending instance").isPositive();
        assertThat(outcomes[1]).as("schedules that run it in the lane").isPositive();
        assertThat(outcomes[2]).as("schedules where a lock holder converts the fast run").isPositive();
    }

    /**
     * Statistics snapshots taken while a work goes through the lane (each locks the pool, which
     * waits for a take in progress and converts a fast run): a snapshot never counts a run that
     * has not ended, never goes back, and counts as many latencies and run times as runs.
     */
    @Test
    void statisticsSnapshotsDuringALaneRunNeverGoBackNorCountAheadOfTheRuns() {
        Explorer e = new Explorer();
        int[] sawTheRun = new int[1];
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, 0, true); // the first run queues the work again on CPU 0
            run.actor("W", () -> m.queueThenPass(0, true));
            run.actor("S", () -> {
                long last = 0;
                for (int i = 0; i < 3; i++) {
                    Engine.WorkqueueSnapshot a = m.wq.snapshot();
                    long latencies = Model.sum(a.latencyCounts());
                    long times = Model.sum(a.execCounts());
                    if (a.total() > m.runs || a.total() < last || latencies != a.total() || times != a.total()) {
                        m.statsBroken++;
                    }
                    if (a.total() > 0) {
                        sawTheRun[0]++;
                    }
                    last = a.total();
                    run.yieldPoint();
                }
            });
            return m;
        });
        report("queue0+lane0 (re-queues itself) | snapshot x3", e);
        assertThat(sawTheRun[0]).as("snapshots that count a run").isPositive();
    }

    /**
     * Instances queued and cancelled behind a fast run (on its own pool, so each goes to the ring
     * the run's worker takes from, and a cancel's grab locks that pool, which converts the run):
     * the run's end resolves itself and every instance cancelled behind it, in order. (Two
     * instances behind it and a flush of the work as a third actor: 4.3 million schedules,
     * minutes; one of them here, and the flush in the first lane scenario.)
     */
    @Test
    void anInstanceCancelledBehindAFastRunResolvesInOrder() {
        exploreCancelledBehind(true, 0, 1, "queue0+lane0 | queue0+cancel | flush");
    }

    /**
     * Works of one level queued on one pool in order, the first to the ring and the second (a
     * CPU-intensive workqueue's) onto the inbound stack: the lane worker and a second worker on the
     * locked path start them in that order (the stack's push closes an open ring; a drain merges
     * the two by the ring position each push read).
     */
    @Test
    void worksOfOneLevelStartInQueueingOrderAcrossTheRingAndTheStack() {
        Explorer e = new Explorer();
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, -1, true);
            WorkNode x = m.extra("x", m.wq);
            WorkNode y = m.extra("y", m.slow);
            run.actor("P", () -> {
                m.queueExtra(x, m.wq, 0);
                run.yieldPoint();
                m.queueExtra(y, m.slow, 0);
            });
            run.actor("W", () -> {
                run.yieldPoint();
                m.lanePass(0);
            });
            run.actor("B", () -> {
                run.yieldPoint();
                m.workerPass(0);
            });
            m.epilogue = () -> {
                m.lanePass(0);
                if (!m.starts.equals(List.of("x", "y"))) {
                    throw new AssertionError("started out of queueing order: " + m.starts + "; schedule " + run.trace);
                }
            };
            return m;
        });
        report("queue x (ring), queue y (stack) | lane0 | execute0", e);
    }

    /**
     * Works of a workqueue of maxActive 1 on a pool with two lane workers, each of which could
     * take one from the ring: fast runs are never counted, so the lane starts a work only while
     * every worker of the pool could run one beside the counted ones within the limit
     * ({@code PoolWorkqueue.fastOk}), which for a limit of 1 is never; the second work waits
     * inactive until the first ends.
     */
    @Test
    void theLaneKeepsAWorkqueueWithinItsMaxActive() {
        Explorer e = new Explorer();
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, -1, true);
            Worker second = m.secondLaneWorker(0);
            // both in the ring before the workers look (queued here, before the actors start:
            // the schedules of the two takes are what this explores)
            m.queueExtra(m.extra("x", m.other), m.other, 0);
            m.queueExtra(m.extra("y", m.other), m.other, 0);
            run.actor("W", () -> m.lanePass(0));
            run.actor("V", () -> m.lanePass(second));
            m.epilogue = () -> m.lanePass(0);
            return m;
        });
        report("x, y queued (maxActive 1) | lane0 | lane0 (a second lane worker)", e);
    }

    /**
     * The fast run queues its work again on its own pool: its next instance goes to the ring,
     * where the lane worker takes it after the run, or a second worker of the pool (locked
     * path) takes it while the first instance still runs and hands it off to the lane worker,
     * whose end then converts its run and ends it counted with the hand-off; against a flush of
     * the workqueue.
     */
    @Test
    void aFastRunThatRequeuesItselfAgainstASecondWorkerAndAWorkqueueFlush() {
        Explorer e = new Explorer();
        int[] handedOff = new int[1];
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, 0, true); // the first run queues the work again on CPU 0
            long[] before = laneCounts();
            run.actor("W", () -> m.queueThenPass(0, true));
            run.actor("B", () -> m.workerPass(0)); // a second worker of the pool, locked path
            run.actor("F", m::wqFlush);
            m.epilogue = () -> {
                long[] after = laneCounts();
                if (m.runs == 2 && after[1] > before[1]) {
                    handedOff[0]++;
                }
                m.lanePass(0);
            };
            return m;
        });
        report("queue0+lane0 (re-queues itself) | execute0 | flush(wq)", e);
        assertThat(handedOff[0]).as("schedules that convert a fast run and run both instances").isPositive();
    }

    /**
     * The first instance runs on pool 0 (locked path) and queues the work again onto pool 1's
     * ring, where the lane worker takes it while that instance still runs: it may not start it
     * in the lane (a hand-off needs the node counted), so it hands it back, and its pool's next
     * lock holder admits it, after which it is handed off to the runner on pool 0; against a
     * cancel that may take either instance.
     */
    @Test
    void aLaneTakeOfAWorkRunningElsewhereIsHandedBackAgainstCancel() {
        Explorer e = new Explorer();
        int[] twoRuns = new int[1];
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, 1, true); // the first run queues the work again on CPU 1
            run.actor("A", () -> m.queueThenPass(0, false));
            run.actor("B", () -> {
                m.lanePass(1);
                run.yieldPoint();
                m.lanePass(1);
            });
            run.actor("C", m::cancel);
            m.epilogue = () -> {
                if (m.runs == 2) {
                    twoRuns[0]++;
                }
                m.lanePass(1);
                m.workerPass(0);
            };
            return m;
        });
        report("queue0+execute0 (re-queues onto the ring of 1) | lane1 x2 | cancel", e);
        assertThat(twoRuns[0]).as("schedules where both instances run").isPositive();
    }

    /**
     * The engine's part of an executor view's {@code shutdownNow} (the take-back of every task
     * of the view not yet started, {@link WorkqueueCore#cancelGroup}, on each workqueue) against
     * two tasks of the view queued by one thread, the first to the ring, the second (a
     * CPU-intensive workqueue's) onto the inbound stack, and a lane worker (whose pass takes the
     * locked path for what is listed): each task runs once or is returned once, never both and
     * never neither, and none queued before the take-back began is still pending, unreturned,
     * after it (issue 16: {@code shutdownNow} returns every unstarted task). The take-back locks
     * the pool, so it closes the ring, waits for a take in progress, converts a fast run and
     * admits what the ring and the stack hold before it looks at the lists.
     */
    @Test
    void aTakeBackOfAViewsTasksReturnsEachUnstartedOneOnceAgainstTheLane() {
        Explorer e = new Explorer();
        int[] outcomes = new int[3]; // schedules with a task returned, with one run in the lane, with both returned
        exploreWithLaneSeams(e, run -> {
            Model m = new Model(run, -1, true);
            WorkNode.Group view = () -> { };
            WorkNode x = m.task("x", view);
            WorkNode y = m.task("y", view);
            long[] before = laneCounts();
            run.actor("P", () -> {
                m.queueTask("x", x, m.wq, 0);
                run.yieldPoint();
                m.queueTask("y", y, m.slow, 0);
            });
            run.actor("W", () -> {
                run.yieldPoint();
                m.lanePass(0);
            });
            run.actor("S", () -> m.takeBackAll(view, m.wq, m.slow));
            m.epilogue = () -> {
                m.lanePass(0); // what neither took back nor ran yet runs now
                if (!m.returned.isEmpty()) {
                    outcomes[0]++;
                }
                if (laneCounts()[0] > before[0]) {
                    outcomes[1]++;
                }
                if (m.returned.size() == 2) {
                    outcomes[2]++;
                }
            };
            return m;
        });
        report("queue x (ring), queue y (stack) | lane0 | take back (wq, slow)", e);
        assertThat(outcomes[0]).as("schedules where the take-back returns a task").isPositive();
        assertThat(outcomes[1]).as("schedules where a task runs in the lane").isPositive();
        assertThat(outcomes[2]).as("schedules where both are returned").isPositive();
    }

    // ------------------------------------------------------------------------------------------
    // The idle protocol (issue 16: no lost wake-up). A worker whose pool ran dry leaves the
    // running count, reads the inbound stack (and the ring) under the pool lock, joins the idle
    // list, lets the lock go, spins a while as "searching", and parks unless it was woken or saw
    // work; a queuer pushes (or offers), then reads the running and searching counts, and if
    // nobody is certain to look, takes the lock, whose admission kicks: it wakes the idle worker
    // (its woken flag, then an unpark unless the worker is still spinning). Yield points: after
    // the push, each round of the spin (which ends after two), before the park decision, and
    // between the waker's store of woken and its read of spinning; a lock found held by a
    // stopped actor. The park is the model's: the actor waits until an unpark reaches its thread
    // (a permit left by an earlier unpark is consumed at once, as LockSupport's is). A schedule
    // may end with workers parked; then nothing queued may be left unrun (a lost wake-up).

    /**
     * Explores {@code scenario} with yield points at the idle protocol's seams, the lane's
     * ({@link #exploreWithLaneSeams}: its contended-lock seam among them) and the push's, and
     * the model's park and unpark.
     */
    private static void exploreWithIdleSeams(Explorer e, Function<Run, Model> scenario) {
        Seam.onIdle = phase -> seamYield();
        Seam.onPush = phase -> {
            if (phase != 0) {
                seamYield(); // pushed (or offered), the counts not yet read; or read, the lock not yet taken
            }
        };
        Seam.onSpin = () -> {
            Run r = seamRun;
            Actor me = Run.ME.get();
            if (r == null || me == null) {
                return false;
            }
            r.yieldPoint();
            return ++me.spinRounds % 2 == 0;
        };
        Seam.onPark = w -> {
            Run r = seamRun;
            Actor me = Run.ME.get();
            if (r == null || me == null) {
                return false; // a real park
            }
            Thread t = Thread.currentThread();
            if (!r.permits.remove(t)) {
                me.parked = true;
                r.yieldPoint(() -> r.permits.contains(t));
                me.parked = false;
                r.permits.remove(t);
            }
            return true;
        };
        Seam.onUnpark = t -> {
            Run r = seamRun;
            if (r != null) {
                r.permits.add(t);
            }
        };
        try {
            exploreWithLaneSeams(e, run -> {
                Model m = scenario.apply(run);
                run.onQuiescent = m::quiescent;
                return m;
            });
        } finally {
            Seam.onIdle = null;
            Seam.onPush = null;
            Seam.onSpin = null;
            Seam.onPark = null;
            Seam.onUnpark = null;
        }
    }

    /**
     * A work queued while the pool's only worker goes idle, with and without its idle spin, on
     * the locked path's stack and on the lane's ring: the work runs once, whoever takes it (the
     * worker's idle entry, its spin, or a wake by the queuer's admission), and the worker never
     * parks with it unrun.
     */
    @Test
    void aWorkQueuedAsTheOnlyWorkerGoesIdleIsNeverLeftBehind() {
        for (boolean lane : new boolean[] {false, true}) {
            for (boolean spin : new boolean[] {true, false}) {
                Explorer e = new Explorer();
                int[] outcomes = new int[3]; // woken by the queuer's kick; back before parking; parked at the end
                exploreWithIdleSeams(e, run -> {
                    Model m = new Model(run, -1, lane, false);
                    Worker w = m.idler(0);
                    run.actor("W", () -> m.idleThenPass(w, spin));
                    run.actor("Q", () -> m.queue(0));
                    m.epilogue = () -> {
                        if (m.wokenByWaker > 0) {
                            outcomes[0]++;
                        }
                        if (m.backBeforePark > 0) {
                            outcomes[1]++;
                        }
                        if (run.finishing) {
                            outcomes[2]++;
                        }
                    };
                    return m;
                });
                report("idle0" + (spin ? " (spins)" : "") + " | queue0" + (lane ? " (ring)" : " (stack)"), e);
                assertThat(outcomes[0]).as("schedules where the queuer's admission wakes the worker").isPositive();
                assertThat(outcomes[1]).as("schedules where the worker finds the work before it parks").isPositive();
            }
        }
    }

    /**
     * Two works queued one after the other while the pool's only worker goes idle (its spin
     * run): both run, each once, and the worker never parks with one of them unrun: the second
     * push, while the worker runs the first or while a wake is under way, is seen by the
     * worker's pass or its next idle entry.
     */
    @Test
    void twoWorksQueuedAsTheOnlyWorkerGoesIdleBothRun() {
        Explorer e = new Explorer();
        exploreWithIdleSeams(e, run -> {
            Model m = new Model(run, -1, false, false);
            Worker w = m.idler(0);
            WorkNode x = m.extra("x", m.slow);
            WorkNode y = m.extra("y", m.slow);
            run.actor("W", () -> m.idleThenPass(w, true));
            run.actor("P", () -> {
                m.queueExtra(x, m.slow, 0);
                m.queueExtra(y, m.slow, 0);
            });
            return m;
        });
        report("idle0 (spins) | queue x, queue y", e);
    }

    /**
     * One work queued while both workers of the pool go idle (one spins): it runs once; a wake
     * takes the most recently idle worker, and a worker that is still spinning is woken without
     * an unpark (its searching count made the queuer skip the kick, or the waker saw it
     * spinning). At a quiescent end the other worker parks with nothing left behind. About 3.6
     * million schedules, three minutes: under {@code -Pstress} only.
     */
    @Test
    void oneWorkQueuedAsTwoWorkersGoIdleRunsOnce() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Integer.getInteger("cmwq4j.stress.scale", 1) > 1,
                "about three minutes of schedules: -Pstress");
        Explorer e = new Explorer();
        exploreWithIdleSeams(e, run -> {
            Model m = new Model(run, -1, false, false);
            Worker w1 = m.idler(0);
            Worker w2 = m.idler(0);
            run.actor("W1", () -> m.idleThenPass(w1, true));
            run.actor("W2", () -> m.idleThenPass(w2, false));
            run.actor("Q", () -> m.queue(0));
            return m;
        });
        report("idle0 (spins) | idle0 | queue0", e);
    }

    private static void report(String scenario, Explorer e) {
        System.out.println("interleavings: " + scenario + ": " + e.schedules + " schedules, up to " + e.longest
                + " steps each, all explored");
        assertThat(e.schedules).isGreaterThan(1);
    }
}
