package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The JVM-wide freeze of every freezable workqueue, of every {@code Cmwq}: the kernel's
 * {@code freeze_workqueues_begin} / {@code thaw_workqueues}, for a checkpoint or a maintenance
 * window.
 *
 * <p>A freeze is two steps: first every freezable workqueue takes a {@link
 * WorkqueueCore#FREEZE_ALL} hold (after which none of their works starts), then the freezer waits
 * until the works that were running have finished. A freezable workqueue built while a JVM-wide
 * freeze is in force starts frozen. A workqueue also frozen by its own {@code freeze()} stays
 * frozen after {@link #thawAll()} until it is thawed itself: each holder removes only its hold.
 *
 * <p>Lock order: {@link #LOCK}, then a workqueue's flush lock, then pool locks.
 */
final class Freezer {
    private Freezer() {}

    private static final Object LOCK = new Object();
    /** Freezable workqueues, weakly held so that an abandoned one can go; under {@link #LOCK}. */
    private static final Set<WorkqueueCore> QUEUES = Collections.newSetFromMap(new WeakHashMap<>());
    /** A JVM-wide freeze is in force; written under {@link #LOCK}. */
    private static volatile boolean frozen;

    static void register(WorkqueueCore wq) {
        synchronized (LOCK) {
            QUEUES.add(wq);
            if (frozen) {
                wq.freezeBegin(WorkqueueCore.FREEZE_ALL);
            }
        }
    }

    static void unregister(WorkqueueCore wq) {
        synchronized (LOCK) {
            QUEUES.remove(wq);
        }
    }

    static boolean isFrozen() {
        return frozen;
    }

    /**
     * Freezes every freezable workqueue, then waits for their running works.
     *
     * @return false if {@code timed} and the deadline passed before the running works finished
     *     (everything stays frozen)
     * @throws IllegalStateException if called from a work of a freezable workqueue, which would
     *     wait for itself
     */
    static boolean freezeAll(boolean timed, long deadline) {
        Worker w = Worker.current();
        if (w != null && w.isRunningFreezableWork()) {
            throw new IllegalStateException("work '" + w.currentNode() + "' freezes all freezable workqueues"
                    + " on a thread that runs a work of a freezable workqueue: it would wait for itself");
        }
        List<WorkqueueCore> queues;
        synchronized (LOCK) {
            frozen = true;
            queues = new ArrayList<>(QUEUES);
            for (WorkqueueCore wq : queues) {
                wq.freezeBegin(WorkqueueCore.FREEZE_ALL);
            }
        }
        for (WorkqueueCore wq : queues) {
            if (!wq.awaitFrozen(timed, deadline)) {
                return false;
            }
        }
        return true;
    }

    /** Ends the JVM-wide freeze: every freezable workqueue that no other hold keeps frozen resumes. */
    static void thawAll() {
        synchronized (LOCK) {
            frozen = false;
            for (WorkqueueCore wq : QUEUES) {
                wq.thaw(WorkqueueCore.FREEZE_ALL);
            }
        }
    }
}
