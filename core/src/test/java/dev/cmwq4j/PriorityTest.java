package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Priorities and priority inheritance: the order works run in, with and without waiters.
 *
 * <p>Each test holds its pool's only running worker in a {@link Gate} (a spin, so the monitor
 * sees it on the CPU and never uncounts it) while it queues works and starts waiters, then opens
 * the gate and checks the order the works ran in. The runs are recorded by the works themselves,
 * one at a time on one pool.
 */
class PriorityTest {
    /** Long enough that the monitor never flags a gate as CPU-intensive during a test. */
    static final Duration NEVER = Duration.ofMinutes(10);
    static final Duration BOUND = Duration.ofSeconds(30);

    /** One CPU index; a spinning work is never taken out of the running count. */
    /**
     * One CPU index, no CPU-intensive flag, and no block detection (a stall window of an hour):
     * the gates spin, and a spinning thread descheduled on a busy machine can look blocked to the
     * monitor, which would then add a worker that runs the backlog early (a flake of
     * {@code aSupplyAsyncJoinLendsToItsTask} in a full-suite run).
     */
    static Cmwq oneCpu(boolean inheritance) {
        return Cmwq.builder().cpus(1).cpuIntensiveThreshold(NEVER).stallWindow(Duration.ofHours(1))
                .priorityInheritance(inheritance).build();
    }

    /**
     * The gates of a test, opened when it ends however it ends: declared after the Cmwq in the
     * try-with-resources, so they open before close() drains (a failed assertion never hangs).
     */
    static final class Gates implements AutoCloseable {
        private final List<Gate> all = new ArrayList<>();

        Gate gate(ConcurrentLinkedQueue<String> order, String name) {
            Gate g = new Gate(order, name);
            all.add(g);
            return g;
        }

        @Override
        public void close() {
            for (Gate g : all) {
                g.open = true;
            }
        }
    }

    /** A work that spins until opened: holds its worker, which stays counted. */
    static final class Gate {
        final CountDownLatch entered = new CountDownLatch(1);
        volatile boolean open;
        final Work work;

        Gate(ConcurrentLinkedQueue<String> order, String name) {
            work = new Work(() -> {
                if (order != null) {
                    order.add(name);
                }
                entered.countDown();
                while (!open) {
                    Thread.onSpinWait();
                }
            });
        }

        void awaitEntered() throws InterruptedException {
            assertThat(entered.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("gate entered").isTrue();
        }
    }

    static Work recording(ConcurrentLinkedQueue<String> order, String name) {
        return new Work(() -> order.add(name));
    }

    /** Starts a thread at Java priority {@code threadPriority} that runs {@code body}. */
    static Thread waiter(int threadPriority, Runnable body) {
        Thread t = new Thread(body, "waiter-" + threadPriority);
        t.setPriority(threadPriority);
        t.start();
        return t;
    }

    private static void awaitEffective(Work w, Priority p) {
        awaitEffective(w.node, p);
    }

    private static void awaitEffective(dev.cmwq4j.internal.WorkNode n, Priority p) {
        Awaitility.await().atMost(BOUND).until(() -> EngineProbe.effectivePriority(n) == p.ordinal());
    }

    /**
     * Waits until {@code n} runs were recorded, by polling: a flush or a get here would lend the
     * test thread's priority and move the works it waits for.
     */
    static void awaitRuns(ConcurrentLinkedQueue<String> order, int n) {
        Awaitility.await().atMost(BOUND).until(() -> order.size() >= n);
    }

    /**
     * Holds the pool's only worker in a gate on {@code wq}, then queues a backlog of {@code n}
     * recording works b0.. behind it; returns the gate.
     */
    static Gate gateThenBacklog(Workqueue wq, Gates gates, ConcurrentLinkedQueue<String> order, int n)
            throws InterruptedException {
        Gate gate = gates.gate(null, "gate");
        wq.queue(gate.work);
        gate.awaitEntered();
        for (String name : names("b", n)) {
            wq.queue(recording(order, name));
        }
        return gate;
    }

    /** Waits for {@code first} and the backlog b0.. of {@code n}, and checks that order. */
    private static void assertRanFirstThenBacklog(ConcurrentLinkedQueue<String> order, String first, int n) {
        awaitRuns(order, n + 1);
        List<String> expected = new ArrayList<>(List.of(first));
        expected.addAll(names("b", n));
        assertThat(new ArrayList<>(order)).containsExactlyElementsOf(expected);
    }

    static List<String> names(String prefix, int n) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(prefix + i);
        }
        return l;
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void worksRunByPriorityAndFifoWithinAPriority() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("mixed").build();
            Gate gate = gates.gate(null, "gate");
            wq.queue(gate.work);
            gate.awaitEntered();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Priority[] cycle = {Priority.LOW, Priority.URGENT, Priority.NORMAL, Priority.HIGH, Priority.NORMAL,
                Priority.LOW, Priority.HIGH, Priority.URGENT};
            List<String> expected = new ArrayList<>();
            List<List<String>> byLevel = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>());
            for (int i = 0; i < 40; i++) {
                Priority p = cycle[i % cycle.length];
                String name = p + "-" + i;
                byLevel.get(p.ordinal()).add(name);
                assertThat(i % 3 == 0 ? wq.queue(recording(order, name), p)
                        : wq.queueOn(0, recording(order, name), p)).isTrue();
            }
            for (int level = 3; level >= 0; level--) {
                expected.addAll(byLevel.get(level));
            }
            gate.open = true;
            awaitRuns(order, 40);
            assertThat(new ArrayList<>(order)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void aHighPriorityFlushJumpsABacklogOfLowPriorityWorks() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            List<String> order = runBehindBacklog(wq, true, gates);
            // the flushed work ran first, then the backlog in queueing order
            List<String> expected = new ArrayList<>(List.of("x"));
            expected.addAll(names("b", 50));
            assertThat(order).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void withoutInheritanceTheSameFlushWaitsBehindTheBacklog() throws Exception {
        try (Cmwq c = oneCpu(false); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            List<String> order = runBehindBacklog(wq, false, gates);
            List<String> expected = new ArrayList<>(names("b", 50));
            expected.add("x");
            assertThat(order).containsExactlyElementsOf(expected);
        }
    }

    /**
     * A gate, 50 backlog works, then x, all LOW; a thread at Java priority 8 (HIGH) flushes x.
     * Returns the run order after the gate.
     */
    private static List<String> runBehindBacklog(Workqueue wq, boolean inheritance, Gates gates) throws Exception {
        ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
        Gate gate = gates.gate(null, "gate");
        wq.queue(gate.work);
        gate.awaitEntered();
        for (String name : names("b", 50)) {
            wq.queue(recording(order, name));
        }
        Work x = recording(order, "x");
        wq.queue(x);
        CountDownLatch flushing = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread high = waiter(8, () -> {
            try {
                assertThat(Priority.current()).isEqualTo(Priority.HIGH);
                flushing.countDown();
                assertThat(x.flush()).isTrue();
                assertThat(order).contains("x");
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        flushing.await();
        if (inheritance) {
            awaitEffective(x, Priority.HIGH);
        } else {
            // the waiter lends nothing: wait until it is parked in the flush
            Awaitility.await().atMost(BOUND).until(() -> high.getState() == Thread.State.WAITING);
            assertThat(EngineProbe.effectivePriority(x.node)).isEqualTo(Priority.LOW.ordinal());
        }
        gate.open = true;
        high.join(BOUND.toMillis());
        assertThat(high.isAlive()).isFalse();
        assertThat(failed.get()).isNull();
        awaitRuns(order, 51);
        assertThat(EngineProbe.lentCounts(x.node)).as("lends taken back").isZero();
        assertThat(EngineProbe.effectivePriority(x.node)).isEqualTo(Priority.LOW.ordinal());
        return new ArrayList<>(order);
    }

    @Test
    void theBoostEndsWithTheWaitAndTheWorkGoesBackToItsPlace() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            lendEndsThenRuns(wq, gates, 10, () -> { }, () -> { });
        }
    }

    /**
     * A freeze while a work is lent a priority, then the lend's end, then the thaw: the work is
     * back at its own place in its level, as without the freeze. The freeze took the works back
     * in poll order, where a lent work comes first, and put them at the front of their base lists
     * in that order: the lent work was ahead of its level's older works for good.
     */
    @Test
    void aFreezeDuringALendKeepsTheLentWorksPlaceInItsLevel() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("frozen-lend").priority(Priority.LOW).freezable().build();
            // the gate runs: the freeze takes the others back and times out waiting for it
            lendEndsThenRuns(wq, gates, 5, () -> assertThat(wq.freeze(Duration.ofMillis(50))).isFalse(), wq::thaw);
        }
    }

    /**
     * Behind a gate on {@code wq}'s only worker: {@code n} works a0.., the executor view's task f,
     * {@code n} works b0... An URGENT thread waits for f until it is lent URGENT, then
     * {@code whileLent} runs, the wait is interrupted (the lend ends without f having run), and
     * {@code afterLend} runs. Then the gate opens: f runs where it was queued, after a0.. and
     * before b0.. (polled: a wait here would lend to f again).
     */
    private static void lendEndsThenRuns(Workqueue wq, Gates gates, int n, Runnable whileLent, Runnable afterLend)
            throws Exception {
        ExecutorService es = wq.asExecutorService();
        ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
        Gate gate = gates.gate(null, "gate");
        wq.queue(gate.work);
        gate.awaitEntered();
        for (String name : names("a", n)) {
            wq.queue(recording(order, name));
        }
        Future<?> f = es.submit(() -> order.add("f"));
        for (String name : names("b", n)) {
            wq.queue(recording(order, name));
        }
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread urgent = waiter(Thread.MAX_PRIORITY, () -> {
            try {
                f.get();
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        dev.cmwq4j.internal.WorkNode fNode = nodeOf(es, f);
        awaitEffective(fNode, Priority.URGENT);
        whileLent.run();
        urgent.interrupt(); // the wait ends without the task having run
        urgent.join(BOUND.toMillis());
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(EngineProbe.lentCounts(fNode)).as("lends taken back").isZero();
        assertThat(EngineProbe.effectivePriority(fNode)).isEqualTo(Priority.LOW.ordinal());
        afterLend.run();
        gate.open = true;
        awaitRuns(order, 2 * n + 1);
        List<String> expected = new ArrayList<>(names("a", n));
        expected.add("f");
        expected.addAll(names("b", n));
        assertThat(new ArrayList<>(order)).containsExactlyElementsOf(expected);
    }

    /**
     * A lend passes through a helped run: a HIGH thread flushes S; S waits for T on its own pool
     * and runs it in place (helping); T waits for U, pinned to CPU 1 behind a LOW backlog. U runs
     * as HIGH, before the backlog. The helped run used to pass on only T's own level: U stayed LOW
     * and ran last.
     */
    @Test
    void aLendPassesThroughAHelpedRun() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).cpuIntensiveThreshold(NEVER).stallWindow(Duration.ofHours(1))
                .priorityInheritance(true).build(); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("low").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> cpu1Order = new ConcurrentLinkedQueue<>();
            Gate gate = gates.gate(null, "gate");
            wq.queueOn(1, gate.work);
            gate.awaitEntered();
            for (String name : names("b", 10)) {
                wq.queueOn(1, recording(cpu1Order, name));
            }
            Work u = new Work("u", () -> cpu1Order.add("u"));
            AtomicReference<String> tRanOn = new AtomicReference<>();
            AtomicReference<String> sRanOn = new AtomicReference<>();
            CountDownLatch sHigh = new CountDownLatch(1);
            CountDownLatch uQueued = new CountDownLatch(1);
            Work t = new Work("t", () -> {
                tRanOn.set(Thread.currentThread().getName());
                wq.queueOn(1, u);
                uQueued.countDown();
                u.flush(); // lends T's level to U
            });
            Work[] sHolder = new Work[1];
            Work s0 = new Work("s", () -> {
                sRanOn.set(Thread.currentThread().getName());
                Awaitility.await().atMost(BOUND).until(() -> EngineProbe.effectivePriority(sHolder[0].node)
                        == Priority.HIGH.ordinal()); // the HIGH waiter's lend reached S
                sHigh.countDown();
                wq.queueOn(0, t); // S's own pool: S runs it in place as it waits
                t.flush();
            });
            sHolder[0] = s0;
            wq.queueOn(0, s0);
            Thread high = waiter(Thread.MAX_PRIORITY - 1, () -> s0.flush());
            assertThat(sHigh.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(uQueued.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            awaitEffective(u, Priority.HIGH); // T, run in S's frame, passed S's level on
            gate.open = true;
            awaitRuns(cpu1Order, 11);
            high.join(BOUND.toMillis());
            assertThat(tRanOn.get()).as("T ran in place, in S's frame").isEqualTo(sRanOn.get());
            assertThat(new ArrayList<>(cpu1Order).get(0)).as("U ran first on CPU 1").isEqualTo("u");
        }
    }

    /** The node behind a future of the executor view: the one lent to while a get waits. */
    static dev.cmwq4j.internal.WorkNode nodeOf(ExecutorService es, Future<?> f) throws Exception {
        java.lang.reflect.Field field = f.getClass().getDeclaredField("node");
        field.setAccessible(true);
        Awaitility.await().atMost(BOUND).until(() -> field.get(f) != null);
        return (dev.cmwq4j.internal.WorkNode) field.get(f);
    }

    @Test
    void theBoostPropagatesThroughAnOrderedQueue() throws Exception {
        // one worker thread in all, so the unbound pool runs one work at a time
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).createCooldown(Duration.ofMinutes(1))
                .cpuIntensiveThreshold(NEVER).build(); Gates gates = new Gates()) {
            Workqueue bulk = c.workqueue("bulk").unbound().priority(Priority.LOW).build();
            Workqueue ordered = c.workqueue("ordered").ordered().priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gates.gate(null, "gate");
            bulk.queue(gate.work);
            gate.awaitEntered();
            for (String name : names("u", 20)) {
                bulk.queue(recording(order, name));
            }
            Work[] o = new Work[4];
            for (int i = 0; i < o.length; i++) {
                o[i] = recording(order, "o" + i);
                ordered.queue(o[i]);
            }
            Thread high = waiter(8, o[3]::flush);
            // o3 waits behind o0..o2 in its ordered queue: all four are lent HIGH
            for (Work w : o) {
                awaitEffective(w, Priority.HIGH);
            }
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 24);
            List<String> expected = new ArrayList<>(names("o", 4));
            expected.addAll(names("u", 20));
            assertThat(new ArrayList<>(order)).containsExactlyElementsOf(expected);
            for (Work w : o) {
                assertThat(EngineProbe.lentCounts(w.node)).isZero();
            }
        }
    }

    /**
     * Two CPUs: cpu1 is held by a gate, with a backlog and then {@code b} queued on it (pinned, so
     * that a worker of cpu0 may not run {@code b} in place: it must really wait for it).
     */
    /**
     * Two CPUs, no block detection (a stall window of an hour), as {@link #oneCpu}: a spinning gate
     * descheduled on a busy machine could look blocked in native code, and the worker added for it
     * ran the backlog before the test saw the waiter block (a loaded CI run of
     * cancelSyncLendsToTheRunningInstanceThroughItsWait timed out on {@code blocked() == 1}).
     */
    private static Cmwq twoCpus() {
        return Cmwq.builder().cpus(2).cpuIntensiveThreshold(NEVER).stallWindow(Duration.ofHours(1))
                .priorityInheritance(true).build();
    }

    /** Occupies cpu1's worker with a gate work of {@code wq}; returns the gate, entered. */
    static Gate holdCpu1(Gates gates, Workqueue wq) throws InterruptedException {
        Gate hold = gates.gate(null, "hold");
        wq.queueOn(1, hold.work);
        hold.awaitEntered();
        return hold;
    }

    /** Queues n0..n{count-1} then {@code b} on cpu1, pinned; returns {@code b}. */
    static Work behindBacklogOnCpu1(Workqueue wq, ConcurrentLinkedQueue<String> order, int count) {
        for (String name : names("n", count)) {
            wq.queueOn(1, recording(order, name));
        }
        Work b = recording(order, "b");
        wq.queueOn(1, b);
        return b;
    }

    @Test
    void theBoostPropagatesThroughAChainOfTwoWaits() throws Exception {
        try (Cmwq c = twoCpus(); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate hold = holdCpu1(gates, wq);
            Work b = behindBacklogOnCpu1(wq, order, 20);
            Work a = new Work(() -> {
                order.add("a");
                b.flush(); // a's worker waits for b: it lends b a's priority
                order.add("a-end");
            });
            wq.queueOn(0, a);
            await().atMost(BOUND).until(() -> c.poolStats().get(0).blocked() == 1); // a waits for b
            assertThat(EngineProbe.effectivePriority(b.node)).as("a runs at LOW").isEqualTo(Priority.LOW.ordinal());
            Thread high = waiter(8, a::flush);
            awaitEffective(a, Priority.HIGH);
            awaitEffective(b, Priority.HIGH); // through a's wait
            hold.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 23);
            List<String> runs = new ArrayList<>(order);
            assertThat(runs.indexOf("b")).as("b ran before the backlog").isLessThan(runs.indexOf("n0"));
            assertThat(runs.indexOf("a-end")).isGreaterThan(runs.indexOf("b"));
            assertThat(runs.stream().filter(s -> s.startsWith("n")).toList()).containsExactlyElementsOf(names("n", 20));
            assertThat(EngineProbe.lentCounts(a.node)).isZero();
            assertThat(EngineProbe.lentCounts(b.node)).isZero();
        }
    }

    @Test
    void aWorkqueueFlushLendsToTheWorksQueuedBeforeIt() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue bulk = c.workqueue("bulk").priority(Priority.LOW).build();
            Workqueue mine = c.workqueue("mine").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gateThenBacklog(bulk, gates, order, 20);
            Work[] m = new Work[3];
            for (int i = 0; i < m.length; i++) {
                m[i] = recording(order, "m" + i);
                mine.queue(m[i]);
            }
            Thread high = waiter(8, mine::flush);
            for (Work w : m) {
                awaitEffective(w, Priority.HIGH);
            }
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 23);
            List<String> expected = new ArrayList<>(names("m", 3));
            expected.addAll(names("b", 20));
            assertThat(new ArrayList<>(order)).containsExactlyElementsOf(expected);
            for (Work w : m) {
                assertThat(EngineProbe.lentCounts(w.node)).isZero();
            }
        }
    }

    @Test
    void behindMaxActiveTheWorksHoldingTheSlotsAreLentToo() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue bulk = c.workqueue("bulk").priority(Priority.LOW).build();
            Workqueue limited = c.workqueue("limited").maxActive(1).priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gateThenBacklog(bulk, gates, order, 20);
            Work m0 = recording(order, "m0"); // active: holds the one slot, behind the bulk
            Work m1 = recording(order, "m1"); // inactive: waits for the slot
            Work m2 = recording(order, "m2"); // inactive, queued after m1
            limited.queue(m0);
            limited.queue(m1);
            limited.queue(m2);
            Thread high = waiter(8, m2::flush);
            awaitEffective(m2, Priority.HIGH);
            awaitEffective(m0, Priority.HIGH);
            assertThat(EngineProbe.effectivePriority(m1.node)).as("m1 need not run first").isEqualTo(Priority.LOW.ordinal());
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 23);
            List<String> runs = new ArrayList<>(order);
            // m0 frees the slot, m2 takes it ahead of m1, then the bulk; m1 whenever the slot frees again
            assertThat(runs.subList(0, 2)).containsExactly("m0", "m2");
            assertThat(runs.stream().filter(s -> s.startsWith("b")).toList()).containsExactlyElementsOf(names("b", 20));
            assertThat(runs).contains("m1");
        }
    }

    @Test
    void behindManySlotsTheWaitedWorkTakesTheFirstFreeOne() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").maxActive(8).priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gates.gate(null, "gate"); // holds one of the 8 slots
            wq.queue(gate.work);
            gate.awaitEntered();
            for (String name : names("b", 30)) { // 7 take the other slots, 23 wait for one
                wq.queue(recording(order, name));
            }
            Work x = recording(order, "x");
            wq.queue(x);
            Thread high = waiter(8, x::flush);
            awaitEffective(x, Priority.HIGH);
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 31);
            // one slot holder is lent HIGH and runs first; x takes the slot it frees. (Lending to all
            // 7 slot holders would have made x the 8th.)
            assertThat(new ArrayList<>(order).subList(0, 2)).containsExactly("b0", "x");
        }
    }

    @Test
    void cancelSyncLendsToTheRunningInstanceThroughItsWait() throws Exception {
        try (Cmwq c = twoCpus(); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate hold = holdCpu1(gates, wq);
            Work b = behindBacklogOnCpu1(wq, order, 10);
            Work a = new Work(() -> b.flush());
            wq.queueOn(0, a);
            await().atMost(BOUND).until(() -> c.poolStats().get(0).blocked() == 1); // a waits for b
            Thread high = waiter(8, a::cancelSync); // a runs: cancelSync waits for it
            awaitEffective(b, Priority.HIGH);
            hold.open = true;
            high.join(BOUND.toMillis());
            assertThat(high.isAlive()).isFalse();
            awaitRuns(order, 11);
            List<String> runs = new ArrayList<>(order);
            assertThat(runs.get(0)).as("b ran before the backlog").isEqualTo("b");
            assertThat(EngineProbe.lentCounts(b.node)).isZero();
        }
    }

    @Test
    void defaultsAndBadInput() throws Exception {
        try (Cmwq c = oneCpu(true)) {
            assertThat(c.workqueue("n").build().priority()).isEqualTo(Priority.NORMAL);
            assertThat(c.workqueue("h").highPriority().build().priority()).isEqualTo(Priority.HIGH);
            assertThat(c.workqueue("hl").highPriority().priority(Priority.LOW).build().priority())
                    .isEqualTo(Priority.LOW);
            Workqueue wq = c.workqueue("u").priority(Priority.URGENT).build();
            assertThat(wq.priority()).isEqualTo(Priority.URGENT);
            Work w = new Work(() -> {});
            assertThatThrownBy(() -> wq.queue(w, null)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("priority");
            assertThatThrownBy(() -> wq.queueOn(0, w, null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.queueOn(1, w, Priority.LOW)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.workqueue("x").priority(null)).isInstanceOf(NullPointerException.class);
            assertThat(w.isPending()).as("nothing queued by bad input").isFalse();
            assertThatThrownBy(() -> Priority.ofThreadPriority(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0");
            assertThat(Priority.ofThreadPriority(1)).isEqualTo(Priority.LOW);
            assertThat(Priority.ofThreadPriority(4)).isEqualTo(Priority.LOW);
            assertThat(Priority.ofThreadPriority(5)).isEqualTo(Priority.NORMAL);
            assertThat(Priority.ofThreadPriority(9)).isEqualTo(Priority.HIGH);
            assertThat(Priority.ofThreadPriority(10)).isEqualTo(Priority.URGENT);
            // on a worker: the priority of the work it runs
            AtomicReference<Priority> seen = new AtomicReference<>();
            Work probe = new Work(() -> seen.set(Priority.current()));
            wq.queue(probe, Priority.HIGH);
            probe.flush();
            assertThat(seen.get()).isEqualTo(Priority.HIGH);
            wq.queue(probe);
            probe.flush();
            assertThat(seen.get()).isEqualTo(Priority.URGENT);
        }
    }

    @Test
    void aFutureGetLendsToItsTask() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            ExecutorService es = wq.asExecutorService();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gateThenBacklog(wq, gates, order, 20);
            Future<String> f = es.submit(() -> {
                order.add("f");
                return "done";
            });
            AtomicReference<Object> got = new AtomicReference<>();
            Thread high = waiter(8, () -> {
                try {
                    got.set(f.get(BOUND.toSeconds(), TimeUnit.SECONDS));
                } catch (InterruptedException | ExecutionException | java.util.concurrent.TimeoutException e) {
                    got.set(e);
                }
            });
            awaitEffective(nodeOf(es, f), Priority.HIGH);
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(got.get()).isEqualTo("done");
            assertRanFirstThenBacklog(order, "f", 20);
        }
    }

    /** Futures follow the one wait protocol too: a HIGH join lends to the supplyAsync task. */
    @Test
    void aSupplyAsyncJoinLendsToItsTask() throws Exception {
        try (Cmwq c = oneCpu(true); Gates gates = new Gates()) {
            Workqueue wq = c.workqueue("background").priority(Priority.LOW).build();
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            Gate gate = gateThenBacklog(wq, gates, order, 20);
            java.util.concurrent.CompletableFuture<String> f = wq.supplyAsync(() -> {
                order.add("f");
                return "done";
            });
            AtomicReference<Object> got = new AtomicReference<>();
            Thread high = waiter(8, () -> got.set(f.join()));
            WorkqueueFuture<String> wf = (WorkqueueFuture<String>) f;
            Awaitility.await().atMost(BOUND).until(() -> EngineProbe.effectivePriority(wf.taskNode()) == Priority.HIGH.ordinal());
            gate.open = true;
            high.join(BOUND.toMillis());
            assertThat(got.get()).isEqualTo("done");
            assertRanFirstThenBacklog(order, "f", 20);
            assertThat(EngineProbe.lentCounts(wf.taskNode())).as("lends taken back").isZero();
        }
    }
}
