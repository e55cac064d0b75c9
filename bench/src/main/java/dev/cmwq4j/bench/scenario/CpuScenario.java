package dev.cmwq4j.bench.scenario;

/** {@code cpu}: N CPU-bound tasks submitted at once; an executor should just keep every CPU busy. */
final class CpuScenario implements Scenario {
    @Override
    public String id() {
        return "cpu";
    }

    @Override
    public String describe(Sizes s) {
        return s.cpuTasks() + " tasks x " + s.cpuTaskNanos() / 1000 + " us CPU";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        return s.cpuTasks() * (double) s.cpuTaskNanos() / ncpu / 1e9;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.sizes.cpuTasks();
        ctx.put("works", n);
        long work = ctx.sizes.cpuTaskNanos();
        Waits.Completion done = new Waits.Completion(n);
        long[] latency = ctx.latencyArray(n);
        ctx.tracks(n, done::done);
        ctx.begin();
        PeerExecutor ex = ctx.newExecutor("cpu");
        ctx.startClock();
        for (int i = 0; i < n; i++) {
            ex.execute(Scenario.task(ctx, done, latency, i, System.nanoTime(), () -> Cpu.spin(work)));
        }
        ctx.await(done);
    }
}
