package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Task decorators ({@link Workqueue.Builder#taskDecorator}, {@link Cmwq.Builder#taskDecorator}):
 * a thread-local "context" captured on the queueing thread arrives in the work, on every path
 * (plain, executor, futures, delayed, helped in a waiter's frame, requeued while running), and
 * the running thread's own context is intact afterwards.
 */
class ContextPropagationTest {
    private static final long BOUND_SECONDS = 60;

    /** The context being propagated, as an MDC or a tracing context would be. */
    static final ThreadLocal<String> CTX = new ThreadLocal<>();

    /** Captures CTX at queue time; the returned task sets it around the run and restores it. */
    static final class Propagate implements UnaryOperator<Runnable> {
        final AtomicInteger calls = new AtomicInteger();
        final ConcurrentLinkedQueue<Thread> callers = new ConcurrentLinkedQueue<>();

        @Override
        public Runnable apply(Runnable r) {
            calls.incrementAndGet();
            callers.add(Thread.currentThread());
            String captured = CTX.get();
            return () -> {
                String prev = CTX.get();
                CTX.set(captured);
                try {
                    r.run();
                } finally {
                    CTX.set(prev);
                }
            };
        }
    }

    private static Cmwq newCmwq() {
        return Cmwq.builder().cpus(1).jmx(false).build();
    }

    /**
     * A periodic task of the scheduled view is decorated once, on the scheduling thread, and
     * every run sees the scheduler's context, though each run changes the thread's context as it
     * goes (and does not restore it: the decorator's wrapper does). It was decorated again at
     * each re-arm, on the worker inside the run that ended, so each run saw what the previous run
     * left behind.
     */
    @Test
    void everyRunOfAPeriodicTaskSeesTheContextItWasScheduledWith() throws Exception {
        Propagate p = new Propagate();
        try (Cmwq c = newCmwq()) {
            Workqueue wq = c.workqueue("periodic-ctx").taskDecorator(p).build();
            java.util.concurrent.ScheduledExecutorService ses = wq.asScheduledExecutorService();
            ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
            CountDownLatch fiveRuns = new CountDownLatch(5);
            CTX.set("scheduler");
            java.util.concurrent.ScheduledFuture<?> f;
            try {
                f = ses.scheduleWithFixedDelay(() -> {
                    seen.add(String.valueOf(CTX.get()));
                    CTX.set("left-by-run-" + seen.size()); // a run that changes the context
                    fiveRuns.countDown();
                }, 0, 1, TimeUnit.MILLISECONDS);
            } finally {
                CTX.remove();
            }
            assertThat(fiveRuns.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
            f.cancel(false);
            assertThat(List.copyOf(seen).subList(0, 5)).containsOnly("scheduler");
            assertThat(p.calls.get()).as("decorated once").isEqualTo(1);
            ses.shutdown();
            assertThat(ses.awaitTermination(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * A decorator whose wrapper throws before the task runs (it cannot restore a context): the
     * executor views' futures complete exceptionally with that failure, a periodic task ends at
     * its failing run, and the view terminates; a decorator that throws an Error as a task is
     * submitted leaves nothing counted either. The futures used to wait for good and the views
     * never terminated (the task itself never ran, so nothing completed or counted it).
     */
    @Test
    void aDecoratorThatFailsBeforeTheTaskRunsEndsTheTask() throws Exception {
        AtomicInteger wraps = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean failAtQueue = new java.util.concurrent.atomic.AtomicBoolean();
        UnaryOperator<Runnable> failing = r -> {
            if (failAtQueue.getAndSet(false)) {
                throw new AssertionError("decorator failed at queue time");
            }
            int n = wraps.incrementAndGet();
            AtomicInteger calls = new AtomicInteger();
            return () -> {
                // the first wrap (the periodic task's) works for two runs, then fails; every
                // later wrap fails before running its task
                if (n > 1 || calls.incrementAndGet() > 2) {
                    throw new IllegalStateException("no context to restore for wrap " + n);
                }
                r.run();
            };
        };
        try (Cmwq c = newCmwq()) {
            Workqueue wq = c.workqueue("failing-ctx").taskDecorator(failing).build();
            java.util.concurrent.ScheduledExecutorService ses = wq.asScheduledExecutorService();
            AtomicInteger periodicRuns = new AtomicInteger();
            // decorated once: its wrap runs it twice, then fails before the third run
            java.util.concurrent.ScheduledFuture<?> periodic = ses.scheduleAtFixedRate(
                    periodicRuns::incrementAndGet, 0, 1, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> periodic.get(BOUND_SECONDS, TimeUnit.SECONDS))
                    .isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
            assertThat(periodicRuns.get()).isEqualTo(2);
            AtomicInteger ran = new AtomicInteger();
            Future<?> submitted = ses.submit(ran::incrementAndGet);
            assertThatThrownBy(() -> submitted.get(BOUND_SECONDS, TimeUnit.SECONDS))
                    .isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
            java.util.concurrent.ScheduledFuture<?> delayed = ses.schedule(ran::incrementAndGet, 1, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> delayed.get(BOUND_SECONDS, TimeUnit.SECONDS))
                    .isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
            failAtQueue.set(true);
            assertThatThrownBy(() -> ses.execute(ran::incrementAndGet)).isInstanceOf(AssertionError.class);
            assertThat(ran.get()).as("no task ran: every wrap failed first").isZero();
            ses.shutdown();
            assertThat(ses.awaitTermination(BOUND_SECONDS, TimeUnit.SECONDS)).as("the view terminates").isTrue();
        }
    }

    @Test
    void aQueuedWorkSeesTheContextOfItsQueuerAndTheWorkerKeepsNone() throws Exception {
        Propagate p = new Propagate();
        try (Cmwq c = newCmwq()) {
            Workqueue wq = c.workqueue("ctx").taskDecorator(p).build();
            AtomicReference<String> seen = new AtomicReference<>();
            Work w = new Work(() -> seen.set(CTX.get()));
            CTX.set("request-1");
            try {
                assertThat(wq.queue(w)).isTrue();
            } finally {
                CTX.remove();
            }
            w.flush();
            assertThat(seen.get()).isEqualTo("request-1");
            assertThat(p.calls.get()).isEqualTo(1);
            assertThat(p.callers).containsExactly(Thread.currentThread());
            // the worker's own context is back to none: a plain work on an undecorated queue sees null
            Workqueue plain = c.workqueue("plain").taskDecorator(UnaryOperator.identity()).build();
            AtomicReference<String> after = new AtomicReference<>("unset");
            Work probe = new Work(() -> after.set(CTX.get()));
            CTX.set("not-propagated");
            try {
                plain.queue(probe);
            } finally {
                CTX.remove();
            }
            probe.flush();
            assertThat(after.get()).isNull();
            assertThat(p.calls.get()).as("identity turns the decorator off").isEqualTo(1);
        }
    }

    @Test
    void eachInstanceOfAReusedWorkRunsWithItsOwnQueuersContextAndAPendingQueueDecoratesNothing()
            throws Exception {
        Propagate p = new Propagate();
        try (Cmwq c = newCmwq()) {
            Workqueue wq = c.workqueue("ctx").taskDecorator(p).build();
            List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch firstRunning = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Work w = new Work(() -> {
                seen.add(CTX.get());
                firstRunning.countDown();
                try {
                    if (seen.size() == 1) {
                        assertThat(release.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            CTX.set("first");
            wq.queue(w);
            assertThat(firstRunning.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
            CTX.set("second"); // queued while the first instance runs: its own context
            assertThat(wq.queue(w)).isTrue();
            CTX.set("third"); // already pending: not queued, not decorated
            assertThat(wq.queue(w)).isFalse();
            CTX.remove();
            release.countDown();
            w.flush();
            wq.flush();
            assertThat(seen).containsExactly("first", "second");
            assertThat(p.calls.get()).isEqualTo(2);
        }
    }

    @Test
    void theExecutorViewsAndFuturesCarryTheContextAndShutdownNowReturnsTheUndecoratedTasks()
            throws Exception {
        Propagate p = new Propagate();
        // no block detection (a stall window of an hour): the blocker below keeps the one CPU's
        // only worker, so the task queued behind it is still unstarted at shutdownNow
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).stallWindow(Duration.ofHours(1)).build()) {
            Workqueue wq = c.workqueue("ctx").taskDecorator(p).build();
            ExecutorService es = wq.asExecutorService();
            CTX.set("caller");
            try {
                AtomicReference<String> viaExecute = new AtomicReference<>();
                CountDownLatch executed = new CountDownLatch(1);
                wq.execute(() -> {
                    viaExecute.set(CTX.get());
                    executed.countDown();
                });
                Future<String> submitted = es.submit(CTX::get);
                CompletableFuture<String> supplied = wq.supplyAsync(CTX::get);
                AtomicReference<String> viaRunAsync = new AtomicReference<>();
                CompletableFuture<Void> ran = wq.runAsync(() -> viaRunAsync.set(CTX.get()));
                assertThat(executed.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
                assertThat(viaExecute.get()).isEqualTo("caller");
                assertThat(submitted.get(BOUND_SECONDS, TimeUnit.SECONDS)).isEqualTo("caller");
                assertThat(supplied.get(BOUND_SECONDS, TimeUnit.SECONDS)).isEqualTo("caller");
                ran.get(BOUND_SECONDS, TimeUnit.SECONDS);
                assertThat(viaRunAsync.get()).isEqualTo("caller");
                assertThat(p.calls.get()).isEqualTo(4);

                // shutdownNow hands back what the caller submitted, not the decorated task
                CountDownLatch blockerRunning = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                es.execute(() -> {
                    blockerRunning.countDown();
                    try {
                        release.await(BOUND_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertThat(blockerRunning.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
                Runnable queued = () -> { };
                es.execute(queued);
                List<Runnable> notRun = es.shutdownNow();
                release.countDown();
                assertThat(notRun).containsExactly(queued);
                assertThat(es.awaitTermination(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
            } finally {
                CTX.remove();
            }
        }
    }

    @Test
    void aDelayedWorkIsDecoratedWhenArmedOnTheArmingThread() throws Exception {
        Propagate p = new Propagate();
        try (Cmwq c = newCmwq()) {
            Workqueue wq = c.workqueue("ctx").taskDecorator(p).build();
            AtomicReference<String> seen = new AtomicReference<>();
            DelayedWork d = new DelayedWork(() -> seen.set(CTX.get()));
            CTX.set("at-arming");
            try {
                assertThat(wq.queueDelayed(d, Duration.ofMillis(5))).isTrue();
                CTX.set("after-arming"); // too late: the context was taken when it was armed
            } finally {
                CTX.remove();
            }
            d.flush();
            wq.flush();
            assertThat(seen.get()).isEqualTo("at-arming");
            assertThat(p.callers).containsExactly(Thread.currentThread());
            // modDelayed of the armed instance re-arms it: no new instance, no new decoration
            CTX.set("mod");
            try {
                assertThat(wq.queueDelayed(d, Duration.ofDays(1))).isTrue();
                assertThat(wq.modDelayed(d, Duration.ZERO)).isTrue();
            } finally {
                CTX.remove();
            }
            d.flush();
            assertThat(seen.get()).isEqualTo("mod");
            assertThat(p.calls.get()).isEqualTo(2);
        }
    }

    @Test
    void aHelpedWorkSeesItsOwnContextAndTheWaitersContextIsIntactAfterwards() {
        Propagate p = new Propagate();
        try (Cmwq c = newCmwq()) {
            Workqueue outerWq = c.workqueue("outer").taskDecorator(p).build();
            Workqueue innerWq = c.workqueue("inner").taskDecorator(p).build();
            AtomicReference<String> innerSaw = new AtomicReference<>();
            AtomicReference<Thread> innerThread = new AtomicReference<>();
            AtomicReference<String> outerAfter = new AtomicReference<>();
            AtomicReference<Thread> outerThread = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Work inner = new Work(() -> {
                innerThread.set(Thread.currentThread());
                innerSaw.set(CTX.get());
            });
            Work outer = new Work(() -> {
                try {
                    outerThread.set(Thread.currentThread());
                    assertThat(CTX.get()).isEqualTo("outer-request");
                    CTX.set("inner-request"); // what the inner work is queued with
                    innerWq.queue(inner);
                    CTX.set("outer-request");
                    assertThat(inner.flush()).isTrue(); // one CPU, busy with us: run in place
                    outerAfter.set(CTX.get());
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            CTX.set("outer-request");
            try {
                outerWq.queue(outer);
            } finally {
                CTX.remove();
            }
            outer.flush();
            assertThat(failure.get()).isNull();
            assertThat(innerThread.get()).as("helped in the waiter's frame").isSameAs(outerThread.get());
            assertThat(innerSaw.get()).isEqualTo("inner-request");
            assertThat(outerAfter.get()).isEqualTo("outer-request");
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void aWorkRunByTheRescuerSeesItsQueuersContext() {
        Propagate p = new Propagate();
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).threadFactory(factory)
                .createCooldown(Duration.ofMillis(20)).build()) {
            Workqueue reclaim = c.workqueue("reclaim").memReclaim().taskDecorator(p).build();
            factory.failAfter(0); // no worker thread from now on: only the rescuer runs works
            List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < 5; i++) {
                CTX.set("queuer-" + i);
                try {
                    reclaim.queue(new Work(() -> {
                        seen.add(CTX.get());
                        threads.add(Thread.currentThread().getName());
                    }));
                } finally {
                    CTX.remove();
                }
            }
            reclaim.flush();
            assertThat(seen).containsExactly("queuer-0", "queuer-1", "queuer-2", "queuer-3", "queuer-4");
            assertThat(threads).allMatch(name -> name.contains("rescuer"));
            assertThat(reclaim.stats().rescued()).isEqualTo(5);
            factory.recover();
        }
    }

    @Test
    void theInstanceDefaultAppliesUnlessAWorkqueueSetsItsOwn() {
        Propagate instanceWide = new Propagate();
        Propagate own = new Propagate();
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).taskDecorator(instanceWide).build()) {
            Workqueue byDefault = c.workqueue("default").build();
            Workqueue overriding = c.workqueue("own").taskDecorator(own).build();
            Workqueue off = c.workqueue("off").taskDecorator(UnaryOperator.identity()).build();
            for (Workqueue wq : List.of(byDefault, overriding, off)) {
                Work w = new Work(() -> { });
                wq.queue(w);
                w.flush();
            }
            assertThat(instanceWide.calls.get()).isEqualTo(1);
            assertThat(own.calls.get()).isEqualTo(1);
        }
    }

    @Test
    void aDecoratorThatThrowsOrReturnsNullFailsTheQueueCallAndQueuesNothing() throws Exception {
        try (Cmwq c = newCmwq()) {
            AtomicInteger ran = new AtomicInteger();
            Workqueue throwing = c.workqueue("throwing").taskDecorator(r -> {
                throw new IllegalStateException("no context");
            }).build();
            Workqueue nulling = c.workqueue("nulling").taskDecorator(r -> null).build();
            Work w = new Work(ran::incrementAndGet);
            assertThatThrownBy(() -> throwing.queue(w)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("no context");
            assertThat(w.isPending()).isFalse();
            assertThatThrownBy(() -> nulling.queue(w)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("nulling");
            assertThat(w.isPending()).isFalse();
            DelayedWork d = new DelayedWork(ran::incrementAndGet);
            assertThatThrownBy(() -> throwing.queueDelayed(d, Duration.ofMillis(1)))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(d.isPending()).isFalse();
            assertThatThrownBy(() -> throwing.execute(ran::incrementAndGet)).isInstanceOf(IllegalStateException.class);
            // the work is free to be queued elsewhere, and the workqueues are intact
            Workqueue fine = c.workqueue("fine").build();
            assertThat(fine.queue(w)).isTrue();
            w.flush();
            throwing.flush();
            nulling.flush();
            throwing.close();
            nulling.close();
            assertThat(ran.get()).isEqualTo(1);
            assertThat(throwing.stats().inFlight()).isZero();
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void nullDecoratorsAreRejected() {
        try (Cmwq c = newCmwq()) {
            assertThatThrownBy(() -> c.workqueue("q").taskDecorator(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> Cmwq.builder().taskDecorator(null)).isInstanceOf(NullPointerException.class);
        }
    }

    /**
     * A stress test of the per-instance decoration: several threads, each with its own context,
     * requeue one shared work as fast as they can while it runs; every run must see the context
     * of the queue call that created its instance (checked through a sequence number carried in
     * the context), never another instance's, and no run is lost.
     */
    @Test
    void underRacingRequeuesEveryRunSeesTheContextOfTheQueueThatCreatedItsInstance() throws Exception {
        Propagate p = new Propagate();
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("ctx").taskDecorator(p).build();
            java.util.Set<String> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.Set<String> ran = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicInteger duplicates = new AtomicInteger();
            Work w = new Work(() -> {
                if (!ran.add(CTX.get())) {
                    duplicates.incrementAndGet();
                }
            });
            int producers = 3;
            int perProducer = 2_000 * Integer.getInteger("cmwq4j.stress.scale", 1);
            Thread[] threads = new Thread[producers];
            for (int t = 0; t < producers; t++) {
                int id = t;
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        String ctx = id + ":" + i;
                        CTX.set(ctx);
                        if (wq.queue(w)) {
                            accepted.add(ctx);
                        }
                        CTX.remove();
                    }
                }, "producer-" + t);
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
                assertThat(t.isAlive()).isFalse();
            }
            w.flush();
            wq.flush();
            assertThat(duplicates.get()).as("a context seen by two runs").isZero();
            assertThat(ran).as("each accepted instance ran with its own context, and only those").isEqualTo(accepted);
            assertThat(p.calls.get()).isEqualTo(accepted.size());
        }
    }
}
