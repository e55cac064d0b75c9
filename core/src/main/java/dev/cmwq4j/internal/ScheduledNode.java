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

    /**
     * The action is executing; written by the running thread under this node's monitor, so that
     * an interrupt aimed at this task ({@link #interruptRun}) is sent only while it runs and never
     * reaches the work its worker runs next (as {@link OneShotNode}'s flag).
     */
    private boolean running;

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
        synchronized (this) {
            running = true;
        }
        try {
            (decorated != null ? decorated : action).run();
        } finally {
            synchronized (this) {
                running = false;
            }
        }
    }

    /** As {@link WorkNode#interruptRun}, only while the action still executes (see {@link #running}). */
    @Override
    public void interruptRun(Object runner) {
        synchronized (this) {
            if (running) {
                super.interruptRun(runner);
            }
        }
    }
}
