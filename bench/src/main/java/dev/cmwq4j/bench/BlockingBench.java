package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
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
 * nanoseconds per pair (average time mode).
 *
 * <ul>
 *   <li>{@link #onWorker}: a work running on a cmwq worker calls {@code Blocking.run(noop)}
 *       {@value #BATCH} times in a loop; the pool has nothing else queued, so no pair wakes anyone.
 *       The cost of queueing the work and waking the benchmark thread is amortized over the batch.
 *   <li>{@link #onWorkerBaseline}: the same work calling {@code noop.run()} directly: the loop and
 *       dispatch overhead to subtract from {@code onWorker}.
 *   <li>{@link #offWorker}: the benchmark thread (not a worker) calls {@code Blocking.run(noop)};
 *       the helper just runs the code after a thread-local lookup.
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
}
