package dev.cmwq4j.internal;

import java.util.concurrent.locks.ReentrantLock;

/** Lock acquisition for the hot path. */
final class Locks {
    private Locks() {}

    /** Spin attempts before queueing on the lock. About a microsecond on current hardware. */
    private static final int SPINS = 256;

    /**
     * Takes {@code l}, spinning briefly with {@code tryLock} first. The critical sections of pools
     * and the timer are a few hundred nanoseconds, so the spin nearly always wins. That keeps the
     * hot path free of the wait node {@link ReentrantLock#lock()} allocates when it has to queue
     * a thread (measured with JMH {@code -prof gc}: the only allocation left on queue/execute).
     *
     * @return true if it was taken within the spin (about a microsecond at most), false if the
     *     caller queued on it and may have waited any time
     */
    static boolean acquire(ReentrantLock l) {
        if (l.tryLock()) {
            return true;
        }
        Seam.lockBusy(l);
        for (int i = 0; i < SPINS; i++) {
            Thread.onSpinWait();
            if (!l.isLocked() && l.tryLock()) {
                return true;
            }
        }
        l.lock();
        return false;
    }
}
