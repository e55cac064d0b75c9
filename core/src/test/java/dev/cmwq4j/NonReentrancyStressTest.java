package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A Work re-queued from many threads (and from itself) while it runs, through several
 * workqueues at once: it never runs concurrently with itself, and every queue() that returned
 * true is matched by a run that starts after that queue() call began.
 */
class NonReentrancyStressTest {

    @Test
    void aWorkNeverRunsConcurrentlyWithItselfAndNoQueueIsLost() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue bound = c.workqueue("bound").build();
            Workqueue unbound = c.workqueue("unbound").unbound().build();
            Workqueue[] queues = {bound, unbound};
            AtomicLong clock = new AtomicLong();
            AtomicBoolean inside = new AtomicBoolean();
            AtomicInteger overlaps = new AtomicInteger();
            int producers = 4;
            int scale = Integer.getInteger("cmwq4j.stress.scale", 1); // -Pstress: 50
            int targetRuns = 20_000 * scale;
            int perProducer = 10 * targetRuns; // capacity per producer; attempts stop at targetRuns runs
            long[] runStarts = new long[2 * targetRuns + 1000];
            AtomicInteger runs = new AtomicInteger();
            List<long[]> successes = new ArrayList<>();
            Work[] self = new Work[1];
            AtomicInteger selfQueued = new AtomicInteger();
            long[] selfStamps = new long[2 * targetRuns + 1000];
            self[0] = new Work(() -> {
                long start = clock.incrementAndGet();
                if (inside.getAndSet(true)) {
                    overlaps.incrementAndGet();
                }
                int r = runs.getAndIncrement();
                runStarts[r] = start;
                Thread.onSpinWait();
                // now and then the work re-queues itself while running
                if ((r & 7) == 0) {
                    long stamp = clock.incrementAndGet();
                    inside.set(false);
                    if (bound.queue(self[0])) {
                        selfStamps[selfQueued.getAndIncrement()] = stamp;
                    }
                    return;
                }
                inside.set(false);
            });
            Work w = self[0];
            Thread[] threads = new Thread[producers];
            for (int p = 0; p < producers; p++) {
                long[] mine = new long[perProducer];
                successes.add(mine);
                int id = p;
                threads[p] = new Thread(() -> {
                    int n = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30L * scale);
                    for (int i = 0; n < perProducer - 1 && runs.get() < targetRuns
                            && System.nanoTime() < deadline; i++) {
                        long stamp = clock.incrementAndGet();
                        boolean ok = (i & 1) == 0
                                ? queues[(i >> 1) & 1].queue(w)
                                : bound.queueOn((id + i) % c.cpus(), w);
                        if (ok) {
                            mine[n++] = stamp;
                        }
                    }
                    mine[perProducer - 1] = n; // count stored in the last slot (n < perProducer)
                });
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join(120_000L * scale);
            }
            // wait until the work is idle: flush until neither pending nor running
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> {
                w.flush();
                return !w.isPending() && !w.isRunning();
            });
            assertThat(overlaps.get()).as("concurrent runs of one work").isZero();

            List<Long> queued = new ArrayList<>();
            for (long[] mine : successes) {
                int n = (int) mine[perProducer - 1];
                for (int i = 0; i < n; i++) {
                    queued.add(mine[i]);
                }
            }
            for (int i = 0; i < selfQueued.get(); i++) {
                queued.add(selfStamps[i]);
            }
            int nRuns = runs.get();
            assertThat(nRuns).as("runs == successful queues").isEqualTo(queued.size());
            long[] q = queued.stream().mapToLong(Long::longValue).sorted().toArray();
            long[] s = Arrays.copyOf(runStarts, nRuns);
            Arrays.sort(s);
            for (int i = 0; i < nRuns; i++) {
                assertThat(s[i]).as("run %d starts after its queue", i).isGreaterThan(q[i]);
            }
            assertThat(nRuns).isGreaterThanOrEqualTo(targetRuns); // the stress really exercised re-queueing
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void requeueWhileRunningRunsAgainRightAfter() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("requeue").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            List<String> threads = java.util.Collections.synchronizedList(new ArrayList<>());
            Work w = new Work(() -> {
                threads.add(Thread.currentThread().getName());
                if (runs.incrementAndGet() == 1) {
                    started.countDown();
                    Blocking.run(() -> {
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                    });
                }
            });
            wq.queueOn(0, w);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            // queued to the other CPU while it runs on cpu 0: must not start there concurrently
            assertThat(wq.queueOn(1, w)).isTrue();
            assertThat(wq.queueOn(1, w)).as("already pending").isFalse();
            org.awaitility.Awaitility.await().during(java.time.Duration.ofMillis(200))
                    .atMost(java.time.Duration.ofSeconds(5)).until(() -> runs.get() == 1);
            release.countDown();
            w.flush();
            assertThat(runs.get()).isEqualTo(2);
            // the next run followed the current one on the same thread
            assertThat(threads).hasSize(2);
            assertThat(threads.get(1)).isEqualTo(threads.get(0));
        }
    }
}
