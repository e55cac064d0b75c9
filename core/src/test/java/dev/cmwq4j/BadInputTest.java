package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad arguments fail at once with a clear exception, and never lose work already queued. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BadInputTest {

    private static Cmwq newCmwq(int cpus) {
        return Cmwq.builder().cpus(cpus).threadNamePrefix("badinput-").build();
    }

    private static void assertNpe(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(NullPointerException.class)
                .message().isNotBlank();
    }

    // ---------------------------------------------------------------------------------------
    // Nulls

    @Test
    void nullWorkIsRejectedByEveryQueueingMethod() {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("null-work").build();
            assertThatThrownBy(() -> wq.queue(null)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("work");
            assertThatThrownBy(() -> wq.queueOn(0, null)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("work");
            assertThatThrownBy(() -> wq.queueDelayed(null, Duration.ofMillis(10)))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("work");
            assertThatThrownBy(() -> wq.queueDelayed(null, 10, TimeUnit.MILLISECONDS))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("work");
            assertThatThrownBy(() -> wq.queueDelayedOn(0, null, Duration.ofMillis(10)))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("work");
            assertThatThrownBy(() -> wq.modDelayed(null, Duration.ofMillis(10)))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("work");
            // A null delay or unit is just as clear.
            DelayedWork d = new DelayedWork(() -> {});
            assertNpe(() -> wq.queueDelayed(d, null));
            assertNpe(() -> wq.queueDelayed(d, 10, null));
            assertNpe(() -> wq.modDelayed(d, null));
            assertThat(d.isPending()).isFalse();
        }
    }

    @Test
    void nullRunnableIsRejected() {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("null-runnable").build();
            assertNpe(() -> new Work(null));
            assertNpe(() -> new DelayedWork(null));
            assertNpe(() -> wq.execute(null));
            assertNpe(() -> wq.asExecutorService().execute(null));
            assertNpe(() -> wq.asExecutorService().submit((Runnable) null));
            assertNpe(() -> Blocking.run(null));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Delays

    @Test
    void negativeDelayIsRejectedWithAMessageAboutTheDelay() {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("negative-delay").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork d = new DelayedWork(runs::incrementAndGet);
            assertThatThrownBy(() -> wq.queueDelayed(d, Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
            assertThatThrownBy(() -> wq.queueDelayed(d, -5, TimeUnit.SECONDS))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
            assertThatThrownBy(() -> wq.queueDelayedOn(0, d, Duration.ofNanos(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
            assertThatThrownBy(() -> wq.modDelayed(d, Duration.ofSeconds(-3)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
            // The rejected calls left the work idle: it can be queued normally afterwards.
            assertThat(d.isPending()).isFalse();
            assertThat(wq.queueDelayed(d, Duration.ZERO)).isTrue();
            d.flush();
            assertThat(runs).hasValue(1);
        }
    }

    // ---------------------------------------------------------------------------------------
    // maxActive

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 513, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void outOfRangeMaxActiveIsRejectedByTheBuilder(int bad) {
        try (Cmwq c = newCmwq(1)) {
            assertThatThrownBy(() -> c.workqueue("bad-max").maxActive(bad).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxActive").hasMessageContaining(String.valueOf(bad));
            assertThatThrownBy(() -> c.workqueue("bad-max-unbound").unbound().maxActive(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxActive");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 513})
    void outOfRangeSetMaxActiveIsRejectedAndLeavesTheLimitUnchanged(int bad) {
        try (Cmwq c = newCmwq(1)) {
            Workqueue wq = c.workqueue("bad-set-max").maxActive(3).build();
            assertThatThrownBy(() -> wq.setMaxActive(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxActive").hasMessageContaining(String.valueOf(bad));
            assertThat(wq.maxActive()).isEqualTo(3);
        }
    }

    @Test
    void boundaryMaxActiveValuesAreAccepted() {
        try (Cmwq c = newCmwq(1)) {
            assertThat(c.workqueue("max1").maxActive(1).build().maxActive()).isEqualTo(1);
            Workqueue wq = c.workqueue("max512").maxActive(Workqueue.MAX_MAX_ACTIVE).build();
            assertThat(wq.maxActive()).isEqualTo(512);
            wq.setMaxActive(1);
            assertThat(wq.maxActive()).isEqualTo(1);
        }
    }

    @Test
    void orderedWithMaxActiveOtherThanOneIsRejected() {
        try (Cmwq c = newCmwq(1)) {
            assertThatThrownBy(() -> c.workqueue("ordered2").ordered().maxActive(2).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxActive");
            assertThatThrownBy(() -> c.workqueue("ordered2b").maxActive(2).ordered().build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxActive");
            Workqueue ordered = c.workqueue("ordered").ordered().build();
            assertThat(ordered.maxActive()).isEqualTo(1);
            assertThatThrownBy(() -> ordered.setMaxActive(2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxActive");
            assertThat(ordered.maxActive()).isEqualTo(1);
            ordered.setMaxActive(1); // allowed
        }
    }

    // ---------------------------------------------------------------------------------------
    // CPU index

    @Test
    void outOfRangeCpuIsRejected() {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("bad-cpu").build();
            Workqueue unbound = c.workqueue("bad-cpu-unbound").unbound().build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work(runs::incrementAndGet);
            DelayedWork d = new DelayedWork(runs::incrementAndGet);
            for (int bad : new int[] {-1, 2, 3, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                assertThatThrownBy(() -> wq.queueOn(bad, w)).as("queueOn(%d)", bad)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("cpu").hasMessageContaining(String.valueOf(bad));
                assertThatThrownBy(() -> unbound.queueOn(bad, w)).as("unbound queueOn(%d)", bad)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cpu");
            }
            assertThatThrownBy(() -> wq.queueDelayedOn(2, d, Duration.ofMillis(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cpu");
            assertThatThrownBy(() -> wq.queueDelayedOn(-2, d, Duration.ofMillis(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cpu");
            // Nothing was claimed by the rejected calls.
            assertThat(w.isPending()).isFalse();
            assertThat(d.isPending()).isFalse();
            // The valid edge works.
            assertThat(wq.queueOn(c.cpus() - 1, w)).isTrue();
            w.flush();
            assertThat(runs).hasValue(1);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Cmwq.builder()

    @Test
    void cmwqBuilderRejectsBadValues() {
        assertThatThrownBy(() -> Cmwq.builder().cpus(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpus");
        assertThatThrownBy(() -> Cmwq.builder().cpus(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpus");
        assertThatThrownBy(() -> Cmwq.builder().cpus(4097)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpus");
        assertThatThrownBy(() -> Cmwq.builder().idleTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> Cmwq.builder().idleTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> Cmwq.builder().stallWindow(Duration.ofNanos(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stallWindow");
        assertThatThrownBy(() -> Cmwq.builder().stealThreshold(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stealThreshold");
        assertThatThrownBy(() -> Cmwq.builder().createCooldown(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("createCooldown");
        assertThatThrownBy(() -> Cmwq.builder().maxThreads(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxThreads");
        assertThatThrownBy(() -> Cmwq.builder().maxThreads(-5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxThreads");
        assertNpe(() -> Cmwq.builder().idleTimeout(null));
        assertNpe(() -> Cmwq.builder().stallWindow(null));
        assertNpe(() -> Cmwq.builder().stealThreshold(null));
        assertNpe(() -> Cmwq.builder().createCooldown(null));
        assertNpe(() -> Cmwq.builder().threadFactory(null));
        assertNpe(() -> Cmwq.builder().threadNamePrefix(null));
        assertNpe(() -> Cmwq.builder().failureHandler(null));
        try (Cmwq c = newCmwq(1)) {
            assertNpe(() -> c.workqueue(null));
        }
        assertNpe(() -> Workqueue.builder(null));
    }

    @Test
    void cmwqBuilderAcceptsBoundaryValues() {
        try (Cmwq c = Cmwq.builder().cpus(1).stallWindow(Duration.ZERO).stealThreshold(Duration.ZERO)
                .maxThreads(1).build()) {
            assertThat(c.cpus()).isEqualTo(1);
            Workqueue wq = c.workqueue("edge").build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work(runs::incrementAndGet);
            wq.queue(w);
            w.flush();
            assertThat(runs).hasValue(1);
        }
    }

    @Test
    void sharedInstanceCannotBeClosed() {
        assertThatThrownBy(() -> Cmwq.shared().close()).isInstanceOf(UnsupportedOperationException.class);
        // And it still works afterwards.
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work(runs::incrementAndGet);
        assertThat(Workqueues.system().queue(w)).isTrue();
        w.flush();
        assertThat(runs).hasValue(1);
    }

    // ---------------------------------------------------------------------------------------
    // After close

    @Test
    void queueingAfterCloseThrowsRejectedExecutionException() {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("closed").build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work(runs::incrementAndGet);
            DelayedWork d = new DelayedWork(runs::incrementAndGet);
            wq.close();
            assertThat(wq.isClosed()).isTrue();
            assertThatThrownBy(() -> wq.queue(w)).isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> wq.queueOn(0, w)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> wq.execute(runs::incrementAndGet))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> wq.queueDelayed(d, Duration.ofMillis(10)))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> wq.queueDelayed(d, Duration.ZERO))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> wq.modDelayed(d, Duration.ofMillis(10)))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> wq.asExecutorService().submit(() -> 1))
                    .isInstanceOf(RejectedExecutionException.class);
            // close is idempotent, and the rejected works were not claimed.
            wq.close();
            assertThat(w.isPending()).isFalse();
            assertThat(d.isPending()).isFalse();
            assertThat(runs).hasValue(0);
            // The same works can go to another workqueue.
            Workqueue other = c.workqueue("other").build();
            assertThat(other.queue(w)).isTrue();
            w.flush();
            assertThat(runs).hasValue(1);
        }
    }

    @Test
    void queueingAfterCmwqCloseThrowsRejectedExecutionException() {
        Cmwq c = newCmwq(1);
        Workqueue wq = c.workqueue("closed-with-cmwq").build();
        c.close();
        assertThat(wq.isClosed()).isTrue();
        assertThatThrownBy(() -> wq.queue(new Work(() -> {}))).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> wq.execute(() -> {})).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> wq.queueDelayed(new DelayedWork(() -> {}), Duration.ofMillis(5)))
                .isInstanceOf(RejectedExecutionException.class);
    }

    // ---------------------------------------------------------------------------------------
    // Nothing already queued is lost

    @Test
    void badCallsLoseNothingAlreadyQueued() throws Exception {
        try (Cmwq c = newCmwq(1)) {
            // One CPU and maxActive 1: while the gate work holds the only slot, the rest wait.
            Workqueue wq = c.workqueue("lose-nothing").maxActive(1).build();
            CountDownLatch gateStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Work gate = new Work(() -> {
                gateStarted.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(wq.queue(gate)).isTrue();
            assertThat(gateStarted.await(10, TimeUnit.SECONDS)).isTrue();

            int n = 200;
            AtomicInteger[] runs = new AtomicInteger[n];
            ConcurrentLinkedQueue<Integer> order = new ConcurrentLinkedQueue<>();
            List<Work> works = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                AtomicInteger r = runs[i] = new AtomicInteger();
                int id = i;
                Work w = new Work(() -> {
                    r.incrementAndGet();
                    order.add(id);
                });
                works.add(w);
                assertThat(i % 2 == 0 ? wq.queue(w) : wq.queueOn(0, w)).isTrue();
            }
            AtomicInteger delayedRuns = new AtomicInteger();
            DelayedWork delayed = new DelayedWork(delayedRuns::incrementAndGet);
            assertThat(wq.queueDelayed(delayed, Duration.ofMillis(50))).isTrue();
            assertThat(works).allSatisfy(w -> assertThat(w.isPending()).isTrue());

            // Every kind of bad call, while they are pending.
            Work pendingOne = works.get(n / 2);
            Work fresh = new Work(() -> {});
            assertThatThrownBy(() -> wq.queue(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.queueOn(-1, pendingOne)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.queueOn(c.cpus(), pendingOne)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.queueOn(1, fresh)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.execute(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.queueDelayed(delayed, Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.modDelayed(delayed, Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.modDelayed(null, Duration.ZERO)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> wq.setMaxActive(0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.setMaxActive(513)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> wq.setMaxActive(-1)).isInstanceOf(IllegalArgumentException.class);
            // Re-queueing a pending work is not an error, and does not duplicate it.
            assertThat(wq.queue(pendingOne)).isFalse();
            assertThat(wq.queueOn(0, pendingOne)).isFalse();
            assertThat(wq.queueDelayed(delayed, Duration.ofMillis(1))).isFalse();
            assertThat(wq.maxActive()).isEqualTo(1);
            assertThat(works).allSatisfy(w -> assertThat(w.isPending()).isTrue());
            assertThat(order).isEmpty();

            release.countDown();
            wq.flush();
            delayed.flush();
            for (int i = 0; i < n; i++) {
                assertThat(runs[i]).as("runs of work %d", i).hasValue(1);
            }
            assertThat(delayedRuns).hasValue(1);
            assertThat(fresh.isPending()).isFalse();
            // One CPU, maxActive 1: they ran in queueing order.
            assertThat(new ArrayList<>(order)).isSorted().hasSize(n);
            // Still nothing runs twice once everything is idle.
            wq.drain();
            for (int i = 0; i < n; i++) {
                assertThat(runs[i]).as("runs of work %d after drain", i).hasValue(1);
            }
        }
    }

    @Test
    void closeWhileWorksArePendingRunsEveryOneBeforeReturning() throws Exception {
        try (Cmwq c = newCmwq(2)) {
            Workqueue wq = c.workqueue("close-drains").maxActive(1).build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch gatesStarted = new CountDownLatch(1);
            Work gate = new Work(() -> {
                gatesStarted.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(wq.queueOn(0, gate)).isTrue();
            assertThat(gatesStarted.await(10, TimeUnit.SECONDS)).isTrue();

            int n = 300;
            AtomicInteger[] runs = new AtomicInteger[n];
            for (int i = 0; i < n; i++) {
                AtomicInteger r = runs[i] = new AtomicInteger();
                if (i % 3 == 0) {
                    wq.execute(r::incrementAndGet);
                } else {
                    assertThat(wq.queueOn(i % 2, new Work(r::incrementAndGet))).isTrue();
                }
            }
            // Armed to fire well after the gate opens: close() must wait for the timer too.
            AtomicInteger delayedRuns = new AtomicInteger();
            assertThat(wq.queueDelayed(new DelayedWork(delayedRuns::incrementAndGet), Duration.ofMillis(1500)))
                    .isTrue();

            CompletableFuture<Void> closing = CompletableFuture.runAsync(wq::close);
            // close() does not return while the gate holds works back.
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !closing.isDone());
            assertThat(wq.isClosed()).isFalse();
            // While it drains, outsiders cannot queue.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThatThrownBy(() -> wq.execute(() -> {})).isInstanceOf(RejectedExecutionException.class));

            release.countDown();
            closing.get(20, TimeUnit.SECONDS);
            assertThat(wq.isClosed()).isTrue();
            // Every work queued before close ran exactly once by the time close returned.
            for (int i = 0; i < n; i++) {
                assertThat(runs[i]).as("runs of work %d", i).hasValue(1);
            }
            assertThat(delayedRuns).as("armed delayed work ran before close returned").hasValue(1);
            assertThatThrownBy(() -> wq.queue(gate)).isInstanceOf(RejectedExecutionException.class);
        }
    }

    @Test
    void cmwqCloseWhileWorksArePendingRunsEveryOneBeforeReturning() throws Exception {
        Cmwq c = newCmwq(1);
        Workqueue a = c.workqueue("cmwq-close-a").maxActive(1).build();
        Workqueue b = c.workqueue("cmwq-close-b").unbound().maxActive(1).build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(2);
        Runnable gate = () -> {
            started.countDown();
            Blocking.run(() -> {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        };
        a.execute(gate);
        b.execute(gate);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        int n = 100;
        AtomicInteger ranA = new AtomicInteger();
        AtomicInteger ranB = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            a.execute(ranA::incrementAndGet);
            b.execute(ranB::incrementAndGet);
        }
        CompletableFuture<Void> closing = CompletableFuture.runAsync(c::close);
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !closing.isDone());
        release.countDown();
        closing.get(20, TimeUnit.SECONDS);
        assertThat(ranA).hasValue(n);
        assertThat(ranB).hasValue(n);
        assertThat(a.isClosed()).isTrue();
        assertThat(b.isClosed()).isTrue();
        assertThatThrownBy(() -> a.execute(() -> {})).isInstanceOf(RejectedExecutionException.class);
    }
}
