package dev.cmwq4j.bench;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.bench.scenario.Cpu;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
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
 * The harness's mixed load, round after round in one JVM, with where its CPU goes: 4,000 works
 * of 100 us CPU, a 1 ms sleep, 100 us CPU, queued at once from one thread (DESIGN.md section 10;
 * the ideal on 2 CPUs is 0.40 s). Per round it prints the wall time, the process's CPU split by
 * thread group, and the executor's threads; the first round is the harness's cold cell, the later
 * ones a long-lived program's.
 *
 * <p>Executors: {@code cmwq} (a bound workqueue of the shared {@link Cmwq}, the sleep announced
 * through {@link Blocking#sleep}; {@code cmwq-plain}: the same with a plain {@code Thread.sleep}),
 * {@code fjp-managed} ({@code new ForkJoinPool(ncpu)}, the sleep in {@code managedBlock}), and
 * {@code fixed:N} ({@code Executors.newFixedThreadPool(N)}, plain sleep). One executor per JVM, so
 * that each starts cold and alone.
 *
 * <p>CPU by thread group: the first field of each thread's {@code /proc/self/task/<tid>/schedstat}
 * (ns), its change over the round summed by the thread's name with digits folded ({@code
 * cmwq#j-shared-c} are cmwq4j's workers, {@code cmwq#j-shared-m} its service thread, {@code C1
 * CompilerThre} and {@code C2 CompilerThre} the JIT, {@code java} the main thread, which queues);
 * a thread born within the round is charged all of its time, one that ended within it is lost.
 * With {@code --sample=MS}, cmwq4j's pools ({@link Cmwq#poolStats}) are printed every {@code MS}
 * milliseconds of the first round (the sampling takes every pool's lock, so it perturbs what it
 * shows a little).
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="fjp-managed 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="fixed:14 6"
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.MixedTimeline -Dmain.args="cmwq 1 --sample=5"
 * </pre>
 *
 * Arguments: {@code cmwq|cmwq-plain|fjp-managed|fixed:N [rounds] [--sample=MS]} (default rounds: 6).
 */
public final class MixedTimeline {
    private MixedTimeline() {}

    private static final int WORKS = 4_000;
    private static final long CPU_NANOS = 100_000;
    private static final Duration SLEEP = Duration.ofMillis(1);

    /** The executor under test: how a task is run, and how it sleeps. */
    private interface Peer {
        void execute(Runnable task);

        void sleep() throws InterruptedException;

        /** The executor's threads now (cmwq4j: workers and service thread; others: pool size). */
        int threads();
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: cmwq|cmwq-plain|fjp-managed|fixed:N [rounds] [--sample=MS]");
        }
        int rounds = args.length > 1 && !args[1].startsWith("--") ? Integer.parseInt(args[1]) : 6;
        long sampleMillis = 0;
        for (String a : args) {
            if (a.startsWith("--sample=")) {
                sampleMillis = Long.parseLong(a.substring("--sample=".length()));
            }
        }
        Cpu.spin(1_000); // the thread CPU clock's set-up, outside the first round
        Workqueue wq = args[0].startsWith("cmwq") ? Workqueue.builder("mixed").build() : null;
        Peer peer = peer(args[0], wq);
        System.out.printf("mixed: %d works x (%d us CPU, %d ms sleep, %d us CPU), %s, %d CPUs; ideal %.2f s%n", WORKS,
                CPU_NANOS / 1000, SLEEP.toMillis(), CPU_NANOS / 1000, args[0], Runtime.getRuntime().availableProcessors(),
                WORKS * 2.0 * CPU_NANOS / Runtime.getRuntime().availableProcessors() / 1e9);
        for (int r = 0; r < rounds; r++) {
            round(r, peer, r == 0 && sampleMillis > 0 && wq != null ? wq.cmwq() : null, sampleMillis);
        }
        System.exit(0);
    }

    private static Peer peer(String name, Workqueue wq) {
        if (name.equals("cmwq") || name.equals("cmwq-plain")) {
            boolean announced = name.equals("cmwq");
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
            };
        }
        if (name.equals("fjp-managed")) {
            ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
            return new Peer() {
                public void execute(Runnable task) {
                    pool.execute(task);
                }

                public void sleep() throws InterruptedException {
                    ForkJoinPool.managedBlock(new ForkJoinPool.ManagedBlocker() {
                        private boolean done;

                        public boolean block() throws InterruptedException {
                            Thread.sleep(SLEEP);
                            done = true;
                            return true;
                        }

                        public boolean isReleasable() {
                            return done;
                        }
                    });
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

    private static void round(int r, Peer peer, Cmwq sampled, long sampleMillis) throws Exception {
        CountDownLatch done = new CountDownLatch(WORKS);
        Runnable task = () -> {
            Cpu.spin(CPU_NANOS);
            try {
                peer.sleep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // counted below all the same: the round must end
            } finally {
                Cpu.spin(CPU_NANOS);
                done.countDown();
            }
        };
        List<String> samples = new ArrayList<>();
        Map<Long, Long> cpuBefore = threadCpu();
        long t0 = System.nanoTime();
        Thread sampler = sampled == null ? null : Thread.ofPlatform().daemon().start(() -> {
            while (done.getCount() > 0) {
                samples.add(sample(sampled, t0, done.getCount()));
                LockSupport.parkNanos(sampleMillis * 1_000_000);
            }
        });
        for (int i = 0; i < WORKS; i++) {
            peer.execute(task);
        }
        done.await();
        long wall = System.nanoTime() - t0;
        if (sampler != null) {
            sampler.join();
        }
        Map<Long, Long> cpuAfter = threadCpu();
        samples.forEach(System.out::println);
        Map<String, Long> byGroup = new TreeMap<>();
        long total = 0;
        for (Map.Entry<Long, Long> e : cpuAfter.entrySet()) {
            long used = e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
            total += used;
            byGroup.merge(group(e.getKey()), used, Long::sum);
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format("round %d: wall %.3f s, CPU %.3f s, threads %d |", r, wall / 1e9, total / 1e9,
                peer.threads()));
        for (Map.Entry<String, Long> e : byGroup.entrySet()) {
            if (e.getValue() >= 1_000_000) {
                b.append(String.format(" %s %.1f ms,", e.getKey(), e.getValue() / 1e6));
            }
        }
        System.out.println(b.substring(0, b.length() - 1));
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

    /** Each live thread's CPU so far, ns, by tid (remembering its folded name). */
    private static Map<Long, Long> threadCpu() throws IOException {
        Map<Long, Long> m = new HashMap<>();
        File[] tasks = new File("/proc/self/task").listFiles();
        if (tasks == null) {
            return m;
        }
        for (File t : tasks) {
            try {
                long tid = Long.parseLong(t.getName());
                String stat = Files.readString(new File(t, "schedstat").toPath()).trim();
                m.put(tid, Long.parseLong(stat.substring(0, stat.indexOf(' '))));
                if (!NAMES.containsKey(tid)) {
                    String comm = Files.readString(new File(t, "comm").toPath()).trim();
                    NAMES.put(tid, comm.contains("CompilerThre") ? comm : comm.replaceAll("[0-9]+", "#"));
                }
            } catch (IOException | RuntimeException e) {
                // the thread ended between the listing and the read
            }
        }
        return m;
    }

    private static String group(long tid) {
        return NAMES.getOrDefault(tid, "?");
    }
}
