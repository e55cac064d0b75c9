package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The backlog the stealing stress tests put on CPU 0's pool of a 2-CPU engine: {@value #WORKS}
 * works of a few microseconds, queued in rounds from a work on CPU 0 (unpinned), each re-queueing
 * itself now and then while it runs, and a thread cancelling at random. It counts what the
 * invariants need: overlaps of a work with itself, runs, successful queues and cancels (and
 * cancels in progress), runs on CPU 1.
 */
final class RequeueingBacklog {
    static final int WORKS = 256;

    final Workqueue wq;
    final Work[] works = new Work[WORKS];
    final AtomicInteger overlaps = new AtomicInteger();
    final LongAdder runs = new LongAdder();
    final LongAdder queued = new LongAdder();
    final LongAdder cancelled = new LongAdder();
    /** Cancels called and not yet counted: an instance they resolved may not be in {@link #cancelled} yet. */
    final AtomicInteger cancelling = new AtomicInteger();
    final LongAdder onCpu1 = new LongAdder();
    final LongAdder selfQueues = new LongAdder();
    final AtomicBoolean producing = new AtomicBoolean(true);
    private final Thread canceller;
    private int rounds;

    /** @param spinNanos what each run spins */
    RequeueingBacklog(Workqueue wq, long spinNanos) {
        this.wq = wq;
        AtomicBoolean[] inside = new AtomicBoolean[WORKS];
        for (int i = 0; i < WORKS; i++) {
            int id = i;
            inside[i] = new AtomicBoolean();
            works[i] = new Work("w" + i, () -> {
                if (inside[id].getAndSet(true)) {
                    overlaps.incrementAndGet();
                }
                TestSupport.spin(spinNanos);
                if (Thread.currentThread().getName().contains("-cpu1-")) {
                    onCpu1.increment();
                }
                runs.increment();
                inside[id].set(false);
                if (producing.get() && ThreadLocalRandom.current().nextInt(16) == 0 && wq.queue(works[id])) {
                    queued.increment(); // re-queued while it runs: a second instance behind it
                    selfQueues.increment();
                }
            });
        }
        canceller = new Thread(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            while (producing.get()) {
                cancelling.incrementAndGet();
                if (works[r.nextInt(WORKS)].cancel()) {
                    cancelled.increment();
                }
                cancelling.decrementAndGet();
                TestSupport.spin(10_000); // a cancel now and then: most instances run
            }
        }, "canceller");
    }

    void startCanceller() {
        canceller.start();
    }

    /** Queues every work once per round, from a work on CPU 0: the backlog lands on CPU 0's pool, unpinned. */
    void produce(int rounds) throws InterruptedException {
        for (int round = 0; round < rounds; round++) {
            CountDownLatch queuedAll = new CountDownLatch(1);
            wq.queueOn(0, new Work("producer" + this.rounds++, () -> {
                for (Work w : works) {
                    if (wq.queue(w)) {
                        queued.increment();
                    }
                }
                queuedAll.countDown();
            }));
            assertThat(queuedAll.await(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Ends the self-queues and the canceller. */
    void stopProducing() throws InterruptedException {
        producing.set(false);
        canceller.join(TimeUnit.SECONDS.toMillis(60));
    }

    /** Waits for everything queued, self-queues made during the first flush included. */
    void flushAll() {
        wq.flush();
        for (Work w : works) {
            w.flush(); // a self-queue made during the flush above (none after this)
        }
        wq.flush();
    }

    /**
     * No work overlapped itself; every queue() that returned true is matched by exactly one run or
     * one successful cancel; the statistics after a flush count exactly the runs (and the
     * producers); nothing is left pending.
     */
    void assertNothingLostOrOverlapped() {
        assertThat(overlaps.get()).as("runs that overlapped their own work").isZero();
        assertThat(runs.sum() + cancelled.sum()).as("runs + cancels = successful queues").isEqualTo(queued.sum());
        assertThat(wq.stats().total()).as("executed per the statistics, after a flush")
                .isEqualTo(runs.sum() + rounds);
        for (Work w : works) {
            assertThat(w.isPending()).isFalse();
        }
    }
}
