package dev.cmwq4j.bench.scenario;

import java.util.concurrent.atomic.LongAdder;

/**
 * {@code tiny}: N no-op Runnables submitted with {@code execute} from one thread, then wait for all:
 * the pure per-task overhead of the executor. The only work a task does is a {@code LongAdder}
 * increment; no latency is recorded (a clock read per task would be half the cost measured), and
 * the waiter polls every millisecond.
 */
final class TinyScenario implements Scenario {
    @Override
    public String id() {
        return "tiny";
    }

    @Override
    public String describe(Sizes s) {
        return s.tinyTasks() + " no-op Runnables, execute() from one thread, wait for all";
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
        PeerExecutor ex = ctx.newExecutor("tiny");
        ctx.startClock();
        for (int i = 0; i < n; i++) {
            ex.execute(noop);
        }
        ctx.await(done::sum, n, 1_000_000L);
    }
}
