package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import java.util.Objects;

/**
 * The priority of a work, and what a waiting thread lends to the works it waits for.
 *
 * <h2>Levels</h2>
 * Four levels, lowest first. A pool's worklist runs the highest level first and is FIFO within a
 * level; the order is strict, so a steady stream of higher-priority works can hold lower ones
 * back for as long as it lasts.
 * <ul>
 *   <li>{@link #LOW}: background works that may wait for anything else;
 *   <li>{@link #NORMAL}: the default of a workqueue;
 *   <li>{@link #HIGH}: the default of a {@link Workqueue.Builder#highPriority() highPriority}
 *       workqueue (which also runs on the high-priority pools);
 *   <li>{@link #URGENT}: ahead of everything else.
 * </ul>
 * A work queued without a priority gets its workqueue's default
 * ({@link Workqueue.Builder#priority(Priority)}); {@link Workqueue#queue(Work, Priority)} gives
 * one for that instance only. Works of a {@code highPriority} workqueue share a worklist only
 * with works of other {@code highPriority} workqueues, so its default of {@code HIGH} ranks them
 * among those.
 *
 * <h2>Priority inheritance</h2>
 * A thread that waits for a work lends its priority to it for as long as it waits:
 * <ul>
 *   <li>the waits: {@link Work#flush()}, {@link Work#cancelSync()} (for the running instance),
 *       {@code Future.get} on a task submitted through {@link Workqueue#asExecutorService()}, and
 *       {@link Workqueue#flush()} (to every work of that queue queued before the call);
 *   <li>what is lent: a worker lends the current priority of the work it runs, which includes
 *       what is lent to that work, so inheritance is transitive along a chain of waits
 *       (a high-priority thread flushes A, A flushes B: B runs as high); any other thread lends
 *       {@link #of(Thread) its thread priority};
 *   <li>what it does: a work lent a level above its own runs at that level: after the works
 *       whose own level that is, ahead of every lower level in its pool (a pending work moves in
 *       O(1)). In an {@link Workqueue.Builder#ordered() ordered} workqueue the works queued before
 *       it are lent the same level, since they must run first; behind {@code maxActive} it moves
 *       to the front of the works waiting for a slot, and the slot holder its pool runs first is
 *       lent the level too, so that a slot frees soon. The worker that ends a work lent a level above
 *       its own yields its CPU once, so that the waiter runs at once;
 *   <li>when it ends: with the wait (also by timeout or interrupt); a work that is still pending
 *       then goes back to its exact place among the works of its own level. Lends are counted per
 *       work, not per instance: an instance queued again while the wait lasts inherits too.
 * </ul>
 * A {@link Cmwq} built with {@link Cmwq.Builder#priorityInheritance(boolean)
 * priorityInheritance(false)} (or {@code -Dcmwq4j.priorityInheritance=false}) keeps the
 * priorities but lends nothing.
 */
public enum Priority {
    /** Below the default: runs when nothing of a higher level is queued in its pool. */
    LOW,
    /** The default of a workqueue. */
    NORMAL,
    /** The default of a {@code highPriority} workqueue. */
    HIGH,
    /** The highest level. */
    URGENT;

    private static final Priority[] LEVELS = values();

    /** The level with this {@link #ordinal()}. */
    static Priority ofLevel(int level) {
        return LEVELS[level];
    }

    /**
     * The level a {@link Thread} priority maps to: 1-4 {@link #LOW}, 5 ({@link
     * Thread#NORM_PRIORITY}) {@link #NORMAL}, 6-9 {@link #HIGH}, 10 ({@link Thread#MAX_PRIORITY})
     * {@link #URGENT}.
     *
     * @param threadPriority a {@link Thread} priority, in [1, 10]
     * @return its level
     * @throws IllegalArgumentException if {@code threadPriority} is not in [1, 10]
     */
    public static Priority ofThreadPriority(int threadPriority) {
        if (threadPriority < Thread.MIN_PRIORITY || threadPriority > Thread.MAX_PRIORITY) {
            throw new IllegalArgumentException("a thread priority is in [1, 10], got " + threadPriority);
        }
        return LEVELS[Engine.levelOfThreadPriority(threadPriority)];
    }

    /**
     * The level of {@code thread}'s {@link Thread#getPriority() priority}; see
     * {@link #ofThreadPriority}.
     *
     * @param thread the thread
     * @return the level of its thread priority
     * @throws NullPointerException if {@code thread} is null
     */
    public static Priority of(Thread thread) {
        Objects.requireNonNull(thread, "thread");
        return ofThreadPriority(thread.getPriority());
    }

    /**
     * What the calling thread lends when it waits now: on a worker, the current priority of the
     * work it runs (its own, or more if a waiter lends it more); on any other thread, the level of
     * its thread priority.
     *
     * @return the calling thread's current level
     */
    public static Priority current() {
        return LEVELS[Engine.currentLevel()];
    }
}
