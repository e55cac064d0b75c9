package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** maxActive and ordered under contention from several queueing threads. */
class LimitsTest {
    private static final int THREADS = 4;

    /** Starts THREADS threads at once, each running body(threadIndex); waits for them. */
    private static void contend(ThrowingIntConsumer body) throws Exception {
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Thread> ts = new ArrayList<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    body.accept(id);
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join(60_000);
        }
        assertThat(errors).isEmpty();
    }

    interface ThrowingIntConsumer {
        void accept(int i) throws Exception;
    }

    /** A work that blocks (announced) so that concurrency management would add workers. */
    private static Work blocker(TestSupport.Concurrency conc, CountDownLatch done) {
        return new Work(() -> {
            conc.enter();
            try {
                Blocking.sleep(1);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            } finally {
                conc.exit();
                done.countDown();
            }
        });
    }

    @Test
    void maxActiveOfAnUnboundQueueHoldsUnderContention() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("unbound3").unbound().maxActive(3).build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            CountDownLatch done = new CountDownLatch(THREADS * 100);
            contend(t -> {
                for (int i = 0; i < 100; i++) {
                    wq.queue(blocker(conc, done));
                }
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(conc.max()).as("works active at once").isEqualTo(3);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void maxActiveOfABoundQueueHoldsPerCpuUnderContention() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("bound2").maxActive(2).build();
            TestSupport.Concurrency[] perCpu = {new TestSupport.Concurrency(), new TestSupport.Concurrency()};
            CountDownLatch done = new CountDownLatch(THREADS * 100);
            contend(t -> {
                int cpu = t % 2;
                for (int i = 0; i < 100; i++) {
                    wq.queueOn(cpu, blocker(perCpu[cpu], done));
                }
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(perCpu[0].max()).as("active on cpu 0").isEqualTo(2);
            assertThat(perCpu[1].max()).as("active on cpu 1").isEqualTo(2);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void raisingMaxActiveStartsWaitingWorks() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("raise").unbound().maxActive(1).build();
            CountDownLatch allIn = new CountDownLatch(3);
            CountDownLatch done = new CountDownLatch(3);
            for (int i = 0; i < 3; i++) {
                wq.queue(new Work(() -> {
                    allIn.countDown();
                    try {
                        allIn.await(); // needs all three active at once
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                    done.countDown();
                }));
            }
            assertThat(allIn.await(200, TimeUnit.MILLISECONDS)).as("only one may start").isFalse();
            assertThat(allIn.getCount()).isEqualTo(2);
            wq.setMaxActive(3);
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void orderedRunsOneAtATimeInStrictQueueingOrder() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("ordered").ordered().build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            List<Integer> ran = new ArrayList<>(); // guarded by being ordered; checked by conc
            Object queueLock = new Object();
            AtomicInteger next = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(THREADS * 250);
            contend(t -> {
                for (int i = 0; i < 250; i++) {
                    // The lock fixes the queueing order so that it can be compared; the queue
                    // calls still contend with the workers popping and finishing works.
                    synchronized (queueLock) {
                        int seq = next.getAndIncrement();
                        wq.queue(new Work(() -> {
                            conc.enter();
                            ran.add(seq);
                            Thread.onSpinWait();
                            conc.exit();
                            done.countDown();
                        }));
                    }
                }
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(conc.max()).isEqualTo(1);
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < THREADS * 250; i++) {
                expected.add(i);
            }
            assertThat(ran).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void orderedKeepsEachProducersOrderWithoutOuterLocking() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue wq = c.workqueue("ordered2").ordered().build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            int[] lastSeen = {-1, -1, -1, -1};
            AtomicInteger violations = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(THREADS * 500);
            contend(t -> {
                for (int i = 0; i < 500; i++) {
                    int seq = i;
                    wq.queue(new Work(() -> {
                        conc.enter();
                        if (lastSeen[t] != seq - 1) {
                            violations.incrementAndGet();
                        }
                        lastSeen[t] = seq;
                        conc.exit();
                        done.countDown();
                    }));
                }
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(conc.max()).isEqualTo(1);
            assertThat(violations.get()).as("per-producer order violations").isZero();
            assertThat(lastSeen).containsExactly(499, 499, 499, 499);
        }
    }
}
