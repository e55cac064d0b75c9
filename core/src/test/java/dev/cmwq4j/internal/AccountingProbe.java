package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Test-side reads of the per-workqueue accounting that {@code flush}, {@code drain} and
 * {@code maxActive} rely on: each pool workqueue's active count, inactive list and works in
 * flight per flush color. Each pwq is read under its pool lock, so every count read is one that
 * the engine itself could have seen; none may ever be negative.
 */
public final class AccountingProbe {
    private AccountingProbe() {}

    /** The counts of one pwq, read at once under its pool lock. */
    public record PwqCounts(String pool, int active, int inactive, int workColor, int[] inFlight) {
        /** Works in flight over every color. */
        public int totalInFlight() {
            int sum = 0;
            for (int c : inFlight) {
                sum += c;
            }
            return sum;
        }

        /** A count below zero: the engine ended something it had not counted, here. */
        public boolean anyNegative() {
            if (active < 0 || inactive < 0) {
                return true;
            }
            for (int c : inFlight) {
                if (c < 0) {
                    return true;
                }
            }
            return false;
        }

        /** Nothing active, inactive or in flight. */
        public boolean atRest() {
            return active == 0 && inactive == 0 && totalInFlight() == 0;
        }

        @Override
        public String toString() {
            return pool + ": active " + active + ", inactive " + inactive + ", color " + workColor
                    + ", inFlight " + java.util.Arrays.toString(inFlight);
        }
    }

    /** The counts of every pwq of {@code wq}. */
    public static List<PwqCounts> counts(WorkqueueCore wq) {
        List<PwqCounts> out = new ArrayList<>(wq.pwqs.length);
        for (PoolWorkqueue pwq : wq.pwqs) {
            pwq.pool.lock();
            try {
                int[] inFlight = new int[PoolWorkqueue.COLORS];
                for (int c = 0; c < inFlight.length; c++) {
                    inFlight[c] = pwq.inFlight(c);
                }
                out.add(new PwqCounts(pwq.pool.name(), pwq.nrActive, pwq.inactiveCount(), pwq.workColor, inFlight));
            } finally {
                pwq.pool.unlock();
            }
        }
        return out;
    }

    /** Some pwq of {@code wq} has a negative count. */
    public static boolean anyNegative(WorkqueueCore wq) {
        return counts(wq).stream().anyMatch(PwqCounts::anyNegative);
    }

    /** Every pwq of {@code wq} is at rest and no delayed work is armed for it. */
    public static boolean atRest(WorkqueueCore wq) {
        return armed(wq) == 0 && counts(wq).stream().allMatch(PwqCounts::atRest);
    }

    /** Delayed works armed on the timer for {@code wq}. */
    public static int armed(WorkqueueCore wq) {
        return ((java.util.concurrent.atomic.AtomicInteger) field(wq, "delayedPending")).get();
    }

    /** The accounting of {@code wq}, one line per pwq, with its flush epochs and waiters. */
    public static String describe(WorkqueueCore wq) {
        StringBuilder sb = new StringBuilder();
        sb.append(wq.name).append(": epoch ").append(field(wq, "epoch")).append(", drainedThrough ")
                .append(field(wq, "drainedThrough")).append(", flush waiters ").append(field(wq, "flushWaiterCount"))
                .append(", armed ").append(armed(wq)).append(", lifecycle ").append(field(wq, "lifecycle"));
        for (PwqCounts c : counts(wq)) {
            sb.append("\n    ").append(c);
        }
        return sb.toString();
    }

    /** The state of one work's node: its state word, where it is, its pending pwq and counters. */
    public static String describe(WorkNode n) {
        PoolWorkqueue p = n.pwq;
        return "state 0x" + Integer.toHexString(n.state) + ", where " + n.where + ", pwq "
                + (p == null ? "none" : p.wq.name + "@" + p.pool.name()) + ", color " + n.color + ", queued "
                + n.queued() + ", resolved " + n.resolved();
    }

    /** An instance of {@code n} is handed off to the worker that runs its previous instance. */
    public static boolean isHandedOff(WorkNode n) {
        return (n.state & WorkNode.HANDOFF) != 0;
    }

    /**
     * Installs {@code hook} at the handoff seam ({@code Seam.onHandoffPwqRead}), or removes it
     * with null: it runs on any thread that has just read a handed-off instance's pwq.
     */
    public static void onHandoffPwqRead(Runnable hook) {
        Seam.onHandoffPwqRead = hook;
    }

    /**
     * Installs {@code hook} at the push seam ({@code Seam.onPush}), or removes it with null: it
     * runs on any queuing thread with 0 just before its push onto a pool's inbound stack, 1 just
     * after.
     */
    public static void onPush(java.util.function.IntConsumer hook) {
        Seam.onPush = hook;
    }

    /**
     * Installs {@code hook} at the count seam ({@code Seam.onCount}), or removes it with null: a
     * drain's first pass runs it with the index of each pwq it has just counted.
     */
    public static void onCount(java.util.function.IntConsumer hook) {
        Seam.onCount = hook;
    }

    /**
     * Installs {@code hook} at the seal seam ({@code Seam.onSeal}), or removes it with null: a
     * closing drain runs it with 0 just after it set the seal; when its count found work, with 1
     * after it unsealed the pwqs and 2 after it cleared the seal itself.
     */
    public static void onSeal(java.util.function.IntConsumer hook) {
        Seam.onSeal = hook;
    }

    /** Whether {@code t} waits for the closing drain of {@code wq} in progress to end. */
    public static boolean waitsToClose(WorkqueueCore wq, Thread t) {
        return wq.closeLock().hasQueuedThread(t);
    }

    /**
     * Installs {@code hook} at the arming seam ({@code Seam.onArm}), or removes it with null: it
     * runs on an arming thread with 0 before the arming counts itself and reads the seal, 1 after
     * it scheduled the timer.
     */
    public static void onArm(java.util.function.IntConsumer hook) {
        Seam.onArm = hook;
    }

    private static Object field(Object o, String name) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                java.lang.reflect.Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (ReflectiveOperationException e) {
                return "?" + e;
            }
        }
        return "?";
    }
}
