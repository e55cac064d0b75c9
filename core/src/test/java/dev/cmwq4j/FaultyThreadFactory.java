package dev.cmwq4j;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection for thread creation: creates threads until {@link #failAfter(int)} allows no
 * more, then throws {@code OutOfMemoryError("unable to create native thread")}, as the JVM does
 * when the OS refuses a thread, until {@link #recover()}.
 */
final class FaultyThreadFactory implements ThreadFactory {
    private final AtomicInteger created = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();
    /** Threads still allowed, or -1 for no limit. */
    private final AtomicInteger allowance = new AtomicInteger(-1);
    /** Besides the allowance: refuse this share of creations at random (0: none). */
    private volatile double randomFailures;

    /** From now on, allow {@code k} more threads, then fail. */
    FaultyThreadFactory failAfter(int k) {
        allowance.set(k);
        return this;
    }

    /** Thread creation works again. */
    void recover() {
        allowance.set(-1);
        randomFailures = 0;
    }

    /** From now on, refuse a share {@code p} of creations at random. */
    FaultyThreadFactory failRandomly(double p) {
        randomFailures = p;
        return this;
    }

    /** Threads created so far. */
    int created() {
        return created.get();
    }

    /** Creations refused so far. */
    int failures() {
        return failures.get();
    }

    @Override
    public Thread newThread(Runnable r) {
        double p = randomFailures;
        if (p > 0 && java.util.concurrent.ThreadLocalRandom.current().nextDouble() < p) {
            failures.incrementAndGet();
            throw new OutOfMemoryError("unable to create native thread (injected at random by the test)");
        }
        for (;;) {
            int a = allowance.get();
            if (a == 0) {
                failures.incrementAndGet();
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource"
                        + " limits reached (injected by the test)");
            }
            if (a < 0 || allowance.compareAndSet(a, a - 1)) {
                break;
            }
        }
        created.incrementAndGet();
        return new Thread(r);
    }
}
