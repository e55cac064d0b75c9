package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Announces that the calling work is about to block, so that its pool can start another work
 * meanwhile.
 *
 * <p>On a worker of a concurrency-managed pool, entering a block takes the worker out of the
 * pool's count of running workers; if the pool then has queued work and nothing running, an idle
 * worker is woken at once, and a new thread is created only if the block outlasts the stall
 * window (200 us by default). Leaving the block counts the worker again. Blocks nest; only the
 * outermost counts. On any other thread these methods just run the code.
 *
 * <p>A pair that wakes nobody costs two atomic operations on the pool counter.
 *
 * <pre>{@code
 * String body = Blocking.call(() -> httpClient.send(request, ofString()).body());
 * Blocking.sleep(Duration.ofMillis(5));
 * T value = Blocking.get(future);
 * T other = Blocking.join(httpClient.sendAsync(request, ofString()));
 * }</pre>
 */
public final class Blocking {
    private Blocking() {}

    /**
     * Runs {@code action} as a block. What it throws reaches the caller.
     *
     * @param action the blocking code
     * @throws NullPointerException if {@code action} is null
     */
    public static void run(Runnable action) {
        Objects.requireNonNull(action, "action");
        WaitProtocol.Wait wait = WaitProtocol.enterOutsideBlock();
        try {
            action.run();
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * Calls {@code action} as a block and returns its result.
     *
     * @param <T> the result type
     * @param action the blocking code
     * @return what {@code action} returns
     * @throws NullPointerException if {@code action} is null
     * @throws Exception whatever {@code action} throws
     */
    public static <T> T call(Callable<T> action) throws Exception {
        Objects.requireNonNull(action, "action");
        WaitProtocol.Wait wait = WaitProtocol.enterOutsideBlock();
        try {
            return action.call();
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * Runs a {@link ForkJoinPool.ManagedBlocker} as a block, with the JDK's protocol: returns at
     * once if {@code isReleasable()}, otherwise calls {@code block()} until it or
     * {@code isReleasable()} returns true. Existing blockers written for {@code ForkJoinPool} work
     * unchanged.
     *
     * @param blocker the blocker
     * @throws NullPointerException if {@code blocker} is null
     * @throws InterruptedException if {@code blocker.block()} throws it
     */
    public static void managedBlock(ForkJoinPool.ManagedBlocker blocker) throws InterruptedException {
        Objects.requireNonNull(blocker, "blocker");
        if (blocker.isReleasable()) {
            return;
        }
        WaitProtocol.Wait wait = WaitProtocol.enterOutsideBlock();
        try {
            while (!blocker.isReleasable() && !blocker.block()) {
                // keep blocking
            }
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * {@link Thread#sleep(Duration)} as a block.
     *
     * @param duration how long to sleep; zero or positive
     * @throws NullPointerException if {@code duration} is null
     * @throws IllegalArgumentException if {@code duration} is negative
     * @throws InterruptedException if the thread is interrupted while it sleeps
     */
    public static void sleep(Duration duration) throws InterruptedException {
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration must not be negative, got " + duration);
        }
        WaitProtocol.Wait wait = WaitProtocol.enterOutsideBlock();
        try {
            Thread.sleep(duration);
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /**
     * {@link Thread#sleep(long)} as a block.
     *
     * @param millis how long to sleep, in milliseconds; zero or positive
     * @throws IllegalArgumentException if {@code millis} is negative
     * @throws InterruptedException if the thread is interrupted while it sleeps
     */
    public static void sleep(long millis) throws InterruptedException {
        if (millis < 0) {
            throw new IllegalArgumentException("millis must not be negative, got " + millis);
        }
        sleep(Duration.ofMillis(millis));
    }

    /**
     * {@link Future#get()} as a block; no block is announced if the future is already done. A
     * future of a workqueue (from {@link Workqueue#supplyAsync}, {@link Workqueue#runAsync} or the
     * {@linkplain Workqueue#asExecutorService() executor view}) waits as its own {@code get} does:
     * it may run its task in place, and lends the caller's priority to it.
     *
     * @param <T> the result type
     * @param future the future to wait for
     * @return its result
     * @throws NullPointerException if {@code future} is null
     * @throws InterruptedException if the thread is interrupted while it waits
     * @throws ExecutionException if the future completed exceptionally
     * @throws java.util.concurrent.CancellationException if it was cancelled
     */
    public static <T> T get(Future<T> future) throws InterruptedException, ExecutionException {
        Objects.requireNonNull(future, "future");
        try {
            return await(future, 0, null);
        } catch (TimeoutException e) {
            throw new AssertionError("an untimed get timed out", e);
        }
    }

    /**
     * {@link Future#get(long, TimeUnit)} as a block; no block is announced if the future is
     * already done.
     *
     * @param <T> the result type
     * @param future the future to wait for
     * @param timeout how long to wait at most, in {@code unit}
     * @param unit the unit of {@code timeout}
     * @return its result
     * @throws NullPointerException if {@code future} or {@code unit} is null
     * @throws InterruptedException if the thread is interrupted while it waits
     * @throws ExecutionException if the future completed exceptionally
     * @throws TimeoutException if the timeout passed first
     * @throws java.util.concurrent.CancellationException if it was cancelled
     */
    public static <T> T get(Future<T> future, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(future, "future");
        Objects.requireNonNull(unit, "unit");
        return await(future, timeout, unit);
    }

    /**
     * {@link CompletableFuture#join()} as a block, for futures that were not made by
     * {@link Workqueue#supplyAsync} or {@link Workqueue#runAsync} (those announce their waits
     * themselves): for example {@code CompletableFuture.supplyAsync(f, wq)} or an HTTP client's.
     * No block is announced if the future is already done.
     *
     * @param <T> the result type
     * @param future the future to wait for
     * @return its result
     * @throws NullPointerException if {@code future} is null
     * @throws java.util.concurrent.CompletionException if the future completed exceptionally
     * @throws java.util.concurrent.CancellationException if it was cancelled
     */
    public static <T> T join(CompletableFuture<T> future) {
        Objects.requireNonNull(future, "future");
        if (future.isDone() || future instanceof WorkqueueFuture) {
            return future.join(); // a workqueue future's join follows the whole wait protocol
        }
        WaitProtocol.Wait wait = WaitProtocol.enterBlock();
        try {
            return future.join();
        } finally {
            WaitProtocol.exit(wait);
        }
    }

    /** Waits for {@code future} as a block; untimed when {@code unit} is null. */
    private static <T> T await(Future<T> future, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (future.isDone()) {
            return future.get();
        }
        if (future instanceof WorkqueueFuture || future instanceof WorkqueueExecutorService.BlockingFutureTask) {
            // they follow the whole wait protocol themselves: help, lend, join
            return unit == null ? future.get() : future.get(timeout, unit);
        }
        WaitProtocol.Wait wait = WaitProtocol.enterBlock();
        try {
            return unit == null ? future.get() : future.get(timeout, unit);
        } finally {
            WaitProtocol.exit(wait);
        }
    }
}
