package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/** Records a short run with every cmwq4j event on, then reads the events back. */
class JfrTest {

    /**
     * A recording sees every work's queue, start and end, its announced block, the activations
     * of the works that waited behind {@code maxActive}, and a CPU hog. The 49 works queued behind
     * the first are admitted (inactive) by a statistics snapshot, whose lock drains them, while
     * the first still holds the slot: the count of activations then does not rest on when the
     * first run's end admits them (since 2026-12-07 a run's end gives its slot back before its
     * drain, and a work that drain admits takes the free slot at once, with no activation; 48 in
     * most runs before the snapshot was added). Built without the fast lane, as before.
     */
    @Test
    void aRecordingSeesWorksBlocksAndCpuHogs() throws Exception {
        Path file = Files.createTempFile("cmwq4j", ".jfr");
        try (Recording r = new Recording();
                Cmwq c = EngineProbe.withLane(false, () -> Cmwq.builder().name("jfr-test").cpus(1).build())) {
            for (String e : List.of("WorkQueued", "WorkActivated", "WorkStarted", "WorkEnded", "WorkerBlocked",
                    "CpuIntensive", "Mayday")) {
                r.enable("dev.cmwq4j." + e).withThreshold(Duration.ZERO);
            }
            r.start();
            Workqueue wq = c.workqueue("traced").maxActive(1).build();
            int n = 50;
            CountDownLatch done = new CountDownLatch(n);
            // The first work holds the one maxActive slot until all 50 are queued, so exactly 49
            // go through the inactive list (unheld, it may finish before the next is queued).
            CountDownLatch allQueued = new CountDownLatch(1);
            for (int i = 0; i < n; i++) {
                wq.execute(() -> {
                    Blocking.run(() -> {
                        try {
                            assertThat(allQueued.await(30, TimeUnit.SECONDS)).isTrue();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        spin(10_000);
                    });
                    done.countDown();
                });
            }
            wq.stats(); // its lock admits the 49, inactive behind the first
            allQueued.countDown();
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            // one CPU hog with something waiting behind it, so that the monitor flags it
            CountDownLatch hogRunning = new CountDownLatch(1);
            Workqueue other = c.workqueue("behind").build();
            other.queue(new Work(() -> {
                hogRunning.countDown();
                // at least 40 ms, and on until the monitor flagged it (a busy machine may give
                // this thread less than the 10 ms of CPU the flag needs in 40 ms), at most 30 s
                long start = System.nanoTime();
                long giveUp = start + TimeUnit.SECONDS.toNanos(30);
                while ((System.nanoTime() - start < 40_000_000L || EngineProbe.cpuIntensiveFlagged(c.engine()) == 0)
                        && System.nanoTime() < giveUp) {
                    spin(100_000L);
                }
            }));
            assertThat(hogRunning.await(30, TimeUnit.SECONDS)).isTrue();
            other.queue(new Work(() -> { }));
            other.flush();
            r.stop();
            r.dump(file);
        }
        try {
            List<RecordedEvent> events = RecordingFile.readAllEvents(file);
            Map<String, Long> byType = events.stream()
                    .filter(e -> e.getEventType().getName().startsWith("dev.cmwq4j."))
                    .collect(Collectors.groupingBy(e -> e.getEventType().getName(), Collectors.counting()));
            Map<String, Long> traced = events.stream()
                    .filter(e -> e.getEventType().getName().startsWith("dev.cmwq4j.Work"))
                    .filter(e -> "traced".equals(e.getString("workqueue")))
                    .collect(Collectors.groupingBy(e -> e.getEventType().getName(), Collectors.counting()));
            assertThat(traced).containsEntry("dev.cmwq4j.WorkQueued", 50L)
                    .containsEntry("dev.cmwq4j.WorkStarted", 50L)
                    .containsEntry("dev.cmwq4j.WorkEnded", 50L);
            // maxActive 1: all but the first went through the inactive list
            assertThat(traced.get("dev.cmwq4j.WorkActivated")).isEqualTo(49L);
            List<RecordedEvent> blocks = events.stream()
                    .filter(e -> e.getEventType().getName().equals("dev.cmwq4j.WorkerBlocked"))
                    .filter(e -> "traced".equals(e.getString("workqueue")))
                    .toList();
            assertThat(blocks).hasSize(50).allSatisfy(e -> {
                assertThat(e.getString("kind")).isEqualTo("announced");
                assertThat(e.getDuration()).isPositive();
            });
            assertThat(byType.getOrDefault("dev.cmwq4j.CpuIntensive", 0L)).isEqualTo(1L);
            RecordedEvent ended = events.stream()
                    .filter(e -> e.getEventType().getName().equals("dev.cmwq4j.WorkEnded"))
                    .filter(e -> "behind".equals(e.getString("workqueue")))
                    .max(java.util.Comparator.comparing(RecordedEvent::getDuration)).orElseThrow();
            assertThat(ended.getDuration()).as("the hog's execution").isGreaterThanOrEqualTo(Duration.ofMillis(30));
            assertThat(ended.getString("pool")).isEqualTo("cpu0");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * With every event on, a work's name may come from its action's {@code toString}, user code
     * called while the engine records the event, some of it under a pool lock. One that throws
     * an Error (an assertion in it, say) loses no event's work: every queue is accepted, every
     * work runs once, announced blocks and the inactive list included, the workqueue flushes and
     * the pools come back to rest. (Before, the Error left {@code PoolWorkqueue.insert} after it
     * had counted the work in flight and before it listed it: the queue threw, the work never
     * ran, and every later flush of that workqueue waited for it.)
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS,
            threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void anEventWhoseWorkNameThrowsLosesNoWork() throws Exception {
        try (Recording r = new Recording(); Cmwq c = Cmwq.builder().name("jfr-faults").cpus(1).build()) {
            for (String e : List.of("WorkQueued", "WorkActivated", "WorkStarted", "WorkEnded", "WorkerBlocked")) {
                r.enable("dev.cmwq4j." + e).withThreshold(Duration.ZERO);
            }
            r.start();
            Workqueue wq = c.workqueue("throwing-names").maxActive(1).build();
            int n = 40;
            java.util.concurrent.atomic.AtomicIntegerArray ran = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            Work[] works = new Work[n];
            for (int i = 0; i < n; i++) {
                works[i] = new Work(new ThrowingName(i, ran));
            }
            for (int i = 0; i < n; i++) {
                assertThat(wq.queue(works[i])).as("queue %d", i).isTrue();
            }
            java.util.concurrent.CompletableFuture.runAsync(wq::flush).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertThat(ran.get(i)).as("runs of work %d", i).isEqualTo(1);
            }
            TestSupport.assertPoolsAtRest(c);
            r.stop();
        }
    }

    /** An action with a blocking run and a {@code toString} that throws an Error. */
    private static final class ThrowingName implements Runnable {
        private final int index;
        private final java.util.concurrent.atomic.AtomicIntegerArray ran;

        ThrowingName(int index, java.util.concurrent.atomic.AtomicIntegerArray ran) {
            this.index = index;
            this.ran = ran;
        }

        @Override
        public void run() {
            try {
                Blocking.sleep(1); // a WorkerBlocked event, named after this work
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ran.incrementAndGet(index);
        }

        @Override
        public String toString() {
            throw new AssertionError("a toString that fails");
        }
    }
}
