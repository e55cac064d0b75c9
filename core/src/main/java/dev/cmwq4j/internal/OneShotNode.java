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

    @Override
    void runAction(Runnable decorated) {
        Runnable run = orAction(decorated);
        if (group == null) {
            run.run();
            return;
        }
        try {
            runTask(run, group);
        } finally {
            group.ended();
        }
    }

    /** As {@link WorkNode#interruptRun}, only while the action still executes ({@link #runMarked}). */
    @Override
    public void interruptRun(Object runner) {
        interruptIfRunning(runner);
    }

    @Override
    Group group() {
        return group;
    }
}
