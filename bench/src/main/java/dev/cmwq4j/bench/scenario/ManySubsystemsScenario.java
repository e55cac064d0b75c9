package dev.cmwq4j.bench.scenario;

/**
 * {@code many-subsystems}: C independent components, each with its own executor instance (cmwq: C
 * {@code Workqueue}s on the one shared {@code Cmwq}; fixed: C {@code ThreadPoolExecutor(ncpu)};
 * and so on; the Kotlin dispatchers are global, so there all components share one). One driver
 * thread deals T tasks to each component, round robin, all at once. The tasks are a mix, by index:
 * 6 in 10 are 50 us CPU, 3 in 10 are 20 us CPU + 1 ms announced sleep + 20 us CPU, 1 in 10 is
 * 200 us CPU. What it shows: the threads an application ends up with when every subsystem sizes
 * its own pool, against one shared, self-sizing set.
 */
final class ManySubsystemsScenario implements Scenario {
    private static final long SHORT = 50_000L;
    private static final long IO_CPU = 20_000L;
    private static final long IO_SLEEP = 1_000_000L;
    private static final long LONG = 200_000L;

    @Override
    public String id() {
        return "many-subsystems";
    }

    @Override
    public String describe(Sizes s) {
        return s.components() + " components x " + s.tasksPerComponent()
                + " tasks (6/10: 50 us CPU; 3/10: 20 us CPU + 1 ms announced sleep + 20 us CPU; 1/10: 200 us CPU)";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        double perTen = 6 * SHORT + 3 * 2 * IO_CPU + LONG;
        return (double) s.components() * s.tasksPerComponent() * perTen / 10 / ncpu / 1e9;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int components = ctx.sizes.components();
        int perComponent = ctx.sizes.tasksPerComponent();
        int n = components * perComponent;
        ctx.put("works", n);
        Waits.Completion done = new Waits.Completion(n);
        long[] latency = ctx.latencyArray(n);
        ctx.tracks(n, done::done);
        ctx.begin();
        PeerExecutor[] executors = new PeerExecutor[components];
        for (int c = 0; c < components; c++) {
            executors[c] = ctx.newExecutor("component-" + c);
        }
        ctx.startClock();
        for (int k = 0; k < perComponent; k++) {
            for (int c = 0; c < components; c++) {
                int i = k * components + c;
                PeerExecutor ex = executors[c];
                Scenario.ThrowingRunnable body = switch (i % 10) {
                    case 0, 1, 2, 3, 4, 5 -> () -> Cpu.spin(SHORT);
                    case 6, 7, 8 -> () -> {
                        Cpu.spin(IO_CPU);
                        ex.sleep(IO_SLEEP, true);
                        Cpu.spin(IO_CPU);
                    };
                    default -> () -> Cpu.spin(LONG);
                };
                ex.execute(Scenario.task(ctx, done, latency, i, System.nanoTime(), body));
            }
        }
        ctx.await(done);
    }
}
