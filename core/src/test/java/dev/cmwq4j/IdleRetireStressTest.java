package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Idle workers retired (as the thread cap's reclaim does) while they spin before parking and
 * see work arrive: the retired worker leaves, whatever it saw, and the idle list and counts stay
 * exact. A retired worker that took the work it saw instead took itself off the idle list a
 * second time: the list lost its other workers and the idle count fell below the workers.
 */
class IdleRetireStressTest {

    @Test
    void retiringIdleWorkersWhileWorkArrivesLeavesTheIdleListExact() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        // a worker that unlinks itself from the idle list twice trips WorkerPool.removeIdle's
        // assertion (tests run with -ea) and its thread dies: collected here
        java.util.Queue<Throwable> died = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (Cmwq c = Cmwq.builder().name("retire").cpus(2).jmx(false)
                .threadFactory(TestSupport.recordingDeaths(died)).build()) {
            Workqueue wq = c.workqueue("edges").build();
            Workqueue unbound = c.workqueue("edges-unbound").unbound().build();
            LongAdder runs = new LongAdder();
            AtomicBoolean stop = new AtomicBoolean();
            LongAdder retired = new LongAdder();
            Thread retirer = new Thread(() -> {
                while (!stop.get()) {
                    retired.add(EngineProbe.retireOneIdleEverywhere(c.engine()));
                    Thread.onSpinWait();
                }
            }, "retirer");
            retirer.start();
            long queued = 0;
            try {
                for (int i = 0; i < 20_000 * scale; i++) {
                    // a work, then idle: workers go idle, spin, and see the next one arrive
                    Work w = new Work("w" + i, runs::increment);
                    assertThat((i & 1) == 0 ? wq.queue(w) : unbound.queue(w)).isTrue();
                    queued++;
                    w.flush(); // the worker goes idle and spins; the next queue comes meanwhile
                }
                wq.flush();
                unbound.flush();
            } finally {
                stop.set(true);
                retirer.join();
            }
            System.out.printf("idle retire stress: %d runs, %d workers retired%n", runs.sum(), retired.sum());
            assertThat(runs.sum()).as("every queued work ran once").isEqualTo(queued);
            assertThat(retired.sum()).as("workers retired while idle").isPositive();
            assertThat(died).as("worker threads that died").isEmpty();
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
