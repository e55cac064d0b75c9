package dev.cmwq4j.bench.scenario;

import java.time.Duration;
import java.util.concurrent.ForkJoinPool;

/**
 * A sleep as a {@link ForkJoinPool.ManagedBlocker}: how the {@code fjp-managed} peer, and the
 * bench tools that compare with it, announce a sleep to {@code ForkJoinPool}.
 */
public final class ManagedSleep implements ForkJoinPool.ManagedBlocker {
    private final long deadline;
    private boolean done;

    private ManagedSleep(long nanos) {
        this.deadline = System.nanoTime() + nanos;
    }

    /** Sleeps {@code nanos} inside {@link ForkJoinPool#managedBlock}. */
    public static void sleep(long nanos) throws InterruptedException {
        ForkJoinPool.managedBlock(new ManagedSleep(nanos));
    }

    @Override
    public boolean block() throws InterruptedException {
        long rest = deadline - System.nanoTime();
        if (rest > 0) {
            Thread.sleep(Duration.ofNanos(rest));
        }
        done = true;
        return true;
    }

    @Override
    public boolean isReleasable() {
        return done || deadline - System.nanoTime() <= 0;
    }
}
