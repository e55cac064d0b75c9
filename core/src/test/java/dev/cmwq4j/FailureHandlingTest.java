package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What happens when a work throws, overflows its stack, or leaves its thread interrupted. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FailureHandlingTest {

    /** One report to the failure handler. */
    private record Failure(Work work, Throwable error, Thread thread) {}

    private static final class Recorder implements BiConsumer<Work, Throwable> {
        final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();

        @Override
        public void accept(Work work, Throwable error) {
            failures.add(new Failure(work, error, Thread.currentThread()));
        }
    }

    private static Cmwq newCmwq(int cpus, BiConsumer<? super Work, ? super Throwable> handler) {
        return Cmwq.builder().cpus(cpus).threadNamePrefix("failure-").failureHandler(handler).build();
    }

    @Test
    void exceptionGoesToTheFailureHandlerWithTheWorkAndTheWorkerCarriesOn() throws Exception {
        Recorder rec = new Recorder();
        try (Cmwq c = newCmwq(1, rec)) {
            Workqueue wq = c.workqueue("throws").build();
            RuntimeException boom = new IllegalStateException("boom");
            List<String> order = new ArrayList<>(); // written by one worker, read after flush
            AtomicReference<Thread> failingThread = new AtomicReference<>();
            AtomicReference<Thread> nextThread = new AtomicReference<>();
            Work failing = new Work(() -> {
                failingThread.set(Thread.currentThread());
                order.add("failing");
                throw boom;
            });
            Work next = new Work(() -> {
                nextThread.set(Thread.currentThread());
                order.add("next");
            });
            Work last = new Work(() -> order.add("last"));
            // Queued from a work: all three land on that worker's pool while it is busy, so the
            // same worker runs them one after the other.
            Work parent = new Work(() -> {
                order.add("parent");
                wq.queue(failing);
                wq.queue(next);
                wq.queue(last);
            });
            wq.queue(parent);
            parent.flush();
            wq.flush();

            assertThat(order).containsExactly("parent", "failing", "next", "last");
            assertThat(rec.failures).hasSize(1);
            Failure f = rec.failures.peek();
            assertThat(f.work()).isSameAs(failing);
            assertThat(f.error()).isSameAs(boom);
            assertThat(f.thread()).as("reported on the worker that ran it").isSameAs(failingThread.get());
            assertThat(nextThread.get()).as("the same worker went on with the next work")
                    .isSameAs(failingThread.get());
            assertThat(failingThread.get().isAlive()).isTrue();
            assertThat(failing.isRunning()).isFalse();
            assertThat(failing.isPending()).isFalse();

            // The failed work is reusable, and its flush does not hang.
            assertThat(wq.queue(failing)).isTrue();
            failing.flush();
            assertThat(rec.failures).hasSize(2);
            assertThat(order).endsWith("failing");
        }
    }

    @Test
    void exceptionsFromOneShotAndDelayedWorksAreReportedToo() throws Exception {
        Recorder rec = new Recorder();
        try (Cmwq c = newCmwq(2, rec)) {
            Workqueue wq = c.workqueue("throws-many").build();
            Workqueue unbound = c.workqueue("throws-unbound").unbound().build();
            int n = 50;
            AtomicInteger ok = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                int id = i;
                wq.execute(() -> {
                    throw new IllegalArgumentException("bound " + id);
                });
                unbound.execute(() -> {
                    throw new IllegalArgumentException("unbound " + id);
                });
                wq.execute(ok::incrementAndGet);
                unbound.execute(ok::incrementAndGet);
            }
            DelayedWork delayed = new DelayedWork(() -> {
                throw new UnsupportedOperationException("delayed");
            });
            wq.queueDelayed(delayed, java.time.Duration.ofMillis(10));
            delayed.flush();
            wq.flush();
            unbound.flush();
            assertThat(ok).hasValue(2 * n);
            assertThat(rec.failures).hasSize(2 * n + 1);
            assertThat(rec.failures).allSatisfy(f -> assertThat(f.work()).isNotNull());
            assertThat(rec.failures).anySatisfy(f -> {
                assertThat(f.work()).isSameAs(delayed);
                assertThat(f.error()).isInstanceOf(UnsupportedOperationException.class).hasMessage("delayed");
            });
            assertThat(rec.failures.stream().map(f -> f.error().getMessage()))
                    .filteredOn(m -> m.startsWith("bound ")).hasSize(n).doesNotHaveDuplicates();
            assertThat(rec.failures.stream().map(f -> f.error().getMessage()))
                    .filteredOn(m -> m.startsWith("unbound ")).hasSize(n).doesNotHaveDuplicates();
        }
    }

    @Test
    void stackOverflowLeavesThePoolWorking() throws Exception {
        Recorder rec = new Recorder();
        // A deep recursion can burn past the 10 ms CPU-intensive threshold; flagged, it would let
        // the next work start on another worker, and this test checks that the same worker
        // survives the overflow and goes on. For the same reason no block detection (a stall
        // window of an hour): descheduled on a busy machine, the recursing thread could look
        // blocked in native code (one loaded CI run saw the next work on a second worker).
        try (Cmwq c = Cmwq.builder().cpus(1).threadNamePrefix("failure-").failureHandler(rec)
                .cpuIntensiveThreshold(java.time.Duration.ofSeconds(30))
                .stallWindow(java.time.Duration.ofHours(1)).build()) {
            Workqueue wq = c.workqueue("overflow").build();
            AtomicReference<Thread> overflowThread = new AtomicReference<>();
            Work overflow = new Work(() -> {
                overflowThread.set(Thread.currentThread());
                recurse(0);
            });
            AtomicInteger after = new AtomicInteger();
            AtomicReference<Thread> afterThread = new AtomicReference<>();
            CountDownLatch nextRan = new CountDownLatch(1);
            Work next = new Work(() -> {
                afterThread.set(Thread.currentThread());
                after.incrementAndGet();
                nextRan.countDown();
            });
            Work parent = new Work(() -> {
                wq.queue(overflow);
                wq.queue(next);
            });
            wq.queue(parent);
            // A timed wait first: if the overflow killed the worker, this fails instead of hanging.
            assertThat(nextRan.await(10, TimeUnit.SECONDS)).as("the work after the overflow ran").isTrue();
            wq.flush();

            assertThat(rec.failures).hasSize(1);
            Failure f = rec.failures.peek();
            assertThat(f.work()).isSameAs(overflow);
            assertThat(f.error()).isInstanceOf(StackOverflowError.class);
            assertThat(after).hasValue(1);
            assertThat(afterThread.get()).isSameAs(overflowThread.get());

            // The pool still runs a burst of works, including another overflow.
            assertThat(wq.queue(overflow)).isTrue();
            CountDownLatch burst = new CountDownLatch(500);
            for (int i = 0; i < 500; i++) {
                wq.execute(burst::countDown);
            }
            assertThat(burst.await(10, TimeUnit.SECONDS)).isTrue();
            overflow.flush();
            assertThat(rec.failures).hasSize(2);
            assertThat(c.threads()).isLessThan(10);
        }
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @Test
    void aFailureHandlerThatThrowsDoesNotStopTheWorker() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        BiConsumer<Work, Throwable> bad = (w, e) -> {
            handled.incrementAndGet();
            throw new IllegalStateException("handler fails too (expected in this test)");
        };
        try (Cmwq c = newCmwq(1, bad)) {
            Workqueue wq = c.workqueue("bad-handler").build();
            AtomicInteger after = new AtomicInteger();
            Work failing = new Work(() -> {
                throw new RuntimeException("work fails (expected in this test)");
            });
            CountDownLatch nextRan = new CountDownLatch(1);
            Work next = new Work(() -> {
                after.incrementAndGet();
                nextRan.countDown();
            });
            Work parent = new Work(() -> {
                wq.queue(failing);
                wq.queue(next);
            });
            wq.queue(parent);
            assertThat(nextRan.await(10, TimeUnit.SECONDS)).as("the work after the failure ran").isTrue();
            wq.flush();
            assertThat(handled).hasValue(1);
            assertThat(after).hasValue(1);
            assertThat(wq.queue(next)).isTrue();
            next.flush();
            assertThat(after).hasValue(2);
        }
    }

    @Test
    void anInterruptSetByOneWorkIsNotVisibleToTheNextOnTheSameCpu() throws Exception {
        Recorder rec = new Recorder();
        try (Cmwq c = newCmwq(1, rec)) {
            Workqueue wq = c.workqueue("interrupt").build();
            AtomicReference<Thread> interrupterThread = new AtomicReference<>();
            AtomicReference<Thread> nextThread = new AtomicReference<>();
            AtomicBoolean interrupterSawItSet = new AtomicBoolean();
            AtomicReference<Boolean> nextSawInterrupt = new AtomicReference<>();
            Work interrupter = new Work(() -> {
                interrupterThread.set(Thread.currentThread());
                Thread.currentThread().interrupt();
                interrupterSawItSet.set(Thread.currentThread().isInterrupted());
            });
            Work next = new Work(() -> {
                nextThread.set(Thread.currentThread());
                nextSawInterrupt.set(Thread.currentThread().isInterrupted());
            });
            // Queued from a work on CPU 0, so that both run back to back on the same worker.
            Work parent = new Work(() -> {
                wq.queueOn(0, interrupter);
                wq.queueOn(0, next);
            });
            wq.queueOn(0, parent);
            wq.flush();
            interrupter.flush();
            next.flush();

            assertThat(interrupterSawItSet).as("the interrupt was really set").isTrue();
            assertThat(nextThread.get()).as("same worker").isSameAs(interrupterThread.get());
            assertThat(nextSawInterrupt.get()).as("interrupt leaked into the next work").isFalse();
            assertThat(rec.failures).isEmpty();
        }
    }

    @Test
    void anInterruptIsNotVisibleToTheNextWorkAfterTheWorkerWasIdle() throws Exception {
        Recorder rec = new Recorder();
        // One worker thread in all, so every later work runs on the thread that was interrupted.
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).threadNamePrefix("failure-")
                .failureHandler(rec).build()) {
            Workqueue wq = c.workqueue("interrupt-idle").build();
            AtomicReference<Thread> first = new AtomicReference<>();
            Work interrupter = new Work(() -> {
                first.set(Thread.currentThread());
                Thread.currentThread().interrupt();
                throw new IllegalStateException("and it throws (expected in this test)");
            });
            wq.queueOn(0, interrupter);
            interrupter.flush();
            assertThat(rec.failures).hasSize(1);

            // Several later works on the same CPU; none of them sees an interrupt, and a blocking
            // call in them is not cut short.
            int n = 20;
            ConcurrentLinkedQueue<Boolean> seen = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Thread> threads = new ConcurrentLinkedQueue<>();
            AtomicInteger awaitsCompleted = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                Work w = new Work(() -> {
                    threads.add(Thread.currentThread());
                    seen.add(Thread.currentThread().isInterrupted());
                    try {
                        new CountDownLatch(0).await(1, TimeUnit.MILLISECONDS);
                        Thread.sleep(0);
                        awaitsCompleted.incrementAndGet();
                    } catch (InterruptedException e) {
                        // would be the leaked interrupt
                    }
                });
                wq.queueOn(0, w);
                w.flush();
            }
            assertThat(seen).hasSize(n).containsOnly(false);
            assertThat(awaitsCompleted).hasValue(n);
            assertThat(threads).containsOnly(first.get());
        }
    }
}
