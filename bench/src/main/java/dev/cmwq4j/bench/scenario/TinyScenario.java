package dev.cmwq4j.bench.scenario;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code tiny}: N no-op Runnables submitted with {@code execute} from one thread, then wait for all:
 * the pure per-task overhead of the executor. The only work a task does is a {@code LongAdder}
 * increment; no latency is recorded (a clock read per task would be half the cost measured), and
 * the waiter polls every millisecond.
 *
 * <p>{@code execute-es}: the same through each peer's {@code ExecutorService}
 * ({@link PeerExecutor#service}): for cmwq4j the {@code asExecutorService()} view, which must be
 * able to return every unstarted task from {@code shutdownNow}; the per-task cost of the view an
 * application hands to code written against {@code ExecutorService}.
 */
final class TinyScenario implements Scenario {
    private final boolean service;

    /** @param service through the peer's ExecutorService ({@code execute-es}), else its own execute */
    TinyScenario(boolean service) {
        this.service = service;
    }

    @Override
    public String id() {
        return service ? "execute-es" : "tiny";
    }

    @Override
    public String describe(Sizes s) {
        return s.tinyTasks() + " no-op Runnables, " + (service ? "ExecutorService.execute()" : "execute()")
                + " from one thread, wait for all";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        return Double.NaN;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.sizes.tinyTasks();
        ctx.put("works", n);
        LongAdder done = new LongAdder();
        Runnable noop = done::increment;
        ctx.tracks(n, done::sum);
        ctx.begin();
        PeerExecutor peer = ctx.newExecutor(id());
        if (service) {
            Executor es = peer.service();
            ctx.startClock();
            for (int i = 0; i < n; i++) {
                es.execute(noop);
            }
        } else {
            ctx.startClock();
            for (int i = 0; i < n; i++) {
                peer.execute(noop);
            }
        }
        ctx.await(done::sum, n, 1_000_000L);
    }
}
