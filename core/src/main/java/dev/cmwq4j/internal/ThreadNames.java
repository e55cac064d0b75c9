package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The names of the engines' threads: each says which instance and which role it has, and no two
 * live threads of cmwq4j in the JVM share one.
 *
 * <h2>The scheme</h2>
 * A thread of an engine is named <em>base</em> + <em>role</em>. The base is
 * {@code cmwq4j-<instance name>-}, or the builder's {@code threadNamePrefix} where one is set (it
 * replaces the whole base). The roles:
 * <ul>
 *   <li>workers: the pool's name, a dash and the pool's worker sequence number ({@code cpu1-0},
 *       {@code cpu1H-3}, {@code unbound-12}); a pool never reuses a number
 *       ({@code Manager.workerSeq});
 *   <li>{@code monitor}: the service thread, which fires the timer too (there is no timer
 *       thread);
 *   <li>{@code rescuer-<workqueue name>}: the rescuer of a memReclaim workqueue.
 * </ul>
 * So the shared instance runs {@code cmwq4j-shared-cpu0-0} and {@code cmwq4j-shared-monitor}.
 * The two JVM-wide helper threads, {@code cmwq4j-jmx} and {@code cmwq4j-cpu-clock}, belong to no
 * instance and are not named here.
 *
 * <h2>Uniqueness, in two steps</h2>
 * <ol>
 *   <li><b>Bases.</b> An engine claims its base when it starts, or earlier if it names a thread
 *       before ({@link #claim}). A base is held until its engine has been shut down
 *       ({@link Lease#close}) and every thread named under it has terminated. A claim for a held
 *       base gets the base plus {@code 2-}, {@code 3-}, ..., the first that is free: two live
 *       instances named {@code orders} run {@code cmwq4j-orders-cpu0-0} and
 *       {@code cmwq4j-orders-2-cpu0-0}, and so do two with the prefix {@code app-}
 *       ({@code app-cpu0-0}, {@code app-2-cpu0-0}). The shared instance's base,
 *       {@code cmwq4j-shared-}, is kept for it: another instance named {@code shared} gets
 *       {@code cmwq4j-shared-2-}.
 *   <li><b>Names.</b> Every name is registered with its thread ({@link Lease#name}); a name whose
 *       thread has not terminated is not given again, and the later thread gets the name plus
 *       {@code -2}, {@code -3}, .... This catches what distinct bases cannot: two memReclaim
 *       workqueues of one instance with the same name, and a base that another instance's
 *       names happen to start with (an instance {@code a} with a workqueue {@code b-monitor}
 *       and an instance {@code a-rescuer-b}).
 * </ol>
 * "Terminated" is {@link Thread.State#TERMINATED}, not the end of the thread's {@code run}: a
 * thread that has returned from its task but is still being torn down by the JVM keeps its name.
 * A thread that was registered but never started (its start failed) is forgotten at once
 * ({@link Lease#forget}).
 *
 * <h2>Cost</h2>
 * One synchronized map update per thread the engine starts: on the manager's path that creates a
 * worker (which costs tens of microseconds for the thread anyway), never on queueing or running a
 * work. Entries of terminated threads, and bases that are free again, are dropped by a sweep when
 * the registry has doubled since the last one, so it stays proportional to the live threads.
 */
final class ThreadNames {
    private ThreadNames() {}

    /** The default base of the shared instance, kept for it. */
    static final String SHARED_BASE = "cmwq4j-shared-";

    /** Guards everything below and every lease's fields. */
    private static final Object LOCK = new Object();
    /** Leases by base: the current holder of each base claimed since the last sweep; LOCK. */
    private static final HashMap<String, Lease> BASES = new HashMap<>();
    /** Registered names and their threads, terminated ones until the next sweep; LOCK. */
    private static final HashMap<String, Thread> NAMES = new HashMap<>();
    /** Sweep when {@link #NAMES} and {@link #BASES} together reach this size; LOCK. */
    private static int sweepAt = 64;

    /** The default base of an instance: {@code cmwq4j-<instance>-}. */
    static String defaultBase(String instance) {
        // concat, not '+': the first indy string concatenation of a JVM costs milliseconds
        return "cmwq4j-".concat(instance).concat("-");
    }

    /**
     * Claims {@code base}, or the first free {@code base + n + "-"} (n = 2, 3, ...).
     *
     * @param shared for the shared instance, which always gets {@link #SHARED_BASE} when it asks
     *     for it (nobody else may hold it)
     */
    static Lease claim(String base, boolean shared) {
        synchronized (LOCK) {
            if (shared && base.equals(SHARED_BASE)) {
                return hold(base);
            }
            for (int n = 1; ; n++) {
                String b = n == 1 ? base : base.concat(Integer.toString(n)).concat("-");
                if (b.equals(SHARED_BASE)) {
                    continue; // kept for the shared instance
                }
                Lease held = BASES.get(b);
                if (held == null || !held.live()) {
                    return hold(b);
                }
            }
        }
    }

    private static Lease hold(String base) {
        assert Thread.holdsLock(LOCK);
        Lease l = new Lease(base);
        BASES.put(base, l);
        sweepIfGrown();
        return l;
    }

    /** A name is taken while a thread that has not terminated holds it. LOCK. */
    private static boolean taken(String name) {
        Thread t = NAMES.get(name);
        return t != null && t.getState() != Thread.State.TERMINATED;
    }

    /** Drops terminated threads' names and free bases once the registry doubled. LOCK. */
    private static void sweepIfGrown() {
        if (NAMES.size() + BASES.size() < sweepAt) {
            return;
        }
        removeTerminated(NAMES.values());
        for (Iterator<Map.Entry<String, Lease>> it = BASES.entrySet().iterator(); it.hasNext(); ) {
            if (!it.next().getValue().live()) {
                it.remove();
            }
        }
        sweepAt = Math.max(64, 2 * (NAMES.size() + BASES.size()));
    }

    /**
     * Removes the terminated threads from {@code threads}. A loop, not {@code removeIf} with a
     * lambda: the first lambda a JVM links bootstraps its lambda machinery (milliseconds), and
     * this may run while a fresh JVM creates its first workers.
     */
    private static void removeTerminated(java.util.Collection<Thread> threads) {
        for (Iterator<Thread> it = threads.iterator(); it.hasNext(); ) {
            if (it.next().getState() == Thread.State.TERMINATED) {
                it.remove();
            }
        }
    }

    /** Entries in the registry now: names plus bases, terminated or free ones until a sweep (tests). */
    static int size() {
        synchronized (LOCK) {
            return NAMES.size() + BASES.size();
        }
    }

    /** One engine's hold on its base, and the threads it named under it. */
    static final class Lease {
        /** The base this lease holds: every name it gives starts with it. */
        final String base;
        /** The engine was shut down: the base is free once {@link #threads} have terminated; LOCK. */
        private boolean closed;
        /** Threads named under this lease that may not have terminated yet; LOCK. */
        private final ArrayList<Thread> threads = new ArrayList<>();
        /** Drop terminated threads from {@link #threads} when it reaches this size; LOCK. */
        private int pruneAt = 16;

        Lease(String base) {
            this.base = base;
        }

        /**
         * Registers {@code t} (not yet started) under the name {@code base + role}, or, if a live
         * thread holds that one, {@code base + role + "-" + n} for the first free n from 2, and
         * returns that name; the caller sets it on the thread before it starts it.
         */
        String name(Thread t, String role) {
            String want = base.concat(role);
            synchronized (LOCK) {
                String name = want;
                for (int n = 2; taken(name); n++) {
                    name = want.concat("-").concat(Integer.toString(n));
                }
                NAMES.put(name, t);
                if (threads.size() >= pruneAt) {
                    removeTerminated(threads);
                    pruneAt = Math.max(16, 2 * threads.size());
                }
                threads.add(t);
                sweepIfGrown();
                return name;
            }
        }

        /** {@code t}, registered as {@code name}, will never start: its name is free again. */
        void forget(Thread t, String name) {
            synchronized (LOCK) {
                NAMES.remove(name, t);
                threads.remove(t);
            }
        }

        /** The engine was shut down: the base is free once its threads have terminated. */
        void close() {
            synchronized (LOCK) {
                closed = true;
            }
        }

        /** Held: the engine is not shut down, or a thread named under it has not terminated. LOCK. */
        private boolean live() {
            if (!closed) {
                return true;
            }
            removeTerminated(threads);
            return !threads.isEmpty();
        }

        @Override
        public String toString() {
            return "ThreadNames.Lease[" + base + "]";
        }
    }
}
