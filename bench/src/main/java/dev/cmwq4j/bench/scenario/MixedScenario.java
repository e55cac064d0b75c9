package dev.cmwq4j.bench.scenario;

/**
 * {@code mixed-announced} / {@code mixed-unannounced}: N tasks submitted at once, each CPU, then a
 * sleep, then CPU again (DESIGN.md section 10: 0.1 ms, 1 ms, 0.1 ms). An executor must overlap
 * the sleeps without oversubscribing the CPUs; the ideal is CPU work / ncpu.
 *
 * <p>Announced: the sleep goes through {@link PeerExecutor#sleep} with {@code announced=true}
 * (cmwq {@code Blocking.sleep}, {@code fjp-managed} {@code ForkJoinPool.managedBlock}, plain
 * {@code Thread.sleep} elsewhere). Unannounced: plain {@code Thread.sleep} for every peer, so an
 * executor has to notice the block by itself.
 */
final class MixedScenario implements Scenario {
    private final boolean announced;

    MixedScenario(boolean announced) {
        this.announced = announced;
    }

    @Override
    public String id() {
        return announced ? "mixed-announced" : "mixed-unannounced";
    }

    @Override
    public String describe(Sizes s) {
        return s.mixedTasks() + " tasks x (" + s.mixedCpuNanos() / 1000 + " us CPU, " + s.mixedSleepNanos() / 1000
                + " us sleep " + (announced ? "announced" : "plain Thread.sleep") + ", " + s.mixedCpuNanos() / 1000
                + " us CPU)";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        double cpu = s.mixedTasks() * 2.0 * s.mixedCpuNanos() / ncpu;
        double path = 2.0 * s.mixedCpuNanos() + s.mixedSleepNanos();
        return Math.max(cpu, path) / 1e9;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Sizes s = ctx.sizes;
        int n = s.mixedTasks();
        ctx.put("works", n);
        long cpu = s.mixedCpuNanos();
        long sleep = s.mixedSleepNanos();
        Waits.Completion done = new Waits.Completion(n);
        long[] latency = ctx.latencyArray(n);
        ctx.tracks(n, done::done);
        ctx.begin();
        PeerExecutor ex = ctx.newExecutor(id());
        ctx.startClock();
        for (int i = 0; i < n; i++) {
            ex.execute(Scenario.task(ctx, done, latency, i, System.nanoTime(), () -> {
                Cpu.spin(cpu);
                ex.sleep(sleep, announced);
                Cpu.spin(cpu);
            }));
        }
        ctx.await(done);
    }
}
