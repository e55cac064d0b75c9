package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.Objects;

/**
 * A reusable unit of work: a function plus its queueing state.
 *
 * <p>A work has at most one pending instance: {@link Workqueue#queue} returns false while it is
 * pending. It never runs concurrently with itself anywhere in the JVM, even when queued to
 * different workqueues: if it is queued while it runs, the next run starts only after the current
 * one has ended. Which thread runs it is not promised: a worker that reaches the new instance
 * while the current run is still on hands it to the running thread, which runs it next; one that
 * reaches it after the run ended (say a worker of another pool, for a re-queue with
 * {@link Workqueue#queueOn} or to another workqueue) runs it itself.
 *
 * <p>Build a work once and queue it many times: queueing a pre-built work allocates nothing.
 *
 * <pre>{@code
 * Work refresh = new Work("refresh", cache::refresh);
 * wq.queue(refresh);      // true: now pending
 * wq.queue(refresh);      // false: already pending
 * refresh.flush();        // waits until that run has finished
 * }</pre>
 *
 * <p>A work has a {@linkplain #name() name}, given or derived from its action, which failure
 * logs, watchdog reports, JFR events and the {@code top} tool show.
 *
 * <p>An instance runs at the {@link Priority} it was queued with (its workqueue's default unless
 * {@link Workqueue#queue(Work, Priority)} gave one). A thread that waits for it in {@link #flush()}
 * or {@link #cancelSync()} lends it its own priority while it waits (see {@link Priority}).
 */
public class Work {
    static {
        WorkNode.nameOwnersWith(new Names());
    }

    final WorkNode node;
    /** The name given at construction, or null: {@link #name()} then derives one from the action. */
    private final String name;
    private final Runnable action;

    /**
     * A work that runs {@code action}, named after it (see {@link #name()}).
     *
     * @param action what to run; exceptions it throws go to the failure handler of the
     *     {@link Cmwq} and do not stop the worker
     * @throws NullPointerException if {@code action} is null
     */
    public Work(Runnable action) {
        this(null, Objects.requireNonNull(action, "action"), false);
    }

    /**
     * A named work that runs {@code action}. The name is for people: failure logs, watchdog
     * reports, JFR events and {@link #toString()} show it; nothing requires it to be unique.
     *
     * @param name the work's name, as {@link #name()} returns it
     * @param action what to run; exceptions it throws go to the failure handler of the
     *     {@link Cmwq} and do not stop the worker
     * @throws NullPointerException if {@code name} or {@code action} is null
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Work(String name, Runnable action) {
        this(checkName(name), Objects.requireNonNull(action, "action"), false);
    }

    Work(String name, Runnable action, boolean delayed) {
        this.name = name;
        this.action = action;
        this.node = WorkNode.create(action, this, delayed);
    }

    /** {@code name}, checked: not null, not blank. */
    static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        return name;
    }

    /**
     * The work's name: the one given to the constructor, or for a work built without one a name
     * derived from its action, computed when asked:
     * <ul>
     *   <li>the action's own {@code toString()}, if its class overrides {@code Object}'s;
     *   <li>for a lambda or a method reference, the simple name of the class that defines it
     *       followed by {@code $$Lambda}, as in {@code Cache$$Lambda} (not the hidden class's
     *       {@code Cache$$Lambda/0x...@1b6d3586});
     *   <li>for an anonymous class, the last part of its binary name, as in {@code Cache$1};
     *   <li>else its class's simple name, as in {@code RefreshTask}.
     * </ul>
     * Works built from lambdas of one class share a default name: name a work where it matters.
     *
     * @return the work's name; never null or blank
     */
    public final String name() {
        String n = name;
        return n != null ? n : WorkNode.defaultName(action);
    }

    /** {@return true while an instance is queued (or armed on a timer) and has not started} */
    public final boolean isPending() {
        return node.pending();
    }

    /** {@return true while an instance is executing} */
    public final boolean isRunning() {
        return node.running();
    }

    /**
     * Cancels the pending instance, if any. A running instance is not interrupted and not waited
     * for.
     *
     * @return true if a pending instance was cancelled (it will not run)
     */
    public boolean cancel() {
        return node.cancel();
    }

    /**
     * Cancels the pending instance and waits for a running one to finish. While it waits, queueing
     * this work fails (returns false), so on return the work is neither pending nor running. The
     * caller lends its priority to the running instance while it waits (see {@link Priority}).
     *
     * @return true if a pending instance was cancelled
     * @throws IllegalStateException if called from this work's own run, which would wait forever
     */
    public boolean cancelSync() {
        return WaitProtocol.cancelSync(node, this);
    }

    /**
     * Waits until the instance queued last before this call has finished running. It does not wait
     * for works queued after that instance, nor for unrelated works. Called from a work, on an
     * instance that has not started, it runs that instance in place when the queue's rules allow
     * it (not ordered, within {@code maxActive}, not running elsewhere), as {@code ForkJoinPool}'s
     * join does; otherwise it waits as an announced block. While it waits, the caller lends its
     * priority to this work, and in an ordered workqueue or behind {@code maxActive} to the works
     * that must run before it (see {@link Priority}).
     *
     * @return true if it had to wait, false if the work was already idle
     * @throws IllegalStateException if called from this work's own run, or from a work of an
     *     ordered workqueue for a work queued behind it on the same queue: both would wait forever
     */
    public boolean flush() {
        return WaitProtocol.flush(node, this);
    }

    /** {@return {@code Work[<name>]}, with the work's {@linkplain #name() name}} */
    @Override
    public String toString() {
        return "Work[" + name() + "]";
    }

    /** The engine's way to a work's name (see {@link WorkNode#nameOwnersWith}); not a lambda: cold start. */
    private static final class Names implements WorkNode.OwnerNames {
        @Override
        public String nameOf(Object owner) {
            return owner instanceof Work w ? w.name() : String.valueOf(owner);
        }
    }
}
