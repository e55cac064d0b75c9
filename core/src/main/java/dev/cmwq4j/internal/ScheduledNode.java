package dev.cmwq4j.internal;

/**
 * A task of a scheduled executor view that is its own node ({@link WorkNode#scheduled}): a
 * {@link DelayedNode}, armed on the timer as a delayed work is, with the {@link WorkNode.Group}
 * of a {@link OneShotNode}. Its action (the view's task object) queues it again: a periodic task
 * re-arms its node at the end of each run, so the engine's one timer drives every period, and the
 * RUNNING bit keeps the runs of one task from ever overlapping (an instance that falls due while
 * the previous run is still on is handed off to that run's worker, which runs it next).
 *
 * <p>It does not tell its group when a run ends: only the task knows whether a run was its last
 * (see {@link WorkNode.Group}). The group finds it again, for {@code shutdownNow}, on the timer
 * and on the lists ({@link WorkqueueCore#cancelGroup}), and interrupts its runs
 * ({@link WorkqueueCore#interruptGroup}).
 */
final class ScheduledNode extends DelayedNode {
    /** The view whose task this is; final. */
    private final Group group;

    ScheduledNode(Runnable action, Group group) {
        super(action);
        this.group = java.util.Objects.requireNonNull(group, "group");
    }

    @Override
    Group group() {
        return group;
    }

    @Override
    void runAction(Runnable decorated) {
        runTask(orAction(decorated), null); // a scheduled task checks its view itself (ScheduledTask.mayRun)
    }

    /** As {@link WorkNode#interruptRun}, only while the action still executes ({@link #runMarked}). */
    @Override
    public void interruptRun(Object runner) {
        interruptIfRunning(runner);
    }
}
