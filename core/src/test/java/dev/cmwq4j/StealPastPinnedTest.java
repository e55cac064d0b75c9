package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thief looks past the pinned works at the front of a busy pool's worklist: an unpinned work
 * queued behind a {@code queueOn} work is stolen by an idle sibling, and the pinned work stays on
 * its CPU. Before, a thief looked at the head alone, so a pinned head hid every work behind it:
 * here the unpinned work waited for the long run ahead of it, which waits for it, until the long
 * run's 60 s bound.
 */
class StealPastPinnedTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anUnpinnedWorkBehindAPinnedOneIsStolenWhileThePinnedOneWaitsForItsCpu() throws Exception {
        try (Cmwq c = Cmwq.builder().name("pastpinned").cpus(2).jmx(false).simulate(true, false)
                // only a thief can help here: the long run is never CPU-intensive (and, spinning,
                // never seen blocked), and the monitor never examines it as stalled, so CPU 0's
                // pool gets no second worker to run what waits behind it
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).stallWindow(Duration.ofMinutes(10))
                .build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("works").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch allRan = new CountDownLatch(3);
            AtomicInteger longRuns = new AtomicInteger();
            AtomicInteger pinnedRuns = new AtomicInteger();
            AtomicInteger unpinnedRuns = new AtomicInteger();
            AtomicBoolean longEnded = new AtomicBoolean();
            AtomicBoolean releasedInTime = new AtomicBoolean();
            AtomicBoolean unpinnedWhileLongRan = new AtomicBoolean();
            AtomicBoolean pinnedAfterLong = new AtomicBoolean();
            AtomicReference<String> longThread = new AtomicReference<>();
            AtomicReference<String> pinnedThread = new AtomicReference<>();
            AtomicReference<String> unpinnedThread = new AtomicReference<>();
            Work longRun = new Work("long", () -> {
                longRuns.incrementAndGet();
                longThread.set(Thread.currentThread().getName());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (release.getCount() > 0 && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait(); // on the CPU: neither blocked nor (with this threshold) CPU-intensive
                }
                releasedInTime.set(release.getCount() == 0);
                longEnded.set(true);
                allRan.countDown();
            });
            Work pinned = new Work("pinned", () -> {
                pinnedRuns.incrementAndGet();
                pinnedThread.set(Thread.currentThread().getName());
                pinnedAfterLong.set(longEnded.get());
                allRan.countDown();
            });
            Work unpinned = new Work("unpinned", () -> {
                unpinnedRuns.incrementAndGet();
                unpinnedThread.set(Thread.currentThread().getName());
                unpinnedWhileLongRan.set(longRuns.get() == 1 && !longEnded.get());
                release.countDown();
                allRan.countDown();
            });
            wq.queueOn(0, new Work("starter", () -> {
                // from CPU 0's worker, all three onto CPU 0's pool, in this order: the long run
                // (pinned, so that CPU 0's worker takes it next and no thief does), the pinned
                // work, then the unpinned one, which lands here because it is queued from here
                wq.queueOn(0, longRun);
                wq.queueOn(0, pinned);
                wq.queue(unpinned);
            }));
            assertThat(allRan.await(90, TimeUnit.SECONDS)).as("all three works ran").isTrue();
            assertThat(unpinnedThread.get()).as("the unpinned work behind the pinned one was stolen by CPU 1's pool")
                    .contains("-cpu1-");
            assertThat(unpinnedWhileLongRan).as("it ran while the long run still ran").isTrue();
            assertThat(releasedInTime).as("the long run was ended by the unpinned work, not by its 60 s bound")
                    .isTrue();
            assertThat(longThread.get()).as("the long run ran on CPU 0").contains("-cpu0-");
            assertThat(pinnedThread.get()).as("the pinned work ran on its CPU").contains("-cpu0-");
            assertThat(pinnedAfterLong).as("the pinned work started after the long run ended").isTrue();
            wq.flush();
            assertThat(longRuns.get()).as("runs of the long work").isEqualTo(1);
            assertThat(pinnedRuns.get()).as("runs of the pinned work").isEqualTo(1);
            assertThat(unpinnedRuns.get()).as("runs of the unpinned work").isEqualTo(1);
            assertThat(wq.stats().total()).as("every work ran once, the starter too").isEqualTo(4);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
