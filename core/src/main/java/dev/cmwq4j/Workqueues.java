package dev.cmwq4j;

/**
 * The system workqueues, on the {@linkplain Cmwq#shared() shared} pools, created on first use.
 * Like the kernel's, they are shared by everyone: queue short works to {@link #system()}, and use
 * {@link Blocking} around waits so that they never hold up others.
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

    /** Bound, normal priority: the default place for short works. */
    public static Workqueue system() {
        return System.WQ;
    }

    /** Bound, high priority. */
    public static Workqueue systemHighPriority() {
        return HighPriority.WQ;
    }

    /** Bound, for works that may run long, so that flushing {@link #system()} stays short. */
    public static Workqueue systemLong() {
        return Long.WQ;
    }

    /** Unbound: not concurrency-managed; works start as soon as a worker is free. */
    public static Workqueue systemUnbound() {
        return Unbound.WQ;
    }
}
