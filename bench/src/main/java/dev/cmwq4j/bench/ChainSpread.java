package dev.cmwq4j.bench;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Chains of works that queue their own successors, all started from one CPU: do they spread over
 * the machine's CPUs? Each chain runs {@code perChain} works of {@code workNanos} of CPU, one
 * after the other (each work queues the next). cmwq4j starts them from a worker of CPU 0's pool,
 * so they land there; {@code ForkJoinPool} starts them from one of its workers. Prints the wall
 * time of each round next to the ideal (all CPUs busy), and for cmwq4j how many works ran on
 * each CPU's pool.
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ChainSpread -Dmain.args="5000 2 20000"
 * </pre>
 *
 * Arguments: {@code workNanos chains perChain [rounds]} (default rounds: 5; the first rounds
 * warm up the JIT).
 */
public final class ChainSpread {
    private ChainSpread() {}

    public static void main(String[] args) throws Exception {
        long workNanos = Long.parseLong(args[0]);
        int chains = Integer.parseInt(args[1]);
        int perChain = Integer.parseInt(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int cpus = Runtime.getRuntime().availableProcessors();
        double idealMs = workNanos * (double) chains * perChain / Math.min(chains, cpus) / 1e6;
        try (Cmwq c = Cmwq.builder().name("chains").jmx(false).build()) {
            Workqueue wq = c.workqueue("chains").build();
            for (int r = 0; r < rounds; r++) {
                Map<String, LongAdder> byCpu = new TreeMap<>();
                for (int cpu = 0; cpu < cpus; cpu++) {
                    byCpu.put("cpu" + cpu, new LongAdder());
                }
                CountDownLatch done = new CountDownLatch(chains);
                Work[] works = new Work[chains];
                for (int i = 0; i < chains; i++) {
                    int id = i;
                    AtomicInteger left = new AtomicInteger(perChain);
                    works[i] = new Work("chain" + i, () -> {
                        spin(workNanos);
                        byCpu.get(poolOf(Thread.currentThread().getName())).increment();
                        if (left.decrementAndGet() > 0) {
                            wq.queue(works[id]);
                        } else {
                            done.countDown();
                        }
                    });
                }
                long t0 = System.nanoTime();
                wq.queueOn(0, new Work("starter", () -> {
                    for (Work w : works) {
                        wq.queue(w);
                    }
                }));
                await(done);
                System.out.printf("cmwq  round %d: %7.1f ms (ideal %.1f ms)  works per CPU %s%n", r,
                        (System.nanoTime() - t0) / 1e6, idealMs, byCpu);
            }
        }
        ForkJoinPool fjp = new ForkJoinPool(cpus);
        try {
            for (int r = 0; r < rounds; r++) {
                CountDownLatch done = new CountDownLatch(chains);
                Runnable[] hops = new Runnable[chains];
                for (int i = 0; i < chains; i++) {
                    int id = i;
                    AtomicInteger left = new AtomicInteger(perChain);
                    hops[i] = () -> {
                        spin(workNanos);
                        if (left.decrementAndGet() > 0) {
                            fjp.execute(hops[id]);
                        } else {
                            done.countDown();
                        }
                    };
                }
                long t0 = System.nanoTime();
                fjp.execute(() -> {
                    for (Runnable h : hops) {
                        fjp.execute(h);
                    }
                });
                await(done);
                System.out.printf("fjp   round %d: %7.1f ms (ideal %.1f ms)%n", r,
                        (System.nanoTime() - t0) / 1e6, idealMs);
            }
        } finally {
            fjp.shutdownNow();
        }
    }

    /** "cpu3" from a worker thread name such as {@code cmwq4j-chains-cpu3-2}. */
    private static String poolOf(String threadName) {
        int at = threadName.indexOf("-cpu");
        int end = at + 4;
        while (end < threadName.length() && Character.isDigit(threadName.charAt(end))) {
            end++;
        }
        return threadName.substring(at + 1, end);
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    private static void await(CountDownLatch done) throws InterruptedException {
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("chains did not finish in 120 s");
        }
    }
}
