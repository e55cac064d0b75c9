package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * While every CPU is taken ({@code CpuLoad}), no worker of another pool steals short works: a
 * backlog of them queued on CPU 0 is run by CPU 0's workers only. Long works are still stolen,
 * and when CPUs are free the idle sibling steals either. The flag is set by hand on engines whose
 * monitor does not sample /proc (simulated), so that it stays as set.
 */
class SaturationTest {

    /**
     * From a work on CPU 0, queues {@code n} unpinned works of {@code spinNanos} of CPU each (so
     * they go to CPU 0's pool, and none is long enough to be flagged CPU-intensive), and returns
     * the names of the threads that ran them.
     */
    private static Set<String> runBacklogOnCpu0(Cmwq c, int n, long spinNanos) throws InterruptedException {
        Workqueue wq = c.workqueue("backlog").build();
        Set<String> ranOn = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(n);
        wq.queueOn(0, new Work("outer", () -> {
            for (int i = 0; i < n; i++) {
                wq.queue(new Work(() -> {
                    TestSupport.spin(spinNanos);
                    ranOn.add(Thread.currentThread().getName());
                    done.countDown();
                }));
            }
        }));
        assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
        wq.flush();
        TestSupport.assertPoolsAtRest(c);
        return ranOn;
    }

    @Test
    void whileTheCpusAreSaturatedNoThiefTakesABacklogOfShortWorksFromItsPool() throws Exception {
        try (Cmwq c = Cmwq.builder().name("saturated").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), true);
            // a first backlog warms the code up: in a cold JVM the first runs of these works take
            // tens of microseconds (interpreted, classes loading), long enough to be worth a thief
            runBacklogOnCpu0(c, 5_000, 2_000L);
            // 5,000 works of 2 us: 10 ms of backlog on one worker, many times a thief's reaction time
            assertThat(runBacklogOnCpu0(c, 5_000, 2_000L)).as("threads that ran the backlog")
                    .allMatch(name -> name.contains("-cpu0-"));
        }
    }

    @Test
    void whileTheCpusAreSaturatedLongWorksAreStillStolen() throws Exception {
        try (Cmwq c = Cmwq.builder().name("saturated-long").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), true);
            assertThat(runBacklogOnCpu0(c, 500, 2_000_000L)).as("threads that ran the backlog")
                    .anyMatch(name -> name.contains("-cpu1-"));
        }
    }

    @Test
    void whenTheCpusAreNotSaturatedAnIdleSiblingStealsFromTheBacklog() throws Exception {
        try (Cmwq c = Cmwq.builder().name("free").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false);
            // a second of work on one worker: a thief is sent at the first work that finds the
            // backlog's head 100 us old, so even a busy machine gives it a turn long before the end
            assertThat(runBacklogOnCpu0(c, 500, 2_000_000L)).as("threads that ran the backlog")
                    .anyMatch(name -> name.contains("-cpu1-"));
        }
    }
}
