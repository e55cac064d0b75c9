package dev.cmwq4j;

import java.util.concurrent.atomic.AtomicInteger;

/** Small helpers shared by tests. */
final class TestSupport {
    private TestSupport() {}

    /** Burns CPU for about {@code nanos}. */
    static long spin(long nanos) {
        long end = System.nanoTime() + nanos;
        long x = 0;
        while (System.nanoTime() < end) {
            x += x * 31 + 7;
        }
        return x;
    }

    /** Tracks how many callers are inside a section at once, and the maximum seen. */
    static final class Concurrency {
        private final AtomicInteger now = new AtomicInteger();
        private final AtomicInteger max = new AtomicInteger();

        void enter() {
            int n = now.incrementAndGet();
            max.accumulateAndGet(n, Math::max);
        }

        void exit() {
            now.decrementAndGet();
        }

        int max() {
            return max.get();
        }
    }

    /**
     * Waits until every pool of {@code c} is at rest, with its accounting back to zero: nothing
     * pending, nothing counted as running, every worker idle. A drifting nrRunning (a transition
     * counted twice or lost) fails this.
     */
    static void assertPoolsAtRest(Cmwq c) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> {
            for (var p : dev.cmwq4j.internal.EngineProbe.poolCounts(c.engine())) {
                org.assertj.core.api.Assertions.assertThat(p.pending()).as(p.name() + " pending").isZero();
                org.assertj.core.api.Assertions.assertThat(p.running()).as(p.name() + " nrRunning").isZero();
                org.assertj.core.api.Assertions.assertThat(p.joining()).as(p.name() + " joiners").isZero();
                if (p.idle() != p.workers()) { // which worker is neither idle nor counted, and where
                    org.assertj.core.api.Assertions.assertThat(p.idle()).as(p.name() + " idle == workers; workers:"
                            + dev.cmwq4j.internal.EngineProbe.describeWorkers(c.engine(), p.name()))
                            .isEqualTo(p.workers());
                }
            }
        });
    }

    /**
     * A hook for a plain seam ({@code EngineProbe.onBlockBegins}, {@code onBlockOver},
     * {@code onMonitorUncount}) that throws {@code fault} while {@code left} is positive, counting
     * it down at each pass: a fault injected that many times, on whichever thread passes first.
     */
    static Runnable failOnce(java.util.concurrent.atomic.AtomicInteger left, java.util.function.Supplier<? extends Error> fault) {
        return () -> {
            if (left.getAndDecrement() > 0) {
                throw fault.get();
            }
        };
    }

    /**
     * A hook for a phased seam ({@code AccountingProbe.onPush}, {@code onSeal}, {@code onArm}) that
     * throws {@code fault} the first time thread {@code on} passes phase {@code phase}, and does
     * nothing else: a fault injected once, on the test's own call.
     */
    static java.util.function.IntConsumer throwOnce(int phase, Thread on, java.util.function.Supplier<? extends Throwable> fault) {
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(true);
        return p -> {
            if (p == phase && Thread.currentThread() == on && armed.getAndSet(false)) {
                Throwable t = fault.get();
                if (t instanceof Error e) {
                    throw e;
                }
                throw (RuntimeException) t;
            }
        };
    }

    /** Process CPU time (user + system) in nanoseconds, from /proc/self/stat (Linux). */
    static long processCpuNanos() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
            return ticks * 10_000_000L; // USER_HZ is 100 on Linux
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A thread factory whose threads add whatever kills them to {@code died}: a worker thread
     * that trips an engine assertion (tests run with {@code -ea}) dies, and a stress test then
     * finds it here instead of only in the log.
     */
    static java.util.concurrent.ThreadFactory recordingDeaths(java.util.Queue<Throwable> died) {
        return r -> {
            Thread t = new Thread(r);
            t.setUncaughtExceptionHandler((th, e) -> died.add(e));
            return t;
        };
    }

    /**
     * Waits for {@code latch} at most {@code seconds}, without announcing a block and without
     * throwing, restoring an interrupt it receives: for a work that holds its worker until the
     * test lets it go (the test's own assertions say whether it was let go in time).
     */
    static void awaitQuietly(java.util.concurrent.CountDownLatch latch, long seconds) {
        try {
            latch.await(seconds, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits for {@code l} as an announced block (so a worker waiting here does not hold up its
     * pool), at most 30 s.
     */
    static void blockOn(java.util.concurrent.CountDownLatch l) {
        Blocking.run(() -> {
            try {
                if (!l.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new AssertionError("latch not released within 30 s");
                }
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
    }

    /**
     * Queues {@code n} works on {@code wq} that each block, announced, until all {@code n} are in
     * at once (proof of overlap without timing); returns whether all finished within the timeout.
     */
    static boolean blockAllAtOnce(Workqueue wq, int n, long timeoutSeconds) throws InterruptedException {
        java.util.concurrent.CountDownLatch allIn = new java.util.concurrent.CountDownLatch(n);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            wq.queue(new Work(() -> {
                allIn.countDown();
                blockOn(allIn);
                done.countDown();
            }));
        }
        return done.await(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * What a child JVM printed and how it ended ({@link #runChildJvm}). {@code exitValue} is -1
     * if it had not ended within the wait.
     */
    record ChildJvm(java.util.List<String> lines, boolean ended, int exitValue) {}

    /**
     * Runs {@code main} in a fresh JVM (this JVM's {@code java}, {@code -Xmx64m}) whose class path
     * holds the code sources of {@code classPath}, collects its output (stdout and stderr) line
     * by line until it closes it, and waits up to 60 s for it to end. For what only a JVM whose
     * classes are not initialized yet shows (cold start, first use).
     */
    static ChildJvm runChildJvm(Class<?> main, Class<?>... classPath) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElseGet(() ->
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.util.List<String> entries = new java.util.ArrayList<>();
        for (Class<?> c : classPath) {
            entries.add(java.nio.file.Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        Process child = new ProcessBuilder(javaBin, "-Xmx64m", "-cp", String.join(java.io.File.pathSeparator, entries),
                main.getName()).redirectErrorStream(true).start();
        java.util.List<String> lines = new java.util.ArrayList<>();
        try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                child.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
        }
        boolean ended = child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        return new ChildJvm(lines, ended, ended ? child.exitValue() : -1);
    }
}
