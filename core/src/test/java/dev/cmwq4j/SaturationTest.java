package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * While every CPU is taken ({@code CpuLoad}), no worker of another pool steals: a backlog queued
 * on CPU 0 is run by CPU 0's workers only; when CPUs are free, the idle sibling steals from it.
 * The flag is set by hand on engines whose monitor does not sample /proc (simulated), so that it
 * stays as set.
 */
class SaturationTest {

    /**
     * From a work on CPU 0, queues {@code n} unpinned works of 2 ms of CPU each (so they go to
     * CPU 0's pool, and none is long enough to be flagged CPU-intensive), and returns the names
     * of the threads that ran them.
     */
    private static Set<String> runBacklogOnCpu0(Cmwq c, int n) throws InterruptedException {
        Workqueue wq = c.workqueue("backlog").build();
        Set<String> ranOn = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(n);
        wq.queueOn(0, new Work("outer", () -> {
            for (int i = 0; i < n; i++) {
                wq.queue(new Work(() -> {
                    TestSupport.spin(2_000_000L);
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
    void whileTheCpusAreSaturatedNoThiefTakesABacklogFromItsPool() throws Exception {
        try (Cmwq c = Cmwq.builder().name("saturated").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), true);
            assertThat(runBacklogOnCpu0(c, 100)).as("threads that ran the backlog")
                    .allMatch(name -> name.contains("-cpu0-"));
        }
    }

    @Test
    void whenTheCpusAreNotSaturatedAnIdleSiblingStealsFromTheBacklog() throws Exception {
        try (Cmwq c = Cmwq.builder().name("free").cpus(2).jmx(false).simulate(true, false).build()) {
            EngineProbe.setCpusSaturated(c.engine(), false);
            // a second of work on one worker: a thief is sent at the first work that finds the
            // backlog's head 100 us old, so even a busy machine gives it a turn long before the end
            assertThat(runBacklogOnCpu0(c, 500)).as("threads that ran the backlog")
                    .anyMatch(name -> name.contains("-cpu1-"));
        }
    }
}
