package dev.cmwq4j;

import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Statistics snapshots: exact totals under concurrent load, in-flight counts, pools by state. */
class StatsTest {

    @Test
    void totalsEqualWorksQueuedUnderConcurrentLoadAndNoCounterDrifts() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int producers = 4;
        int perProducer = 2_000 * scale;
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue a = c.workqueue("stats-a").build();
            Workqueue b = c.workqueue("stats-b").unbound().maxActive(3).build();
            AtomicLong queuedA = new AtomicLong();
            AtomicLong queuedB = new AtomicLong();
            AtomicLong announcedA = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean drift = new AtomicBoolean();
            // A sampler takes snapshots all along: no counter may ever go backwards.
            Thread sampler = new Thread(() -> {
                long lastTotal = 0;
                long lastCpu = 0;
                long lastBlocks = 0;
                while (!stop.get()) {
                    WorkqueueStats s = a.stats();
                    if (s.total() < lastTotal || s.cpuTimeNanos() < lastCpu || s.blocksAnnounced() < lastBlocks
                            || s.inFlight() < 0 || s.queueLatency().count() != s.total()) {
                        drift.set(true);
                    }
                    lastTotal = s.total();
                    lastCpu = s.cpuTimeNanos();
                    lastBlocks = s.blocksAnnounced();
                }
            });
            sampler.start();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < producers; t++) {
                Thread th = new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; i < perProducer; i++) {
                        if (r.nextInt(4) == 0) {
                            b.execute(() -> spin(2_000));
                            queuedB.incrementAndGet();
                        } else if (r.nextInt(10) == 0) {
                            announcedA.incrementAndGet();
                            a.execute(() -> Blocking.run(() -> spin(5_000)));
                            queuedA.incrementAndGet();
                        } else {
                            a.execute(() -> spin(1_000));
                            queuedA.incrementAndGet();
                        }
                    }
                });
                th.start();
                ts.add(th);
            }
            for (Thread th : ts) {
                th.join();
            }
            a.flush();
            b.flush();
            stop.set(true);
            sampler.join();
            WorkqueueStats sa = a.stats();
            WorkqueueStats sb = b.stats();
            assertThat(drift.get()).as("a counter went backwards or histograms disagreed with total").isFalse();
            assertThat(sa.total()).isEqualTo(queuedA.get());
            assertThat(sb.total()).isEqualTo(queuedB.get());
            assertThat(sa.inFlight()).isZero();
            assertThat(sb.inFlight()).isZero();
            assertThat(sa.queueLatency().count()).isEqualTo(sa.total());
            assertThat(sa.executionTime().count()).isEqualTo(sa.total());
            assertThat(sb.executionTime().count()).isEqualTo(sb.total());
            assertThat(sa.blocksAnnounced()).isEqualTo(announcedA.get());
            assertThat(sb.blocksAnnounced()).isZero();
            // every work spun at least 1 us of wall time, and CPU time never exceeds wall time
            assertThat(sa.executionTime().meanNanos()).isGreaterThanOrEqualTo(1_000);
            assertThat(sa.cpuTimeNanos()).isPositive()
                    .isLessThanOrEqualTo((long) (sa.executionTime().meanNanos() * sa.total()) + 1);
            assertThat(c.workqueueStats()).extracting(WorkqueueStats::name).containsExactly("stats-a", "stats-b");
        }
    }

    @Test
    void inFlightCountsRunningAndHeldWorks() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("held").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                started.countDown();
                Blocking.run(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }));
            for (int i = 0; i < 4; i++) {
                wq.queue(new Work(() -> { }));
            }
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(wq.stats().inFlight()).as("one running, four held by ordering").isEqualTo(5);
            assertThat(wq.stats().total()).isZero();
            release.countDown();
            wq.flush();
            WorkqueueStats s = wq.stats();
            assertThat(s.inFlight()).isZero();
            assertThat(s.total()).isEqualTo(5);
            assertThat(s.blocksAnnounced()).isEqualTo(1);
        }
    }

    /**
     * An announced block under the kernel's rule (counted blocks off for this engine) leaves the
     * running count and wakes another worker for the work queued behind it; the pool's statistics
     * show it blocked, and the states add up to its workers.
     */
    @Test
    void poolStatsShowWorkersByStateAndWakeupsAreCounted() throws Exception {
        try (Cmwq c = dev.cmwq4j.internal.EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("states").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch secondRan = new CountDownLatch(1);
            CountDownLatch firstRunning = new CountDownLatch(1);
            AtomicBoolean secondQueued = new AtomicBoolean();
            wq.queue(new Work(() -> {
                firstRunning.countDown();
                while (!secondQueued.get()) {
                    Thread.onSpinWait(); // counted and on the CPU until the second work waits
                }
                Blocking.run(() -> {
                    blocked.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }));
            assertThat(firstRunning.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work(secondRan::countDown)); // needs the wakeup the block causes
            secondQueued.set(true);
            assertThat(blocked.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(secondRan.await(30, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                PoolStats cpu0 = c.poolStats().get(0);
                assertThat(cpu0.name()).isEqualTo("cpu0");
                assertThat(cpu0.cpu()).isZero();
                assertThat(cpu0.blocked()).isEqualTo(1);
                assertThat(cpu0.nrRunning()).isZero();
                assertThat(cpu0.workers()).isGreaterThanOrEqualTo(2);
                assertThat(cpu0.idle() + cpu0.running() + cpu0.blocked() + cpu0.detected() + cpu0.cpuIntensive())
                        .isEqualTo(cpu0.workers());
            });
            release.countDown();
            wq.flush();
            assertThat(wq.stats().cmWakeups()).as("the block let another worker start").isGreaterThanOrEqualTo(1);
            List<PoolStats> pools = c.poolStats();
            assertThat(pools).extracting(PoolStats::name).containsExactly("cpu0", "cpu0H", "unbound", "unboundH");
            assertThat(pools.get(3).cpu()).isEqualTo(-1);
            assertThat(pools.get(3).highPriority()).isTrue();
        }
    }

    @Test
    void aCpuHogIsAViolationOfItsOwnWorkqueue() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue hog = c.workqueue("hog").build();
            Workqueue other = c.workqueue("other").build();
            CountDownLatch hogRunning = new CountDownLatch(1);
            hog.queue(new Work(() -> {
                hogRunning.countDown();
                // 50 ms of this thread's CPU time, however long a loaded machine makes that
                var mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long until = mx.getCurrentThreadCpuTime() + 50_000_000L;
                while (mx.getCurrentThreadCpuTime() < until) {
                    Thread.onSpinWait();
                }
            }));
            assertThat(hogRunning.await(30, TimeUnit.SECONDS)).isTrue();
            other.queue(new Work(() -> { })); // a backlog, so the monitor looks
            hog.flush();
            other.flush();
            assertThat(hog.stats().cpuIntensive()).isEqualTo(1);
            assertThat(other.stats().cpuIntensive()).isZero();
            assertThat(hog.stats().cpuTimeNanos()).as("measured on the CPU clock").isGreaterThanOrEqualTo(50_000_000L);
        }
    }

    @Test
    void histogramPercentilesAndBadInput() {
        long[] counts = new long[DurationHistogram.BUCKETS];
        counts[DurationHistogram.bucketOf(1_000)] = 99; // [512, 1024)... 1000 is in bucket 9
        counts[DurationHistogram.bucketOf(1_000_000)] = 1;
        DurationHistogram h = DurationHistogram.of(counts, 99 * 1_000 + 1_000_000, 1_000_000);
        assertThat(h.count()).isEqualTo(100);
        assertThat(h.valueAtPercentile(50)).isBetween(1_000L, 1_023L);
        assertThat(h.valueAtPercentile(99)).isBetween(1_000L, 1_023L);
        assertThat(h.valueAtPercentile(100)).isEqualTo(1_000_000);
        assertThat(h.maxNanos()).isEqualTo(1_000_000);
        assertThat(h.meanNanos()).isEqualTo((99 * 1_000 + 1_000_000) / 100.0);
        assertThat(h.plus(h).count()).isEqualTo(200);
        assertThat(DurationHistogram.empty().valueAtPercentile(99)).isZero();
        assertThatThrownBy(() -> h.valueAtPercentile(101)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.valueAtPercentile(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DurationHistogram.of(new long[3], 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cmwq.builder().name(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cmwq.builder().name(null)).isInstanceOf(NullPointerException.class);
    }
}
