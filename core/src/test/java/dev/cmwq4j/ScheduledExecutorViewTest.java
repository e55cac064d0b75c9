package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@link ScheduledExecutorService} contract of {@link Workqueue#asScheduledExecutorService()},
 * as {@code ScheduledThreadPoolExecutor} keeps it with its default policies. Behaviour only: what
 * ran, in which order, how many at once, what was returned; the only time checks are lower bounds
 * (a timer never fires early), which a busy machine cannot break.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScheduledExecutorViewTest {
    private static final String PREFIX = "sesview-";
    private static final long MS = 1_000_000L;

    private static Cmwq newCmwq(int cpus) {
        return Cmwq.builder().cpus(cpus).threadNamePrefix(PREFIX).build();
    }

    private static boolean awaitLatch(CountDownLatch latch) throws InterruptedException {
        return latch.await(20, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------------------------------
    // schedule

    @Test
    void scheduleRunsARunnableAndACallableOnAWorkerAfterTheirDelay() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("schedule").build().asScheduledExecutorService();
            AtomicReference<String> thread = new AtomicReference<>();
            AtomicLong ranAt = new AtomicLong();
            long before = System.nanoTime();
            ScheduledFuture<?> r = ses.schedule(() -> {
                ranAt.set(System.nanoTime());
                thread.set(Thread.currentThread().getName());
            }, 30, TimeUnit.MILLISECONDS);
            ScheduledFuture<String> callable = ses.schedule(() -> "value", 20, TimeUnit.MILLISECONDS);

            assertThat(r.get(20, TimeUnit.SECONDS)).isNull();
            assertThat(callable.get(20, TimeUnit.SECONDS)).isEqualTo("value");
            assertThat(r.isDone()).isTrue();
            assertThat(r.isCancelled()).isFalse();
            assertThat(((RunnableScheduledFuture<?>) r).isPeriodic()).isFalse();
            assertThat(thread.get()).startsWith(PREFIX);
            assertThat(ranAt.get() - before).as("never early").isGreaterThanOrEqualTo(30 * MS);
            assertThat(callable.getDelay(TimeUnit.NANOSECONDS)).as("due in the past").isLessThanOrEqualTo(0);
        }
    }

    @Test
    void delayedTasksRunInTheOrderOfTheirDueTimesWhichCompareToFollows() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            // ordered: the runs start in the order the timer fires them, whatever the machine's load
            ScheduledExecutorService ses = c.workqueue("order").ordered().build().asScheduledExecutorService();
            List<Integer> delays = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                delays.add(10 + 15 * i);
            }
            Collections.shuffle(delays, new Random(42));
            ConcurrentLinkedQueue<ScheduledFuture<?>> ran = new ConcurrentLinkedQueue<>();
            List<ScheduledFuture<?>> futures = new ArrayList<>();
            CountDownLatch all = new CountDownLatch(delays.size());
            for (int d : delays) {
                AtomicReference<ScheduledFuture<?>> self = new AtomicReference<>();
                CountDownLatch known = new CountDownLatch(1);
                ScheduledFuture<?> f = ses.schedule(() -> {
                    TestSupport.awaitQuietly(known, 30);
                    ran.add(self.get());
                    all.countDown();
                }, d, TimeUnit.MILLISECONDS);
                self.set(f);
                known.countDown();
                futures.add(f);
            }
            // compareTo orders by due time, getDelay agrees with it
            List<ScheduledFuture<?>> byDueTime = new ArrayList<>(futures);
            Collections.sort(byDueTime);
            for (int i = 1; i < byDueTime.size(); i++) {
                ScheduledFuture<?> a = byDueTime.get(i - 1);
                ScheduledFuture<?> b = byDueTime.get(i);
                assertThat(a.compareTo(b)).isNegative();
                assertThat(b.compareTo(a)).isPositive();
            }
            assertThat(awaitLatch(all)).isTrue();
            assertThat(new ArrayList<>(ran)).containsExactlyElementsOf(byDueTime);
        }
    }

    @Test
    void getDelayDecreasesTurnsNegativeOnceDueAndCompareToOrdersByIt() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("delay").build().asScheduledExecutorService();
            ScheduledFuture<?> hour = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            ScheduledFuture<?> twoHours = ses.schedule(() -> { }, 2, TimeUnit.HOURS);
            ScheduledFuture<?> minute = ses.schedule(() -> { }, 1, TimeUnit.MINUTES);
            long d1 = hour.getDelay(TimeUnit.NANOSECONDS);
            assertThat(d1).isPositive().isLessThanOrEqualTo(TimeUnit.HOURS.toNanos(1));
            assertThat(hour.getDelay(TimeUnit.MINUTES)).isBetween(58L, 60L);
            await().atMost(Duration.ofSeconds(10)).until(() -> hour.getDelay(TimeUnit.NANOSECONDS) < d1);

            List<ScheduledFuture<?>> sorted = new ArrayList<>(List.of(twoHours, hour, minute));
            Collections.sort(sorted);
            assertThat(sorted).containsExactly(minute, hour, twoHours);
            assertThat(hour.compareTo(hour)).isZero();
            Delayed foreign = new Delayed() {
                @Override
                public long getDelay(TimeUnit unit) {
                    return unit.convert(90, TimeUnit.MINUTES);
                }

                @Override
                public int compareTo(Delayed o) {
                    return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
                }
            };
            assertThat(hour.compareTo(foreign)).isNegative();
            assertThat(twoHours.compareTo(foreign)).isPositive();

            ScheduledFuture<?> now = ses.schedule(() -> { }, 0, TimeUnit.MILLISECONDS);
            now.get(20, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> now.getDelay(TimeUnit.NANOSECONDS) < 0);
            assertThat(now.compareTo(minute)).isNegative();

            for (ScheduledFuture<?> f : List.of(hour, twoHours, minute)) {
                assertThat(f.cancel(false)).isTrue();
            }
        }
    }

    @Test
    void aNegativeOrZeroDelayRunsNow() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("negative").build().asScheduledExecutorService();
            ScheduledFuture<String> f = ses.schedule(() -> "now", -5, TimeUnit.SECONDS);
            assertThat(f.getDelay(TimeUnit.NANOSECONDS)).isLessThanOrEqualTo(0);
            assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo("now");
            assertThat(ses.schedule(() -> "zero", 0, TimeUnit.DAYS).get(20, TimeUnit.SECONDS)).isEqualTo("zero");
            assertThat(ses.schedule(() -> "min", Long.MIN_VALUE, TimeUnit.NANOSECONDS).get(20, TimeUnit.SECONDS))
                    .isEqualTo("min");

            CountDownLatch twice = new CountDownLatch(2);
            ScheduledFuture<?> p = ses.scheduleAtFixedRate(twice::countDown, -1, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(twice)).isTrue();
            p.cancel(false);
        }
    }

    @Test
    void hugeDelaysAreAcceptedWithoutOverflowAndCanBeCancelled() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("huge").build().asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            List<ScheduledFuture<?>> huge = List.of(
                    ses.schedule(runs::incrementAndGet, Long.MAX_VALUE, TimeUnit.NANOSECONDS),
                    ses.schedule(runs::incrementAndGet, Long.MAX_VALUE, TimeUnit.DAYS),
                    ses.schedule(() -> runs.incrementAndGet(), Long.MAX_VALUE, TimeUnit.MILLISECONDS),
                    ses.scheduleAtFixedRate(runs::incrementAndGet, Long.MAX_VALUE, Long.MAX_VALUE, TimeUnit.DAYS),
                    ses.scheduleWithFixedDelay(runs::incrementAndGet, Long.MAX_VALUE, Long.MAX_VALUE,
                            TimeUnit.NANOSECONDS));
            try {
                for (ScheduledFuture<?> f : huge) {
                    // saturated at about 73 years (Workqueue.MAX_DELAY_NANOS), not overflowed into the past
                    assertThat(f.getDelay(TimeUnit.DAYS)).as("far in the future").isGreaterThan(70 * 365L);
                    assertThat(f.isDone()).isFalse();
                }
                // the timer still fires the short ones: the huge deadlines sort after them
                assertThat(ses.schedule(() -> "soon", 10, TimeUnit.MILLISECONDS).get(20, TimeUnit.SECONDS))
                        .isEqualTo("soon");

                for (ScheduledFuture<?> f : huge) {
                    assertThat(f.cancel(false)).isTrue();
                    assertThat(f.isCancelled()).isTrue();
                    assertThat(f.isDone()).isTrue();
                    assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
                }
                assertThat(runs).hasValue(0);
                ses.shutdown();
                assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).as("cancelled tasks hold nothing up").isTrue();
            } finally {
                ses.shutdownNow(); // else a failed check leaves them armed, and the close waits 73 years
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // periodic

    @Test
    void fixedRateRunsRepeatedlyNeverEarlyAndNeverOverlapping() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("rate").build().asScheduledExecutorService();
            TestSupport.Concurrency overlap = new TestSupport.Concurrency();
            List<Long> starts = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch runs = new CountDownLatch(20);
            long period = 2 * MS;
            long before = System.nanoTime();
            AtomicInteger n = new AtomicInteger();
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                overlap.enter();
                try {
                    starts.add(System.nanoTime());
                    if (n.incrementAndGet() == 3) {
                        // a run far longer than the period: the next ones start late, back to back
                        TestSupport.spin(20 * MS);
                    }
                } finally {
                    overlap.exit();
                    runs.countDown();
                }
            }, 5, period, TimeUnit.NANOSECONDS);
            assertThat(awaitLatch(runs)).isTrue();
            assertThat(f.cancel(false)).isTrue();
            assertThat(((RunnableScheduledFuture<?>) f).isPeriodic()).isTrue();
            assertThat(overlap.max()).as("runs of one task never overlap").isEqualTo(1);
            List<Long> s;
            synchronized (starts) {
                s = new ArrayList<>(starts);
            }
            for (int k = 0; k < s.size(); k++) {
                // run k is due at t0 + k * period, t0 >= before + 5 ns: never earlier (no drift
                // backwards either: due times are computed from the first one, not from the runs)
                assertThat(s.get(k) - before).as("run %d never early", k).isGreaterThanOrEqualTo(5 + k * period);
            }
        }
    }

    @Test
    void fixedDelayWaitsTheDelayAfterEachRunEnds() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("delay-periodic").build().asScheduledExecutorService();
            TestSupport.Concurrency overlap = new TestSupport.Concurrency();
            List<long[]> spans = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch runs = new CountDownLatch(10);
            long delay = 3 * MS;
            ScheduledFuture<?> f = ses.scheduleWithFixedDelay(() -> {
                overlap.enter();
                long start = System.nanoTime();
                TestSupport.spin(MS);
                spans.add(new long[] {start, System.nanoTime()});
                overlap.exit();
                runs.countDown();
            }, 0, delay, TimeUnit.NANOSECONDS);
            assertThat(awaitLatch(runs)).isTrue();
            f.cancel(false);
            assertThat(overlap.max()).isEqualTo(1);
            List<long[]> s;
            synchronized (spans) {
                s = new ArrayList<>(spans);
            }
            for (int k = 1; k < s.size(); k++) {
                assertThat(s.get(k)[0] - s.get(k - 1)[1]).as("gap before run %d", k).isGreaterThanOrEqualTo(delay);
            }
        }
    }

    @Test
    void aSlowFixedRateTaskNeverPilesUpRuns() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("pile").build().asScheduledExecutorService();
            TestSupport.Concurrency overlap = new TestSupport.Concurrency();
            CountDownLatch firstStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                overlap.enter();
                if (runs.incrementAndGet() == 1) {
                    firstStarted.countDown();
                    TestSupport.blockOn(release); // dozens of periods pass meanwhile
                }
                overlap.exit();
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(firstStarted)).isTrue();
            // many periods pass during the first run: no other run of the task starts meanwhile
            await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 1);
            release.countDown();
            await().atMost(Duration.ofSeconds(20)).until(() -> runs.get() >= 10);
            f.cancel(false);
            assertThat(overlap.max()).isEqualTo(1);
        }
    }

    @Test
    void periodicArgumentsAreCheckedAsTheJdkDoes() {
        try (Cmwq c = newCmwq(1)) {
            ScheduledExecutorService ses = c.workqueue("args").build().asScheduledExecutorService();
            Runnable r = () -> { };
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(r, 0, 0, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(r, 0, -1, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ses.scheduleWithFixedDelay(r, 0, 0, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ses.scheduleWithFixedDelay(r, 0, Long.MIN_VALUE, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class);

            assertThatThrownBy(() -> ses.schedule((Runnable) null, 1, TimeUnit.SECONDS))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.schedule(r, 1, null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.schedule((java.util.concurrent.Callable<?>) null, 1, TimeUnit.SECONDS))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.schedule(() -> 1, 1, null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(null, 0, 1, TimeUnit.SECONDS))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(r, 0, 1, null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.scheduleWithFixedDelay(null, 0, 1, TimeUnit.SECONDS))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.scheduleWithFixedDelay(r, 0, 1, null)).isInstanceOf(NullPointerException.class);
            // null before the period check, as the JDK
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(null, 0, 0, TimeUnit.SECONDS))
                    .isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.execute(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> ses.awaitTermination(1, null)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void aPeriodicTaskThatThrowsStopsAndItsGetThrowsTheCause() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("throws").build().asScheduledExecutorService();
            IllegalStateException boom = new IllegalStateException("third run");
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> rate = ses.scheduleAtFixedRate(() -> {
                if (runs.incrementAndGet() == 3) {
                    throw boom;
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> rate.get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isSameAs(boom);
            assertThat(rate.isDone()).isTrue();
            assertThat(rate.isCancelled()).isFalse();

            AtomicInteger errorRuns = new AtomicInteger();
            ScheduledFuture<?> delay = ses.scheduleWithFixedDelay(() -> {
                errorRuns.incrementAndGet();
                throw new StackOverflowError("an Error too");
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> delay.get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(StackOverflowError.class);

            // no further runs, and the engine goes on
            assertThat(ses.submit(() -> 7).get(20, TimeUnit.SECONDS)).isEqualTo(7);
            ses.shutdown();
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            assertThat(runs).hasValue(3);
            assertThat(errorRuns).hasValue(1);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    // ---------------------------------------------------------------------------------------
    // cancel

    @Test
    void cancelBeforeTheRunTakesTheTaskOffTheTimer() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("cancel-before").build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> once = ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS);
            ScheduledFuture<?> rate = ses.scheduleAtFixedRate(runs::incrementAndGet, 1, 1, TimeUnit.HOURS);
            assertThat(once.cancel(false)).isTrue();
            assertThat(rate.cancel(true)).isTrue();
            assertThat(once.cancel(false)).as("only once").isFalse();
            for (ScheduledFuture<?> f : List.of(once, rate)) {
                assertThat(f.isCancelled()).isTrue();
                assertThat(f.isDone()).isTrue();
                assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
            }
            // off the timer at once: the workqueue drains at once, and the view terminates at once
            wq.drain();
            ses.shutdown();
            assertThat(ses.isTerminated()).isTrue();
            assertThat(runs).hasValue(0);
        }
    }

    @Test
    void cancelWithoutInterruptLetsTheRunFinishAndStopsTheNextOnes() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("cancel-false").build().asScheduledExecutorService();
            CountDownLatch secondRun = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            AtomicBoolean interrupted = new AtomicBoolean();
            AtomicBoolean finished = new AtomicBoolean();
            ScheduledFuture<?> f = ses.scheduleWithFixedDelay(() -> {
                if (runs.incrementAndGet() == 2) {
                    secondRun.countDown();
                    TestSupport.blockOn(release);
                    interrupted.set(Thread.currentThread().isInterrupted());
                    finished.set(true);
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(secondRun)).isTrue();
            assertThat(f.cancel(false)).isTrue();
            assertThat(f.isCancelled()).isTrue();
            release.countDown();
            ses.shutdown();
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            assertThat(finished).as("the run in progress finished").isTrue();
            assertThat(interrupted).isFalse();
            assertThat(runs).as("no run after the one in progress").hasValue(2);
        }
    }

    @Test
    void cancelWithInterruptInterruptsThatRunOnly() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("cancel-true").build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                runs.incrementAndGet();
                started.countDown();
                try {
                    never.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    interrupted.set(true);
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(started)).isTrue();
            assertThat(f.cancel(true)).isTrue();
            await().atMost(Duration.ofSeconds(20)).untilTrue(interrupted);
            // the interrupt stayed with that run: the next tasks on the one CPU do not see it
            for (int i = 0; i < 20; i++) {
                assertThat(ses.schedule(() -> Thread.currentThread().isInterrupted(), 0, TimeUnit.MILLISECONDS)
                        .get(20, TimeUnit.SECONDS)).isFalse();
            }
            wq.flush();
            assertThat(runs).hasValue(1);
            assertThat(f.isCancelled()).isTrue();
        }
    }

    // ---------------------------------------------------------------------------------------
    // shutdown, shutdownNow, termination

    @Test
    void shutdownCancelsPeriodicTasksAndStillRunsDelayedOnesBeforeTerminating() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("shutdown").build().asScheduledExecutorService();
            AtomicInteger periodicRuns = new AtomicInteger();
            CountDownLatch periodicRan = new CountDownLatch(2);
            ScheduledFuture<?> rate = ses.scheduleAtFixedRate(() -> {
                periodicRuns.incrementAndGet();
                periodicRan.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
            ScheduledFuture<?> armedRate = ses.scheduleWithFixedDelay(periodicRuns::incrementAndGet, 1, 1, TimeUnit.HOURS);
            assertThat(awaitLatch(periodicRan)).isTrue();

            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean delayedRan = new AtomicBoolean();
            ScheduledFuture<String> delayed = ses.schedule(() -> {
                TestSupport.blockOn(release);
                delayedRan.set(true);
                return "ran after shutdown";
            }, 20, TimeUnit.MILLISECONDS);

            ses.shutdown();
            assertThat(ses.isShutdown()).isTrue();
            assertThat(armedRate.isCancelled()).as("an armed periodic task is cancelled at once").isTrue();
            await().atMost(Duration.ofSeconds(20)).until(rate::isCancelled);
            int stoppedAt = periodicRuns.get();
            assertThat(ses.isTerminated()).isFalse();
            assertThat(ses.awaitTermination(50, TimeUnit.MILLISECONDS)).as("the delayed task holds it").isFalse();
            for (Runnable r : List.<Runnable>of(() -> ses.schedule(() -> { }, 1, TimeUnit.SECONDS),
                    () -> ses.schedule(() -> 1, 0, TimeUnit.SECONDS),
                    () -> ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.SECONDS),
                    () -> ses.scheduleWithFixedDelay(() -> { }, 1, 1, TimeUnit.SECONDS),
                    () -> ses.execute(() -> { }), () -> ses.submit(() -> 1))) {
                assertThatThrownBy(r::run).isInstanceOf(RejectedExecutionException.class);
            }

            release.countDown();
            assertThat(delayed.get(20, TimeUnit.SECONDS)).isEqualTo("ran after shutdown");
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            assertThat(ses.isTerminated()).isTrue();
            assertThat(delayedRan).isTrue();
            assertThat(periodicRuns.get()).as("no periodic run after shutdown").isEqualTo(stoppedAt);
            assertThatThrownBy(rate::get).isInstanceOf(CancellationException.class);
        }
    }

    /**
     * A periodic task whose run is queued behind {@code maxActive} when the view shuts down is
     * cancelled by {@code shutdown()} itself, as {@code ScheduledThreadPoolExecutor} cancels the
     * periodic tasks of its queue: before, its future stayed uncancelled, and the view
     * unterminated, until a worker reached the queued run and ended it.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shutdownCancelsAPeriodicTaskQueuedBehindMaxActiveAtOnce() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("shutdown-queued").maxActive(1).build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            CountDownLatch blockerStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wq.queue(new Work(() -> { // not a task of the view: it holds the slot, not the view's termination
                blockerStarted.countDown();
                TestSupport.awaitQuietly(release, 30);
            }));
            try {
                assertThat(awaitLatch(blockerStarted)).isTrue();
                AtomicInteger runs = new AtomicInteger();
                ScheduledFuture<?> rate = ses.scheduleAtFixedRate(runs::incrementAndGet, 0, 1, TimeUnit.MILLISECONDS);
                await().atMost(Duration.ofSeconds(20)).until(() -> EngineProbe.inactive(wq.core) == 1);

                ses.shutdown();

                assertThat(rate.isCancelled()).as("the queued periodic task is cancelled by shutdown()").isTrue();
                assertThat(rate.isDone()).isTrue();
                assertThat(EngineProbe.inactive(wq.core)).as("its queued run was taken off its list").isZero();
                assertThat(ses.isTerminated()).as("no task of the view is left").isTrue();
                assertThat(ses.awaitTermination(0, TimeUnit.SECONDS)).isTrue();
                assertThatThrownBy(rate::get).isInstanceOf(CancellationException.class);
                release.countDown();
                wq.flush();
                assertThat(runs).as("it never ran").hasValue(0);
                assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                assertThat(ses.isTerminated()).isTrue();
            } finally {
                release.countDown();
            }
        }
    }

    /**
     * The same in a frozen workqueue, for a periodic task that has run already: its next run,
     * queued inactive by the freeze, is cancelled by {@code shutdown()}, while a delayed one-shot
     * task queued beside it stays and runs at the thaw, holding termination until then
     * ({@code getExecuteExistingDelayedTasksAfterShutdownPolicy}).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shutdownCancelsAPeriodicTaskQueuedInAFrozenWorkqueueAndKeepsOneShotTasks() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("shutdown-frozen").freezable().build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch ranTwice = new CountDownLatch(2);
            ScheduledFuture<?> rate = ses.scheduleAtFixedRate(() -> {
                runs.incrementAndGet();
                ranTwice.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(ranTwice)).isTrue();
            wq.freeze(); // waits for a run in progress; the next one is queued inactive when it falls due
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> EngineProbe.inactive(wq.core) == 1);
                int runsAtFreeze = runs.get();
                ScheduledFuture<String> oneShot = ses.schedule(() -> "ran after shutdown", 0, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(20)).until(() -> EngineProbe.inactive(wq.core) == 2);

                ses.shutdown();

                assertThat(rate.isCancelled()).as("the queued periodic task is cancelled by shutdown()").isTrue();
                assertThat(oneShot.isDone()).as("a queued one-shot task stays").isFalse();
                assertThat(EngineProbe.inactive(wq.core)).as("only the one-shot task is left queued").isEqualTo(1);
                assertThat(ses.isTerminated()).as("the one-shot task holds termination").isFalse();
                wq.thaw();
                assertThat(oneShot.get(20, TimeUnit.SECONDS)).isEqualTo("ran after shutdown");
                assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                assertThat(ses.isTerminated()).isTrue();
                wq.flush();
                assertThat(runs).as("no periodic run after the freeze").hasValue(runsAtFreeze);
            } finally {
                wq.thaw();
            }
        }
    }

    @Test
    void shutdownNowReturnsTheDelayedTasksNotYetRunAndInterruptsRunningOnes() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            ScheduledExecutorService ses = c.workqueue("shutdown-now").maxActive(1).build().asScheduledExecutorService();
            CountDownLatch started = new CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            CountDownLatch never = new CountDownLatch(1);
            ScheduledFuture<?> running = ses.schedule(() -> {
                started.countDown();
                try {
                    never.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    interrupted.set(true);
                }
            }, 0, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(started)).isTrue();
            AtomicInteger runs = new AtomicInteger();
            List<Runnable> waiting = new ArrayList<>();
            waiting.add((Runnable) ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS));
            waiting.add((Runnable) ses.schedule(() -> runs.incrementAndGet(), Long.MAX_VALUE, TimeUnit.DAYS));
            waiting.add((Runnable) ses.scheduleAtFixedRate(runs::incrementAndGet, 1, 1, TimeUnit.HOURS));
            waiting.add((Runnable) ses.scheduleWithFixedDelay(runs::incrementAndGet, 2, 1, TimeUnit.HOURS));
            waiting.add((Runnable) ses.schedule(runs::incrementAndGet, 0, TimeUnit.SECONDS)); // queued behind maxActive
            waiting.add((Runnable) ses.submit(runs::incrementAndGet)); // an immediate task of the view, too
            Runnable executed = runs::incrementAndGet;
            ses.execute(executed);
            waiting.add(executed);

            List<Runnable> notRun = ses.shutdownNow();

            assertThat(notRun).containsExactlyInAnyOrderElementsOf(waiting);
            assertThat(notRun.stream().filter(r -> r instanceof RunnableScheduledFuture<?>)).hasSize(5);
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            assertThat(interrupted).isTrue();
            assertThat(running.isDone()).isTrue();
            assertThat(runs).hasValue(0);
            // a returned scheduled task, run by the caller after shutdownNow, cancels itself (as the JDK's)
            RunnableScheduledFuture<?> first = (RunnableScheduledFuture<?>) waiting.get(0);
            first.run();
            assertThat(first.isCancelled()).isTrue();
            assertThat(runs).hasValue(0);
            assertThat(ses.isTerminated()).isTrue();
        }
    }

    @Test
    void armedDelayedTasksHoldTerminationUntilShutdownNowTakesThemBack() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("terminate").build().asScheduledExecutorService();
            ScheduledFuture<?> later = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            ses.shutdown();
            assertThat(ses.awaitTermination(50, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(later.isDone()).as("a delayed one-shot task stays armed after shutdown").isFalse();
            assertThat(ses.shutdownNow()).containsExactly((Runnable) later);
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            assertThat(later.isDone()).isFalse();
        }
    }

    @Test
    void closeOfTheViewAsAnExecutorServiceCancelsPeriodicTasksAndWaitsForDelayedOnes() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            ScheduledExecutorService ses = c.workqueue("es-close").build().asScheduledExecutorService();
            ScheduledFuture<?> rate = ses.scheduleAtFixedRate(() -> { }, 0, 1, TimeUnit.MILLISECONDS);
            ScheduledFuture<String> delayed = ses.schedule(() -> "done", 30, TimeUnit.MILLISECONDS);
            ses.close(); // ExecutorService.close: shutdown, then wait for termination
            assertThat(ses.isTerminated()).isTrue();
            assertThat(rate.isCancelled()).isTrue();
            assertThat(delayed.get(0, TimeUnit.SECONDS)).isEqualTo("done");
        }
    }

    // ---------------------------------------------------------------------------------------
    // the workqueue underneath

    @Test
    void closingTheWorkqueueCancelsPeriodicTasksRunsDelayedOnesThenRejects() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("wq-close").build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            ScheduledFuture<?> hourly = ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS);
            CountDownLatch twice = new CountDownLatch(2);
            AtomicInteger fastRuns = new AtomicInteger();
            ScheduledFuture<?> fast = ses.scheduleWithFixedDelay(() -> {
                fastRuns.incrementAndGet();
                twice.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(awaitLatch(twice)).isTrue();
            ScheduledFuture<String> delayed = ses.schedule(() -> "ran", 30, TimeUnit.MILLISECONDS);

            wq.close(); // returns: the hourly task does not hold it up for an hour

            assertThat(hourly.isCancelled()).isTrue();
            assertThat(fast.isCancelled()).isTrue();
            assertThat(delayed.isDone()).as("close waited for the delayed task").isTrue();
            assertThat(delayed.get()).isEqualTo("ran");
            int runs = fastRuns.get();
            assertThatThrownBy(() -> ses.schedule(() -> { }, 1, TimeUnit.MILLISECONDS))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.MILLISECONDS))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> ses.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
            assertThat(fastRuns).hasValue(runs);
            ses.shutdown();
            assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aScheduleRacingTheWorkqueuesCloseIsRejectedOrRunsNeverLost() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (Cmwq c = newCmwq(2)) {
                Workqueue wq = c.workqueue("close-race-" + round).build();
                ScheduledExecutorService ses = wq.asScheduledExecutorService();
                List<ScheduledFuture<?>> accepted = Collections.synchronizedList(new ArrayList<>());
                AtomicInteger rejected = new AtomicInteger();
                AtomicBoolean stop = new AtomicBoolean();
                CountDownLatch going = new CountDownLatch(1);
                Thread scheduler = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            ScheduledFuture<?> f = switch (i % 3) {
                                case 0 -> ses.schedule(() -> { }, i % 5, TimeUnit.MILLISECONDS);
                                case 1 -> ses.scheduleAtFixedRate(() -> { }, 0, 1, TimeUnit.MILLISECONDS);
                                default -> ses.schedule(() -> 1, 0, TimeUnit.MILLISECONDS);
                            };
                            accepted.add(f);
                        } catch (RejectedExecutionException e) {
                            rejected.incrementAndGet();
                            if (wq.isClosed()) {
                                break;
                            }
                        }
                        if (i == 50) {
                            going.countDown();
                        }
                    }
                    going.countDown();
                });
                scheduler.start();
                assertThat(awaitLatch(going)).isTrue();
                wq.close();
                stop.set(true);
                scheduler.join(20_000);
                assertThat(scheduler.isAlive()).isFalse();
                List<ScheduledFuture<?>> all;
                synchronized (accepted) {
                    all = new ArrayList<>(accepted);
                }
                // every accepted task has ended: a one-shot one ran, a periodic one was cancelled
                for (ScheduledFuture<?> f : all) {
                    assertThat(f.isDone()).as("%s done after close", f).isTrue();
                    assertThat(f.isCancelled()).isEqualTo(f instanceof RunnableScheduledFuture<?> r && r.isPeriodic());
                }
                ses.shutdown();
                assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aWorkWaitingForAScheduledTaskOnOneCpuDoesNotDeadlock() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("get-in-work").build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            Future<String> outer = ses.submit(() -> {
                ScheduledFuture<String> inner = ses.schedule(() -> "inner", 10, TimeUnit.MILLISECONDS);
                return inner.get(20, TimeUnit.SECONDS) + "+outer";
            });
            assertThat(outer.get(30, TimeUnit.SECONDS)).isEqualTo("inner+outer");
        }
    }

    // ---------------------------------------------------------------------------------------
    // stress

    /**
     * Many periodic tasks (fixed rate and fixed delay, short periods) cancelled at random, with
     * and without interrupt, from two threads racing their runs. Invariants: the runs of one task
     * never overlap; once {@code cancel} has returned, at most one more run of that task starts
     * (one that had passed its state check); every task ends, so the view terminates; the pools
     * come back to rest.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // -Pstress: 50x
    void stressPeriodicTasksCancelledWhileTheyRun() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int rounds = 5 * scale;
        int tasks = 40; // runs longer than their periods: each task is always queued or running
        long totalRuns = 0;
        int duringRun = 0;
        for (int round = 0; round < rounds; round++) {
            try (Cmwq c = newCmwq(2)) {
                ScheduledExecutorService ses = c.workqueue("stress-cancel-" + round).build()
                        .asScheduledExecutorService();
                AtomicInteger[] running = new AtomicInteger[tasks];
                AtomicInteger[] started = new AtomicInteger[tasks];
                AtomicInteger totalStarts = new AtomicInteger();
                AtomicBoolean overlapped = new AtomicBoolean();
                List<ScheduledFuture<?>> futures = new ArrayList<>();
                Random rnd = new Random(round);
                for (int i = 0; i < tasks; i++) {
                    AtomicInteger now = running[i] = new AtomicInteger();
                    AtomicInteger count = started[i] = new AtomicInteger();
                    long spinNanos = (50 + rnd.nextInt(250)) * 1000L;
                    Runnable body = () -> {
                        count.incrementAndGet();
                        totalStarts.incrementAndGet();
                        if (now.incrementAndGet() != 1) {
                            overlapped.set(true);
                        }
                        TestSupport.spin(spinNanos);
                        now.decrementAndGet();
                    };
                    long period = 20 + rnd.nextInt(100);
                    futures.add(i % 2 == 0
                            ? ses.scheduleAtFixedRate(body, rnd.nextInt(300), period, TimeUnit.MICROSECONDS)
                            : ses.scheduleWithFixedDelay(body, rnd.nextInt(300), period, TimeUnit.MICROSECONDS));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> totalStarts.get() >= 3 * tasks);
                int[] startedAtCancel = new int[tasks];
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < tasks; i++) {
                    order.add(i);
                }
                Collections.shuffle(order, rnd);
                AtomicInteger next = new AtomicInteger();
                AtomicInteger cancelFailures = new AtomicInteger();
                AtomicInteger cancelledWhileRunning = new AtomicInteger();
                Thread[] cancellers = new Thread[2];
                for (int t = 0; t < cancellers.length; t++) {
                    boolean interrupt = t == 1;
                    cancellers[t] = new Thread(() -> {
                        for (int k; (k = next.getAndIncrement()) < tasks; ) {
                            int i = order.get(k);
                            TestSupport.spin(200_000); // let the others run meanwhile
                            boolean wasRunning = running[i].get() != 0;
                            if (!futures.get(i).cancel(interrupt)) {
                                cancelFailures.incrementAndGet();
                            }
                            startedAtCancel[i] = started[i].get(); // read after cancel returned
                            if (wasRunning) {
                                cancelledWhileRunning.incrementAndGet();
                            }
                        }
                    });
                    cancellers[t].start();
                }
                for (Thread t : cancellers) {
                    t.join(60_000);
                    assertThat(t.isAlive()).isFalse();
                }
                ses.shutdown();
                assertThat(ses.awaitTermination(30, TimeUnit.SECONDS)).as("every task ended").isTrue();
                assertThat(overlapped).as("runs of one task overlapped").isFalse();
                assertThat(cancelFailures).as("cancels of periodic tasks that failed").hasValue(0);
                for (int i = 0; i < tasks; i++) {
                    assertThat(futures.get(i).isCancelled()).isTrue();
                    assertThat(started[i].get()).as("runs of task %d started after its cancel returned", i)
                            .isLessThanOrEqualTo(startedAtCancel[i] + 1);
                }
                TestSupport.assertPoolsAtRest(c);
                totalRuns += totalStarts.get();
                duringRun += cancelledWhileRunning.get();
            }
        }
        System.out.printf("stressPeriodicTasksCancelledWhileTheyRun: %d rounds of %d tasks, %d runs, %d cancels"
                + " during a run%n", rounds, tasks, totalRuns, duringRun);
    }

    /**
     * {@code shutdownNow} racing a mix of periodic tasks and delayed one-shot tasks that fall due
     * around it (some periodic ones throw now and then). Invariants: every task is either returned
     * (then it never ran after, and its future is not done) or has ended (a one-shot task ran once
     * or cancelled itself as it started; a periodic one is cancelled, or failed); nothing is
     * returned twice; no run overlaps another of its task; once the view has terminated, no task
     * runs again.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // -Pstress: 50x
    void stressShutdownNowRacingArmedAndRunningTasks() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        for (int round = 0; round < 10 * scale; round++) {
            try (Cmwq c = newCmwq(2)) {
                ScheduledExecutorService ses = c.workqueue("stress-now-" + round).build().asScheduledExecutorService();
                Random rnd = new Random(round);
                int tasks = 300;
                AtomicInteger[] runs = new AtomicInteger[tasks];
                AtomicInteger totalRuns = new AtomicInteger();
                AtomicBoolean overlapped = new AtomicBoolean();
                List<ScheduledFuture<?>> futures = new ArrayList<>();
                for (int i = 0; i < tasks; i++) {
                    AtomicInteger count = runs[i] = new AtomicInteger();
                    AtomicInteger now = new AtomicInteger();
                    boolean throwsSometimes = i % 7 == 0;
                    Runnable body = () -> {
                        if (now.incrementAndGet() != 1) {
                            overlapped.set(true);
                        }
                        int n = count.incrementAndGet();
                        totalRuns.incrementAndGet();
                        TestSupport.spin(20_000);
                        now.decrementAndGet();
                        if (throwsSometimes && n == 5) {
                            throw new IllegalStateException("fifth run");
                        }
                    };
                    switch (i % 3) {
                        case 0 -> futures.add(ses.scheduleAtFixedRate(body, rnd.nextInt(2000), 100 + rnd.nextInt(400),
                                TimeUnit.MICROSECONDS));
                        case 1 -> futures.add(ses.scheduleWithFixedDelay(body, rnd.nextInt(2000), 100 + rnd.nextInt(400),
                                TimeUnit.MICROSECONDS));
                        default -> futures.add(ses.schedule(body, rnd.nextInt(10_000), TimeUnit.MICROSECONDS));
                    }
                }
                TestSupport.spin(rnd.nextInt(5_000_000)); // shut down somewhere in the first 5 ms

                List<Runnable> returned = ses.shutdownNow();

                assertThat(ses.awaitTermination(30, TimeUnit.SECONDS)).as("round %d terminated", round).isTrue();
                int runsAtTermination = totalRuns.get();
                assertThat(new java.util.HashSet<>(returned)).as("nothing returned twice").hasSameSizeAs(returned);
                java.util.Set<Object> back = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                back.addAll(returned);
                for (int i = 0; i < tasks; i++) {
                    ScheduledFuture<?> f = futures.get(i);
                    boolean periodic = ((RunnableScheduledFuture<?>) f).isPeriodic();
                    if (back.contains(f)) {
                        assertThat(f.isDone()).as("returned task %d is not done", i).isFalse();
                        if (!periodic) {
                            assertThat(runs[i]).as("returned one-shot task %d never ran", i).hasValue(0);
                        }
                    } else {
                        assertThat(f.isDone()).as("task %d (periodic %s) ended", i, periodic).isTrue();
                        if (!periodic) {
                            assertThat(runs[i].get()).as("one-shot task %d runs", i)
                                    .isEqualTo(f.isCancelled() ? 0 : 1);
                        }
                    }
                }
                await().during(Duration.ofMillis(50)).atMost(Duration.ofSeconds(5))
                        .until(() -> totalRuns.get() == runsAtTermination);
                assertThat(overlapped).isFalse();
                TestSupport.assertPoolsAtRest(c);
            }
        }
    }
}
