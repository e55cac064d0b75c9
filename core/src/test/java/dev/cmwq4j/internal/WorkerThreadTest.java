package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Which worker is asking ({@link Worker#current}): the engine's own threads ({@link WorkerThread})
 * carry their worker in a field, threads of a user's factory in a {@code ThreadLocal}; either way
 * every run sees its own worker, and a thread that is no worker sees none. The default factory
 * makes its threads as {@code Executors.defaultThreadFactory()} does, but passes on no inheritable
 * thread-local.
 */
class WorkerThreadTest {

    private static final int HOPS = 2_000;

    /** What one run saw of {@link Worker#current}, wrong if non-null. */
    private static String checkCurrent(Workqueue wq) {
        Worker w = Worker.current();
        if (w == null) {
            return "no worker on " + Thread.currentThread();
        }
        if (w.thread != Thread.currentThread()) {
            return "the worker of " + w.thread + " on " + Thread.currentThread();
        }
        PoolWorkqueue pwq = w.currentPwq();
        if (pwq == null || !pwq.wq.spec().name().equals(wq.name())) {
            return "a run of " + (pwq == null ? null : pwq.wq.spec().name()) + " in a work of " + wq.name();
        }
        return null;
    }

    /**
     * Chains of works queueing their successors (the queue path asks who is queueing), and works
     * queued from the test thread, on an instance whose threads come from {@code factory}.
     */
    private static void everyRunSeesItsWorker(ThreadFactory factory, boolean expectEngineThreads) throws Exception {
        Cmwq.Builder b = Cmwq.builder().name("worker-thread").cpus(2);
        if (factory != null) {
            b.threadFactory(factory);
        }
        try (Cmwq c = b.build()) {
            Workqueue wq = c.workqueue("current").build();
            ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Thread> threads = new ConcurrentLinkedQueue<>();
            int chains = 4;
            CountDownLatch done = new CountDownLatch(chains);
            for (int k = 0; k < chains; k++) {
                AtomicInteger left = new AtomicInteger(HOPS);
                AtomicReference<Work> self = new AtomicReference<>();
                self.set(new Work(() -> {
                    String bad = checkCurrent(wq);
                    if (bad != null) {
                        wrong.add(bad);
                    }
                    threads.add(Thread.currentThread());
                    if (left.decrementAndGet() > 0) {
                        wq.queue(self.get());
                    } else {
                        done.countDown();
                    }
                }));
                wq.queue(self.get());
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).as("every chain ran to its end").isTrue();
            assertThat(Worker.current()).as("the test thread is no worker").isNull();
            assertThat(wrong).as("what the runs saw of their worker").isEmpty();
            assertThat(threads).allMatch(t -> (t instanceof WorkerThread) == expectEngineThreads,
                    "made by the engine's own factory: " + expectEngineThreads);
        }
    }

    @Test
    void runsOnTheEnginesOwnThreadsSeeTheirWorker() throws Exception {
        everyRunSeesItsWorker(null, true);
    }

    @Test
    void runsOnAUsersThreadsSeeTheirWorker() throws Exception {
        everyRunSeesItsWorker(Executors.defaultThreadFactory(), false);
        // and the engine's own threads still answer through their field once a user's factory
        // made threads in this JVM
        everyRunSeesItsWorker(null, true);
    }

    @Test
    void theDefaultFactoryPassesOnNoInheritableThreadLocalAndNormalPriority() throws Exception {
        InheritableThreadLocal<String> context = new InheritableThreadLocal<>();
        Thread me = Thread.currentThread();
        int priority = me.getPriority();
        context.set("the creator's");
        me.setPriority(Thread.NORM_PRIORITY + 1);
        try {
            ThreadFactory engines = WorkerThread::new;
            for (ThreadFactory f : List.of(engines, Executors.defaultThreadFactory())) {
                AtomicReference<String> seen = new AtomicReference<>("not run");
                Thread t = f.newThread(() -> seen.set(context.get()));
                assertThat(t.getPriority()).as("priority").isEqualTo(Thread.NORM_PRIORITY);
                assertThat(t.getState()).isEqualTo(Thread.State.NEW);
                t.start();
                t.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(t.isAlive()).isFalse();
                if (f == engines) {
                    assertThat(seen.get()).as("the engine's thread").isNull();
                } else {
                    assertThat(seen.get()).as("the JDK's default factory passes it on (the contrast)")
                            .isEqualTo("the creator's");
                }
            }
        } finally {
            me.setPriority(priority);
            context.remove();
        }
    }
}
