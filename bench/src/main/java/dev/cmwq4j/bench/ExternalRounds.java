package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.stream.Stream;

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
 * the executor and the main thread that ran in the round: its CPU as a share of the round (from
 * {@code utime + stime}, in clock ticks of 10 ms, so a coarse share), the CPU it ran on last, and
 * its voluntary and involuntary context switches in the round. cmwq4j's threads are named
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
            Map<String, long[]> before = threads();
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
                            queueWhenNotPending(wq, w); // its previous instance has not started yet (rare)
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

    /** Queues {@code w} once its previous instance has started; a bounded wait. */
    private static void queueWhenNotPending(Workqueue wq, Work w) {
        long deadline = System.nanoTime() + BenchSupport.WAIT_TIMEOUT_NANOS;
        while (!wq.queue(w)) {
            Thread.onSpinWait();
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("a work stayed pending: " + w);
            }
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

    /** Clock ticks per second of {@code /proc}'s CPU times ({@code USER_HZ}, 100 on mainstream Linux). */
    private static final int TICKS_PER_SECOND = 100;

    /**
     * The threads of interest, by task id: {name, CPU ticks, last CPU, voluntary switches,
     * involuntary switches}; empty without {@code /proc}.
     */
    private static Map<String, long[]> threads() {
        Map<String, long[]> m = new TreeMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return m;
        }
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path t : (Iterable<Path>) list::iterator) {
                String name = null;
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (!(name.startsWith("q") || name.startsWith("ForkJoinPool") || name.equals("java")
                            || name.equals("main"))) {
                        continue;
                    }
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long[] v = new long[4];
                    v[0] = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    v[1] = Long.parseLong(f[36]);
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            v[2] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            v[3] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    m.put(t.getFileName() + " " + name, v);
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile, or a field could not be read: leave it out
                }
            }
        } catch (IOException e) {
            return m;
        }
        return m;
    }

    /** What each thread did between two {@link #threads} readings {@code nanos} apart. */
    private static String threadLine(Map<String, long[]> before, Map<String, long[]> after, long nanos) {
        StringBuilder sb = new StringBuilder();
        double ticksInRound = nanos * TICKS_PER_SECOND / 1e9;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] a = e.getValue();
            long[] b = before.getOrDefault(e.getKey(), new long[4]);
            long ticks = a[0] - b[0];
            if (ticks == 0) {
                continue;
            }
            String name = e.getKey().substring(e.getKey().indexOf(' ') + 1);
            sb.append(String.format(Locale.ROOT, " [%s cpu%d %3.0f%% vol %d invol %d]", name, a[1],
                    100.0 * ticks / ticksInRound, a[2] - b[2], a[3] - b[3]));
        }
        return sb.toString();
    }
}
