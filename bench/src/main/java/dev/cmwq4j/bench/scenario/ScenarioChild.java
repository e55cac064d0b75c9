package dev.cmwq4j.bench.scenario;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The child JVM: runs one scenario against one executor, prints one {@link Result} line to
 * stdout, and halts (no executor shutdown: a deadlocked pool could not shut down anyway).
 *
 * <p>Args: {@code scenario executor mode budgetMillis}. A watchdog thread reports
 * {@code timeout} with the partial counts when the budget runs out; the parent kills the process
 * if even that does not happen.
 */
public final class ScenarioChild {
    private ScenarioChild() {}

    private static final AtomicBoolean REPORTED = new AtomicBoolean();
    /**
     * System property: rounds of the scenario this child runs, unmeasured, before the measured one
     * (default 0: a cold JVM). Set by {@link ScenarioMain}'s {@code --warmups}.
     */
    static final String WARMUPS_PROPERTY = "scenario.warmups";

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: ScenarioChild <scenario> <executor> <short|full> <budgetMillis>");
            System.exit(2);
        }
        Scenario scenario = Scenarios.byId(args[0]);
        Peer peer = Peer.byId(args[1]);
        Sizes sizes = Sizes.of(args[2]);
        long budgetMillis = Long.parseLong(args[3]);
        Probes.usage(); // link the FFM probe before anything is measured

        int warmups = Integer.getInteger(WARMUPS_PROPERTY, 0);
        if (warmups > 0) {
            RunContext.keepExecutors();
        }
        RunContext ctx = new RunContext(scenario.id(), peer, sizes, budgetMillis);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(budgetMillis * (1 + warmups)); // each round has its own bound
            } catch (InterruptedException e) {
                return;
            }
            report(ctx.result(Result.TIMEOUT, "time bound of " + budgetMillis + " ms reached"));
        }, "scenario-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        Result result;
        try {
            try {
                for (int i = 0; i < warmups; i++) {
                    // the same scenario with the same executors, unmeasured: the JIT has compiled
                    // the executor's code and the executor holds what a long-lived program's would
                    scenario.run(new RunContext(scenario.id(), peer, sizes, budgetMillis));
                }
                scenario.run(ctx);
                result = ctx.result(Result.OK, "");
            } catch (Waits.Stalled e) {
                result = ctx.result(Result.DEADLOCK, e.getMessage());
            } catch (Waits.TimedOut e) {
                result = ctx.result(Result.TIMEOUT, e.getMessage());
            } catch (Throwable t) {
                t.printStackTrace();
                result = ctx.result(Result.ERROR, t.toString());
            }
        } catch (Throwable t) {
            // Not even a result line (say, the class files changed under the run): exit now, so the
            // parent reports a crash with this stderr instead of waiting out the time bound for the
            // executor's non-daemon threads.
            t.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1);
            return;
        }
        report(result);
    }

    /** Prints the result line and halts; the first caller wins, any other waits for the halt. */
    private static void report(Result r) {
        if (REPORTED.compareAndSet(false, true)) {
            System.out.println(r.toLine());
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }
        for (;;) {
            LockSupport.park();
        }
    }
}
