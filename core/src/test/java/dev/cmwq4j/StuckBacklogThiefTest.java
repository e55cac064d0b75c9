package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A work queued behind a long run in a pool of short works is stolen by an idle sibling: the
 * monitor, finding the pool stuck (a backlog, no progress), asks for a thief. Inserts into a
 * pool of short works ask for none, and its worker asks only when it starts a work, which the
 * long run keeps it from doing.
 */
class StuckBacklogThiefTest {

    @Test
    void aWorkBehindALongRunInAShortWorkPoolIsStolenBeforeThatRunEnds() throws Exception {
        try (Cmwq c = Cmwq.builder().name("stuck").cpus(2).jmx(false).simulate(true, false)
                // only a thief can help here: the long run is never CPU-intensive, and the
                // monitor never examines it as stalled
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).stallWindow(Duration.ofMinutes(10))
                .build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("short").build();
            CountDownLatch behindRan = new CountDownLatch(1);
            AtomicReference<String> behindThread = new AtomicReference<>();
            CountDownLatch longStarted = new CountDownLatch(1);
            Work behind = new Work("behind", () -> {
                behindThread.set(Thread.currentThread().getName());
                behindRan.countDown();
            });
            Work longRun = new Work("long", () -> {
                longStarted.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (behindRan.getCount() > 0 && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait(); // on the CPU: neither blocked nor (with this threshold) CPU-intensive
                }
            });
            wq.queueOn(0, new Work("starter", () -> {
                // from CPU 0's worker: both onto CPU 0's pool, not pinned; the long one first
                wq.queue(longRun);
                wq.queue(behind);
            }));
            assertThat(longStarted.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(behindRan.await(60, TimeUnit.SECONDS)).as("the work behind the long run ran").isTrue();
            assertThat(behindThread.get()).as("stolen by CPU 1's pool").contains("-cpu1-");
            wq.flush();
        }
    }
}
