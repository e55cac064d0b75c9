package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.PriorityTest.BOUND;
import static dev.cmwq4j.PriorityTest.NEVER;
import static dev.cmwq4j.PriorityTest.awaitRuns;
import static dev.cmwq4j.PriorityTest.behindBacklogOnCpu1;
import static dev.cmwq4j.PriorityTest.gateThenBacklog;
import static dev.cmwq4j.PriorityTest.holdCpu1;
import static dev.cmwq4j.PriorityTest.names;
import static dev.cmwq4j.PriorityTest.oneCpu;
import static dev.cmwq4j.PriorityTest.waiter;
import static dev.cmwq4j.PriorityTest.nodeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.PriorityTest.Gate;
import dev.cmwq4j.PriorityTest.Gates;
import dev.cmwq4j.internal.WorkNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every way to wait for a work follows the one wait protocol: a matrix of the wait {@link Kind}s
 * against two of its steps.
 *
 * <ul>
 *   <li><b>Lending</b>: a HIGH waiter (a platform thread at Java priority 8) gets the LOW work it
 *       waits for run ahead of a LOW backlog that was queued first, whether that work is pending
 *       (one CPU, {@link PriorityTest}'s gate) or running and itself waiting for a work behind the
 *       backlog (the lend goes through its wait). Only the order of the runs is checked, never
 *       time; the same scenarios without inheritance show the backlog first, so the order comes
 *       from the lend.
 *   <li><b>Fail fast</b>: from a work, a wait for its own run, or (ordered workqueue) for a work
 *       queued behind it on that queue, throws {@link IllegalStateException}. The call is made
 *       inside the work and awaited with a bound, so a missing check fails the test instead of
 *       hanging it; the stuck wait is then released.
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WaitKindsTest {
    private static final int BACKLOG = 20;
    /**
     * How long a call that should throw before any wait may take, once it started. The check takes
     * microseconds; this only tells "threw" from "hangs" on a loaded machine.
     */
    private static final Duration FAIL_FAST_BOUND = Duration.ofSeconds(5);
    /** Once the waiter is parked, how long its lend has to show before the gate opens anyway. */
    private static final Duration LEND_GRACE = Duration.ofSeconds(2);
    private static final Runnable NOTHING = () -> {};

    /** A wait, as the waiter calls it. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** How a kind queues its unit. */
    interface Starter {
        Awaited start(Workqueue wq, Runnable body) throws Exception;
    }

    /**
     * One queued unit of a kind: the wait for it, the work that wait must lend to (null if it
     * cannot be named), and how to end a wait that hangs on it.
     */
    record Awaited(Call call, WorkNode node, Runnable release) {}

    /** The ways to wait for a work. */
    enum Kind {
        WORK_FLUSH("Work.flush", (wq, body) -> queued(wq, body, w -> w::flush)),
        /** Cancels a pending instance instead of waiting for it: waits for a running one only. */
        WORK_CANCEL_SYNC("Work.cancelSync", (wq, body) -> queued(wq, body, w -> w::cancelSync)),
        QUEUE_FLUSH("Workqueue.flush", (wq, body) -> queued(wq, body, w -> wq::flush)),
        QUEUE_DRAIN("Workqueue.drain", (wq, body) -> queued(wq, body, w -> wq::drain)),
        EXECUTOR_GET("executor view Future.get()", (wq, body) -> submitted(wq, body, f -> f::get)),
        EXECUTOR_GET_TIMEOUT("executor view Future.get(timeout)",
                (wq, body) -> submitted(wq, body, f -> () -> f.get(BOUND.toSeconds(), TimeUnit.SECONDS))),
        SUPPLY_JOIN("supplyAsync join()", (wq, body) -> supplied(wq, body, f -> f::join)),
        SUPPLY_GET("supplyAsync get()", (wq, body) -> supplied(wq, body, f -> f::get)),
        SUPPLY_GET_TIMEOUT("supplyAsync get(timeout)",
                (wq, body) -> supplied(wq, body, f -> () -> f.get(BOUND.toSeconds(), TimeUnit.SECONDS))),
        /** A stage derived from a supplyAsync future completes only after its task: the wait is for that task. */
        DERIVED_STAGE_JOIN("supplyAsync(..).thenApply(..).join()",
                (wq, body) -> supplied(wq, body, f -> () -> f.thenApply(v -> v).join())),
        RUN_ASYNC_JOIN("runAsync join()", (wq, body) -> {
            CompletableFuture<Void> f = wq.runAsync(body);
            return new Awaited(f::join, ((WorkqueueFuture<?>) f).taskNode(), () -> f.complete(null));
        }),
        /** Waits for the functions of a domain scheduled before a cookie: here, up to the one scheduled. */
        ASYNC_DOMAIN_SYNC("AsyncDomain.synchronizeCookie", (wq, body) -> {
            AsyncDomain d = new AsyncDomain("kinds", wq);
            long cookie = d.schedule(body);
            return new Awaited(() -> d.synchronizeCookie(cookie + 1), functionNode(d), NOTHING);
        });

        private final String label;
        private final Starter starter;

        Kind(String label, Starter starter) {
            this.label = label;
            this.starter = starter;
        }

        /** Queues a unit of this kind on {@code wq} that runs {@code body}. */
        Awaited start(Workqueue wq, Runnable body) throws Exception {
            return starter.start(wq, body);
        }

        @Override
        public String toString() {
            return label;
        }
    }

    private static Awaited queued(Workqueue wq, Runnable body, Function<Work, Call> how) {
        Work w = new Work(body);
        wq.queue(w);
        return new Awaited(how.apply(w), w.node, NOTHING);
    }

    private static Awaited submitted(Workqueue wq, Runnable body, Function<Future<?>, Call> how) throws Exception {
        ExecutorService es = wq.asExecutorService();
        Future<?> f = es.submit(body);
        return new Awaited(how.apply(f), nodeOf(es, f), () -> f.cancel(false));
    }

    private static Awaited supplied(Workqueue wq, Runnable body, Function<CompletableFuture<Object>, Call> how) {
        CompletableFuture<Object> f = wq.supplyAsync(() -> {
            body.run();
            return "done";
        });
        return new Awaited(how.apply(f), ((WorkqueueFuture<?>) f).taskNode(), () -> f.complete("released"));
    }

    /**
     * The work of the oldest unfinished function of {@code d} (AsyncDomain names it nowhere in its
     * API), or null if there is none or its fields moved.
     */
    private static WorkNode functionNode(AsyncDomain d) {
        try {
            java.lang.reflect.Field head = AsyncDomain.class.getDeclaredField("head");
            head.setAccessible(true);
            Object entry = head.get(d);
            if (entry == null) {
                return null;
            }
            java.lang.reflect.Field work = entry.getClass().getDeclaredField("work");
            work.setAccessible(true);
            return ((Work) work.get(entry)).node;
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Lending.

    /** The runs of a lending scenario, and whether the lend to the awaited work was ever seen. */
    private record Lending(List<String> runs, boolean lent) {}

    private static boolean lentHigh(WorkNode n) {
        return n != null && EngineProbe.effectivePriority(n) >= Priority.HIGH.ordinal();
    }

    private static boolean parked(Thread t) {
        Thread.State s = t.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
    }

    /**
     * Waits until {@code waiter} is in its wait: the lend to {@code lentTo} shows, or the waiter is
     * parked and then {@code grace} passes without the lend showing.
     *
     * @return whether the lend showed
     */
    private static boolean awaitInWait(Thread waiter, WorkNode lentTo, Duration grace) {
        await().atMost(BOUND).until(() -> lentHigh(lentTo) || parked(waiter));
        if (lentHigh(lentTo) || grace.isZero()) {
            return lentHigh(lentTo);
        }
        try {
            await().atMost(grace).until(() -> lentHigh(lentTo));
            return true;
        } catch (ConditionTimeoutException notLent) {
            return false;
        }
    }

    /**
     * A waiter at Java priority 8 calls {@code await}; once it waits, {@code gate} opens. Returns
     * the lend seen, after checking that the wait returned normally.
     */
    private static boolean waitAtHighThenOpen(Call await, WorkNode lentTo, boolean inheritance, Gate gate)
            throws InterruptedException {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread high = waiter(8, () -> {
            try {
                await.run();
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        boolean lent = awaitInWait(high, lentTo, inheritance ? LEND_GRACE : Duration.ZERO);
        gate.open = true;
        high.join(BOUND.toMillis());
        assertThat(high.isAlive()).as("the wait returned").isFalse();
        assertThat(failed.get()).as("the wait threw").isNull();
        return lent;
    }

    /**
     * One CPU: a gate holds its only worker, a LOW backlog b0.. is queued behind it on one
     * workqueue, then a LOW unit x of {@code kind} on another; a HIGH thread waits for x.
     */
    private static Lending pendingBehindBacklog(Kind kind, boolean inheritance) throws Exception {
        try (Cmwq c = oneCpu(inheritance); Gates gates = new Gates()) {
            Workqueue bulk = c.workqueue("bulk").priority(Priority.LOW).build();
            Workqueue mine = c.workqueue("mine").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gateThenBacklog(bulk, gates, order, BACKLOG);
            Awaited x = kind.start(mine, () -> order.add("x"));
            assertThat(order).as("nothing ran before the gate opened").isEmpty();
            boolean lent = waitAtHighThenOpen(x.call(), x.node(), inheritance, gate);
            awaitRuns(order, BACKLOG + 1);
            return new Lending(new ArrayList<>(order), lent);
        }
    }

    private static List<String> first(String name, List<String> then) {
        List<String> l = new ArrayList<>(List.of(name));
        l.addAll(then);
        return l;
    }

    private static List<String> last(List<String> before, String name) {
        List<String> l = new ArrayList<>(before);
        l.add(name);
        return l;
    }

    /** A pending work: the HIGH waiter's lend moves it ahead of the backlog. */
    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(value = Kind.class, mode = EnumSource.Mode.EXCLUDE, names = "WORK_CANCEL_SYNC") // cancels it: no wait
    void aHighWaitForAPendingWorkRunsItBeforeTheBacklog(Kind kind) throws Exception {
        Lending l = pendingBehindBacklog(kind, true);
        assertThat(l.runs()).as("%s: x runs first, then the backlog (lend to x seen: %s)", kind, l.lent())
                .containsExactlyElementsOf(first("x", names("b", BACKLOG)));
    }

    /** The control: without inheritance the same wait sees x run after the backlog. */
    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(value = Kind.class, mode = EnumSource.Mode.EXCLUDE, names = "WORK_CANCEL_SYNC")
    void withoutInheritanceAWaitForAPendingWorkSeesTheBacklogFirst(Kind kind) throws Exception {
        Lending l = pendingBehindBacklog(kind, false);
        assertThat(l.lent()).isFalse();
        assertThat(l.runs()).as("%s without inheritance", kind)
                .containsExactlyElementsOf(last(names("b", BACKLOG), "x"));
    }

    /**
     * Two CPUs: cpu1 is held by a gate with a LOW backlog n0.. and then b queued on it, pinned (so
     * no other worker may run b in place). A LOW unit x of {@code kind} runs on an unbound
     * workqueue and flushes b; a HIGH thread waits for x, running: its lend reaches b through x's
     * wait.
     */
    private static Lending runningAndWaitingBehindBacklog(Kind kind, boolean inheritance) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).cpuIntensiveThreshold(NEVER).priorityInheritance(inheritance).build();
                Gates gates = new Gates()) {
            Workqueue bulk = c.workqueue("bulk").priority(Priority.LOW).build();
            Workqueue mine = c.workqueue("mine").unbound().priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate hold = holdCpu1(gates, bulk);
            Work b = behindBacklogOnCpu1(bulk, order, BACKLOG);
            CountDownLatch xRuns = new CountDownLatch(1);
            Awaited x = kind.start(mine, () -> {
                xRuns.countDown();
                b.flush();
            });
            assertThat(xRuns.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("x started").isTrue();
            boolean lent = waitAtHighThenOpen(x.call(), b.node, inheritance, hold);
            awaitRuns(order, BACKLOG + 1);
            return new Lending(new ArrayList<>(order), lent);
        }
    }

    /** A running work: the lend goes to it, and on to the work it waits for. */
    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(Kind.class)
    void aHighWaitForARunningWorkLendsThroughItsWait(Kind kind) throws Exception {
        Lending l = runningAndWaitingBehindBacklog(kind, true);
        assertThat(l.runs()).as("%s: b runs first, then the backlog (lend to b seen: %s)", kind, l.lent())
                .containsExactlyElementsOf(first("b", names("n", BACKLOG)));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(Kind.class)
    void withoutInheritanceAWaitForARunningWorkLendsNothing(Kind kind) throws Exception {
        Lending l = runningAndWaitingBehindBacklog(kind, false);
        assertThat(l.lent()).isFalse();
        assertThat(l.runs()).as("%s without inheritance", kind)
                .containsExactlyElementsOf(last(names("n", BACKLOG), "b"));
    }

    // ------------------------------------------------------------------------------------------
    // Fail fast.

    /** A wait made from inside a work, once the test has set its {@link #target}. */
    private static final class InWork {
        final CountDownLatch wired = new CountDownLatch(1);
        final CountDownLatch calling = new CountDownLatch(1);
        final CountDownLatch returned = new CountDownLatch(1);
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        volatile Awaited target;

        /** The body of the work that waits: for the target, once wired. */
        final Runnable body = () -> {
            TestSupport.blockOn(wired);
            calling.countDown();
            try {
                target.call().run();
            } catch (Throwable t) {
                thrown.set(t);
            } finally {
                returned.countDown();
            }
        };

        void wire(Awaited t) {
            target = t;
            wired.countDown();
        }

        /**
         * Asserts that the wait threw an IllegalStateException naming {@code cause} at once; a wait
         * that hangs instead is released, so the Cmwq can close.
         */
        void assertFailedFast(Kind kind, String cause) throws InterruptedException {
            assertThat(calling.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the work started").isTrue();
            boolean fast = returned.await(FAIL_FAST_BOUND.toSeconds(), TimeUnit.SECONDS);
            if (!fast) {
                target.release().run();
                assertThat(returned.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("released").isTrue();
            }
            assertThat(fast).as("%s hung: it had not returned %s after the call began (released, it then threw: %s)",
                    kind, FAIL_FAST_BOUND, thrown.get()).isTrue();
            assertThat(thrown.get()).as(kind.toString()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(cause);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(Kind.class)
    void aWaitForItsOwnRunFailsFast(Kind kind) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("selfish").build();
            InWork w = new InWork();
            w.wire(kind.start(wq, w.body));
            w.assertFailedFast(kind, "itself");
        }
    }

    /**
     * Left out: cancelSync cancels the pending work behind instead of waiting for it; a workqueue's
     * flush or drain from its own work is the self case; a domain's workqueue is never ordered.
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @EnumSource(value = Kind.class, mode = EnumSource.Mode.EXCLUDE,
            names = {"WORK_CANCEL_SYNC", "QUEUE_FLUSH", "QUEUE_DRAIN", "ASYNC_DOMAIN_SYNC"})
    void aWaitForAWorkQueuedBehindOnItsOrderedQueueFailsFast(Kind kind) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue ordered = c.workqueue("in-order").ordered().build();
            InWork ahead = new InWork();
            kind.start(ordered, ahead.body);
            ahead.wire(kind.start(ordered, NOTHING));
            ahead.assertFailedFast(kind, "behind");
        }
    }
}
