package dev.cmwq4j.internal;

/**
 * A {@link WorkNode} with a timer entry: the engine side of {@link dev.cmwq4j.DelayedWork}.
 *
 * <p>While the timer holds it, the node is PENDING and {@code where == TIMER}; it is not yet
 * counted in any {@link PoolWorkqueue}, only in its workqueue's count of armed delayed works
 * (so {@code drain} and {@code close} wait for it). When the entry fires, the node is queued
 * to the workqueue and CPU it was armed for, as if queued at that moment.
 *
 * <p>Extended only by {@link ScheduledNode}, the node of an executor view's scheduled task.
 */
class DelayedNode extends WorkNode {
    /**
     * Workqueue and CPU of the armed instance; written by the PENDING owner before arming, that
     * is before its {@link Timer#schedule} takes the timer lock, and not again until the entry has
     * left the heap (fired or cancelled, under that lock) and another owner claims or steals the
     * work. So a read under the timer lock while the entry is in the heap ({@link Entry#armedFor})
     * sees the arming that is in the heap; a read without it may see an older or newer one.
     */
    private WorkqueueCore armedWq;
    /** See {@link #armedWq}: same writer, same lock. */
    private int armedCpu;

    private final TimerEntry entry = new Entry();

    /** The timer entry of a delayed node: a named class, so that a scan of the timer finds its node. */
    private final class Entry extends TimerEntry {
        DelayedNode node() {
            return DelayedNode.this;
        }

        @Override
        protected void fire() {
            WorkqueueCore wq = armedWq;
            // queue first, then leave the armed count: a drain never sees neither
            wq.enqueue(DelayedNode.this, armedCpu);
            wq.delayedDone();
            Group g = group();
            if (g != null) {
                g.fired(action); // after the push: a view shut down meanwhile cancels it
            }
        }

        @Override
        protected void armedChanged(boolean armed) {
            where = armed ? TIMER : NOWHERE;
        }

        /** Under the timer lock, the entry in the heap: the fields name its arming (see {@link #armedWq}). */
        @Override
        protected boolean armedFor(Object owner, int key) {
            return armedWq == owner && armedCpu == key;
        }

        @Override
        public String toString() {
            return "timer of " + DelayedNode.this;
        }
    }

    /**
     * The delayed node whose timer entry {@code e} is, or null (a manager pass). Any thread; under
     * the timer lock in a {@link Timer#collect} scan.
     */
    static DelayedNode of(TimerEntry e) {
        return e instanceof Entry x ? x.node() : null;
    }

    /**
     * The workqueue the node was armed for last. Meaningful while its entry is armed: then it was
     * written before the arming, and a scan under the timer lock reads it right.
     */
    final WorkqueueCore armedOn() {
        return armedWq;
    }

    DelayedNode(Runnable action) {
        super(action);
    }

    /**
     * Arms the owned pending instance to fire at {@code deadline} ({@link System#nanoTime()}),
     * unless a closing drain sealed {@code wq}: counts it in the workqueue's armed works, then
     * reads the seal, and only then schedules the timer. Read after
     * the schedule, the seal would come too late: the timer may have fired already and queued
     * the work to a sealed pool workqueue, which holds it and never runs it, while this queuer,
     * unable to disarm it, reported it queued (FaultsTest's queue-racing-close flake).
     *
     * @return false if sealed: nothing armed or counted, the instance is still the caller's
     */
    boolean arm(WorkqueueCore wq, int cpu, long deadline) {
        armedWq = wq;
        armedCpu = cpu;
        place(PINNED, cpu >= 0 && !wq.unbound);
        Seam.arm(0);
        wq.delayedArmed();
        if (wq.sealedAfterCount()) {
            wq.delayedDone();
            return false;
        }
        try {
            wq.engine.timer.schedule(entry, deadline);
        } catch (Throwable t) {
            wq.delayedDone(); // not armed (the timer refuses before it changes anything)
            throw t;
        }
        Seam.arm(1);
        return true;
    }

    /**
     * Moves the armed timer to {@code delayNanos} from now if it is armed for {@code wq} and CPU
     * index {@code cpu} (-1: placement), checked and moved in one critical section of the timer
     * lock ({@link Timer#rescheduleIfFor}). The check and the move used to be two steps: a timer
     * that fired between them, its work then armed again for another workqueue or CPU, had that
     * other arming moved by a call meant for this one. {@code wq}'s engine's timer: an entry armed
     * on another engine's is not here, and not moved.
     *
     * @return false if it is not armed for them (armed elsewhere, fired or cancelled meanwhile)
     */
    boolean rearmIfArmedFor(WorkqueueCore wq, int cpu, long delayNanos) {
        return wq.engine.timer.rescheduleIfFor(entry, System.nanoTime() + delayNanos, wq, cpu);
    }

    /**
     * Disarms the timer; true if it was armed, so that it will not fire.
     *
     * <p>{@link #armedWq} is read again after the cancel succeeded: the first read may be stale
     * (the timer fired meanwhile and the work was armed again on another workqueue), but once the
     * cancel has taken the armed instance, nobody else can re-arm it, so the second read names the
     * workqueue whose armed count it was in.
     */
    boolean disarm() {
        WorkqueueCore wq = armedWq;
        if (wq != null && wq.engine.timer.cancel(entry)) {
            armedWq.delayedDone();
            return true;
        }
        return false;
    }

    /** If the timer is armed, fires it now on the calling thread (flush of a delayed work). */
    @Override
    void fireNowIfArmed() {
        WorkqueueCore seen = armedWq;
        if (seen != null && where == TIMER && seen.engine.timer.cancel(entry)) {
            WorkqueueCore wq = armedWq; // stable now that the cancel took it (see disarm)
            wq.enqueue(this, armedCpu); // as fire(): queue first, then leave the armed count
            wq.delayedDone();
        }
    }
}
