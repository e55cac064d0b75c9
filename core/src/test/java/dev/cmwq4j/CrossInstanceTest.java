package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Works of one {@link Cmwq} instance queueing into, and waiting for, workqueues of another: an
 * application may build instances of different sizes (a small one for a subsystem, the shared
 * one for the rest), and a work of either may hand work to the other. A worker's CPU index
 * belongs to its own instance; to any other it is an outside thread.
 */
class CrossInstanceTest {
    private static final long LONG_SECONDS = 30;

    /**
     * From a worker of every CPU index of {@code from}, queues one work into a bound workqueue of
     * {@code to} (no CPU given, so placement picks the pool) and one through its executor view;
     * returns what each queue call answered or threw.
     */
    private static List<Object> queueFromEveryCpu(Cmwq from, Workqueue to, Work[] works, CountDownLatch ran)
            throws Exception {
        Workqueue src = from.workqueue("src").build();
        List<CompletableFuture<Object>> answers = new ArrayList<>();
        for (int cpu = 0; cpu < from.cpus(); cpu++) {
            Work w = works[cpu];
            CompletableFuture<Object> answer = new CompletableFuture<>();
            answers.add(answer);
            assertThat(src.queueOn(cpu, new Work(() -> {
                try {
                    answer.complete(to.queue(w));
                    to.asExecutorService().execute(ran::countDown);
                } catch (Throwable t) {
                    answer.complete(t);
                }
            }))).isTrue();
        }
        List<Object> out = new ArrayList<>();
        for (CompletableFuture<Object> a : answers) {
            out.add(a.get(LONG_SECONDS, TimeUnit.SECONDS));
        }
        src.close();
        return out;
    }

    private static void assertQueuedAndRanOnItsWorkers(Cmwq from, Cmwq to, String toPrefix) throws Exception {
        Workqueue target = to.workqueue("target").build();
        int n = from.cpus();
        CountDownLatch ran = new CountDownLatch(2 * n);
        ConcurrentHashMap<Integer, String> ranOn = new ConcurrentHashMap<>();
        Work[] works = new Work[n];
        for (int i = 0; i < n; i++) {
            int id = i;
            works[i] = new Work("w" + i, () -> {
                assertThat(ranOn.put(id, Thread.currentThread().getName())).as("ran twice").isNull();
                ran.countDown();
            });
        }
        List<Object> answers = queueFromEveryCpu(from, target, works, ran);
        assertThat(answers).as("each queue from a worker of the other instance").containsOnly(Boolean.TRUE);
        assertThat(ran.await(LONG_SECONDS, TimeUnit.SECONDS)).as("every work and task ran").isTrue();
        assertThat(ranOn).hasSize(n);
        assertThat(ranOn.values()).allMatch(name -> name.startsWith(toPrefix), "a worker of the target instance");
        target.flush();
        for (Work w : works) {
            assertThat(w.cancel()).as("nothing left pending").isFalse();
        }
        assertThat(target.stats().total()).isEqualTo(2L * n);
        target.close();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aWorkerOfAnInstanceWithMoreCpusQueuesIntoOneWithFewer() throws Exception {
        try (Cmwq big = Cmwq.builder().name("big").cpus(4).threadNamePrefix("big-").build();
                Cmwq small = Cmwq.builder().name("small").cpus(2).threadNamePrefix("small-").build()) {
            // CPU indexes 2 and 3 exist only in big: placement threw ArrayIndexOutOfBoundsException
            // there and left the work pending for good
            assertQueuedAndRanOnItsWorkers(big, small, "small-");
        }
    }

    @Test
    void aWorkerOfAnInstanceWithFewerCpusQueuesIntoOneWithMore() throws Exception {
        try (Cmwq big = Cmwq.builder().name("big").cpus(4).threadNamePrefix("big-").build();
                Cmwq small = Cmwq.builder().name("small").cpus(2).threadNamePrefix("small-").build()) {
            assertQueuedAndRanOnItsWorkers(small, big, "big-");
        }
    }

    @Test
    void aWorkWaitsForAWorkOfAnotherInstanceAndBothComplete() throws Exception {
        try (Cmwq a = Cmwq.builder().name("a").cpus(1).build();
                Cmwq b = Cmwq.builder().name("b").cpus(1).build()) {
            Workqueue wqA = a.workqueue("a").build();
            Workqueue wqB = b.workqueue("b").build();
            CountDownLatch bRunning = new CountDownLatch(1);
            CountDownLatch releaseB = new CountDownLatch(1);
            CountDownLatch awaitedRan = new CountDownLatch(1);
            // B's only worker is busy, so the awaited work stays pending while A's work waits on it
            wqB.queue(new Work(() -> {
                bRunning.countDown();
                awaitQuietly(releaseB);
            }));
            assertThat(bRunning.await(LONG_SECONDS, TimeUnit.SECONDS)).isTrue();
            Work awaited = new Work("awaited", awaitedRan::countDown);
            assertThat(wqB.queue(awaited)).isTrue();
            CompletableFuture<Void> waiterDone = new CompletableFuture<>();
            wqA.queue(new Work(() -> {
                awaited.flush();
                waiterDone.complete(null);
            }));
            // it completes either way: helped on A's worker, or run by B's once released
            releaseB.countDown();
            waiterDone.get(LONG_SECONDS, TimeUnit.SECONDS);
            assertThat(awaitedRan.getCount()).isZero();
            wqA.flush(); // statistics are exact after a flush (the waiter's run is recorded as it ends)
            wqB.flush();
            assertThat(wqB.stats().total()).isEqualTo(2);
            assertThat(wqA.stats().total()).isEqualTo(1);
            wqA.close();
            wqB.close();
            TestSupport.assertPoolsAtRest(a);
            TestSupport.assertPoolsAtRest(b);
        }
    }

    @Test
    void delayedWorksQueuedFromAnotherInstanceFireThere() throws Exception {
        try (Cmwq big = Cmwq.builder().name("big").cpus(4).build();
                Cmwq small = Cmwq.builder().name("small").cpus(2).build()) {
            Workqueue src = big.workqueue("src").build();
            Workqueue target = small.workqueue("target").build();
            CountDownLatch fired = new CountDownLatch(1);
            DelayedWork d = new DelayedWork(fired::countDown);
            CompletableFuture<Object> answer = new CompletableFuture<>();
            src.queueOn(3, new Work(() -> {
                try {
                    answer.complete(target.queueDelayed(d, Duration.ofMillis(1)));
                } catch (Throwable t) {
                    answer.complete(t);
                }
            }));
            assertThat(answer.get(LONG_SECONDS, TimeUnit.SECONDS)).isEqualTo(Boolean.TRUE);
            assertThat(fired.await(LONG_SECONDS, TimeUnit.SECONDS)).isTrue();
            src.close();
            target.close();
        }
    }
}
