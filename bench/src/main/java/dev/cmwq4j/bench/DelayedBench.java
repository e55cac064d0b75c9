package dev.cmwq4j.bench;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.DelayedWork;
import dev.cmwq4j.Workqueue;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Timers: arming and cancelling a pre-built {@link DelayedWork}, and the arm-fire-run cycle.
 *
 * <p>Peers ({@code executor} param): {@code cmwq} (a bound workqueue of a private {@link Cmwq},
 * pre-built {@code DelayedWork}, pre-built {@code Duration}) and {@code stpe}
 * ({@code ScheduledThreadPoolExecutor(ncpu)} with remove-on-cancel; {@code schedule} of a
 * pre-built Runnable, which necessarily allocates a {@code ScheduledFutureTask} per arm).
 *
 * <ul>
 *   <li>{@link #armCancel}: arm with a far deadline, then cancel; nothing else is armed, so every
 *       arm becomes the earliest deadline and unparks the timer thread.
 *   <li>{@link #armCancelNotEarliest}: the same with another entry armed earlier (set up for this
 *       benchmark only), so the arm does not wake the timer thread: the pure heap insert/remove.
 *   <li>{@link #armFire}: a work that re-arms itself with a 1 ns delay, {@value #FIRE_BATCH}
 *       times: arm, timer fires, queue, run. Op = one full cycle.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class DelayedBench {
    static final int FIRE_BATCH = 500;
    private static final Duration FAR = Duration.ofHours(2);
    private static final Duration EARLIER = Duration.ofHours(1);
    private static final Duration ONE_NS = Duration.ofNanos(1);

    @Param({"cmwq", "stpe"})
    public String executor;

    private boolean isCmwq;
    private Cmwq cmwq;
    private Workqueue wq;
    private ScheduledThreadPoolExecutor stpe;

    private final Runnable noop = () -> {};
    private DelayedWork armed;
    private DelayedWork sentinel;
    private ScheduledFuture<?> sentinelFuture;

    // armFire
    private DelayedWork fireWork;
    private Runnable fireTask;
    /** Cycles left in the current invocation; touched only by the sequential chain of runs. */
    private int fireRemaining;
    final AtomicInteger left = new AtomicInteger();
    volatile Thread waiter;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        switch (executor) {
            case "cmwq" -> {
                isCmwq = true;
                cmwq = Cmwq.builder().build();
                wq = cmwq.workqueue("bench-delayed").build();
            }
            case "stpe" -> {
                stpe = new ScheduledThreadPoolExecutor(BenchSupport.ncpu());
                stpe.setRemoveOnCancelPolicy(true);
                stpe.prestartAllCoreThreads();
            }
            default -> throw new IllegalArgumentException("unknown executor: " + executor);
        }
        armed = new DelayedWork(noop);
        sentinel = new DelayedWork(noop);
        fireTask = this::fireStep;
        fireWork = new DelayedWork(fireTask);
        if (params.getBenchmark().endsWith(".armCancelNotEarliest")) {
            if (isCmwq) {
                wq.queueDelayed(sentinel, EARLIER);
            } else {
                sentinelFuture = stpe.schedule(noop, EARLIER.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (isCmwq) {
            // close() waits for armed delayed works: disarm everything first.
            sentinel.cancel();
            armed.cancel();
            fireWork.cancel();
            BenchSupport.closeBounded("workqueue", wq);
            BenchSupport.closeBounded("cmwq", cmwq);
        } else {
            if (sentinelFuture != null) {
                sentinelFuture.cancel(false);
            }
            BenchSupport.shutdown(stpe);
        }
    }

    @Benchmark
    @Threads(1)
    public boolean armCancel() {
        return armThenCancel();
    }

    @Benchmark
    @Threads(1)
    public boolean armCancelNotEarliest() {
        return armThenCancel();
    }

    private boolean armThenCancel() {
        if (isCmwq) {
            DelayedWork w = armed;
            boolean a = wq.queueDelayed(w, FAR);
            boolean c = w.cancel();
            if (!(a & c)) {
                throw new IllegalStateException("arm " + a + ", cancel " + c);
            }
            return c;
        }
        ScheduledFuture<?> f = stpe.schedule(noop, FAR.toNanos(), TimeUnit.NANOSECONDS);
        return f.cancel(false);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(FIRE_BATCH)
    public void armFire() {
        waiter = Thread.currentThread();
        left.set(1);
        fireRemaining = FIRE_BATCH;
        arm();
        BenchSupport.awaitZero(left);
    }

    private void arm() {
        if (isCmwq) {
            if (!wq.queueDelayed(fireWork, ONE_NS)) {
                throw new IllegalStateException("fire work still pending");
            }
        } else {
            stpe.schedule(fireTask, 1, TimeUnit.NANOSECONDS);
        }
    }

    /** One run of the arm-fire chain: re-arm until the batch is done, then wake the waiter. */
    private void fireStep() {
        if (--fireRemaining > 0) {
            arm();
        } else {
            left.set(0);
            LockSupport.unpark(waiter);
        }
    }
}
