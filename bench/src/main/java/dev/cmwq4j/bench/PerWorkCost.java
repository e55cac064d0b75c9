package dev.cmwq4j.bench;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU one queue -> execute of a no-op work costs, per thread, on <em>one</em> CPU's worth of
 * executor: a {@link Cmwq} built with {@code cpus(1)} against {@code new ForkJoinPool(1)} and
 * against {@link FloorExecutor}, a model of the least that cmwq4j's per-work semantics cost. With
 * a single worker there is no stealing, no balancing and no second CPU to share a chain with, so
 * what is left is the per-work path itself, and the CPU time of the worker thread per work
 * ({@code ThreadMXBean}, nanoseconds) repeats within about 10% from run to run on the shared
 * 2-CPU machines this project is measured on, where JMH throughput of the same forms swings by
 * 2-3x (docs/BENCHMARKS.md, <i>Microbenchmarks</i>). It is the measure to A/B a change of the hot path with.
 *
 * <p>Forms ({@code modes}, comma-separated):
 * <ul>
 *   <li>{@code chain}: one chain of two pre-built works, each run queues the other from the worker
 *       (a continuation; cmwq4j's slot pass, ARCHITECTURE 6 <i>A chain's successor</i>);
 *   <li>{@code chains}: eight such chains of four works at once, so the worker's own queue always
 *       holds other chains' works (the locked path: admission, worklist, take);
 *   <li>{@code queues}: as {@code chains}, with the four works of each chain in three workqueues
 *       in turn (cmwq4j; the other executors run {@code chains} here): the statistics and
 *       counts of several workqueues alternating on one worker;
 *   <li>{@code external}: the main thread queues a ring of 1024 pre-built works, at most 256
 *       outstanding; the worker's and the producer's CPU per work are both shown. Both threads
 *       are busy either way (the faster one spins on the other), so here the slower of the two
 *       sets the pace, and the CPU of each is an upper bound of its own cost;
 *   <li>{@code execute}: as {@code external}, through {@code execute(Runnable)} (cmwq4j: one node
 *       allocated per task; {@code ForkJoinPool}: its adapter);
 *   <li>{@code queue}: the producer's side alone: 200,000 pre-built works queued while the one
 *       worker spins in another work, so that no worker touches the queue meanwhile (checked: a
 *       work that ran during the loop fails the round); the producer's CPU per queue is the
 *       figure, the worker's column counts its spin (not part of the default forms).
 * </ul>
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.PerWorkCost -Dmain.args="cmwq"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.PerWorkCost -Dmain.args="fjp"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.PerWorkCost -Dmain.args="floor"
 * </pre>
 *
 * Arguments: {@code cmwq|lane|locked|fjp|floor [modes] [rounds] [worksPerRound]} ({@code cmwq}: the
 * default, adaptive lane; {@code lane}: the lane from the start; {@code locked}: no lane); defaults: all four forms, 8 rounds,
 * 4,000,000 works (2,000,000 for the external forms). The first three rounds warm up the JIT; the
 * summary line of each form is the median and the lowest of the others. One executor per JVM.
 */
public final class PerWorkCost {
    private PerWorkCost() {}

    private static final int RING = 1024;
    private static final int WINDOW = 256;
    private static final int WARMUP_ROUNDS = 3;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** Threads seen running works; each run checks its own thread against {@link #lastSeen}. */
    private static final Set<Thread> WORKERS = ConcurrentHashMap.newKeySet();
    /** The last worker thread seen (racy on purpose: a miss only adds to the set again). */
    private static Thread lastSeen;

    private static Cmwq cmwq;
    private static Workqueue wq;
    private static ForkJoinPool fjp;
    private static FloorExecutor model;
    private static volatile Thread mainThread;

    public static void main(String[] args) throws Exception {
        String executor = args.length > 0 ? args[0] : "";
        if (!List.of("cmwq", "lane", "locked", "fjp", "floor").contains(executor)) {
            throw new IllegalArgumentException("usage: cmwq|lane|locked|fjp|floor [modes] [rounds] [worksPerRound]");
        }
        if (executor.equals("lane") || executor.equals("locked")) {
            // cmwq4j with its fast lane on in its pool from the start, or never (read when the
            // instance is built); "cmwq" is the default, the adaptive lane: ARCHITECTURE 6,
            // "The fast lane"
            System.setProperty("cmwq4j.fastLane", executor.equals("lane") ? "true" : "false");
        }
        boolean isCmwq = executor.equals("cmwq") || executor.equals("lane") || executor.equals("locked");
        List<String> modes = args.length > 1 ? Arrays.asList(args[1].split(",")) : List.of("chain", "chains", "external", "execute");
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        if (rounds <= WARMUP_ROUNDS) {
            throw new IllegalArgumentException("rounds must exceed the " + WARMUP_ROUNDS + " warm-up rounds");
        }
        long works = args.length > 3 ? Long.parseLong(args[3]) : 0;
        mainThread = Thread.currentThread();
        if (isCmwq) {
            // the queue form keeps the worker on one spinning work while the producer queues; it
            // must not be flagged CPU-intensive (another worker would then drain meanwhile)
            cmwq = Cmwq.builder().name("perwork").cpus(1).jmx(false).cpuIntensiveThreshold(Duration.ofHours(1)).build();
            wq = cmwq.workqueue("perwork").build();
        } else if (executor.equals("floor")) {
            model = new FloorExecutor(RING);
        } else {
            fjp = new ForkJoinPool(1);
        }
        System.out.printf("%s, %s, one CPU's worth of executor; ns per work: wall, worker thread CPU, producer CPU%n",
                isCmwq ? (executor.equals("lane") ? "cmwq4j (cpus(1), fast lane)" : executor.equals("locked") ? "cmwq4j (cpus(1), no lane)" : "cmwq4j (cpus(1))") : model != null ? "FloorExecutor (a model)" : "ForkJoinPool(1)",
                Runtime.version());
        for (String mode : modes) {
            boolean external = mode.equals("external") || mode.equals("execute") || mode.equals("queue");
            long perRound = works > 0 ? works : mode.equals("queue") ? 200_000 : external ? 2_000_000 : 4_000_000;
            List<double[]> kept = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                Map<Thread, Long> worker0 = workersCpu();
                int threadsBefore = WORKERS.size();
                long producer0 = THREADS.getCurrentThreadCpuTime();
                long wall0 = System.nanoTime();
                switch (mode) {
                    case "chain" -> runChains(1, 2, perRound);
                    case "chains" -> runChains(8, 4, perRound);
                    case "queues" -> runChains(8, 4, perRound, QUEUES);
                    case "external" -> runExternal(false, perRound);
                    case "execute" -> runExternal(true, perRound);
                    case "queue" -> runQueueOnly(perRound);
                    default -> throw new IllegalArgumentException("unknown mode: " + mode);
                }
                double wall = (System.nanoTime() - wall0) / (double) perRound;
                double worker = cpuSince(worker0) / (double) perRound;
                int newThreads = WORKERS.size() - threadsBefore;
                double producer = (mode.equals("queue") ? queueOnlyCpu : THREADS.getCurrentThreadCpuTime() - producer0)
                        / (double) perRound;
                if (r >= WARMUP_ROUNDS) {
                    kept.add(new double[] {wall, worker, producer});
                }
                System.out.printf("  %-8s round %d: wall %7.1f  worker %7.1f%s%s%n", mode, r, wall, worker,
                        external ? String.format("  producer %7.1f", producer) : "",
                        newThreads == 0 ? "" : "  (" + newThreads + " new worker thread(s): their CPU before the round is counted too)");
            }
            System.out.printf("%-8s %s median (lowest): wall %.1f (%.1f), worker %.1f (%.1f)%s%n", mode, executor,
                    median(kept, 0), lowest(kept, 0), median(kept, 1), lowest(kept, 1),
                    external ? String.format(", producer %.1f (%.1f)", median(kept, 2), lowest(kept, 2)) : "");
        }
        if (isCmwq) {
            wq.close();
            cmwq.close();
        } else if (model != null) {
            model.close();
            if (bigModel != null) {
                bigModel.close();
            }
        } else {
            fjp.shutdown();
        }
    }

    /** CPU time of each thread that has run a work so far, now. */
    private static Map<Thread, Long> workersCpu() {
        Map<Thread, Long> cpu = new HashMap<>();
        for (Thread t : WORKERS) {
            cpu.put(t, Math.max(0, THREADS.getThreadCpuTime(t.threadId())));
        }
        return cpu;
    }

    /**
     * CPU time the threads that ran works spent since {@code before}; a thread first seen since
     * then adds all of its CPU time, an overestimate the round's line points out (a new worker in
     * a one-CPU engine appears only after a block or an idle retirement, neither of which a kept
     * round of these forms should see).
     */
    private static long cpuSince(Map<Thread, Long> before) {
        long sum = 0;
        for (Thread t : WORKERS) {
            sum += Math.max(0, THREADS.getThreadCpuTime(t.threadId())) - before.getOrDefault(t, 0L);
        }
        return sum;
    }

    private static void seen() {
        Thread t = Thread.currentThread();
        if (t != lastSeen) {
            lastSeen = t;
            WORKERS.add(t);
        }
    }

    // ------------------------------------------------------------------------------------------

    /** Workqueues the {@code queues} form's chains hop through. */
    private static final int QUEUES = 3;

    private static void runChains(int nChains, int length, long total) {
        runChains(nChains, length, total, 1);
    }

    /** Chains whose hop {@code i} goes to workqueue {@code i % queues} (cmwq4j only). */
    private static void runChains(int nChains, int length, long total, int queues) {
        AtomicInteger left = new AtomicInteger(nChains);
        Chain[] chains = new Chain[nChains];
        Workqueue[] targets = null;
        if (wq != null) {
            targets = new Workqueue[queues];
            targets[0] = wq;
            for (int i = 1; i < queues; i++) {
                targets[i] = cmwq.workqueue("perwork-" + i).build();
            }
        }
        for (int i = 0; i < nChains; i++) {
            chains[i] = new Chain(length, total / nChains, left, targets);
        }
        for (Chain c : chains) {
            c.submit(0);
        }
        while (left.get() != 0) {
            LockSupport.park();
        }
        for (int i = 1; targets != null && i < queues; i++) {
            targets[i].close();
        }
    }

    /** A cycle of pre-built hops; each run submits the next until {@link #remaining} runs are done. */
    private static final class Chain {
        final Work[] works;
        final FloorExecutor.Node[] nodes;
        final Runnable[] hops;
        final AtomicInteger left;
        /** cmwq4j: the workqueue of each hop. */
        final Workqueue[] targets;
        long remaining; // runs of one chain are sequential: the executor's submit -> run edge orders them

        Chain(int length, long runs, AtomicInteger left, Workqueue[] queues) {
            this.left = left;
            targets = queues == null ? null : new Workqueue[length];
            this.remaining = runs;
            works = wq != null ? new Work[length] : null; // only the executor in use gets its objects
            nodes = model != null ? new FloorExecutor.Node[length] : null;
            hops = new Runnable[length];
            for (int i = 0; i < length; i++) {
                int next = (i + 1) % length;
                hops[i] = () -> hop(next);
                if (works != null) {
                    works[i] = new Work(hops[i]);
                    targets[i] = queues[i % queues.length];
                } else if (nodes != null) {
                    nodes[i] = new FloorExecutor.Node(hops[i]);
                }
            }
        }

        void hop(int next) {
            seen();
            if (--remaining > 0) {
                submit(next);
            } else if (left.decrementAndGet() == 0) {
                LockSupport.unpark(mainThread);
            }
        }

        void submit(int i) {
            boolean queued;
            if (fjp != null) {
                fjp.execute(hops[i]);
                queued = true;
            } else if (model != null) {
                queued = model.queue(nodes[i]);
            } else {
                queued = targets[i].queue(works[i]);
            }
            if (!queued) {
                throw new IllegalStateException("a chain's next work was still pending: " + hops[i]);
            }
        }
    }

    private static void runExternal(boolean execute, long total) {
        AtomicLong completed = new AtomicLong();
        Runnable count = () -> {
            seen();
            completed.getAndIncrement();
        };
        Work[] ring = wq != null ? new Work[RING] : null; // only the executor in use gets its objects
        FloorExecutor.Node[] nodes = model != null ? new FloorExecutor.Node[RING] : null;
        for (int i = 0; i < RING; i++) {
            if (ring != null) {
                ring[i] = new Work(count);
            } else if (nodes != null) {
                nodes[i] = new FloorExecutor.Node(count);
            }
        }
        long done = 0; // the producer's last reading of completed
        for (long i = 0; i < total; i++) {
            long floor = i - WINDOW;
            if (done <= floor) {
                done = awaitWindow(completed, floor);
            }
            if (fjp != null) {
                fjp.execute(count);
            } else if (model != null) {
                // execute: a node per task, as cmwq4j's execute(Runnable) allocates one
                FloorExecutor.Node n = execute ? new FloorExecutor.Node(count) : nodes[(int) i & (RING - 1)];
                while (!model.queue(n)) { // its previous instance has not started yet (rare)
                    Thread.onSpinWait();
                }
            } else if (execute) {
                wq.execute(count);
            } else {
                Work w = ring[(int) i & (RING - 1)];
                while (!wq.queue(w)) { // its previous instance has not started yet (rare)
                    Thread.onSpinWait();
                }
            }
        }
        while (completed.get() < total) {
            Thread.onSpinWait();
        }
    }

    /**
     * The external producer's wait for room: at least {@code floor + 1} works completed. Once the
     * window is full it waits until half of it has drained, and reads the counter only every 32
     * pauses meanwhile, so that the counter's line, which the worker writes at every work, goes
     * to the producer's core about once per hundred works, not once per work. (Until 2026-12-06
     * the producer read it before every queue: in the JVMs where the worker was the slower of
     * the two, the producer's spin took the line away at every work, and the worker's increment
     * missed the cache each time, a quarter of its samples (ARCHITECTURE 10, <i>The external
     * form's own counter</i>): the bimodality noted in docs/BENCHMARKS.md.)
     *
     * @return the count read last (above {@code floor})
     */
    private static long awaitWindow(AtomicLong completed, long floor) {
        long done = completed.get();
        if (done > floor) {
            return done;
        }
        long enough = floor + WINDOW / 2;
        for (;;) {
            for (int k = 0; k < 32; k++) {
                Thread.onSpinWait();
            }
            done = completed.get();
            if (done > enough) {
                return done;
            }
        }
    }

    /**
     * The {@code queue} form: the producer's cost alone. The executor's one worker is held by a
     * work that spins (on the CPU, so that no executor sees it blocked) until the producer has
     * queued {@code total} pre-built works, none of which can start meanwhile; then it is let go
     * and the producer parks until all have run. Only the producer's CPU is meaningful here (the
     * worker's is mostly the spin): what one queue of a pre-built work costs its caller when no
     * worker touches the queue at the same time.
     */
    private static void runQueueOnly(long total) {
        if (total > 1 << 24) {
            throw new IllegalArgumentException("the queue form takes at most " + (1 << 24) + " works a round, got " + total);
        }
        int n = (int) total;
        AtomicLong completed = new AtomicLong();
        AtomicInteger blockerIn = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
        Thread producer = Thread.currentThread();
        Runnable count = () -> {
            seen();
            if (completed.incrementAndGet() == total) {
                LockSupport.unpark(producer);
            }
        };
        Runnable blocker = () -> {
            seen();
            blockerIn.set(1);
            while (!release.get()) {
                Thread.onSpinWait();
            }
        };
        Work[] works = wq != null ? new Work[n] : null; // only the executor in use gets its objects
        FloorExecutor.Node[] nodes = model != null ? new FloorExecutor.Node[n] : null;
        ForkJoinTask<?>[] tasks = fjp != null ? new ForkJoinTask<?>[n] : null;
        for (int i = 0; i < n; i++) {
            if (fjp != null) {
                tasks[i] = ForkJoinTask.adapt(count);
            } else if (model != null) {
                nodes[i] = new FloorExecutor.Node(count);
            } else {
                works[i] = new Work(count);
            }
        }
        // the model's ring is bounded: a model of its own with room for every work of a round,
        // made once and kept for the following rounds (its worker's CPU is then read across them)
        FloorExecutor big = null;
        if (model != null) {
            if (bigModel == null || bigModelCapacity < n + 1) {
                if (bigModel != null) {
                    bigModel.close();
                }
                bigModelCapacity = Integer.highestOneBit(n) * 2;
                bigModel = new FloorExecutor(bigModelCapacity);
            }
            big = bigModel;
        }
        if (fjp != null) {
            fjp.execute(blocker);
        } else if (big != null) {
            big.queue(new FloorExecutor.Node(blocker));
        } else {
            wq.execute(blocker);
        }
        while (blockerIn.get() == 0) {
            Thread.onSpinWait();
        }
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            if (fjp != null) {
                fjp.execute(tasks[i]);
            } else if (big != null) {
                big.queue(nodes[i]);
            } else {
                wq.queue(works[i]);
            }
        }
        queueOnlyCpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        if (completed.get() != 0) {
            throw new IllegalStateException(completed.get() + " works ran while the worker was held: the producer's figure "
                    + "would include a worker's contention");
        }
        release.set(true);
        while (completed.get() < total) {
            LockSupport.park();
        }
    }

    /** The queue form's model, with room for a round's works; made on first use, closed at the end. */
    private static FloorExecutor bigModel;
    private static int bigModelCapacity;

    /** The producer's CPU for the queue loop of the last {@code queue} round. */
    private static long queueOnlyCpu;

    private static double median(List<double[]> rows, int col) {
        double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return v[(v.length - 1) / 2];
    }

    private static double lowest(List<double[]> rows, int col) {
        return rows.stream().mapToDouble(r -> r[col]).min().orElse(Double.NaN);
    }
}
