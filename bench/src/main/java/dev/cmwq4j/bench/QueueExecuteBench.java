package dev.cmwq4j.bench;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Queue-to-execute throughput of <em>pre-built</em> tasks: no allocation per operation on the
 * benchmark side, so {@code -prof gc} shows what the executor itself allocates per task.
 *
 * <p>Peers ({@code executor} param):
 * <ul>
 *   <li>{@code cmwq}: a bound workqueue of a private {@link Cmwq}, queueing pre-built
 *       {@link Work}s;
 *   <li>{@code fjp}: {@code new ForkJoinPool(ncpu)}, {@code execute} of pre-built Runnables;
 *   <li>{@code tpe}: {@code ThreadPoolExecutor(ncpu, ncpu, LinkedBlockingQueue)}, {@code execute}
 *       of pre-built Runnables;
 *   <li>{@code virtual}: {@code Executors.newVirtualThreadPerTaskExecutor()}, {@code execute} of
 *       pre-built Runnables (so one new virtual thread per task);
 *   <li>{@code ktdefault}: kotlinx.coroutines {@code Dispatchers.Default} (global, never shut
 *       down), {@code dispatch(EmptyCoroutineContext.INSTANCE, runnable)} of pre-built Runnables.
 * </ul>
 * In {@link #selfSubmit} and {@link #pingPong} a task always queues its successor to the same
 * executor it runs on (for {@code virtual}: a new virtual thread of the same executor; for
 * {@code ktdefault}: a dispatch from a {@code Dispatchers.Default} worker).
 *
 * <p>Forms:
 * <ul>
 *   <li>{@link #external}: the benchmark thread queues; each op is one queue plus one completed
 *       run. A ring of {@value #RING} pre-built works (a {@code Work} has at most one pending
 *       instance) and back-pressure keep at most {@value #WINDOW} outstanding: steady state.
 *   <li>{@link #externalExecute}: the same with every executor handed one Runnable through
 *       {@code execute(Runnable)}, cmwq4j too (a task object per op: its node).
 *   <li>{@link #externalPaced}: the same, with the producer spinning about {@value #PACE_NANOS} ns
 *       after each queue, slower than a worker: the pool runs dry after nearly every task.
 *   <li>{@link #selfSubmit}: a fan of independent chains (2 per CPU, rounded up to a power of
 *       two); each run queues the next work of its chain from the worker. Op = one completed run.
 *   <li>{@link #pingPong}: one chain of two works, A queues B and B queues A. Op = one round trip
 *       (two runs).
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class QueueExecuteBench {
    /** Pre-built works in the external producer's ring; a power of two. */
    static final int RING = 1024;
    /** Most works outstanding (queued, not yet completed) for the external producer. */
    static final int WINDOW = 256;
    /** Completed runs per {@link #selfSubmit} invocation. */
    static final int SELF_BATCH = 1 << 14;
    /** Pre-built works per self-submit chain. */
    static final int CHAIN_LENGTH = 4;
    /** Round trips per {@link #pingPong} invocation. */
    static final int PING_PONG_BATCH = 1 << 12;

    @Param({"cmwq", "fjp", "tpe", "virtual", "ktdefault"})
    public String executor;

    private boolean isCmwq;
    private Cmwq cmwq;
    private Workqueue wq;
    /** The peer as the benchmarks call it (every peer but cmwq). */
    private Executor peer;
    /** The peer to shut down at the end of the trial; null for the global Kotlin dispatcher. */
    private ExecutorService peerService;

    // ---- external producer ----
    /** Completed runs; incremented by the workers. */
    final AtomicLong completed = new AtomicLong();
    /** Queued so far; benchmark thread only. */
    private long issued;
    private final Runnable countAction = completed::getAndIncrement;
    private Work[] ring;

    // ---- self-submit and ping-pong ----
    private Chain[] chains;
    private Chain pingPongChain;
    /** Chains still running in the current invocation. */
    final AtomicInteger chainsLeft = new AtomicInteger();
    /** The benchmark thread, unparked by the last chain to finish. */
    volatile Thread waiter;

    @Setup(Level.Trial)
    public void setUp() {
        switch (executor) {
            case "cmwq" -> {
                isCmwq = true;
                cmwq = Cmwq.builder().build();
                wq = cmwq.workqueue("bench").build();
            }
            case "fjp" -> peer = peerService = BenchSupport.newForkJoinPool();
            case "tpe" -> peer = peerService = BenchSupport.newFixedPool();
            case "virtual" -> peer = peerService = Executors.newVirtualThreadPerTaskExecutor();
            case "ktdefault" -> peer = BenchSupport.kotlinDefault();
            default -> throw new IllegalArgumentException("unknown executor: " + executor);
        }
        ring = new Work[RING];
        for (int i = 0; i < RING; i++) {
            ring[i] = new Work(countAction);
        }
        int nChains = Integer.highestOneBit(Math.max(1, 2 * BenchSupport.ncpu() - 1)) << 1; // >= 2*ncpu
        nChains = Math.min(nChains, 64);
        chains = new Chain[nChains];
        for (int i = 0; i < nChains; i++) {
            chains[i] = new Chain(CHAIN_LENGTH);
        }
        pingPongChain = new Chain(2);
    }

    /** Lets the external producer's outstanding works finish, so iterations do not overlap. */
    @TearDown(Level.Iteration)
    public void drainIteration() {
        if (!BenchSupport.awaitAtLeast(completed, issued, BenchSupport.SHUTDOWN_TIMEOUT_MILLIS)) {
            throw new IllegalStateException("outstanding works did not complete: issued " + issued
                    + ", completed " + completed.get());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (isCmwq) {
            BenchSupport.closeBounded("workqueue", wq);
            BenchSupport.closeBounded("cmwq", cmwq);
        } else {
            BenchSupport.shutdown(peerService); // a no-op for ktdefault: Dispatchers.Default is global
        }
    }

    // ------------------------------------------------------------------------------------------
    // 1a. External producer.

    @Benchmark
    @Threads(1)
    public void external() {
        issue(true);
    }

    /**
     * One op of the external forms: waits until at most {@value #WINDOW} are outstanding (for
     * completed > issued - WINDOW), then hands the executor one task: for cmwq4j with
     * {@code prebuilt} the ring's next {@link Work}, else {@code execute(countAction)}.
     */
    private void issue(boolean prebuilt) {
        long i = issued;
        long floor = i - WINDOW;
        if (completed.get() <= floor) {
            BenchSupport.spinUntilAbove(completed, floor);
        }
        if (!isCmwq) {
            peer.execute(countAction);
        } else if (prebuilt) {
            Work w = ring[(int) i & (RING - 1)];
            if (!wq.queue(w)) {
                BenchSupport.queueWhenNotPending(wq, w); // its previous instance has not started yet (rare)
            }
        } else {
            wq.execute(countAction);
        }
        issued = i + 1;
    }

    // ------------------------------------------------------------------------------------------
    // 1a''. External producer, tasks: execute(Runnable).

    /**
     * As {@link #external}, but every executor, cmwq4j included, is handed the one pre-built
     * Runnable through {@code execute(Runnable)} ({@code Workqueue.execute} for cmwq4j): the form
     * of a task submitted once, so {@code -prof gc} shows what each executor allocates per task
     * (cmwq4j: the task's node).
     */
    @Benchmark
    @Threads(1)
    public void externalExecute() {
        issue(false);
    }

    // ------------------------------------------------------------------------------------------
    // 1a'. External producer, paced: a little work of its own between two queues.

    /**
     * As {@link #external}, with the producer spinning about {@value #PACE_NANOS} ns after each
     * queue (its own work between two tasks): slower than one worker runs no-op tasks, so the
     * worker runs dry after nearly every task and the cost of running out of work (going idle,
     * being found or woken again) is what this form measures. Op = one queue plus one completed
     * run, the pace included.
     */
    @Benchmark
    @Threads(1)
    public void externalPaced() {
        external();
        BenchSupport.spinFor(PACE_NANOS);
    }

    /** The producer's own work between two queues in {@link #externalPaced}. */
    static final long PACE_NANOS = 1_000;

    // ------------------------------------------------------------------------------------------
    // 1b. Worker self-submit: a fan of chains.

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(SELF_BATCH)
    public void selfSubmit() {
        Chain[] cs = chains;
        int perChain = SELF_BATCH / cs.length;
        waiter = Thread.currentThread();
        chainsLeft.set(cs.length);
        for (Chain c : cs) {
            c.remaining = perChain;
        }
        for (Chain c : cs) {
            c.submit(0);
        }
        BenchSupport.awaitZero(chainsLeft);
    }

    // ------------------------------------------------------------------------------------------
    // 1c. Ping-pong: A queues B, B queues A.

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(PING_PONG_BATCH)
    public void pingPong() {
        Chain c = pingPongChain;
        waiter = Thread.currentThread();
        chainsLeft.set(1);
        c.remaining = 2 * PING_PONG_BATCH;
        c.submit(0);
        BenchSupport.awaitZero(chainsLeft);
    }

    // ------------------------------------------------------------------------------------------

    /**
     * A cycle of pre-built hops; each run of hop i submits hop i+1 (mod length) until
     * {@link #remaining} runs are done. Runs of one chain are sequential (each is submitted by the
     * previous one), so {@code remaining} needs no synchronization beyond the executor's own
     * happens-before edge from submit to run.
     */
    final class Chain {
        final Hop[] hops;
        final Work[] works;
        int remaining;

        Chain(int length) {
            hops = new Hop[length];
            works = new Work[length];
            for (int i = 0; i < length; i++) {
                hops[i] = new Hop(this, (i + 1) % length);
                works[i] = new Work(hops[i]);
            }
        }

        void submit(int i) {
            if (isCmwq) {
                if (!wq.queue(works[i])) {
                    // Cannot happen: the chain is sequential, so hop i is never pending here.
                    throw new IllegalStateException("chain hop was still pending: " + works[i]);
                }
            } else {
                peer.execute(hops[i]);
            }
        }
    }

    final class Hop implements Runnable {
        private final Chain chain;
        private final int next;

        Hop(Chain chain, int next) {
            this.chain = chain;
            this.next = next;
        }

        @Override
        public void run() {
            Chain c = chain;
            if (--c.remaining > 0) {
                c.submit(next);
            } else if (chainsLeft.decrementAndGet() == 0) {
                java.util.concurrent.locks.LockSupport.unpark(waiter);
            }
        }
    }
}
