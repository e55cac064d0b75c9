package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The monitor, {@code Blocking} and the workers race on each worker's state word. Under a random
 * mix of CPU work, announced and unannounced blocks, nrRunning must never go negative, every work
 * must run exactly once, and every pool's accounting must come back to rest; with announced
 * blocks counted (the default) and by the kernel's rule.
 */
class MonitorStressTest {

    @org.junit.jupiter.params.ParameterizedTest(name = "counted blocks {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void nrRunningStaysConsistentUnderRandomBlocking(boolean countedBlocks) throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int producers = 4;
        int perProducer = 1500 * scale;
        try (Cmwq c = EngineProbe.withCountedBlocks(countedBlocks, () -> Cmwq.builder().cpus(2).stallWindow(java.time.Duration.ofMillis(0))
                .cpuIntensiveThreshold(java.time.Duration.ofMillis(1)).build())) {
            Workqueue wq = c.workqueue("mix").build();
            Workqueue hi = c.workqueue("mix-hi").highPriority().build();
            AtomicInteger[] runs = new AtomicInteger[producers * perProducer];
            for (int i = 0; i < runs.length; i++) {
                runs[i] = new AtomicInteger();
            }
            CountDownLatch done = new CountDownLatch(runs.length);
            AtomicBoolean negative = new AtomicBoolean();
            AtomicBoolean targetOutOfRange = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            var engine = c.engine();
            Thread sampler = new Thread(() -> {
                while (!stop.get()) {
                    for (boolean high : new boolean[] {false, true}) {
                        for (int[] p : EngineProbe.boundPoolRunningAndTarget(engine, high)) {
                            if (p[0] < 0) {
                                negative.set(true);
                            }
                            if (p[1] < 1 || p[1] > EngineProbe.MAX_TARGET) {
                                targetOutOfRange.set(true);
                            }
                        }
                    }
                    Thread.onSpinWait();
                }
            });
            sampler.start();
            Thread[] ts = new Thread[producers];
            for (int t = 0; t < producers; t++) {
                int base = t * perProducer;
                ts[t] = new Thread(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        int id = base + i;
                        Workqueue target = (id % 5 == 0) ? hi : wq;
                        target.execute(() -> {
                            runs[id].incrementAndGet();
                            try {
                                switch (ThreadLocalRandom.current().nextInt(6)) {
                                    case 0 -> spin(50_000);
                                    case 1 -> Thread.sleep(0, 300_000); // unannounced
                                    case 2 -> Blocking.sleep(1);
                                    case 3 -> LockSupport.parkNanos(300_000); // unannounced
                                    case 4 -> spin(2_000_000); // past the 1 ms CPU-intensive threshold
                                    default -> Blocking.run(() -> LockSupport.parkNanos(100_000));
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            } finally {
                                done.countDown();
                            }
                        });
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            assertThat(done.await(120L * scale, TimeUnit.SECONDS)).isTrue();
            stop.set(true);
            sampler.join();
            assertThat(negative.get()).as("nrRunning went negative").isFalse();
            assertThat(targetOutOfRange.get()).as("concurrency target left 1..MAX_TARGET").isFalse();
            for (AtomicInteger r : runs) {
                assertThat(r.get()).isEqualTo(1);
            }
            TestSupport.assertPoolsAtRest(c);
            assertThat(EngineProbe.blocksDetected(engine) + EngineProbe.targetRaised(engine))
                    .as("the monitor took part").isPositive();
        }
    }
}
