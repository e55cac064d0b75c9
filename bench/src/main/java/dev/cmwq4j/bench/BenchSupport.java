package dev.cmwq4j.bench;

import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import kotlin.coroutines.EmptyCoroutineContext;
import kotlinx.coroutines.CoroutineDispatcher;
import kotlinx.coroutines.Dispatchers;

/**
 * Helpers shared by the benchmarks: peer executors, allocation-free bounded waits, and bounded
 * shutdown so that no benchmark can hang its fork.
 */
final class BenchSupport {
    private BenchSupport() {}

    /** Upper bound on any wait inside a measured operation; a hang becomes an exception. */
    static final long WAIT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);
    /** Upper bound on setup/teardown waits (draining, closing). */
    static final long SHUTDOWN_TIMEOUT_MILLIS = 10_000;

    static int ncpu() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** {@code ForkJoinPool(ncpu)}, default (LIFO local, non-async) mode. */
    static ForkJoinPool newForkJoinPool() {
        return new ForkJoinPool(ncpu());
    }

    /** The classic fixed pool: {@code ThreadPoolExecutor(ncpu, ncpu, LinkedBlockingQueue)}. */
    static ThreadPoolExecutor newFixedPool() {
        ThreadPoolExecutor tpe = new ThreadPoolExecutor(ncpu(), ncpu(), 0L, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>());
        tpe.prestartAllCoreThreads();
        return tpe;
    }

    /**
     * kotlinx.coroutines {@code Dispatchers.Default} as an {@link Executor}: each {@code execute}
     * is {@code dispatch(EmptyCoroutineContext.INSTANCE, runnable)} of the given (pre-built)
     * Runnable, with nothing allocated on the caller's side. The dispatcher is global: never shut
     * it down.
     */
    static Executor kotlinDefault() {
        return new KotlinDispatch(Dispatchers.getDefault());
    }

    private static final class KotlinDispatch implements Executor {
        private final CoroutineDispatcher dispatcher;

        KotlinDispatch(CoroutineDispatcher dispatcher) {
            this.dispatcher = dispatcher;
        }

        @Override
        public void execute(Runnable command) {
            dispatcher.dispatch(EmptyCoroutineContext.INSTANCE, command);
        }
    }

    /**
     * Parks the calling thread until {@code left} reaches zero. The thread that brings it to zero
     * must {@link LockSupport#unpark} the waiter; the park is also capped at 1 ms per round so a
     * missed signal costs at most that. Allocates nothing.
     */
    static void awaitZero(AtomicInteger left) {
        if (left.get() == 0) {
            return;
        }
        long deadline = System.nanoTime() + WAIT_TIMEOUT_NANOS;
        while (left.get() != 0) {
            long rest = deadline - System.nanoTime();
            if (rest <= 0) {
                throw new IllegalStateException("timed out waiting: " + left.get() + " still outstanding");
            }
            LockSupport.parkNanos(Math.min(rest, 1_000_000L));
        }
    }

    /** Spins (with {@link Thread#onSpinWait}) for about {@code nanos}: a producer's own work. Allocates nothing. */
    static void spinFor(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() - until < 0) {
            Thread.onSpinWait();
        }
    }

    /**
     * Spins (with {@link Thread#onSpinWait}, yielding now and then) until {@code counter} exceeds
     * {@code floor}. Used for back-pressure by a producer that must stay on CPU. Allocates nothing.
     */
    static void spinUntilAbove(AtomicLong counter, long floor) {
        long deadline = 0;
        for (int spins = 0; counter.get() <= floor; spins++) {
            Thread.onSpinWait();
            if ((spins & 0xFF) == 0xFF) {
                // A yield now and then, so a producer spinning on a 2-core box does not starve
                // the workers it is waiting for for a whole time slice.
                Thread.yield();
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + WAIT_TIMEOUT_NANOS;
                } else if (now - deadline > 0) {
                    throw new IllegalStateException("timed out waiting for completions: have "
                            + counter.get() + ", need > " + floor);
                }
            }
        }
    }

    /**
     * Queues {@code w} to {@code wq} once its previous instance has started (a producer that
     * reuses a ring of pre-built works can come round to one still pending): spins, yielding
     * every 256 tries, and throws after {@link #WAIT_TIMEOUT_NANOS}. Allocates nothing.
     */
    static void queueWhenNotPending(Workqueue wq, Work w) {
        long deadline = System.nanoTime() + WAIT_TIMEOUT_NANOS;
        for (int spins = 1; !wq.queue(w); spins++) {
            Thread.onSpinWait();
            if ((spins & 0xFF) == 0) {
                Thread.yield();
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("work stayed pending: " + w);
                }
            }
        }
    }

    /** Waits (sleeping) until {@code counter} reaches {@code target}; false on timeout. */
    static boolean awaitAtLeast(AtomicLong counter, long target, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (counter.get() < target) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(100_000L);
        }
        return true;
    }

    /** Shuts a peer executor down, waiting a bounded time. */
    static void shutdown(ExecutorService es) {
        if (es == null) {
            return;
        }
        es.shutdownNow();
        try {
            if (!es.awaitTermination(SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                System.err.println("WARNING: " + es + " did not terminate in " + SHUTDOWN_TIMEOUT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Closes {@code c} on a helper daemon thread and waits a bounded time for it, so a close that
     * hangs (for instance a drain that never finishes) cannot hang the benchmark fork.
     */
    static void closeBounded(String what, AutoCloseable c) {
        if (c == null) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("WARNING: closing " + what + " failed: " + e);
            }
        }, "bench-close-" + what);
        t.setDaemon(true);
        t.start();
        try {
            t.join(SHUTDOWN_TIMEOUT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            System.err.println("WARNING: closing " + what + " did not finish in " + SHUTDOWN_TIMEOUT_MILLIS
                    + " ms; abandoning it (daemon threads)");
        }
    }
}
