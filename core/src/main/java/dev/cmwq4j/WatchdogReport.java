package dev.cmwq4j;

import java.util.List;
import java.util.Objects;

/**
 * What the watchdog saw when a pool's worklist made no progress for the watchdog threshold:
 * the pool, how many works wait in it, and the pool's busy workers with their stack traces.
 *
 * @param pool the pool's name, e.g. {@code cpu0} or {@code cpu1H} (high priority); only the per-CPU
 *     pools are watched
 * @param pending works waiting in the pool's worklist
 * @param stalledNanos how long nothing has started in the pool
 * @param workers the pool's busy workers
 */
public record WatchdogReport(String pool, int pending, long stalledNanos, List<BusyWorker> workers) {
    /**
     * Copies {@code workers} into an unmodifiable list.
     *
     * @throws NullPointerException if {@code pool} or {@code workers} is null, or
     *     {@code workers} holds a null
     */
    public WatchdogReport {
        Objects.requireNonNull(pool, "pool");
        workers = List.copyOf(workers);
    }

    /**
     * One busy worker.
     *
     * @param thread the worker thread's name
     * @param work the {@linkplain Work#name() name} of the work it runs
     * @param state its state in the pool: RUNNING, BLOCKED (announced), DETECTED (observed
     *     blocked) or CPU_INTENSIVE
     * @param stack its stack trace when the report was made
     */
    public record BusyWorker(String thread, String work, String state, List<StackTraceElement> stack) {
        /**
         * Copies {@code stack} into an unmodifiable list.
         *
         * @throws NullPointerException if {@code stack} is null or holds a null
         */
        public BusyWorker {
            stack = List.copyOf(stack);
        }
    }

    /** {@return a multi-line human-readable form, as the default handler logs it} */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("cmwq4j watchdog: pool ").append(pool).append(" made no progress for ")
                .append(stalledNanos / 1_000_000).append(" ms with ").append(pending).append(" works pending");
        for (BusyWorker w : workers) {
            sb.append("\n  ").append(w.thread()).append(" [").append(w.state()).append("] running work '")
                    .append(w.work()).append('\'');
            for (StackTraceElement e : w.stack()) {
                sb.append("\n      at ").append(e);
            }
        }
        return sb.toString();
    }

    /** The report of an engine finding: reports flow from the engine to the API only. */
    static WatchdogReport of(dev.cmwq4j.internal.Engine.StallSnapshot s) {
        List<BusyWorker> workers = new java.util.ArrayList<>(s.workers().size());
        for (var b : s.workers()) {
            workers.add(new BusyWorker(b.thread(), b.work(), b.state(), b.stack()));
        }
        return new WatchdogReport(s.pool(), s.pending(), s.stalledNanos(), workers);
    }
}
