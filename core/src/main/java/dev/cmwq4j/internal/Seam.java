package dev.cmwq4j.internal;

/**
 * Test seams: points inside lock-free protocols where an interleaving test may let other threads
 * move, to reach orderings that the OS scheduler makes rare (a thread preempted between two
 * instructions). Each is a no-op unless a test installed a hook ({@code
 * WorkStateInterleavingTest}); it costs one volatile read, on rare paths, and on a block's
 * entry and end ({@link #blockBegins}, {@link #blockOver}: {@code BlockingBench.onWorker} 24.8-26.4
 * ns a block with the second of them against 24.6-25.6 without, four alternating JVMs each; with
 * {@link #leftCount} on the entry too, 25.2-26.2 against 25.8-27.3, two alternating pairs).
 */
final class Seam {
    private Seam() {}

    /** Runs {@code hook} (a seam's field, read once by the caller) if a test installed one. */
    private static void fire(Runnable hook) {
        if (hook != null) {
            hook.run();
        }
    }

    /** Runs {@code hook} with {@code arg} if a test installed one. */
    private static void fire(java.util.function.IntConsumer hook, int arg) {
        if (hook != null) {
            hook.accept(arg);
        }
    }

    /** Runs {@code hook} with {@code arg} if a test installed one. */
    private static <T> void fire(java.util.function.Consumer<T> hook, T arg) {
        if (hook != null) {
            hook.accept(arg);
        }
    }

    /**
     * Run where a thread has read the pwq of a handed-off instance ({@link WorkNode#HANDOFF})
     * without a lock and has not yet acted on it: a grab, or the runner taking the instance
     * handed to it. Null outside tests; written only by a test, while no work of its engine runs.
     */
    static volatile Runnable onHandoffPwqRead;

    static void handoffPwqRead() {
        fire(onHandoffPwqRead);
    }

    /**
     * Run by a worker in the fast lane ({@code Worker.fastLoop}, {@code fastEnd}) at the points
     * where a lock holder of its pool may come between two of its steps: {@code 3} with the
     * ring opened and the lock let go, its mark not yet set (a holder sees no take coming, and
     * may close and open the ring itself); {@code 0} with its mark just set IN_FLIGHT, before its
     * first take; {@code 1} with a node taken and not yet started (still IN_FLIGHT); {@code 2}
     * with a run ended and resolved, its mark still naming it (a holder may convert it before the
     * mark's CAS). Null outside tests. Two volatile reads per lane run, two per lane loop.
     */
    static volatile java.util.function.IntConsumer onLane;

    static void lane(int phase) {
        fire(onLane, phase);
    }

    /**
     * Run by a lock holder each time round its wait for a fast-lane taker between its take and
     * its start ({@code WorkerPool.closeForHolder}): an interleaving test lets the taker move
     * here. Null outside tests.
     */
    static volatile Runnable onHolderWait;

    static void holderWait() {
        fire(onHolderWait);
    }

    /**
     * Run by a thread that found {@code lock} held by another ({@link Locks#acquire}, after its
     * first try): an interleaving test, whose actors may stop while holding a pool lock (a
     * holder waiting for a lane taker: {@link #holderWait}), lets the others move until the lock
     * is free. Null outside tests; on the contended path only.
     */
    static volatile java.util.function.Consumer<java.util.concurrent.locks.ReentrantLock> onLockBusy;

    static void lockBusy(java.util.concurrent.locks.ReentrantLock lock) {
        fire(onLockBusy, lock);
    }

    /**
     * Run by a queuer just before ({@code 0}) and just after ({@code 1}) it pushes a node on a
     * pool's inbound stack ({@link WorkqueueCore#enqueue}): where a closing drain may seal the
     * workqueue, and another lock holder admit the node, in between; and ({@code 2}) once it has
     * read that nobody is certain to look, before it takes the lock to admit (where an idle
     * worker may start its spin). Null outside tests.
     */
    static volatile java.util.function.IntConsumer onPush;

    static void push(int phase) {
        fire(onPush, phase);
    }

    /**
     * The idle protocol's points where a waker and a worker going idle may come between each
     * other's steps ({@code WorkStateInterleavingTest}): {@code 0} by an idle worker after its
     * spin (its searching count left, the stack read) and before it decides to park ({@code
     * Worker.idleWait}); {@code 1} by a waker between its store of the worker's {@code woken} and
     * its read of the worker's {@code spinning} ({@code WorkerPool.wakeFirstIdle}: the Dekker
     * pair that lets it skip the unpark of a spinning worker); {@code 2} by an idle worker that
     * has just let the pool lock go, on the idle list, before its spin; {@code 3} by a worker
     * counted as searching and spinning, before its first look at the stack. Null outside tests;
     * on the idle and wake paths only.
     */
    static volatile java.util.function.IntConsumer onIdle;

    static void idle(int phase) {
        fire(onIdle, phase);
    }

    /**
     * Asked once per round of an idle worker's spin ({@code Worker.spinBeforePark}): true ends
     * the spin now. A test yields here and ends the spin after a set number of rounds, so that
     * the spin does not depend on the clock. Null outside tests (false).
     */
    static volatile java.util.function.BooleanSupplier onSpin;

    static boolean spinOver() {
        java.util.function.BooleanSupplier hook = onSpin;
        return hook != null && hook.getAsBoolean();
    }

    /**
     * Asked by an idle worker ({@code w}) that is about to park: true if a test parked it in its
     * own way (its model of {@code LockSupport.park}: the worker's actor waits until an unpark
     * reached it, {@link #unpark}), false for the real park. Null outside tests (false).
     */
    static volatile java.util.function.Predicate<Object> onPark;

    static boolean park(Object w) {
        java.util.function.Predicate<Object> hook = onPark;
        return hook != null && hook.test(w);
    }

    /**
     * Run just before a worker's thread is unparked ({@code WorkerPool.unparkWorker}): a test
     * records the permit its model of the park consumes. Null outside tests.
     */
    static volatile java.util.function.Consumer<Thread> onUnpark;

    static void unpark(Thread t) {
        fire(onUnpark, t);
    }

    /**
     * Run where a pool's worker list is copied: {@code 0} as the manager grows it for a new
     * worker ({@link WorkerPool#workersWith}), {@code 1} as a leaving worker is taken off it. A test
     * throws an {@code OutOfMemoryError} here. Null outside tests.
     */
    static volatile java.util.function.IntConsumer onWorkerList;

    static void workerList(int phase) {
        fire(onWorkerList, phase);
    }

    /**
     * Run by a worker as an announced block begins, after its state left RUNNING (the block's
     * statistics and event, {@code Worker.announcedBlockBegins}): a test throws a
     * {@code StackOverflowError} here. Null outside tests.
     */
    static volatile Runnable onBlockBegins;

    static void blockBegins() {
        fire(onBlockBegins);
    }

    /**
     * Run by a worker as a block's end is recorded ({@code Worker.blockOver}: its JFR event and
     * detected-block profile), after its state is back to RUNNING: a test throws here. Null
     * outside tests.
     */
    static volatile Runnable onBlockOver;

    static void blockOver() {
        fire(onBlockOver);
    }

    /**
     * Run by the service thread as it takes a worker out of the running count ({@code
     * Worker.monitorUncount}), after the worker's state changed and before the statistics: a test
     * throws here. Null outside tests.
     */
    static volatile Runnable onMonitorUncount;

    static void monitorUncounts() {
        fire(onMonitorUncount);
    }

    /**
     * Run by a rescuer as it answers a mayday for a pwq, before it takes a work: a test throws
     * here. Null outside tests.
     */
    static volatile Runnable onRescue;

    static void rescue() {
        fire(onRescue);
    }

    /**
     * Run by an idle worker back from its park, before it takes its pool's lock again (which
     * admits what is inbound, and may throw): a test throws here. Null outside tests.
     */
    static volatile Runnable onIdleRelock;

    static void idleRelock() {
        fire(onIdleRelock);
    }

    /**
     * Run by a drain (open or closing) after its first pass counted pwq {@code index} under that
     * pool's lock, before it counts the next ({@link WorkqueueCore}'s {@code nothingInFlight}).
     * Null outside tests.
     */
    static volatile java.util.function.IntConsumer onCount;

    static void count(int index) {
        fire(onCount, index);
    }

    /**
     * Run by a closing drain ({@link WorkqueueCore}'s {@code drain}) with {@code 0} just after it
     * set the seal, before it counts under each pool lock; when that count found work, with
     * {@code 1} after it unsealed the pwqs and {@code 2} after it cleared the seal itself. Null
     * outside tests.
     */
    static volatile java.util.function.IntConsumer onSeal;

    static void seal(int phase) {
        fire(onSeal, phase);
    }

    /**
     * Run by an arming delayed work ({@link DelayedNode#arm}) with {@code 0} before it counts
     * itself and reads the seal, and with {@code 1} after it scheduled its timer (which may fire
     * at once). Null outside tests.
     */
    static volatile java.util.function.IntConsumer onArm;

    static void arm(int phase) {
        fire(onArm, phase);
    }

    /**
     * Run by {@link WorkqueueCore#modDelayed} when it found the work on the timer and is about to
     * move the timer in place: between its unlocked look and the move, where the timer may fire
     * and the work be armed again elsewhere. Null outside tests.
     */
    static volatile Runnable onModDelayed;

    static void modDelayed() {
        fire(onModDelayed);
    }

    /**
     * Run by a worker thread as it starts to serve its worker ({@link Worker#serve}), before its
     * first allocation: a test throws an {@code OutOfMemoryError} here. Null outside tests.
     */
    static volatile Runnable onWorkerStart;

    static void workerStart() {
        fire(onWorkerStart);
    }

    /**
     * Run by a counted worker, pool lock held, each time its work loop looks at its pool again
     * ({@link Worker#workLoop}): a test throws an {@code Error} here, as a failure of the
     * engine's own bookkeeping. Null outside tests.
     */
    static volatile Runnable onWorkLoop;

    static void workLoop() {
        fire(onWorkLoop);
    }

    /**
     * Run by a drain ({@link WorkerPool#drainInbound}) before it admits each node, pool lock
     * held, the node still first in {@code admitting}: a test throws an {@code OutOfMemoryError}
     * here, which leaves that node and those after it in {@code admitting}, as a throw inside an
     * admission leaves the nodes after it. Null outside tests. The one seam on a per-work path:
     * it costs each admitted node one volatile read.
     */
    static volatile Runnable onAdmit;

    static void admit() {
        fire(onAdmit);
    }

    /**
     * Run by a worker that starts to linger ({@link Worker#lingerForWork}), after it let the pool
     * lock go and before it starts its clock: a test queues a work here to find it seen. Null
     * outside tests.
     */
    static volatile Runnable onLinger;

    static void linger() {
        fire(onLinger);
    }

    /**
     * Run by the monitor just before it captures a detected worker's stack ({@link
     * BlockProfiler#attribute}): a test makes the capture fail here with an error. Null outside
     * tests.
     */
    static volatile Runnable onSiteCapture;

    static void siteCapture() {
        fire(onSiteCapture);
    }

    /**
     * Run by a worker just before it makes a slot of its fast-run statistics buffer ({@link
     * FastStats}, at its first lane run of a pwq without a free slot): a test throws an {@code
     * OutOfMemoryError} here. Null outside tests.
     */
    static volatile Runnable onFastSlot;

    static void fastSlot() {
        fire(onFastSlot);
    }

    /**
     * Run as a pool asks for a thief, after it found the backlog worth one ({@link
     * Stealing#askForThief}): a test throws an {@code OutOfMemoryError} here (the sibling's
     * lock and its drain may allocate). Null outside tests.
     */
    static volatile Runnable onAskForThief;

    static void askForThief() {
        fire(onAskForThief);
    }

    /**
     * Run as a worker that just left the running count decides whether its pool needs a kick
     * ({@code Worker.leftNrRunning}: an announced block, a CPU-intensive run): a test throws an
     * {@code OutOfMemoryError} here (the kick takes the pool lock, whose drain may allocate). Null
     * outside tests.
     */
    static volatile Runnable onLeftCount;

    static void leftCount() {
        fire(onLeftCount);
    }

    /**
     * Run by a lock holder just before it kicks a worker for a work it activated ({@code
     * PoolWorkqueue.activate}, at a run's end, a thaw, a raised limit): a test throws an
     * {@code OutOfMemoryError} here, as a kick whose manager request grows the timer's heap may.
     * Null outside tests.
     */
    static volatile Runnable onActivationKick;

    static void activationKick() {
        fire(onActivationKick);
    }

    /**
     * Run inside a kick just before it asks the manager for a worker ({@code
     * WorkerPool.requestWorker}): a test throws an {@code OutOfMemoryError} here, as arming the
     * manager's timer entry may when it grows the timer's heap. Null outside tests.
     */
    static volatile Runnable onManagerRequest;

    static void managerRequest() {
        fire(onManagerRequest);
    }
}
