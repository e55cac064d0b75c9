package dev.cmwq4j.bench.scenario;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;

/**
 * One executor instance under test, as the scenarios use it. Scenarios never call the JDK or the
 * Kotlin API directly: what differs between peers (how a task waits, how a sleep is announced)
 * lives here, next to the peer it belongs to.
 */
abstract class PeerExecutor {
    /** Fire and forget. */
    abstract void execute(Runnable task);

    /**
     * This peer as a plain {@link Executor}, for a framework that takes one (the {@code http}
     * scenario's {@code HttpServer.setExecutor}): the executor itself where it is one (cmwq: the
     * {@code Workqueue}; the JDK pools), else an adapter to {@link #execute}.
     */
    Executor executor() {
        return this::execute;
    }

    /** Submits a task whose result a task of the same executor will wait for. */
    /**
     * The peer as an {@code ExecutorService}'s {@code execute}, the way an application hands it
     * around: the service itself for the JDK pools; cmwq4j's {@code asExecutorService()} view
     * (which tracks its tasks for shutdown); the dispatcher for Kotlin.
     */
    Executor service() {
        return executor();
    }

    abstract <T> Future<T> submit(Callable<T> task);

    /**
     * Waits, inside a task, for a future from {@link #submit}. Peers that can learn of the block do
     * so here or in the future itself (cmwq's executor-service futures, {@code ForkJoinTask}).
     */
    <T> T await(Future<T> future) throws Exception {
        return future.get();
    }

    /**
     * Sleeps inside a task. With {@code announced}, a peer that has a way to be told of blocking
     * uses it (cmwq: {@code Blocking.sleep}; the {@code fjp-managed} peer:
     * {@code ForkJoinPool.managedBlock}); every other peer, and every peer when not announced,
     * calls plain {@link Thread#sleep}.
     */
    void sleep(long nanos, boolean announced) throws InterruptedException {
        Thread.sleep(Duration.ofNanos(nanos));
    }

    /** Extra facts for the report, e.g. the pool's own thread count; may be empty. */
    String note() {
        return "";
    }
}
