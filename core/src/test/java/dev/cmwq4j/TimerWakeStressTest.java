package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * No lost timer wake-up: an entry armed while the service thread naps wakes it only if it falls due
 * before the nap ends (internal {@code Timer.beginNap}/{@code napsPast}), and an entry armed while
 * it is awake is seen when it plans its next nap. Four threads arm delayed works with delays of
 * 0-3 ms, in bursts separated by pauses long enough for the instance to go idle and its service
 * thread to park untimed: every work must run, never before its delay, and within a bound that
 * only a lost wake-up breaks (a parked service thread with nothing else due would sleep forever).
 */
class TimerWakeStressTest {
    static final int THREADS = 4;
    static final int ROUNDS = 30;
    static final int PER_ROUND = 50;

    @Test
    void everyDelayedWorkFiresAndNeverEarly() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).name("timer-wake").jmx(false).build()) {
            Workqueue wq = c.workqueue("delays").build();
            AtomicLong early = new AtomicLong();
            AtomicLong worstLateNanos = new AtomicLong();
            long[] worstOfRound = new long[ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                AtomicLong roundWorst = new AtomicLong();
                CountDownLatch ran = new CountDownLatch(THREADS * PER_ROUND);
                CountDownLatch start = new CountDownLatch(1);
                Thread[] armers = new Thread[THREADS];
                for (int t = 0; t < THREADS; t++) {
                    armers[t] = new Thread(() -> {
                        TestSupport.blockOn(start);
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        for (int i = 0; i < PER_ROUND; i++) {
                            long delay = r.nextLong(3_000_000L);
                            long armedAt = System.nanoTime();
                            wq.queueDelayed(new DelayedWork(() -> {
                                long late = System.nanoTime() - armedAt - delay;
                                if (late < 0) {
                                    early.incrementAndGet();
                                }
                                worstLateNanos.accumulateAndGet(late, Math::max);
                                roundWorst.accumulateAndGet(late, Math::max);
                                ran.countDown();
                            }), Duration.ofNanos(delay));
                            if (r.nextInt(8) == 0) {
                                Thread.onSpinWait();
                            }
                        }
                    });
                    armers[t].start();
                }
                start.countDown();
                for (Thread a : armers) {
                    a.join();
                }
                // a lost wake-up leaves works unrun while the service thread sleeps: 30 s is far
                // beyond any delay here plus any descheduling of a busy machine
                assertThat(ran.await(30, TimeUnit.SECONDS)).as("round %d: every delayed work ran", round).isTrue();
                worstOfRound[round] = roundWorst.get() / 1000;
                if (round % 3 == 0) {
                    // let the instance go idle, so the next round arms while the service thread parks untimed
                    Thread.sleep(30);
                }
            }
            assertThat(early.get()).as("works that ran before their delay").isZero();
            System.out.printf("timer wake stress: %d delayed works, latest %.1f ms after its deadline%n",
                    ROUNDS * THREADS * PER_ROUND, worstLateNanos.get() / 1e6);
            System.out.println("latest per round (us): " + java.util.Arrays.toString(worstOfRound));
        }
    }
}
