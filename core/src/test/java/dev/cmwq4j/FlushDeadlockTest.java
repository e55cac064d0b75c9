package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The flush deadlocks of DESIGN.md section 4 fail fast: an {@link IllegalStateException} that
 * names both parties, thrown within milliseconds, instead of a hang. Also on a rescuer thread,
 * and without false alarms where no deadlock exists.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FlushDeadlockTest {
    /**
     * Throws instead of hanging: the check runs before any wait, so it takes microseconds. The
     * bound is only there to tell "threw" from "waited and then threw", and is wide enough that no
     * busy machine reaches it.
     */
    private static final long FAST_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** A runnable with a readable name, so that messages can be checked for it. */
    private static Runnable named(String name, Runnable body) {
        return new Runnable() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    /** What a call made inside a work threw, and how long it took to throw. */
    private static final class Outcome {
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final AtomicLong nanos = new AtomicLong(-1);
        final CountDownLatch done = new CountDownLatch(1);

        void call(Runnable r) {
            long t0 = System.nanoTime();
            try {
                r.run();
            } catch (Throwable t) {
                thrown.set(t);
            } finally {
                nanos.set(System.nanoTime() - t0);
                done.countDown();
            }
        }

        /** Asserts a fast IllegalStateException whose message contains every one of {@code parts}. */
        void assertFailedFast(String... parts) throws InterruptedException {
            assertThat(done.await(20, TimeUnit.SECONDS)).as("the call returned").isTrue();
            assertThat(thrown.get()).isInstanceOf(IllegalStateException.class);
            for (String p : parts) {
                assertThat(thrown.get().getMessage()).contains(p);
            }
            assertThat(nanos.get()).as("threw within milliseconds (took %d us)", nanos.get() / 1000)
                    .isLessThan(FAST_NANOS);
        }
    }

    @Test
    void aWorkThatFlushesOrSynchronouslyCancelsItselfFailsFast() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("selfish").build();
            Outcome flush = new Outcome();
            Outcome cancel = new Outcome();
            Work[] self = new Work[1];
            self[0] = new Work(named("self-flusher", () -> {
                flush.call(self[0]::flush);
                cancel.call(self[0]::cancelSync);
            }));
            wq.queue(self[0]);
            flush.assertFailedFast("self-flusher", "flush", "itself");
            cancel.assertFailedFast("self-flusher", "cancelSync", "itself");
            self[0].flush();
            assertThat(self[0].isRunning()).isFalse();
        }
    }

    @Test
    void aWorkOfAnOrderedQueueThatFlushesAWorkQueuedBehindItFailsFast() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue ordered = c.workqueue("in-order").ordered().build();
            AtomicInteger behindRuns = new AtomicInteger();
            Work behind = new Work(named("the-one-behind", behindRuns::incrementAndGet));
            DelayedWork armed = new DelayedWork(named("armed-behind", behindRuns::incrementAndGet));
            CountDownLatch queued = new CountDownLatch(1);
            Outcome flush = new Outcome();
            Outcome flushArmed = new Outcome();
            Work first = new Work(named("the-one-ahead", () -> {
                awaitQuietly(queued);
                flush.call(behind::flush);
                flushArmed.call(armed::flush);
            }));
            ordered.queue(first);
            ordered.queue(behind);
            // armed on the ordered queue: flushing it queues it now, behind the running work
            ordered.queueDelayed(armed, Duration.ofHours(1));
            queued.countDown();
            flush.assertFailedFast("the-one-ahead", "in-order", "the-one-behind", "behind it");
            flushArmed.assertFailedFast("the-one-ahead", "in-order", "armed-behind", "behind it");
            ordered.flush();
            assertThat(behindRuns).as("both still ran, after the work ahead").hasValue(2);
        }
    }

    @Test
    void aWorkThatFlushesDrainsOrClosesItsOwnWorkqueueFailsFast() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            for (boolean unbound : new boolean[] {false, true}) {
                Workqueue wq = unbound ? c.workqueue("own-u").unbound().build() : c.workqueue("own").build();
                Outcome flush = new Outcome();
                Outcome drain = new Outcome();
                Outcome close = new Outcome();
                Work w = new Work(named("own-flusher", () -> {
                    flush.call(wq::flush);
                    drain.call(wq::drain);
                    close.call(wq::close);
                }));
                wq.queue(w);
                flush.assertFailedFast("own-flusher", wq.name(), "flushes its own workqueue");
                drain.assertFailedFast("own-flusher", wq.name(), "drains its own workqueue");
                close.assertFailedFast("own-flusher", wq.name(), "closes its own workqueue");
                w.flush();
                // the failed drain and close left the workqueue open and usable
                assertThat(wq.isClosed()).isFalse();
                AtomicInteger ran = new AtomicInteger();
                assertThat(wq.queue(new Work(ran::incrementAndGet))).isTrue();
                wq.close();
                assertThat(ran).hasValue(1);
            }
        }
    }

    @Test
    void theSameCasesFailFastOnARescuer() throws Exception {
        FaultyThreadFactory factory = new FaultyThreadFactory();
        try (Cmwq c = Cmwq.builder().cpus(1).threadFactory(factory).threadNamePrefix("dl-").build()) {
            Workqueue reclaim = c.workqueue("rescued").memReclaim().build();
            factory.failAfter(0); // every work of the queue runs on its rescuer
            Outcome selfFlush = new Outcome();
            Outcome queueFlush = new Outcome();
            AtomicReference<String> thread = new AtomicReference<>();
            Work[] self = new Work[1];
            self[0] = new Work(named("rescued-work", () -> {
                thread.set(Thread.currentThread().getName());
                selfFlush.call(self[0]::flush);
                queueFlush.call(reclaim::flush);
            }));
            reclaim.queue(self[0]);
            selfFlush.assertFailedFast("rescued-work", "itself");
            queueFlush.assertFailedFast("rescued-work", "rescued", "flushes its own workqueue");
            assertThat(thread.get()).isEqualTo("dl-rescuer-rescued");
            reclaim.close();
            factory.recover();
        }
    }

    @Test
    void flushesThatCannotDeadlockDoNotThrow() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            Workqueue plain = c.workqueue("plain").build();
            Workqueue ordered = c.workqueue("ordered-a").ordered().build();
            Workqueue otherOrdered = c.workqueue("ordered-b").ordered().build();
            AtomicInteger ran = new AtomicInteger();
            Outcome siblingFlush = new Outcome();
            Outcome otherQueueFlush = new Outcome();
            Outcome otherWqFlush = new Outcome();
            Work sibling = new Work(ran::incrementAndGet);
            Work onOther = new Work(ran::incrementAndGet);
            CountDownLatch queued = new CountDownLatch(1);
            // a plain queue runs works side by side: flushing one queued behind is fine
            plain.queue(new Work(() -> {
                plain.queue(sibling);
                siblingFlush.call(sibling::flush);
            }));
            // an ordered queue's work may flush a work of another ordered queue, and that queue
            ordered.queue(new Work(() -> {
                awaitQuietly(queued);
                otherQueueFlush.call(onOther::flush);
                otherWqFlush.call(otherOrdered::flush);
            }));
            otherOrdered.queue(onOther);
            queued.countDown();
            for (Outcome o : new Outcome[] {siblingFlush, otherQueueFlush, otherWqFlush}) {
                assertThat(o.done.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(o.thrown.get()).isNull();
            }
            plain.flush();
            ordered.flush();
            assertThat(ran).hasValue(2);
        }
    }

    private static void awaitQuietly(CountDownLatch l) {
        Blocking.run(() -> {
            try {
                l.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
