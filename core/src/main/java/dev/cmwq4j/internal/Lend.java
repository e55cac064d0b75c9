package dev.cmwq4j.internal;

/**
 * What one waiting thread lends, and to which works, for as long as its wait lasts (see
 * {@link Inheritance} for the protocol).
 *
 * <p>The level lent is fixed for a plain thread ({@link #threadLevel}); for a worker it is the
 * effective priority of the work it runs ({@link #source}), read again at every
 * {@link #recompute}. The targets are fixed when the wait begins.
 */
final class Lend {
    /** The work the waiting worker runs, or null for a plain thread. */
    final WorkNode source;
    /** The level a plain thread lends; unused when {@link #source} is set. */
    private final int threadLevel;
    /** The works lent to. A work may appear twice (counted twice, taken back twice). */
    final WorkNode[] targets;
    /** The source's previous {@code runnerLend} (a wait nested in a work run by a waiter); waiter only. */
    Lend outer;

    /** The level currently added to every target's counts; guarded by {@code this}. */
    private int applied = Inheritance.LOW;
    /** Set when the wait ended; guarded by {@code this}. */
    private boolean closed;

    Lend(WorkNode source, int threadLevel, WorkNode[] targets) {
        this.source = source;
        this.threadLevel = threadLevel;
        this.targets = targets;
    }

    private int wanted() {
        return source != null ? source.effectivePriority() : threadLevel;
    }

    /**
     * Brings the applied level in line with the source, moves the targets, then passes the change
     * on to the waits of the workers running the targets.
     */
    void recompute(int depth) {
        synchronized (this) {
            if (closed) {
                return;
            }
            int want = wanted();
            int from = applied;
            if (want == from) {
                return;
            }
            applied = want;
            for (WorkNode t : targets) {
                Inheritance.adjust(t, from, want);
            }
            Inheritance.repositionAll(targets);
        }
        for (WorkNode t : targets) {
            Inheritance.propagate(t, depth);
        }
    }

    /** The wait ended: takes back the applied level from every target, once. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            int from = applied;
            applied = Inheritance.LOW;
            if (from == Inheritance.LOW) {
                return;
            }
            for (WorkNode t : targets) {
                Inheritance.adjust(t, from, Inheritance.LOW);
            }
            Inheritance.repositionAll(targets);
        }
        for (WorkNode t : targets) {
            Inheritance.propagate(t, 1);
        }
    }

    /** The level currently lent (tests). */
    synchronized int applied() {
        return applied;
    }

    @Override
    public String toString() {
        return "Lend[" + (source != null ? "from work " + source : "thread level " + threadLevel) + ", "
                + targets.length + " target(s)]";
    }
}
