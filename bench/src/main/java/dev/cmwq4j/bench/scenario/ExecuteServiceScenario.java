package dev.cmwq4j.bench.scenario;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code execute-es}: as {@code tiny}, but through each peer's {@code ExecutorService}
 * ({@link PeerExecutor#service}): for cmwq4j the {@code asExecutorService()} view, which must be
 * able to return every unstarted task from {@code shutdownNow}. The per-task cost of the view an
 * application would hand to code written against {@code ExecutorService}.
 */
final class ExecuteServiceScenario implements Scenario {
    @Override
    public String id() {
        return "execute-es";
    }

    @Override
    public String describe(Sizes s) {
        return s.tinyTasks() + " no-op Runnables, ExecutorService.execute() from one thread, wait for all";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        return Double.NaN;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.sizes.tinyTasks();
        LongAdder done = new LongAdder();
        Runnable noop = done::increment;
        ctx.tracks(n, done::sum);
        ctx.begin();
        Executor es = ctx.newExecutor("execute-es").service();
        ctx.startClock();
        for (int i = 0; i < n; i++) {
            es.execute(noop);
        }
        ctx.await(done::sum, n, 1_000_000L);
    }
}
