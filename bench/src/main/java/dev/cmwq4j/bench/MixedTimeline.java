package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.bench.scenario.Cpu;
import dev.cmwq4j.bench.scenario.ManagedSleep;
import dev.cmwq4j.bench.scenario.TaskCpu;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.locks.LockSupport;

/**
 * A load of the scenario harness, round after round in one JVM, with where its CPU goes. Per round
 * it prints the wall time, the process's CPU split by thread group, and the executor's threads;
 * the first round is the harness's cold cell, the later ones a long-lived program's. Two loads
 * ({@code --load=}):
 * <ul>
 *   <li>{@code mixed} (the default): 4,000 works of 100 us CPU, a 1 ms sleep, 100 us CPU, queued
 *       at once from one thread to one executor (DESIGN.md section 10; ideal on 2 CPUs 0.40 s);
 *   <li>{@code many}: the harness's {@code many-subsystems}, 64 executors (cmwq4j: 64
 *       workqueues of the shared instance) and 200 works each, dealt round robin from one thread:
 *       6 in 10 are 50 us CPU, 3 in 10 20 us CPU, a 1 ms sleep and 20 us CPU, 1 in 10 200 us CPU
 *       (ideal on 2 CPUs 0.40 s).
 * </ul>
 *
 * <p>Executors: {@code cmwq} (a bound workqueue of the shared {@link Cmwq}, the sleep announced
 * through {@link Blocking#sleep}; {@code cmwq-plain}: the same with a plain {@code Thread.sleep}),
 * {@code fjp-managed} ({@code new ForkJoinPool(ncpu)}, the sleep in {@code managedBlock}), and
 * {@code fixed:N} ({@code Executors.newFixedThreadPool(N)}, plain sleep; with {@code many}, one such
 * pool per executor). One kind of executor per JVM, so that each starts cold and alone.
 *
 * <p>CPU by thread group: the first field of each thread's {@code /proc/self/task/<tid>/schedstat}
 * (ns), its change over the round summed by the thread's name with digits folded and as the
 * kernel cuts it at 15 characters ({@code cmwq#j-shared-c} are cmwq4j's workers, {@code
 * cmwq#j-shared-m} its service thread, {@code C1 CompilerThre} and {@code C2 CompilerThre} the
 * JIT, {@code java} the main thread, which queues);
 * a thread born within the round is charged all of its time, one that ended within it is lost.
 * Context switches by the same groups, per work of the round: each thread's voluntary (a sleep, a
 * park) and involuntary (a preemption) switches from its {@code /proc/self/task/<tid>/status},
 * read at the round's start and end as the CPU is.
 * With {@code --sample=MS}, cmwq4j's pools ({@link Cmwq#poolStats}) are printed every {@code MS}
 * milliseconds of the first round, or of round {@code R} with {@code --sample-round=R} (the
 * sampling takes every pool's lock, so it perturbs what it shows a little).
 * With {@code --gap=MS} the program waits until {@code MS} milliseconds have passed since the last
 * round's last work before it starts the next (its own reads of the round's figures included),
 * so that rounds are bursts that many milliseconds apart; each round then prints the gap it had
 * and, for cmwq4j, the highest concurrency target of its bound pools as the round starts (an idle
 * pool keeps its last burst's target for 20 ms: {@code docs/ARCHITECTURE.md} §2, <i>Decay to the
 * rule, after a hold</i>).
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="fjp-managed 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="fixed:14 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 1 --sample=5"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 6 --load=many"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="fixed:2 6 --load=many"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 10 --gap=5"
 * </pre>
 *
 * Arguments: {@code cmwq|cmwq-plain|fjp-managed|fixed:N [rounds] [--load=mixed|many] [--sample=MS]
 * [--sample-round=R] [--gap=MS]}
 * (default rounds: 6).
 */
public final class MixedTimeline {
    private MixedTimeline() {}

    private static final int WORKS = 4_000;
    private static final long CPU_NANOS = 100_000;
    private static final Duration SLEEP = Duration.ofMillis(1);
    /** {@code many}: executors, works per executor, and the works' CPU (ns) by kind. */
    private static final int COMPONENTS = 64;
    private static final int PER_COMPONENT = 200;
    private static final long SHORT_NANOS = 50_000;
    private static final long IO_CPU_NANOS = 20_000;
    private static final long LONG_NANOS = 200_000;

    /** One executor under test: how a task is run, and how it sleeps. */
    private interface Peer {
        void execute(Runnable task);

        void sleep() throws InterruptedException;

        /** The threads of this executor now (cmwq4j: the shared instance's workers and service thread). */
        int threads();

        /** All executors of this kind share {@link #threads()} (cmwq4j's one instance): count it once. */
        default boolean sharesThreads() {
            return false;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException(
                    "usage: cmwq|cmwq-plain|fjp-managed|fixed:N [rounds] [--load=mixed|many] [--sample=MS] [--sample-round=R]"
                            + " [--gap=MS]");
        }
        int rounds = args.length > 1 && !args[1].startsWith("--") ? Integer.parseInt(args[1]) : 6;
        long sampleMillis = 0;
        int sampleRound = 0;
        long gapMillis = -1;
        boolean many = false;
        for (String a : args) {
            if (a.startsWith("--sample=")) {
                sampleMillis = Long.parseLong(a.substring("--sample=".length()));
            } else if (a.startsWith("--gap=")) {
                gapMillis = Long.parseLong(a.substring("--gap=".length()));
            } else if (a.startsWith("--sample-round=")) {
                sampleRound = Integer.parseInt(a.substring("--sample-round=".length()));
            } else if (a.startsWith("--load=")) {
                many = switch (a.substring("--load=".length())) {
                    case "mixed" -> false;
                    case "many" -> true;
                    default -> throw new IllegalArgumentException("--load=mixed or --load=many, got " + a);
                };
            }
        }
        Cpu.spin(1_000); // the thread CPU clock's set-up, outside the first round
        int ncpu = Runtime.getRuntime().availableProcessors();
        List<Peer> peers = new ArrayList<>();
        for (int c = 0; c < (many ? COMPONENTS : 1); c++) {
            peers.add(peer(args[0], many ? "component-" + c : "mixed"));
        }
        Cmwq sampled = sampleMillis > 0 && args[0].startsWith("cmwq") ? Cmwq.shared() : null;
        if (many) {
            System.out.printf("many: %d executors x %d works (6/10: %d us CPU; 3/10: %d us CPU, %d ms sleep, %d us CPU;"
                    + " 1/10: %d us CPU), %s, %d CPUs; ideal %.2f s%n", COMPONENTS, PER_COMPONENT, SHORT_NANOS / 1000,
                    IO_CPU_NANOS / 1000, SLEEP.toMillis(), IO_CPU_NANOS / 1000, LONG_NANOS / 1000, args[0], ncpu,
                    COMPONENTS * PER_COMPONENT * (6 * SHORT_NANOS + 6 * IO_CPU_NANOS + LONG_NANOS) / 10.0 / ncpu / 1e9);
        } else {
            System.out.printf("mixed: %d works x (%d us CPU, %d ms sleep, %d us CPU), %s, %d CPUs; ideal %.2f s%n", WORKS,
                    CPU_NANOS / 1000, SLEEP.toMillis(), CPU_NANOS / 1000, args[0], ncpu,
                    WORKS * 2.0 * CPU_NANOS / ncpu / 1e9);
        }
        Cmwq targets = gapMillis >= 0 && args[0].startsWith("cmwq") ? Cmwq.shared() : null;
        long lastEnd = 0;
        for (int r = 0; r < rounds; r++) {
            String before = "";
            if (gapMillis >= 0 && r > 0) {
                long wait = lastEnd + gapMillis * 1_000_000 - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                before = String.format("after %.1f ms idle%s: ", (System.nanoTime() - lastEnd) / 1e6,
                        targets == null ? "" : ", starting target " + highestTarget(targets));
            }
            lastEnd = round(r, peers, many, r == sampleRound ? sampled : null, sampleMillis, before);
        }
        System.exit(0);
    }

    private static Peer peer(String name, String label) {
        if (name.equals("cmwq") || name.equals("cmwq-plain")) {
            boolean announced = name.equals("cmwq");
            Workqueue wq = Workqueue.builder(label).build();
            Cmwq c = wq.cmwq();
            return new Peer() {
                public void execute(Runnable task) {
                    wq.execute(task);
                }

                public void sleep() throws InterruptedException {
                    if (announced) {
                        Blocking.sleep(SLEEP);
                    } else {
                        Thread.sleep(SLEEP);
                    }
                }

                public int threads() {
                    return c.threads();
                }

                public boolean sharesThreads() {
                    return true;
                }
            };
        }
        if (name.equals("fjp-managed")) {
            ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
            return new Peer() {
                public void execute(Runnable task) {
                    pool.execute(task);
                }

                public void sleep() throws InterruptedException {
                    ManagedSleep.sleep(SLEEP.toNanos());
                }

                public int threads() {
                    return pool.getPoolSize();
                }
            };
        }
        if (name.startsWith("fixed:")) {
            int n = Integer.parseInt(name.substring("fixed:".length()));
            ExecutorService pool = Executors.newFixedThreadPool(n);
            return new Peer() {
                public void execute(Runnable task) {
                    pool.execute(task);
                }

                public void sleep() throws InterruptedException {
                    Thread.sleep(SLEEP);
                }

                public int threads() {
                    return n;
                }
            };
        }
        throw new IllegalArgumentException("cmwq, cmwq-plain, fjp-managed or fixed:N, got " + name);
    }

    /** A work that spins {@code before}, sleeps on {@code peer} if {@code sleeps}, spins {@code after}, and counts down. */
    private static Runnable task(Peer peer, CountDownLatch done, long before, boolean sleeps, long after) {
        return () -> {
            Cpu.spin(before);
            try {
                if (sleeps) {
                    peer.sleep();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // counted all the same: the round must end
            } finally {
                if (after > 0) {
                    Cpu.spin(after);
                }
                done.countDown();
            }
        };
    }

    /** The highest concurrency target of {@code c}'s bound pools of normal priority, now. */
    private static int highestTarget(Cmwq c) {
        int t = 0;
        for (PoolStats p : c.poolStats()) {
            if (p.cpu() >= 0 && !p.highPriority()) {
                t = Math.max(t, p.target());
            }
        }
        return t;
    }

    /**
     * Runs round {@code r} and prints its figures, the line starting with {@code gapNote}.
     *
     * @return when its last work ended ({@code nanoTime})
     */
    private static long round(int r, List<Peer> peers, boolean many, Cmwq sampled, long sampleMillis, String gapNote)
            throws Exception {
        CountDownLatch done = new CountDownLatch(many ? COMPONENTS * PER_COMPONENT : WORKS);
        Runnable mixedTask = many ? null : task(peers.get(0), done, CPU_NANOS, true, CPU_NANOS);
        List<String> samples = new ArrayList<>();
        Map<Long, Long> cpuBefore = threadCpu();
        Map<Long, Long> switchesBefore = new HashMap<>(SWITCHES);
        int works = many ? COMPONENTS * PER_COMPONENT : WORKS;
        long t0 = System.nanoTime();
        Thread sampler = sampled == null ? null : Thread.ofPlatform().daemon().start(() -> {
            while (done.getCount() > 0) {
                samples.add(sample(sampled, t0, done.getCount()));
                LockSupport.parkNanos(sampleMillis * 1_000_000);
            }
        });
        if (many) {
            for (int k = 0; k < PER_COMPONENT; k++) {
                for (int c = 0; c < COMPONENTS; c++) {
                    Peer peer = peers.get(c);
                    peer.execute(switch ((k * COMPONENTS + c) % 10) {
                        case 0, 1, 2, 3, 4, 5 -> task(peer, done, SHORT_NANOS, false, 0);
                        case 6, 7, 8 -> task(peer, done, IO_CPU_NANOS, true, IO_CPU_NANOS);
                        default -> task(peer, done, LONG_NANOS, false, 0);
                    });
                }
            }
        } else {
            for (int i = 0; i < WORKS; i++) {
                peers.get(0).execute(mixedTask);
            }
        }
        done.await();
        long end = System.nanoTime();
        long wall = end - t0;
        if (sampler != null) {
            sampler.join();
        }
        Map<Long, Long> cpuAfter = threadCpu();
        Map<Long, Long> switchesAfter = new HashMap<>(SWITCHES);
        samples.forEach(System.out::println);
        Map<String, Long> byGroup = new TreeMap<>();
        Map<String, Long> volByGroup = new TreeMap<>();
        Map<String, Long> involByGroup = new TreeMap<>();
        long total = 0;
        for (Map.Entry<Long, Long> e : cpuAfter.entrySet()) {
            long used = e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
            total += used;
            byGroup.merge(group(e.getKey()), used, Long::sum);
            long after = switchesAfter.getOrDefault(e.getKey(), 0L);
            long before = switchesBefore.getOrDefault(e.getKey(), 0L);
            volByGroup.merge(group(e.getKey()), (after >>> 32) - (before >>> 32), Long::sum);
            involByGroup.merge(group(e.getKey()), (after & 0xffff_ffffL) - (before & 0xffff_ffffL), Long::sum);
        }
        int threads = 0;
        for (Peer p : peers) {
            threads += p.threads();
            if (p.sharesThreads()) {
                break;
            }
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format("round %d: %swall %.3f s, CPU %.3f s, threads %d |", r, gapNote, wall / 1e9, total / 1e9,
                threads));
        for (Map.Entry<String, Long> e : byGroup.entrySet()) {
            if (e.getValue() >= 1_000_000) {
                b.append(String.format(" %s %.1f ms,", e.getKey(), e.getValue() / 1e6));
            }
        }
        System.out.println(b.substring(0, b.length() - 1));
        StringBuilder sw = new StringBuilder("  context switches per work, voluntary/involuntary:");
        for (Map.Entry<String, Long> e : volByGroup.entrySet()) {
            long invol = involByGroup.get(e.getKey());
            if (e.getValue() + invol >= works / 100) {
                sw.append(String.format(" %s %.3f/%.3f,", e.getKey(), (double) e.getValue() / works, (double) invol / works));
            }
        }
        System.out.println(sw.substring(0, sw.length() - 1));
        return end;
    }

    /** One line of the pools' state: time, works left, and per pool with workers its counts. */
    private static String sample(Cmwq c, long t0, long left) {
        StringBuilder b = new StringBuilder(String.format("%7.1f ms  left %4d  threads %2d |", (System.nanoTime() - t0) / 1e6,
                left, c.threads()));
        for (PoolStats p : c.poolStats()) {
            if (p.workers() > 0) {
                b.append(String.format(" %s workers %2d idle %2d running %2d blocked %2d detected %d nr %2d target %2d"
                        + " pending %3d |", p.name(), p.workers(), p.idle(), p.running(), p.blocked(), p.detected(),
                        p.nrRunning(), p.target(), p.pending()));
            }
        }
        return b.toString();
    }

    private static final Map<Long, String> NAMES = new HashMap<>();
    /**
     * Each thread's context switches at the last {@link #threadCpu}, by tid: voluntary (a sleep,
     * a park) in the high 32 bits, involuntary (a preemption) in the low ones.
     */
    private static final Map<Long, Long> SWITCHES = new HashMap<>();

    /** A thread's voluntary and involuntary context switches so far, packed as in {@link #SWITCHES}; 0 if unreadable. */
    private static long switches(long tid) {
        long vol = 0;
        long invol = 0;
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/task/" + tid + "/status"))) {
                if (line.startsWith("voluntary_ctxt_switches:")) {
                    vol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                    invol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return vol << 32 | invol;
    }

    /** Each live thread's CPU so far, ns, by tid (remembering its folded name). */
    private static Map<Long, Long> threadCpu() {
        Map<Long, Long> m = new HashMap<>();
        List<TaskCpu> tasks = TaskCpu.all();
        for (TaskCpu t : tasks == null ? List.<TaskCpu>of() : tasks) {
            m.put(t.tid(), t.cpuNanos());
            SWITCHES.put(t.tid(), switches(t.tid()));
            // digits folded, and what the 15-character cut leaves of a trailing "-N" dropped
            NAMES.computeIfAbsent(t.tid(), tid -> t.name().contains("CompilerThre") ? t.name()
                    : t.name().replaceAll("[0-9]+", "#").replaceAll("[-#]+$", ""));
        }
        return m;
    }

    private static String group(long tid) {
        return NAMES.getOrDefault(tid, "?");
    }
}
