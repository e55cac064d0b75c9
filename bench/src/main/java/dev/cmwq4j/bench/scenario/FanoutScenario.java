package dev.cmwq4j.bench.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

/**
 * {@code fanout}: P parent tasks submitted at once; each submits K subtasks to the same executor
 * and waits for them ({@link PeerExecutor#await}: cmwq through its executor-service view, whose
 * {@code Future.get} is announced blocking; ForkJoinPool through {@code ForkJoinTask.get}, which
 * helps and compensates). A pool of fixed size fills up with waiting parents while their subtasks
 * sit behind them in the queue: that is reported as a deadlock after the stall window.
 * Latency is per parent.
 */
final class FanoutScenario implements Scenario {
    @Override
    public String id() {
        return "fanout";
    }

    @Override
    public String describe(Sizes s) {
        return s.fanoutParents() + " tasks, each submits " + s.fanoutChildren() + " subtasks of "
                + s.fanoutChildNanos() / 1000 + " us CPU to the same executor and waits for them";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        return s.fanoutParents() * (double) s.fanoutChildren() * s.fanoutChildNanos() / ncpu / 1e9;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Sizes s = ctx.sizes;
        int parents = s.fanoutParents();
        int children = s.fanoutChildren();
        ctx.put("works", (long) parents * (1 + children));
        long work = s.fanoutChildNanos();
        Waits.Completion done = new Waits.Completion(parents);
        long[] latency = ctx.latencyArray(parents);
        ctx.tracks(parents, done::done);
        ctx.begin();
        PeerExecutor ex = ctx.newExecutor("fanout");
        ctx.startClock();
        for (int i = 0; i < parents; i++) {
            ex.execute(Scenario.task(ctx, done, latency, i, System.nanoTime(), () -> {
                List<Future<Object>> subtasks = new ArrayList<>(children);
                for (int k = 0; k < children; k++) {
                    subtasks.add(ex.submit(() -> {
                        Cpu.spin(work);
                        done.step();
                        return null;
                    }));
                }
                for (Future<Object> f : subtasks) {
                    ex.await(f);
                }
            }));
        }
        ctx.await(done);
    }
}
