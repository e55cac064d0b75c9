package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one enter/exit pair of {@link Blocking#run(Runnable)} with a pre-built no-op, in
 * nanoseconds per pair (average time mode), beside the JDK's peer, {@link ForkJoinPool#managedBlock}
 * on a {@code ForkJoinPool} worker.
 *
 * <ul>
 *   <li>{@link #onWorker}: a work running on a cmwq worker calls {@code Blocking.run(noop)}
 *       {@value #BATCH} times in a loop; the pool has nothing else queued, so no pair wakes anyone.
 *       The cost of queueing the work and waking the benchmark thread is amortized over the batch.
 *   <li>{@link #onWorkerBaseline}: the same work calling {@code noop.run()} directly: the loop and
 *       dispatch overhead to subtract from {@code onWorker}.
 *   <li>{@link #offWorker}: the benchmark thread (not a worker) calls {@code Blocking.run(noop)};
 *       the helper just runs the code after a thread-local lookup.
 *   <li>{@link #onWorkerManagedBlock}: as {@code onWorker}, through
 *       {@link Blocking#managedBlock} with a {@link OnceBlocker} (not releasable until its
 *       {@code block()}, a no-op, has run once): the same blocker protocol as the FJP peer.
 *   <li>{@link #fjpManagedBlock}: the peer. A task on a worker of {@code new ForkJoinPool(ncpu)}
 *       calls {@code ForkJoinPool.managedBlock(onceBlocker)} {@value #BATCH} times, nothing else
 *       queued. Every call takes the pool's compensation path ({@code tryCompensate}, then the
 *       {@code ctl} restore); with an idle worker in the pool, {@code tryCompensate} activates
 *       (unparks) it, so unlike cmwq's pair the JDK's pair wakes someone even with nothing to
 *       run. The score is the calling thread's time only: it does not show the other CPU that the
 *       activated worker keeps busy (in a tight loop on 2 CPUs, JDK 25, the process used about
 *       1.9 CPUs with {@code ForkJoinPool(2)} against about 1.0 with cmwq, at a similar time per
 *       pair).
 *   <li>{@link #fjpBaseline}: the same task calling the blocker's {@code isReleasable()} and
 *       {@code block()} directly: the loop and dispatch overhead to subtract.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class BlockingBench {
    static final int BATCH = 10_000;

    private Cmwq cmwq;
    private Workqueue wq;
    private final Runnable noop = () -> {};
    private Work blockingLoop;
    private Work plainLoop;
    private Work managedLoop;
    private final OnceBlocker onceBlocker = new OnceBlocker();
    final AtomicInteger left = new AtomicInteger();
    volatile Thread waiter;

    @Setup(Level.Trial)
    public void setUp() {
        cmwq = Cmwq.builder().build();
        wq = cmwq.workqueue("bench-blocking").build();
        blockingLoop = new Work(() -> {
            Runnable a = noop;
            for (int i = 0; i < BATCH; i++) {
                Blocking.run(a);
            }
            done();
        });
        managedLoop = new Work(() -> {
            OnceBlocker b = onceBlocker;
            try {
                for (int i = 0; i < BATCH; i++) {
                    b.released = false;
                    Blocking.managedBlock(b);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done();
        });
        plainLoop = new Work(() -> {
            Runnable a = noop;
            for (int i = 0; i < BATCH; i++) {
                a.run();
            }
            done();
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        BenchSupport.closeBounded("workqueue", wq);
        BenchSupport.closeBounded("cmwq", cmwq);
    }

    private void done() {
        left.set(0);
        LockSupport.unpark(waiter);
    }

    private void runOnWorker(Work w) {
        waiter = Thread.currentThread();
        left.set(1);
        if (!wq.queue(w)) {
            throw new IllegalStateException("work still pending: " + w);
        }
        BenchSupport.awaitZero(left);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void onWorker() {
        runOnWorker(blockingLoop);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void onWorkerBaseline() {
        runOnWorker(plainLoop);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void offWorker() {
        Runnable a = noop;
        for (int i = 0; i < BATCH; i++) {
            Blocking.run(a);
        }
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void onWorkerManagedBlock() {
        runOnWorker(managedLoop);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void fjpManagedBlock(Fjp fjp) {
        fjp.runOnWorker(fjp.managedLoop);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public void fjpBaseline(Fjp fjp) {
        fjp.runOnWorker(fjp.plainLoop);
    }

    /**
     * A {@link ForkJoinPool.ManagedBlocker} that is not releasable until its {@code block()} (which
     * does nothing) has run once; reset {@link #released} before each use. Used by one thread at a
     * time.
     */
    static final class OnceBlocker implements ForkJoinPool.ManagedBlocker {
        boolean released;

        @Override
        public boolean block() {
            released = true;
            return true;
        }

        @Override
        public boolean isReleasable() {
            return released;
        }
    }

    /** The FJP peer: {@code new ForkJoinPool(ncpu)} and its pre-built loops. */
    @State(Scope.Benchmark)
    public static class Fjp {
        private ForkJoinPool pool;
        private final OnceBlocker blocker = new OnceBlocker();
        final AtomicInteger left = new AtomicInteger();
        volatile Thread waiter;
        Runnable managedLoop;
        Runnable plainLoop;

        @Setup(Level.Trial)
        public void setUp() {
            pool = BenchSupport.newForkJoinPool();
            managedLoop = () -> {
                OnceBlocker b = blocker;
                try {
                    for (int i = 0; i < BATCH; i++) {
                        b.released = false;
                        ForkJoinPool.managedBlock(b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                done();
            };
            plainLoop = () -> {
                OnceBlocker b = blocker;
                for (int i = 0; i < BATCH; i++) {
                    b.released = false;
                    if (!b.isReleasable()) {
                        b.block();
                    }
                }
                done();
            };
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            BenchSupport.shutdown(pool);
        }

        private void done() {
            left.set(0);
            LockSupport.unpark(waiter);
        }

        /** Runs {@code loop} on a pool worker and waits for it (one small wrapper task per batch). */
        void runOnWorker(Runnable loop) {
            waiter = Thread.currentThread();
            left.set(1);
            pool.execute(loop);
            BenchSupport.awaitZero(left);
        }
    }
}
