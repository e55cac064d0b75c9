package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine's side of deferred publication ({@link Engine.Publisher#pollAfterNanos},
 * {@link Engine.Publisher#poll}): while its publisher says publications wait, the engine's service
 * thread polls it, again and again as long as each poll asks, and no more once one says nothing
 * waits; a publication on a running engine that leaves something waiting arms the poll again.
 */
class PublisherPollTest {
    private static final long POLL_NANOS = 1_000_000L;

    /** Waits for {@link #waiting} polls; records the threads that polled. */
    private static final class CountingPublisher implements Engine.Publisher {
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger polls = new AtomicInteger();
        final List<String> pollers = new CopyOnWriteArrayList<>();

        @Override
        public Object publishPool(String cmwq, Engine.PoolSource pool) {
            return null;
        }

        @Override
        public Object publishWorkqueue(String cmwq, WorkqueueCore wq) {
            return null;
        }

        @Override
        public void unpublish(Object token) {}

        @Override
        public long pollAfterNanos() {
            return waiting.get() > 0 ? POLL_NANOS : -1;
        }

        @Override
        public long poll() {
            polls.incrementAndGet();
            pollers.add(Thread.currentThread().getName());
            return waiting.decrementAndGet() > 0 ? POLL_NANOS : -1;
        }
    }

    private static Engine engine(String prefix, Engine.Publisher publisher) {
        return new Engine(new Engine.Config("publisher-poll", 1, 16, 300_000_000_000L, 200_000, 2_000_000, 100_000,
                1_000_000_000L, 20_000, 64, 10_000_000, 250_000, 20_000_000, 30_000_000_000L, r -> { },
                Thread::new, prefix, (work, wq, error) -> { }, publisher, true, false, true, true));
    }

    @Test
    void theServiceThreadPollsWhileThePublisherAsksAndAPublicationArmsItAgain() {
        String prefix = "publisher-poll-" + System.nanoTime() + "-";
        CountingPublisher p = new CountingPublisher();
        p.waiting.set(5);
        Engine e = engine(prefix, p);
        e.start(); // publishes the pools, then asks the publisher
        try {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> p.polls.get() >= 5);
            assertThat(p.pollers).as("polled on the service thread only").containsOnly(prefix + "monitor");
            assertThat(p.waiting.get()).isZero();

            // nothing waits: no further poll, however long; a new publication that leaves
            // something waiting arms the poll again
            int before = p.polls.get();
            p.waiting.set(3);
            e.newWorkqueue(new WorkqueueCore.Spec("q", false, false, false, false, 4, Inheritance.NORMAL, false,
                    false));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> p.polls.get() >= before + 3);
            assertThat(p.polls.get()).as("polls for the second wait").isEqualTo(before + 3);
        } finally {
            e.shutdown();
        }
    }

    /**
     * A publication at the end of a stack, where arming a timer throws, leaves the arming to the
     * service thread ({@link Engine#publisherPollWanted}, as its catch sets it): the service
     * thread arms the poll at its next scan, and the publisher is polled.
     */
    @Test
    void theServiceThreadArmsThePollAPublicationCouldNot() {
        String prefix = "publisher-poll-wanted-" + System.nanoTime() + "-";
        CountingPublisher p = new CountingPublisher();
        Engine e = engine(prefix, p);
        e.start(); // nothing waits: no poll armed
        try {
            p.waiting.set(2);
            e.publisherPollWanted = true; // what the catch in pollPublisherIfWaiting does
            e.monitor.nudge();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> p.polls.get() >= 2);
            assertThat(p.pollers).containsOnly(prefix + "monitor");
            assertThat(e.publisherPollWanted).isFalse();
        } finally {
            e.shutdown();
        }
    }
}
