package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The engine's own rules, checked where they live: an engine can be built without starting a
 * thread, and a pool's lock rule fails a call path that does not hold the lock.
 */
class BoundaryTest {
    private static Engine.Config config(String prefix) {
        return new Engine.Config("boundary", 2, 16, 300_000_000_000L, 200_000, 2_000_000, 100_000,
                1_000_000_000L, 20_000, 64, 10_000_000, 250_000, 20_000_000, 30_000_000_000L, r -> { },
                Thread::new, prefix, (work, wq, error) -> { }, null, true, false, true, true);
    }

    private static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).collect(Collectors.toSet());
    }

    @Test
    void anEngineIsBuiltWithoutStartingAThreadAndStartsItsMonitorOnStart() {
        String prefix = "boundary-" + System.nanoTime() + "-";
        Engine e = new Engine(config(prefix));
        WorkqueueCore wq = e.newWorkqueue(new WorkqueueCore.Spec("q", false, false, false, false, 4,
                Inheritance.NORMAL, false, false));
        assertThat(threadNames()).noneMatch(n -> n.startsWith(prefix));
        assertThat(e.pools()).hasSize(2 * 2 + 2);
        assertThat(wq.spec().name()).isEqualTo("q");
        assertThat(e.poolSnapshots()).allMatch(p -> p.workers() == 0 && p.pending() == 0);
        e.start();
        try {
            assertThat(threadNames()).contains(prefix + "monitor");
        } finally {
            e.shutdown();
        }
    }

    @Test
    void aPoolWorkqueueReadWithoutItsPoolLockFailsTheLockRule() {
        assumeTrue(WorkerPool.class.desiredAssertionStatus(), "the lock rules are assertions: run with -ea");
        Engine e = new Engine(config("boundary-lock-"));
        WorkqueueCore wq = e.newWorkqueue(new WorkqueueCore.Spec("q", false, false, false, false, 4,
                Inheritance.NORMAL, false, false));
        PoolWorkqueue pwq = wq.pwqs[0];
        assertThatThrownBy(() -> pwq.inFlight(0)).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> pwq.pool.takeFirst()).isInstanceOf(AssertionError.class);
        pwq.pool.lock();
        try {
            assertThat(pwq.inFlight(0)).isZero();
            assertThat(pwq.pool.takeFirst()).isNull();
        } finally {
            pwq.pool.unlock();
        }
    }
}
