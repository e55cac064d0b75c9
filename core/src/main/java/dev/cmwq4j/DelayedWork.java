package dev.cmwq4j;

import java.util.Objects;

/**
 * A {@link Work} plus a timer: {@link Workqueue#queueDelayed} arms it, and when the delay has
 * passed it is queued as if by {@link Workqueue#queue}. While armed it counts as pending.
 *
 * <p>Timers cost no thread each: the one service thread of a {@link Cmwq} (its monitor's) fires
 * them all, with O(log n) arm, re-arm and cancel.
 */
public class DelayedWork extends Work {
    /**
     * A delayed work that runs {@code action}.
     *
     * @param action what to run; exceptions it throws go to the failure handler of the
     *     {@link Cmwq} and do not stop the worker
     * @throws NullPointerException if {@code action} is null
     */
    public DelayedWork(Runnable action) {
        super(null, Objects.requireNonNull(action, "action"), true);
    }

    /**
     * A named delayed work that runs {@code action}; see {@link Work#Work(String, Runnable)}.
     *
     * @param name the work's name, as {@link #name()} returns it
     * @param action what to run; exceptions it throws go to the failure handler of the
     *     {@link Cmwq} and do not stop the worker
     * @throws NullPointerException if {@code name} or {@code action} is null
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public DelayedWork(String name, Runnable action) {
        super(checkName(name), Objects.requireNonNull(action, "action"), true);
    }

    /**
     * Cancels the armed timer or the queued instance. A running instance is not waited for.
     *
     * @return true if it was pending (armed or queued) and will not run
     */
    @Override
    public boolean cancel() {
        return super.cancel();
    }

    /**
     * If the timer is armed, queues the work now; then waits as {@link Work#flush()} does.
     *
     * @return true if it had to wait (an armed timer counts), false if the work was already idle
     * @throws IllegalStateException as {@link Work#flush()}
     */
    @Override
    public boolean flush() {
        return super.flush();
    }

    /** {@return {@code DelayedWork[<name>]}, with the work's {@linkplain #name() name}} */
    @Override
    public String toString() {
        return "DelayedWork[" + name() + "]";
    }
}
