package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A waiter lends its {@code maxActive} slot to the work it waits for when both are works of one
 * workqueue, also when a steal put them in different pool workqueues: a stolen work is accounted
 * to its victim's pwq, and the works it queues go to its thief's pool. Before, only a waiter of
 * the awaited work's own pwq lent, and a stolen waiter whose work sat inactive behind the
 * thief's pwq's full slots waited for good (a 1,000-deep {@code supplyAsync} chain on the system
 * workqueue hung once in a few hundred runs on a loaded machine).
 */
class StolenWaiterLendTest {

    @Test
    void aStolenWorkWaitingForAnInactiveWorkOfItsThiefsPwqLendsItsSlot() throws Exception {
        try (Cmwq c = Cmwq.builder().name("lend").cpus(2).jmx(false).simulate(true, false)
                // the long run below is never CPU-intensive (and, spinning, never seen blocked):
                // only a thief runs the work queued behind it; a stall window short enough that
                // the second slot holder's thread is created without a long wait
                .cpuIntensiveThreshold(Duration.ofMinutes(10)).stallWindow(Duration.ofMillis(50))
                .build()) {
            EngineProbe.setCpusSaturated(c.engine(), false); // stays as set: the monitor samples no /proc
            Workqueue wq = c.workqueue("slots").maxActive(2).build();
            CountDownLatch waiterDone = new CountDownLatch(1);
            // CPU 1's two slots, held until the waiter is done (bounded: the engine unwinds if not)
            CountDownLatch holdersStarted = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                wq.queueOn(1, new Work("holder" + i, () -> {
                    holdersStarted.countDown();
                    Blocking.run(() -> {
                        try {
                            waiterDone.await(60, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }));
            }
            assertThat(holdersStarted.await(60, TimeUnit.SECONDS)).isTrue();
            AtomicReference<String> waiterThread = new AtomicReference<>();
            AtomicReference<String> awaitedThread = new AtomicReference<>();
            Work awaited = new Work("awaited", () -> awaitedThread.set(Thread.currentThread().getName()));
            Work waiter = new Work("waiter", () -> {
                waiterThread.set(Thread.currentThread().getName());
                wq.queue(awaited); // from the thief: onto CPU 1's pool, inactive behind the holders
                awaited.flush(); // waits for it: lends this work's slot (of CPU 0's pwq)
                waiterDone.countDown();
            });
            Work longRun = new Work("long", () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (waiterDone.getCount() > 0 && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                }
            });
            wq.queueOn(0, new Work("starter", () -> {
                // from CPU 0's worker: both onto CPU 0's pool, not pinned; the waiter behind the long run
                wq.queue(longRun);
                wq.queue(waiter);
            }));
            assertThat(waiterDone.await(30, TimeUnit.SECONDS))
                    .as("the waiter ended (awaited ran on %s)", awaitedThread.get()).isTrue();
            assertThat(waiterThread.get()).as("the waiter was stolen by CPU 1's pool").contains("-cpu1-");
            assertThat(awaitedThread.get()).as("the awaited work ran").isNotNull();
            wq.flush();
            assertThat(wq.stats().total()).as("every work ran once").isEqualTo(6);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
