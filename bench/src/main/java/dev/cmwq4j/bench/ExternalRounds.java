package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.bench.scenario.TaskSched;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JMH {@code QueueExecuteBench.external}'s loop as a plain program, in rounds, with what each
 * thread did in each round: the tool for the external form's slow and fast JVMs (ARCHITECTURE 10,
 * <i>The run class swaps under an external producer</i>), which JMH shows only as a spread.
 *
 * <p>The main thread queues pre-built no-op works (a ring of 1,024; for {@code fjp}, one
 * pre-built {@code Runnable} through {@code execute}) with at most 256 outstanding, reading the
 * completion counter before each queue and, with the window full, spinning on it and yielding
 * its CPU every 256 spins ({@code BenchSupport.spinUntilAbove}), as the JMH form does. Each round prints the throughput
 * and, from {@code /proc/self/task} (Linux; nothing else where it is missing), for every thread of
 * the executor and the main thread that ran in the round ({@code TaskSched}): its CPU as a share
 * of the round (its {@code schedstat}), the CPU it ran on last, and its voluntary and
 * involuntary context switches in the round. cmwq4j's threads are named
 * {@code q<pool>-<n>} here (a thread-name prefix), since Linux keeps 15 characters of a name.
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ExternalRounds -Dmain.args="cmwq 20"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ExternalRounds -Dmain.args="fjp 20"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ExternalRounds -Dmain.args="cmwq 20 500 3"
 * </pre>
 *
 * Arguments: {@code cmwq|fjp [rounds (20)] [roundMillis (500)] [blockers (0)]}. With
 * {@code blockers} N > 0 (cmwq only), the main thread first queues N works that each sleep 20 ms
 * announced ({@link Blocking#sleep}) and waits for them: its home pool then holds N workers, as a
 * warm JMH fork's does after the cold JVM's first iterations. With {@code -Drounds.drain=true}
 * each round ends as a JMH iteration does: the main thread waits, parked, until every work it
 * queued has run, so the pools go idle between rounds. The last line gives the median, lowest
 * and highest throughput of the rounds after the first four.
 */
public final class ExternalRounds {
    private ExternalRounds() {}

    static final int RING = 1024;
    static final int WINDOW = 256;
    /** Rounds left out of the summary: the JIT's. */
    static final int WARMUP_ROUNDS = 4;

    public static void main(String[] args) throws Exception {
        String executor = args.length > 0 ? args[0] : "cmwq";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        long roundNanos = TimeUnit.MILLISECONDS.toNanos(args.length > 2 ? Long.parseLong(args[2]) : 500);
        int blockers = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        AtomicLong completed = new AtomicLong();
        Runnable count = completed::getAndIncrement;
        Cmwq cmwq = null;
        Workqueue wq = null;
        ForkJoinPool fjp = null;
        Work[] ring = new Work[RING];
        switch (executor) {
            case "cmwq" -> {
                cmwq = Cmwq.builder().name("rounds").threadNamePrefix("q").build();
                wq = cmwq.workqueue("external").build();
                for (int i = 0; i < RING; i++) {
                    ring[i] = new Work(count);
                }
                if (blockers > 0) {
                    makeWorkers(wq, blockers);
                }
            }
            case "fjp" -> fjp = BenchSupport.newForkJoinPool();
            default -> throw new IllegalArgumentException("executor: cmwq or fjp, not " + executor);
        }
        List<Double> rates = new ArrayList<>();
        long issued = 0;
        for (int round = 0; round < rounds; round++) {
            Map<Long, TaskSched> before = threads();
            long c0 = completed.get();
            long t0 = System.nanoTime();
            long end = t0 + roundNanos;
            while (System.nanoTime() - end < 0) {
                for (int k = 0; k < 1000; k++) {
                    long floor = issued - WINDOW;
                    if (completed.get() <= floor) {
                        BenchSupport.spinUntilAbove(completed, floor); // as JMH's form: spins, yielding now and then
                    }
                    if (wq != null) {
                        Work w = ring[(int) issued & (RING - 1)];
                        if (!wq.queue(w)) {
                            BenchSupport.queueWhenNotPending(wq, w); // its previous instance has not started yet (rare)
                        }
                    } else {
                        fjp.execute(count);
                    }
                    issued++;
                }
            }
            long c1 = completed.get();
            long t1 = System.nanoTime();
            if (Boolean.getBoolean("rounds.drain") && !BenchSupport.awaitAtLeast(completed, issued,
                    BenchSupport.SHUTDOWN_TIMEOUT_MILLIS)) {
                throw new IllegalStateException("outstanding works did not finish");
            }
            double rate = (c1 - c0) * 1e3 / (t1 - t0);
            if (round >= WARMUP_ROUNDS) {
                rates.add(rate);
            }
            System.out.println(String.format(Locale.ROOT, "round %2d %6.2f M/s ", round, rate)
                    + threadLine(before, threads(), t1 - t0));
        }
        if (!BenchSupport.awaitAtLeast(completed, issued, BenchSupport.SHUTDOWN_TIMEOUT_MILLIS)) {
            throw new IllegalStateException("outstanding works did not finish");
        }
        if (!rates.isEmpty()) {
            double[] r = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.println(String.format(Locale.ROOT, "%s: rounds %d-%d median %.2f M/s, lowest %.2f, highest %.2f",
                    executor, WARMUP_ROUNDS, rounds - 1, r[r.length / 2], r[0], r[r.length - 1]));
        }
        if (cmwq != null) {
            BenchSupport.closeBounded("cmwq", cmwq);
        } else {
            BenchSupport.shutdown(fjp);
        }
    }

    /** Queues {@code n} works that each sleep 20 ms announced, and waits for them to end. */
    private static void makeWorkers(Workqueue wq, int n) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            wq.queue(new Work(() -> {
                try {
                    Blocking.sleep(Duration.ofMillis(20));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }));
        }
        if (!done.await(BenchSupport.SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the blocking works did not end");
        }
    }

    /**
     * The threads of interest (the executor's and the producer's), by kernel id; empty without
     * {@code /proc}.
     */
    private static Map<Long, TaskSched> threads() {
        Map<Long, TaskSched> m = new TreeMap<>();
        List<TaskSched> all = TaskSched.all();
        for (TaskSched t : all == null ? List.<TaskSched>of() : all) {
            String name = t.task().name();
            if (name.startsWith("q") || name.startsWith("ForkJoinPool") || name.equals("java") || name.equals("main")) {
                m.put(t.task().tid(), t);
            }
        }
        return m;
    }

    /** What each thread did between two {@link #threads} readings {@code nanos} apart. */
    private static String threadLine(Map<Long, TaskSched> before, Map<Long, TaskSched> after, long nanos) {
        StringBuilder sb = new StringBuilder();
        for (TaskSched a : after.values()) {
            TaskSched b = before.get(a.task().tid());
            long cpu = a.task().cpuNanos() - (b == null ? 0 : b.task().cpuNanos());
            if (cpu == 0) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, " [%s cpu%d %3.0f%% vol %d invol %d]", a.task().name(), a.lastCpu(),
                    100.0 * cpu / nanos, a.voluntarySwitches() - (b == null ? 0 : b.voluntarySwitches()),
                    a.involuntarySwitches() - (b == null ? 0 : b.involuntarySwitches())));
        }
        return sb.toString();
    }
}
