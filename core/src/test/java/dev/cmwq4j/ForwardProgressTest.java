package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Forward progress (DESIGN.md section 5): when a pool cannot get a worker, because thread
 * creation fails or the thread cap is reached, memReclaim workqueues keep going through their
 * rescuers, other workqueues wait and complete once threads can be had again, and nothing is lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ForwardProgressTest {
    private static final Duration LONG = Duration.ofSeconds(20);

    private static Cmwq.Builder faulty(FaultyThreadFactory f) {
        return Cmwq.builder().threadFactory(f).createCooldown(Duration.ofMillis(20)).threadNamePrefix("fp-");
    }

    private static void awaitUninterruptibly(CountDownLatch l) {
        boolean interrupted = false;
        for (;;) {
            try {
                l.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Works that record, per id, how often they ran and on which thread. */
    private static final class Ledger {
        final AtomicIntegerArray runs;
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final CountDownLatch done;

        Ledger(int n) {
            runs = new AtomicIntegerArray(n);
            done = new CountDownLatch(n);
        }

        Work work(int id) {
            return new Work(() -> ran(id));
        }

        DelayedWork delayed(int id) {
            return new DelayedWork(() -> ran(id));
        }

        private void ran(int id) {
            threads.add(Thread.currentThread().getName());
            runs.incrementAndGet(id);
            done.countDown();
        }

        int total() {
            int sum = 0;
            for (int i = 0; i < runs.length(); i++) {
                sum += runs.get(i);
            }
            return sum;
        }

        void assertEachRanOnce() {
            for (int i = 0; i < runs.length(); i++) {
                assertThat(runs.get(i)).as("runs of work %d", i).isEqualTo(1);
            }
        }
    }

    @Test
    void whenThreadCreationFailsMemReclaimQueuesProgressAndOthersCompleteOnceThreadsReturn() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = faulty(factory).cpus(2).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            Workqueue reclaimUnbound = c.workqueue("reclaim-unbound").memReclaim().unbound().build();
            Workqueue normal = c.workqueue("normal").build();
            Workqueue normalUnbound = c.workqueue("normal-unbound").unbound().build();
            assertThat(reclaim.isMemReclaim()).isTrue();
            assertThat(normal.isMemReclaim()).isFalse();

            // K worker threads can be created, then every creation throws OutOfMemoryError. K
            // blockers pinned to CPU 0 take all of them (half announce their block, half are
            // found by the monitor); two more blockers wait behind them.
            int k = 3;
            factory.failAfter(k);
            CountDownLatch release = new CountDownLatch(1);
            try {
                whileCreationFails(factory, k, release, reclaim, reclaimUnbound, normal, normalUnbound);
            } finally {
                // a failed assertion must not leave the blockers blocked and creation failing: the
                // close would wait for them, and the timeout would hide what failed
                release.countDown();
                factory.recover();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /**
     * The body of the test above, from the blockers on: every step while thread creation fails,
     * then the recovery. The caller releases the blockers and lets creation work again whatever
     * happens here.
     */
    private static void whileCreationFails(FaultyThreadFactory factory, int k, CountDownLatch release,
            Workqueue reclaim, Workqueue reclaimUnbound, Workqueue normal, Workqueue normalUnbound)
            throws Exception {
        CountDownLatch blockersStarted = new CountDownLatch(k);
        AtomicInteger blockersRan = new AtomicInteger();
        for (int i = 0; i < k + 2; i++) {
            boolean announced = (i & 1) == 0;
            normal.queueOn(0, new Work(() -> {
                blockersRan.incrementAndGet();
                blockersStarted.countDown();
                if (announced) {
                    Blocking.run(() -> awaitUninterruptibly(release));
                } else {
                    awaitUninterruptibly(release);
                }
            }));
        }
        assertThat(blockersStarted.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(LONG).until(() -> factory.failures() > 0);
        assertThat(factory.created()).as("two rescuers, then K workers").isEqualTo(2 + k);

        // Load on every kind of queue while no thread can be had.
        int n = 40;
        Ledger reclaimed = new Ledger(2 * n + 1);
        Ledger others = new Ledger(2 * n);
        for (int i = 0; i < n; i++) {
            Work w = reclaimed.work(i);
            boolean queued = (i % 3 == 0) ? reclaim.queue(w) : reclaim.queueOn(i % 2, w);
            assertThat(queued).isTrue();
            assertThat(reclaimUnbound.queue(reclaimed.work(n + i))).isTrue();
            assertThat(i % 2 == 0 ? normal.queueOn(1, others.work(i)) : normal.queue(others.work(i))).isTrue();
            assertThat(normalUnbound.queue(others.work(n + i))).isTrue();
        }
        assertThat(reclaim.queueDelayed(reclaimed.delayed(2 * n), Duration.ofMillis(5))).isTrue();

        // memReclaim queues complete, on their rescuers.
        assertThat(reclaimed.done.await(LONG.toSeconds(), TimeUnit.SECONDS))
                .as("memReclaim works completed while thread creation fails").isTrue();
        reclaimed.assertEachRanOnce();
        assertThat(reclaimed.threads).allMatch(name -> name.startsWith("fp-rescuer-reclaim"));
        assertThat(reclaim.stats().rescued() + reclaimUnbound.stats().rescued()).isEqualTo(2L * n + 1);
        assertThat(reclaim.stats().maydays()).isPositive();
        assertThat(reclaimUnbound.stats().maydays()).isPositive();
        assertThat(normal.stats().maydays()).isZero();
        assertThat(normal.stats().rescued()).isZero();

        // The others wait: no thread can run them (all K are blocked, creation fails).
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                .until(() -> others.total() == 0 && blockersRan.get() == k);
        assertThat(factory.created()).isEqualTo(2 + k);

        // Threads can be created again: the others complete, with the blockers still blocked.
        factory.recover();
        assertThat(others.done.await(LONG.toSeconds(), TimeUnit.SECONDS))
                .as("the other queues completed once threads could be created").isTrue();
        others.assertEachRanOnce();
        assertThat(others.threads).noneMatch(name -> name.contains("rescuer"));

        release.countDown();
        for (Workqueue wq : List.of(reclaim, reclaimUnbound, normal, normalUnbound)) {
            wq.flush();
        }
        assertThat(blockersRan).hasValue(k + 2);
        reclaimed.assertEachRanOnce();
        others.assertEachRanOnce();
    }

    @Test
    void withTheThreadCapFilledByBlockedWorksMemReclaimQueuesStillCompleteAChain() throws Exception {
        int cap = 4;
        try (Cmwq c = Cmwq.builder().cpus(2).maxThreads(cap).threadNamePrefix("cap-").build()) {
            Workqueue reclaim = c.workqueue("chain").memReclaim().build();
            Workqueue reclaimUnbound = c.workqueue("chain-unbound").memReclaim().unbound().build();
            Workqueue blockers = c.workqueue("blockers").unbound().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(cap);
            for (int i = 0; i < cap + 1; i++) {
                blockers.queue(new Work(() -> {
                    started.countDown();
                    awaitUninterruptibly(release);
                }));
            }
            assertThat(started.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(c.threads()).isEqualTo(cap);

            int links = 100;
            Chain bound = new Chain(reclaim, links);
            Chain unbound = new Chain(reclaimUnbound, links);
            bound.start();
            unbound.start();
            assertThat(bound.done.await(LONG.toSeconds(), TimeUnit.SECONDS)).as("bound chain completed").isTrue();
            assertThat(unbound.done.await(LONG.toSeconds(), TimeUnit.SECONDS)).as("unbound chain completed").isTrue();
            bound.assertComplete();
            unbound.assertComplete();
            assertThat(reclaim.stats().rescued()).isEqualTo(links);
            assertThat(reclaimUnbound.stats().rescued()).isEqualTo(links);
            assertThat(c.peakThreads()).as("the cap held; rescuers do not count").isLessThanOrEqualTo(cap);

            release.countDown();
            blockers.flush();
            TestSupport.assertPoolsAtRest(c);
            assertThat(c.peakThreads()).isLessThanOrEqualTo(cap);
        }
    }

    /** Works where link i reads link i-1's result and queues link i+1 from inside its run. */
    private static final class Chain {
        final Workqueue wq;
        final long[] values;
        final Work[] links;
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicInteger broken = new AtomicInteger();
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        Chain(Workqueue wq, int n) {
            this.wq = wq;
            values = new long[n];
            links = new Work[n];
            for (int i = 0; i < n; i++) {
                int id = i;
                links[i] = new Work(() -> {
                    threads.add(Thread.currentThread().getName());
                    long previous = id == 0 ? 0 : values[id - 1]; // published by the queue below
                    if (previous != id) {
                        broken.incrementAndGet();
                    }
                    values[id] = previous + 1;
                    if (id + 1 < n) {
                        wq.queue(links[id + 1]);
                    } else {
                        done.countDown();
                    }
                });
            }
        }

        void start() {
            wq.queue(links[0]);
        }

        void assertComplete() {
            assertThat(broken).hasValue(0);
            assertThat(values[values.length - 1]).isEqualTo(values.length);
            assertThat(threads).as("ran on the rescuer").containsExactly(threadOf(wq));
        }

        private static String threadOf(Workqueue wq) {
            return EngineProbe.rescuerThread(wq.core).getName();
        }
    }

    @Test
    void theRescuerNeverRunsAWorkConcurrentlyWithItselfAndHandsItToItsRunningWorker() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).threadNamePrefix("handoff-").build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            TestSupport.Concurrency inside = new TestSupport.Concurrency();
            CountDownLatch firstStarted = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            AtomicInteger wRuns = new AtomicInteger();
            ConcurrentLinkedQueue<String> wThreads = new ConcurrentLinkedQueue<>();
            Work w = new Work(() -> {
                inside.enter();
                wThreads.add(Thread.currentThread().getName());
                if (wRuns.getAndIncrement() == 0) {
                    firstStarted.countDown();
                    Blocking.run(() -> awaitUninterruptibly(releaseFirst)); // the only worker blocks
                }
                inside.exit();
            });
            assertThat(reclaim.queue(w)).isTrue();
            assertThat(firstStarted.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(reclaim.queue(w)).as("queued again while it runs").isTrue();
            Ledger others = new Ledger(5);
            for (int i = 0; i < 5; i++) {
                reclaim.queue(others.work(i));
            }
            // The cap (one thread) is reached: the rescuer runs the others and leaves w's second
            // instance to the worker that runs the first.
            assertThat(others.done.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            String rescuer = EngineProbe.rescuerThread(reclaim.core).getName();
            assertThat(others.threads).containsExactly(rescuer);
            assertThat(wRuns).hasValue(1);
            assertThat(w.isPending()).isTrue();
            assertThat(reclaim.stats().rescued()).isEqualTo(5);

            releaseFirst.countDown();
            w.flush();
            assertThat(wRuns).hasValue(2);
            assertThat(inside.max()).isEqualTo(1);
            assertThat(wThreads).hasSize(2).doesNotContain(rescuer);
            assertThat(wThreads.stream().distinct()).hasSize(1);
            reclaim.flush();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void flushDrainAndCloseOfAMemReclaimQueueCompleteWithoutAnyWorkerAndCloseStopsTheRescuer() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = faulty(factory).cpus(2).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            factory.failAfter(0); // no worker thread at all from now on
            Ledger ledger = new Ledger(60);
            for (int i = 0; i < 20; i++) {
                reclaim.queue(ledger.work(i));
            }
            reclaim.flush();
            for (int i = 0; i < 20; i++) {
                assertThat(ledger.runs.get(i)).as("work %d before flush returned", i).isEqualTo(1);
            }
            for (int i = 20; i < 40; i++) {
                reclaim.queueOn(i % 2, ledger.work(i));
            }
            reclaim.drain();
            Thread rescuer = EngineProbe.rescuerThread(reclaim.core);
            assertThat(rescuer.isAlive()).isTrue();
            for (int i = 40; i < 60; i++) {
                reclaim.queue(ledger.work(i));
            }
            reclaim.close();
            ledger.assertEachRanOnce();
            assertThat(rescuer.isAlive()).as("close stopped and joined the rescuer").isFalse();
            assertThat(factory.created()).as("the rescuer, and no worker").isEqualTo(1);
            assertThat(factory.failures()).isPositive();
            assertThat(reclaim.stats().rescued()).isEqualTo(60);
            factory.recover();
        }
    }

    @Test
    void maydaysGoOutAfterTheInitialDelayRepeatEvery100msWhileTheNeedLastsAndStopWhenItEnds() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = faulty(factory).cpus(1).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            factory.failAfter(0);

            // 1. The first mayday: not before 10 ms of unmet need.
            AtomicLong ranAt = new AtomicLong();
            AtomicReference<String> ranOn = new AtomicReference<>();
            CountDownLatch first = new CountDownLatch(1);
            long queuedAt = System.nanoTime();
            reclaim.queue(new Work(() -> {
                ranAt.set(System.nanoTime());
                ranOn.set(Thread.currentThread().getName());
                first.countDown();
            }));
            assertThat(first.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(ranAt.get() - queuedAt).as("no mayday before 10 ms of unmet need")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(10));
            assertThat(ranOn.get()).isEqualTo("fp-rescuer-reclaim");
            assertThat(reclaim.stats().maydays()).isEqualTo(1);
            assertThat(reclaim.stats().rescued()).isEqualTo(1);

            // 2. While the rescuer is held by a long work and another waits in the worklist, the
            // pool keeps calling: one mayday every 100 ms, no faster.
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch releaseHold = new CountDownLatch(1);
            AtomicLong holdStartedAt = new AtomicLong();
            reclaim.queue(new Work(() -> {
                holdStartedAt.set(System.nanoTime());
                holding.countDown();
                awaitUninterruptibly(releaseHold);
            }));
            assertThat(holding.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            CountDownLatch behind = new CountDownLatch(1);
            reclaim.queue(new Work(behind::countDown));
            await().atMost(LONG).until(() -> reclaim.stats().maydays() >= 5);
            long heldNanos = System.nanoTime() - holdStartedAt.get();
            long maydays = reclaim.stats().maydays();
            assertThat(heldNanos).as("3 repeats take at least two 100 ms intervals")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            assertThat(maydays - 2).as("repeats in %d ms", heldNanos / 1_000_000)
                    .isLessThanOrEqualTo(heldNanos / TimeUnit.MILLISECONDS.toNanos(100) + 1);
            assertThat(behind.getCount()).as("the rescuer is busy: the next work waits").isEqualTo(1);
            releaseHold.countDown();
            assertThat(behind.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(reclaim.stats().rescued()).isEqualTo(3);

            // 3. Nothing pending: the need has ended, and so have the maydays.
            long after = reclaim.stats().maydays();
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                    .until(() -> reclaim.stats().maydays() == after);

            // 4. Threads again: works run on workers, no mayday, nothing rescued.
            factory.recover();
            Ledger later = new Ledger(20);
            for (int i = 0; i < 20; i++) {
                reclaim.queue(later.work(i));
            }
            reclaim.flush();
            later.assertEachRanOnce();
            assertThat(later.threads).noneMatch(name -> name.contains("rescuer"));
            assertThat(reclaim.stats().maydays()).isEqualTo(after);
            assertThat(reclaim.stats().rescued()).isEqualTo(3);
        }
    }

    @Test
    void badWorksOnTheRescuerDoNotStopIt() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try (Cmwq c = faulty(factory).cpus(1).failureHandler((w, t) -> failures.add(t)).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            factory.failAfter(0);
            AtomicReference<Boolean> sawInterrupt = new AtomicReference<>();
            AtomicInteger sleptFine = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            List<Work> works = new ArrayList<>();
            works.add(new Work(() -> recurse(0)));
            works.add(new Work(() -> Thread.currentThread().interrupt()));
            works.add(new Work(() -> {
                sawInterrupt.set(Thread.currentThread().isInterrupted());
                try {
                    new CountDownLatch(0).await(1, TimeUnit.MILLISECONDS);
                    Thread.sleep(0);
                    sleptFine.incrementAndGet();
                } catch (InterruptedException e) {
                    // the leaked interrupt
                }
            }));
            works.add(new Work(() -> {
                throw new IllegalStateException("bad work (expected in this test)");
            }));
            works.add(new Work(done::countDown));
            // queued from the first work's run, so that they are rescued one after the other
            Work parent = new Work(() -> works.forEach(reclaim::queue));
            reclaim.queue(parent);
            assertThat(done.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(sawInterrupt.get()).as("an interrupt leaked into the next rescued work").isFalse();
            assertThat(sleptFine).hasValue(1);
            assertThat(failures).hasSize(2);
            assertThat(failures).anyMatch(t -> t instanceof StackOverflowError);
            assertThat(failures).anyMatch(t -> t instanceof IllegalStateException);
            assertThat(EngineProbe.rescuerThread(reclaim.core).isAlive()).isTrue();
            // and it still rescues
            Ledger more = new Ledger(10);
            for (int i = 0; i < 10; i++) {
                reclaim.queue(more.work(i));
            }
            reclaim.flush();
            more.assertEachRanOnce();
            assertThat(reclaim.stats().rescued()).isEqualTo(1 + works.size() + 10);
            reclaim.close();
            factory.recover();
        }
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @Test
    void aMemReclaimQueueNeedsItsRescuerThreadAtBuildTime() {
        FaultyThreadFactory factory = new FaultyThreadFactory().failAfter(0);
        try (Cmwq c = faulty(factory).cpus(1).build()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.workqueue("no-rescuer").memReclaim().build())
                    .isInstanceOf(OutOfMemoryError.class);
            factory.recover();
            Workqueue wq = c.workqueue("fine").memReclaim().build();
            assertThat(wq.isMemReclaim()).isTrue();
            assertThat(c.engine().workqueues()).extracting(Object::toString).containsExactly("fine");
        }
    }

    /**
     * The thread cap is reached with idle workers in other pools, and a pool that has none needs
     * one: an idle worker elsewhere is retired at once to free its slot (found by the fault
     * injection stress test: a high-priority pool starved for minutes, behind the idle timeout,
     * or forever below the retirement reserve).
     */
    @Test
    void aPoolStarvedByTheThreadCapGetsASlotFromAnIdleWorkerElsewhere() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(2).jmx(false).build()) {
            Workqueue bound = c.workqueue("bound").build();
            Workqueue unbound = c.workqueue("unbound").unbound().build();
            Workqueue high = c.workqueue("high").highPriority().build();
            // one worker each in the bound and the unbound pool: the cap of 2 is reached
            bound.queue(new Work(() -> { }));
            unbound.queue(new Work(() -> { }));
            bound.flush();
            unbound.flush();
            await().atMost(Duration.ofSeconds(30)).until(() -> c.threads() == 2
                    && c.poolStats().stream().mapToInt(PoolStats::idle).sum() == 2);
            CountDownLatch ran = new CountDownLatch(1);
            high.queue(new Work(ran::countDown));
            assertThat(ran.await(30, TimeUnit.SECONDS)).as("the high-priority work ran").isTrue();
            assertThat(c.threads()).isLessThanOrEqualTo(2);
        }
    }

    /**
     * A rescuer survives a throw of its own bookkeeping (injected once as it answers a mayday,
     * before it takes a work): it answers the next mayday and the memReclaim works complete with
     * no worker thread at all. Its thread used to end on the first throw, and with it the
     * queue's forward progress.
     */
    @Test
    void aRescuerThatThrowsKeepsRescuing() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        java.util.concurrent.atomic.AtomicInteger toFail = new java.util.concurrent.atomic.AtomicInteger(1);
        try (Cmwq c = faulty(factory).cpus(1).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().build();
            factory.failAfter(0); // no worker thread at all
            EngineProbe.onRescue(() -> {
                if (toFail.getAndDecrement() > 0) {
                    throw new OutOfMemoryError("injected: the rescuer's bookkeeping");
                }
            });
            try {
                Ledger ledger = new Ledger(20);
                for (int i = 0; i < 20; i++) {
                    reclaim.queue(ledger.work(i));
                }
                assertThat(ledger.done.await(LONG.toSeconds(), TimeUnit.SECONDS))
                        .as("rescued after the rescuer's throw").isTrue();
                ledger.assertEachRanOnce();
                assertThat(toFail.get()).as("the fault was injected").isNegative();
                assertThat(EngineProbe.rescuerThread(reclaim.core).isAlive()).isTrue();
            } finally {
                EngineProbe.onRescue(null);
                factory.recover();
            }
        }
    }

    /**
     * Building memReclaim workqueues while the instance closes: every rescuer started is stopped.
     * The close's pass over the workqueues can reach one whose builder has registered it but not
     * yet started its rescuer; the close then found no rescuer to stop, and the builder started
     * one that nobody stopped (a parked thread for the JVM's life). Rounds of a builder racing
     * {@code close}; after both, no rescuer thread of the round is alive.
     */
    @Test
    void aRescuerStartedWhileTheInstanceClosesIsStoppedToo() throws Exception {
        int rounds = 150 * Integer.getInteger("cmwq4j.stress.scale", 1);
        for (int round = 0; round < rounds; round++) {
            String prefix = "race" + round + "-";
            Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadNamePrefix(prefix).build();
            CountDownLatch building = new CountDownLatch(1);
            Thread builder = new Thread(() -> {
                building.countDown();
                for (int i = 0; ; i++) {
                    try {
                        c.workqueue("reclaim" + i).memReclaim().build();
                    } catch (java.util.concurrent.RejectedExecutionException closed) {
                        return;
                    }
                }
            }, "builder-" + round);
            builder.start();
            assertThat(building.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            c.close();
            builder.join(LONG.toMillis());
            assertThat(builder.isAlive()).isFalse();
            List<String> alive = new java.util.ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith(prefix) && t.getName().contains("rescuer") && t.isAlive()) {
                    alive.add(t.getName());
                }
            }
            assertThat(alive).as("rescuers of round %d alive after close", round).isEmpty();
        }
    }
}
