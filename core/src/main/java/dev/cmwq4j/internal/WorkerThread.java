package dev.cmwq4j.internal;

/**
 * A thread the engine makes itself when it was given no thread factory ({@link Engine#newThread}).
 * It carries the {@link Worker} it runs in a plain field, so that {@link Worker#current}, asked
 * on every queue and every announced block, is a type check and a load instead of a
 * {@code ThreadLocal} look-up (a hash probe of the thread's map and a weak reference's check:
 * about 5 ns of a chain's hop, ARCHITECTURE 3 <i>Which worker is asking</i>). A thread from a
 * factory the user gave keeps the {@code ThreadLocal}.
 *
 * <p>No factory object and no lambda: the first worker is made while the instance is built, where a
 * lambda's first link costs milliseconds of a cold start (docs/BENCHMARKS.md, <i>Cold start</i>).
 *
 * <p>Made as {@code Executors.defaultThreadFactory()} makes its threads (normal priority, the
 * creator's thread group), except that it inherits no inheritable thread-locals: a worker thread
 * is made by whichever thread needed one (a queuer, the service thread), and a shared pool's
 * workers must not carry one caller's context into every other caller's works (context reaches a
 * work through a task decorator). The engine names it and makes it a daemon.
 */
final class WorkerThread extends Thread {

    /**
     * The worker this thread runs now, or null. Written and read by this thread only
     * ({@link Worker#bindCurrent}, {@link Worker#current}).
     */
    Worker worker;

    /** A new, unstarted thread that runs {@code task}. */
    WorkerThread(Runnable task) {
        super(null, task, "cmwq4j-worker", 0, false);
        if (getPriority() != NORM_PRIORITY) {
            setPriority(NORM_PRIORITY);
        }
    }
}
