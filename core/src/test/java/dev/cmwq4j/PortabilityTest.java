package dev.cmwq4j;

import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine where the platform offers less, simulated on Linux ({@code Cmwq.Builder.simulate},
 * the {@code cmwq4j.simulate.*} properties): without thread CPU time (a GraalVM native image),
 * without {@code /proc} (not Linux), and without both. Works run and are counted, blocks in Java
 * are still detected by thread state, and nothing throws. A work blocked in native code cannot be
 * detected without both: that case has no test, only its documentation ({@code Monitor}).
 */
class PortabilityTest {

    private static List<String> noCpuTimeLines(CapturedLog log, String instance) {
        return log.messages().stream()
                .filter(m -> m.contains("thread CPU time is not available to instance '" + instance + "'")).toList();
    }

    /**
     * On a one-CPU instance: a work that sleeps unannounced ({@code Thread.sleep} in a loop) must
     * let the next work start while it still sleeps, by thread state alone.
     */
    private static void assertSleepDetected(Cmwq c) throws Exception {
        Workqueue wq = c.workqueue("sleepy").build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean firstDone = new AtomicBoolean();
        CountDownLatch sleeping = new CountDownLatch(1);
        CountDownLatch secondRan = new CountDownLatch(1);
        AtomicBoolean secondSawFirstDone = new AtomicBoolean(true);
        wq.queue(new Work("sleeper", () -> {
            sleeping.countDown();
            try {
                while (!stop.get()) {
                    Thread.sleep(5);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                firstDone.set(true);
            }
        }));
        assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();
        wq.queue(new Work("behind the sleeper", () -> {
            secondSawFirstDone.set(firstDone.get());
            secondRan.countDown();
        }));
        try {
            assertThat(secondRan.await(30, TimeUnit.SECONDS)).as("the work behind the sleeper started").isTrue();
            assertThat(secondSawFirstDone.get()).as("while the sleeper still slept").isFalse();
        } finally {
            stop.set(true);
        }
        wq.flush();
        var e = c.engine();
        // taken out of the count (detected), or seen off the CPU with work waiting (target raised)
        assertThat(EngineProbe.blocksDetected(e) + EngineProbe.targetRaised(e))
                .as("detected %d, target raised %d", EngineProbe.blocksDetected(e), EngineProbe.targetRaised(e))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void withoutThreadCpuTimeWorksRunAreCountedAndBlocksAreStillSeen() throws Exception {
        String name = "portability-no-cpu-time";
        try (CapturedLog log = new CapturedLog();
                Cmwq c = Cmwq.builder().name(name).cpus(1).cpuIntensiveThreshold(Duration.ofMillis(1))
                        .simulate(false, true).build()) {
            // works run, and are counted; runs are charged their wall time as CPU time
            Workqueue wq = c.workqueue("counted").build();
            int n = 20;
            CountDownLatch ran = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                wq.execute(() -> {
                    spin(200_000); // past the 50 us below which no run reads a clock anyway
                    ran.countDown();
                });
            }
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            WorkqueueStats s = wq.stats();
            assertThat(s.total()).isEqualTo(n);
            assertThat(s.cpuTimeNanos()).as("wall time, charged as CPU time").isGreaterThanOrEqualTo(n * 200_000L);

            // an announced block is counted as such
            wq.queue(new Work("announced", () -> {
                try {
                    Blocking.sleep(Duration.ofMillis(2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            wq.flush();
            assertThat(wq.stats().blocksAnnounced()).isEqualTo(1);

            // an unannounced Thread.sleep is detected by thread state, and the pool goes on
            assertSleepDetected(c);

            // a CPU hog with work behind it is not flagged CPU-intensive: no CPU time to tell it by.
            // It spins until the monitor has looked for the hog's CPU time (the log line says it
            // found none), then a while longer, at most 30 s. The monitor looks at a running work
            // only while works wait behind it: first let the pool, idle again, go back to a target
            // of one (the detected sleep above may have raised it), or the work queued behind the
            // hog would be run at once by a second worker and nothing would wait.
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> EngineProbe
                    .boundPoolRunningAndTarget(c.engine(), false).stream().allMatch(rt -> rt[1] == 1));
            Workqueue hogs = c.workqueue("hogs").build();
            CountDownLatch hogRunning = new CountDownLatch(1);
            hogs.queue(new Work("hog", () -> {
                hogRunning.countDown();
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (noCpuTimeLines(log, name).isEmpty() && System.nanoTime() < giveUp) {
                    spin(100_000);
                }
                spin(30_000_000);
            }));
            assertThat(hogRunning.await(30, TimeUnit.SECONDS)).isTrue();
            hogs.queue(new Work("behind the hog", () -> { }));
            hogs.flush();
            assertThat(EngineProbe.cpuIntensiveFlagged(c.engine())).isZero();
            assertThat(hogs.stats().cpuIntensive()).isZero();
            assertThat(wq.stats().cpuIntensive()).isZero();

            // said once in the log, whatever the monitor looked at since
            Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                    .until(() -> noCpuTimeLines(log, name).size() == 1);
            System.out.println("log: " + noCpuTimeLines(log, name).get(0));
            assertThat(log.entries).noneMatch(e -> e.level() == System.Logger.Level.ERROR);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void withoutProcASleepIsStillDetectedAndNothingThrows() throws Exception {
        try (CapturedLog log = new CapturedLog();
                Cmwq c = Cmwq.builder().name("portability-no-proc").cpus(1).simulate(true, false).build()) {
            assertSleepDetected(c);
            // a short CPU-bound load runs through: CPU time is there, /proc is not
            Workqueue wq = c.workqueue("cpu").build();
            int n = 10;
            CountDownLatch ran = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                wq.execute(() -> {
                    spin(2_000_000);
                    ran.countDown();
                });
            }
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(wq.stats().total()).isEqualTo(n);
            assertThat(log.entries).as("nothing failed or was logged as an error")
                    .noneMatch(e -> e.level() == System.Logger.Level.ERROR);
            assertThat(noCpuTimeLines(log, "portability-no-proc")).isEmpty();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void withNeitherASleepIsStillDetected() throws Exception {
        try (CapturedLog log = new CapturedLog();
                Cmwq c = Cmwq.builder().name("portability-neither").cpus(1).simulate(true, true).build()) {
            assertSleepDetected(c);
            assertThat(log.entries).noneMatch(e -> e.level() == System.Logger.Level.ERROR);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void theSimulationPropertiesAreTheBuildersDefaults() throws Exception {
        // read when a builder is created, like every cmwq4j.* property
        System.setProperty("cmwq4j.simulate.noThreadCpuTime", "true");
        Cmwq.Builder b;
        try {
            b = Cmwq.builder().name("portability-property").cpus(1).cpuIntensiveThreshold(Duration.ofMillis(1));
        } finally {
            System.clearProperty("cmwq4j.simulate.noThreadCpuTime");
        }
        try (CapturedLog log = new CapturedLog(); Cmwq c = b.build()) {
            Workqueue wq = c.workqueue("q").build();
            CountDownLatch hogRunning = new CountDownLatch(1);
            wq.queue(new Work("hog", () -> {
                hogRunning.countDown();
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (noCpuTimeLines(log, "portability-property").isEmpty() && System.nanoTime() < giveUp) {
                    spin(100_000);
                }
            }));
            assertThat(hogRunning.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work("behind", () -> { }));
            wq.flush();
            assertThat(noCpuTimeLines(log, "portability-property")).hasSize(1)
                    .allMatch(m -> m.contains("simulated"));
        }
    }
}
