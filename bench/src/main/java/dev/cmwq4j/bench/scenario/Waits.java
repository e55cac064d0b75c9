package dev.cmwq4j.bench.scenario;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/** Waiting for a scenario to finish, with deadlock (no progress) detection. */
final class Waits {
    private Waits() {}

    /** Thrown when nothing completed for the stall window: the run is reported as a deadlock. */
    static final class Stalled extends Exception {
        private static final long serialVersionUID = 1L;

        Stalled(long done, long total, long stalledNanos) {
            super("no progress for " + stalledNanos / 1_000_000 + " ms at " + done + "/" + total);
        }
    }

    /** Thrown when a scenario ran out of its own time bound: the run is reported as a timeout. */
    static final class TimedOut extends Exception {
        private static final long serialVersionUID = 1L;

        TimedOut(String message) {
            super(message);
        }
    }

    /**
     * Waits until {@code done} reaches {@code total}, polling every {@code pollNanos} (an unpark
     * ends a poll early). Throws {@link Stalled} if {@code progress} does not move for
     * {@code stallNanos}.
     */
    static void await(LongSupplier done, long total, LongSupplier progress, long stallNanos, long pollNanos)
            throws Stalled {
        long last = Long.MIN_VALUE;
        long since = System.nanoTime();
        for (;;) {
            long d = done.getAsLong();
            if (d >= total) {
                return;
            }
            long p = progress.getAsLong();
            long now = System.nanoTime();
            if (p != last) {
                last = p;
                since = now;
            } else if (now - since >= stallNanos) {
                throw new Stalled(d, total, now - since);
            }
            LockSupport.parkNanos(Waits.class, pollNanos);
        }
    }

    /**
     * Counts finished units; the one that finishes the last unparks the thread that made it (the
     * waiter), so the measured wall time ends at the last completion, not at the next poll.
     * {@link #progress()} also moves for partial steps (a fan-out's subtasks).
     */
    static final class Completion {
        private final long total;
        private final Thread waiter = Thread.currentThread();
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong steps = new AtomicLong();

        Completion(long total) {
            this.total = total;
        }

        void countDown() {
            if (done.incrementAndGet() == total) {
                LockSupport.unpark(waiter);
            }
        }

        void step() {
            steps.incrementAndGet();
        }

        long done() {
            return done.get();
        }

        long total() {
            return total;
        }

        long progress() {
            return done.get() + steps.get();
        }

        void await(long stallNanos) throws Stalled {
            Waits.await(done::get, total, this::progress, stallNanos, 20_000_000L);
        }
    }
}
