package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import java.time.Duration;

/**
 * The system workqueues, on the {@linkplain Cmwq#shared() shared} pools, created on first use.
 * Like the kernel's, they are shared by everyone: queue short works to {@link #system()}, and use
 * {@link Blocking} around waits so that they never hold up others. The JVM-wide freeze of all
 * freezable workqueues ({@link #freezeAll()}, {@link #thawAll()}) lives here too.
 */
public final class Workqueues {
    private Workqueues() {}

    private static final class System {
        static final Workqueue WQ = Workqueue.builder("system").system().build();
    }

    private static final class HighPriority {
        static final Workqueue WQ = Workqueue.builder("system_highpri").highPriority().system().build();
    }

    private static final class Long {
        static final Workqueue WQ = Workqueue.builder("system_long").system().build();
    }

    private static final class Unbound {
        static final Workqueue WQ = Workqueue.builder("system_unbound").unbound()
                .maxActive(Workqueue.MAX_MAX_ACTIVE).system().build();
    }

    private static final class Freezable {
        static final Workqueue WQ = Workqueue.builder("system_freezable").freezable().system().build();
    }

    /** {@return the bound, normal-priority system workqueue: the default place for short works} */
    public static Workqueue system() {
        return System.WQ;
    }

    /** {@return the bound, high-priority system workqueue} */
    public static Workqueue systemHighPriority() {
        return HighPriority.WQ;
    }

    /**
     * {@return the bound system workqueue for works that may run long} Using it keeps flushes of
     * {@link #system()} short.
     */
    public static Workqueue systemLong() {
        return Long.WQ;
    }

    /**
     * {@return the unbound system workqueue} It is not concurrency-managed: works start as soon as
     * a worker is free.
     */
    public static Workqueue systemUnbound() {
        return Unbound.WQ;
    }

    /**
     * {@return the bound, {@linkplain Workqueue.Builder#freezable() freezable} system workqueue}
     * {@link #freezeAll()} holds it.
     */
    public static Workqueue systemFreezable() {
        return Freezable.WQ;
    }

    // ------------------------------------------------------------------------------------------
    // The JVM-wide freeze.

    /**
     * Freezes every {@linkplain Workqueue.Builder#freezable() freezable} workqueue of every
     * {@link Cmwq} in the JVM (before a checkpoint, or for a maintenance window): none of their
     * works starts until {@link #thawAll()}; then waits until the works that were running have
     * finished. Pending works stay pending, in order; queueing goes on and loses nothing;
     * freezable workqueues built meanwhile start frozen. Other workqueues are not affected.
     *
     * @throws IllegalStateException if called from a work of a freezable workqueue, which would
     *     wait for itself
     */
    public static void freezeAll() {
        Engine.freezeAll(false, 0);
    }

    /**
     * As {@link #freezeAll()}, waiting at most {@code timeout} for the running works: a work that
     * never ends (say, one that waits for a work of another frozen workqueue) cannot hold the
     * caller forever.
     *
     * @param timeout how long to wait at most for the running works; zero or positive
     * @return true if no work of a freezable workqueue runs any more; false if the timeout passed
     *     first (everything stays frozen all the same: call {@link #thawAll()} to back out)
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws IllegalStateException if called from a work of a freezable workqueue, which would
     *     wait for itself
     */
    public static boolean freezeAll(Duration timeout) {
        long nanos = Workqueue.nonNegativeNanos(timeout, "timeout");
        return Engine.freezeAll(true, java.lang.System.nanoTime() + nanos);
    }

    /**
     * Ends the JVM-wide freeze: the pending works of the freezable workqueues start (in queueing
     * order on ordered ones), except on workqueues that their own {@link Workqueue#freeze()}
     * still holds. Does nothing if no JVM-wide freeze is in force.
     */
    public static void thawAll() {
        Engine.thawAll();
    }

    /** {@return whether a JVM-wide {@link #freezeAll()} is in force} */
    public static boolean isFrozenAll() {
        return Engine.isFrozen();
    }
}
