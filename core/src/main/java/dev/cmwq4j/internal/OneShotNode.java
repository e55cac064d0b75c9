package dev.cmwq4j.internal;

/**
 * A one-shot task that is its own node: what {@code Workqueue.execute} and the executor view
 * queue. It has no {@code Work} object (queued once, never again, so nothing outside holds it),
 * which makes a task one allocation. Its {@link WorkNode.Group}, if any, is told when it ends and
 * lets the group find its tasks again: the unstarted ones to take back, the running ones to
 * interrupt ({@link WorkqueueCore#cancelGroup}, {@link WorkqueueCore#interruptGroup}).
 */
final class OneShotNode extends WorkNode {
    /** The tasks this one belongs to, or null; final. */
    final Group group;

    OneShotNode(Runnable action, Group group) {
        super(action);
        this.group = group;
    }

    /**
     * The action of a node with a group is executing; written by the running worker under this
     * node's monitor, so that an interrupt aimed at this task ({@link #interruptRun}) is sent only
     * while it runs, and never reaches the work its worker runs next.
     */
    private boolean running;

    @Override
    void runAction(Runnable decorated) {
        Runnable run = decorated != null ? decorated : action;
        if (group == null) {
            run.run();
            return;
        }
        synchronized (this) {
            running = true;
        }
        try {
            run.run();
        } finally {
            synchronized (this) {
                running = false;
            }
            group.ended();
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

    @Override
    Group group() {
        return group;
    }
}
