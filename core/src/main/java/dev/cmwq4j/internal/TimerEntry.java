package dev.cmwq4j.internal;

/**
 * Something the {@link Timer} fires at a deadline: a delayed work, a pool's manager pass, or the
 * JMX publisher's poll ({@code Engine.PublisherPoll}).
 * Entries are pre-allocated by their owners, so arming and firing allocate nothing.
 */
abstract class TimerEntry {
    /** Absolute System.nanoTime() deadline; guarded by the timer lock. */
    long deadline;
    /** Position in the timer heap, or -1 when not armed; guarded by the timer lock. */
    int heapIndex = -1;

    /**
     * Runs on the service (monitor) thread, without the timer lock. Must not block for long: the
     * monitor waits meanwhile.
     */
    protected abstract void fire();

    /** Called under the timer lock when the entry enters ({@code true}) or leaves the heap. */
    protected void armedChanged(boolean armed) {}

    /**
     * Whether the entry, armed in the heap, was armed for {@code owner} and {@code key}: asked by
     * {@link Timer#rescheduleIfFor} under the timer lock, so that the answer holds for the move
     * made in that critical section. Must be quick and take no lock. False unless overridden.
     */
    protected boolean armedFor(Object owner, int key) {
        return false;
    }

    final boolean isArmed() {
        return heapIndex >= 0;
    }
}
