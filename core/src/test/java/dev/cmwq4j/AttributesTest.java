package dev.cmwq4j;

import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Workqueue attributes, drain, and the system workqueues. */
class AttributesTest {

    @Test
    void highPriorityWorksRunOnHighPriorityWorkers() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue hi = c.workqueue("hi").highPriority().build();
            Workqueue lo = c.workqueue("lo").build();
            AtomicReference<Thread> hiThread = new AtomicReference<>();
            AtomicReference<Thread> loThread = new AtomicReference<>();
            Work h = new Work(() -> hiThread.set(Thread.currentThread()));
            Work l = new Work(() -> loThread.set(Thread.currentThread()));
            hi.queueOn(0, h);
            lo.queueOn(0, l);
            h.flush();
            l.flush();
            assertThat(hiThread.get().getPriority()).isEqualTo(Thread.MAX_PRIORITY);
            assertThat(loThread.get().getPriority()).isEqualTo(Thread.NORM_PRIORITY);
            assertThat(hiThread.get()).isNotSameAs(loThread.get()); // separate pools
        }
    }

    @Test
    void cpuIntensiveWorksDoNotHoldUpTheirPool() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue heavy = c.workqueue("heavy").cpuIntensive().build();
            Workqueue normal = c.workqueue("normal").build();
            CountDownLatch heavyRunning = new CountDownLatch(1);
            CountDownLatch normalRan = new CountDownLatch(1);
            // the CPU-intensive work spins until the normal work has run: it must not count
            heavy.queue(new Work(() -> {
                heavyRunning.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (normalRan.getCount() > 0 && System.nanoTime() < deadline) {
                    spin(100_000);
                }
            }));
            assertThat(heavyRunning.await(30, TimeUnit.SECONDS)).isTrue();
            normal.queue(new Work(normalRan::countDown));
            assertThat(normalRan.await(10, TimeUnit.SECONDS)).as("normal work ran beside it").isTrue();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void aCpuBoundNormalWorkDoesHoldUpItsPool() throws Exception {
        // the counterpart of the test above: without the flag, and with the monitor's CPU-intensive
        // detection pushed out of reach, the second work waits
        try (Cmwq c = Cmwq.builder().cpus(1).cpuIntensiveThreshold(java.time.Duration.ofHours(1)).build()) {
            Workqueue wq = c.workqueue("normal").build();
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch stop = new CountDownLatch(1);
            CountDownLatch otherRan = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                running.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (stop.getCount() > 0 && System.nanoTime() < deadline) {
                    spin(100_000);
                }
            }));
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work(otherRan::countDown));
            boolean ranEarly = otherRan.await(300, TimeUnit.MILLISECONDS);
            // Native-block detection is a heuristic (no CPU between two samples, not 'R' in /proc):
            // a spinning thread held at a safepoint on a loaded machine can look blocked once (a
            // run beside three busy loops saw it), and then a second worker runs the other work.
            // What must not happen is the other work starting without such a detection.
            if (ranEarly) {
                assertThat(EngineProbe.blocksDetected(c.engine()))
                        .as("the other work ran beside the hog: only a (false) block detection may do that")
                        .isPositive();
            }
            stop.countDown();
            assertThat(otherRan.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void drainAllowsChainedQueueingFromOwnWorksOnly() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("chain").build();
            AtomicInteger links = new AtomicInteger();
            CountDownLatch draining = new CountDownLatch(1);
            Work[] link = new Work[1];
            link[0] = new Work(() -> {
                if (links.incrementAndGet() == 1) {
                    Blocking.run(() -> {
                        try {
                            draining.await();
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                    });
                }
                if (links.get() < 100) {
                    wq.queue(link[0]); // chained: allowed while draining
                }
            });
            wq.queue(link[0]);
            CompletableFuture<Void> drain = CompletableFuture.runAsync(wq::drain, r -> new Thread(r).start());
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThatThrownBy(() -> wq.queue(new Work(() -> { })))
                            .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("draining"));
            draining.countDown();
            drain.get(30, TimeUnit.SECONDS);
            assertThat(links.get()).isEqualTo(100);
            // after the drain the workqueue accepts works again
            Work after = new Work(links::incrementAndGet);
            assertThat(wq.queue(after)).isTrue();
            after.flush();
            assertThat(links.get()).isEqualTo(101);
        }
    }

    @Test
    void systemWorkqueuesRunWorksAndCannotBeClosed() throws Exception {
        Workqueue[] all = {Workqueues.system(), Workqueues.systemHighPriority(), Workqueues.systemLong(),
            Workqueues.systemUnbound()};
        CountDownLatch ran = new CountDownLatch(all.length);
        for (Workqueue wq : all) {
            wq.execute(ran::countDown);
        }
        assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Workqueues.systemUnbound().isUnbound()).isTrue();
        assertThat(Workqueues.systemHighPriority().isHighPriority()).isTrue();
        for (Workqueue wq : all) {
            assertThatThrownBy(wq::close).isInstanceOf(UnsupportedOperationException.class);
        }
        Workqueues.system().flush();
    }
}
