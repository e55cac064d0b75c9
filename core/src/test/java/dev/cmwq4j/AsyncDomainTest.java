package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** AsyncDomain: parallel functions, cookies, independent domains, degrading to the caller. */
class AsyncDomainTest {

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released within 30 s");
            }
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    /** Runs {@code action} on a new thread; the thread is returned started. */
    private static Thread start(Runnable action) {
        Thread t = new Thread(action, "synchronizer");
        t.start();
        return t;
    }

    private static void awaitWaiting(Thread t) {
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }

    @Test
    void functionsOfOneDomainRunInParallel() throws Exception {
        AsyncDomain d = new AsyncDomain("parallel");
        int n = 4;
        // each function waits for all the others: they can only pass if all run at once
        CyclicBarrier all = new CyclicBarrier(n);
        AtomicInteger passed = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            d.schedule(() -> {
                try {
                    all.await(30, TimeUnit.SECONDS);
                    passed.incrementAndGet();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        d.synchronizeFull();
        assertThat(passed.get()).isEqualTo(n);
        assertThat(d.pending()).isZero();
    }

    @Test
    void synchronizeCookieWaitsForEverythingBeforeTheCookieAndNothingAfter() throws Exception {
        AsyncDomain d = new AsyncDomain("cookies");
        CountDownLatch releaseA = new CountDownLatch(1);
        CountDownLatch releaseB = new CountDownLatch(1);
        AtomicBoolean aDone = new AtomicBoolean();
        AtomicBoolean bDone = new AtomicBoolean();
        long a = d.schedule(() -> {
            await(releaseA);
            aDone.set(true);
        });
        long b = d.schedule(() -> {
            await(releaseB);
            bDone.set(true);
        });
        assertThat(b).isGreaterThan(a);
        AtomicBoolean returned = new AtomicBoolean();
        AtomicBoolean aDoneAtReturn = new AtomicBoolean();
        AtomicBoolean bDoneAtReturn = new AtomicBoolean();
        Thread sync = start(() -> {
            d.synchronizeCookie(b); // waits for a only
            aDoneAtReturn.set(aDone.get());
            bDoneAtReturn.set(bDone.get());
            returned.set(true);
        });
        awaitWaiting(sync);
        assertThat(returned).as("returned while a function before the cookie runs").isFalse();
        releaseA.countDown();
        sync.join(30_000);
        assertThat(returned).isTrue();
        assertThat(aDoneAtReturn).as("a (before the cookie) finished").isTrue();
        assertThat(bDoneAtReturn).as("b (at the cookie) was not waited for").isFalse();
        releaseB.countDown();
        d.synchronizeCookie(b + 1);
        assertThat(bDone).isTrue();
    }

    @Test
    void functionsGetTheirCookieAndCanOrderTheirSideEffects() {
        AsyncDomain d = new AsyncDomain("ordered-effects");
        List<Long> published = Collections.synchronizedList(new ArrayList<>());
        List<Long> cookies = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            cookies.add(d.schedule(cookie -> {
                TestSupport.spin(ThreadLocalRandom.current().nextLong(200_000)); // finish out of order
                d.synchronizeCookie(cookie);
                published.add(cookie);
            }));
        }
        d.synchronizeFull();
        assertThat(published).containsExactlyElementsOf(cookies);
    }

    @Test
    void synchronizeFullOfOneDomainDoesNotWaitForAnother() throws Exception {
        AsyncDomain busy = new AsyncDomain("busy");
        AsyncDomain quiet = new AsyncDomain("quiet");
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean busyDone = new AtomicBoolean();
        AtomicBoolean quietDone = new AtomicBoolean();
        busy.schedule(() -> {
            await(release);
            busyDone.set(true);
        });
        quiet.schedule(() -> quietDone.set(true));
        try {
            quiet.synchronizeFull(); // must not wait for busy's function
            assertThat(quietDone).isTrue();
            assertThat(busyDone).isFalse();
            AtomicBoolean returned = new AtomicBoolean();
            Thread sync = start(() -> {
                busy.synchronizeFull();
                returned.set(true);
            });
            awaitWaiting(sync);
            assertThat(returned).isFalse();
            release.countDown();
            sync.join(30_000);
            assertThat(returned).isTrue();
            assertThat(busyDone).isTrue();
        } finally {
            release.countDown();
        }
    }

    @Test
    void synchronizeFullWaitsForFunctionsScheduledByFunctions() {
        AsyncDomain d = new AsyncDomain("chained");
        AtomicInteger ran = new AtomicInteger();
        Runnable[] leaf = {null};
        leaf[0] = () -> {
            if (ran.incrementAndGet() < 20) {
                d.schedule(leaf[0]);
            }
        };
        d.schedule(leaf[0]);
        d.synchronizeFull();
        assertThat(ran.get()).isEqualTo(20);
    }

    @Test
    void aFunctionThatWaitsForItselfFailsFast() {
        AsyncDomain d = new AsyncDomain("self");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        d.schedule(cookie -> {
            try {
                d.synchronizeCookie(cookie + 1);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        d.synchronizeFull();
        assertThat(failure.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("self").hasMessageContaining("wait for itself");
    }

    @Test
    void outOfThreadsTheFunctionRunsInTheCallerAndNothingIsLost() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).maxThreads(1).build()) {
            Workqueue wq = c.workqueue("one-thread").unbound().build();
            AsyncDomain d = new AsyncDomain("starved", wq);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Thread> firstThread = new AtomicReference<>();
            d.schedule(() -> {
                firstThread.set(Thread.currentThread());
                started.countDown();
                await(release); // holds the only thread the Cmwq may have
            });
            await(started);
            AtomicReference<Thread> secondThread = new AtomicReference<>();
            long second = d.schedule(() -> secondThread.set(Thread.currentThread()));
            assertThat(secondThread.get()).as("ran in the caller, before schedule returned")
                    .isSameAs(Thread.currentThread());
            release.countDown();
            d.synchronizeCookie(second + 1);
            assertThat(firstThread.get()).isNotSameAs(Thread.currentThread());
            // with the thread free again, functions go asynchronous again
            AtomicReference<Thread> third = new AtomicReference<>();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> wq.core.starvedOfThreads() == false);
            d.schedule(() -> third.set(Thread.currentThread()));
            d.synchronizeFull();
            assertThat(third.get()).isNotSameAs(Thread.currentThread());
        }
    }

    @Test
    void beyondMaxPendingTheFunctionRunsInTheCaller() {
        AsyncDomain d = new AsyncDomain("bounded", Workqueues.systemUnbound(), 2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger asyncRan = new AtomicInteger();
        d.schedule(() -> {
            await(release);
            asyncRan.incrementAndGet();
        });
        d.schedule(() -> {
            await(release);
            asyncRan.incrementAndGet();
        });
        AtomicReference<Thread> third = new AtomicReference<>();
        d.schedule(() -> third.set(Thread.currentThread()));
        assertThat(third.get()).isSameAs(Thread.currentThread());
        release.countDown();
        d.synchronizeFull();
        assertThat(asyncRan.get()).isEqualTo(2);
    }

    @Test
    void aFailingFunctionGoesToTheFailureHandlerAndStillCountsAsFinished() {
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        try (Cmwq c = Cmwq.builder().cpus(1).failureHandler((w, t) -> failures.add(t)).build()) {
            AsyncDomain d = new AsyncDomain("failing", c.workqueue("wq").unbound().build());
            long cookie = d.schedule(() -> {
                throw new IllegalStateException("boom");
            });
            d.synchronizeCookie(cookie + 1);
            assertThat(failures).singleElement().satisfies(t -> assertThat(t).hasMessage("boom"));
            assertThat(d.pending()).isZero();
        }
    }

    @Test
    void synchronizingFromAWorkRunsUnstartedFunctionsInPlace() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("bound").build();
            AsyncDomain d = new AsyncDomain("helped", wq);
            List<Thread> ran = Collections.synchronizedList(new ArrayList<>());
            AtomicReference<Thread> outer = new AtomicReference<>();
            Work w = new Work(() -> {
                outer.set(Thread.currentThread());
                for (int i = 0; i < 8; i++) {
                    d.schedule(() -> ran.add(Thread.currentThread()));
                }
                d.synchronizeFull();
            });
            wq.queue(w);
            w.flush();
            assertThat(ran).hasSize(8).allSatisfy(t -> assertThat(t).isSameAs(outer.get()));
        }
    }

    @Test
    void badInputIsRejected() {
        assertThatThrownBy(() -> new AsyncDomain(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new AsyncDomain("x", null)).isInstanceOf(NullPointerException.class);
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue ordered = c.workqueue("ordered").ordered().build();
            assertThatThrownBy(() -> new AsyncDomain("x", ordered))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ordered");
            Workqueue wq = c.workqueue("closed").build();
            AsyncDomain d = new AsyncDomain("d", wq);
            assertThatThrownBy(() -> d.schedule((Runnable) null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> d.schedule((java.util.function.LongConsumer) null))
                    .isInstanceOf(NullPointerException.class);
            wq.close();
            assertThatThrownBy(() -> d.schedule(() -> {}))
                    .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
            assertThat(d.pending()).as("a rejected function leaves nothing behind").isZero();
            d.synchronizeFull(); // returns at once
        }
    }

    /**
     * Many threads schedule while others synchronize on cookies: whenever synchronizeCookie(c)
     * returns, every function with a cookie below c has finished; in the end every function ran
     * exactly once.
     */
    @Test
    void stressSynchronizeCookieNeverReturnsEarlyAndNothingIsLost() throws Exception {
        int scale = Integer.getInteger("cmwq4j.stress.scale", 1);
        int producers = 3;
        int perProducer = 3000 * scale;
        int total = producers * perProducer;
        try (Cmwq c = Cmwq.builder().cpus(2).build()) {
            for (Workqueue wq : List.of(c.workqueue("bound").build(), c.workqueue("unbound").unbound().build())) {
                AsyncDomain d = new AsyncDomain("stress-" + wq.name(), wq);
                AtomicIntegerArray runs = new AtomicIntegerArray(total + 2);
                AtomicInteger early = new AtomicInteger();
                AtomicInteger syncs = new AtomicInteger();
                Thread[] threads = new Thread[producers];
                for (int p = 0; p < producers; p++) {
                    threads[p] = new Thread(() -> {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        for (int i = 0; i < perProducer; i++) {
                            long spin = r.nextInt(4) == 0 ? r.nextInt(20_000) : 0;
                            long cookie = d.schedule(k -> {
                                TestSupport.spin(spin);
                                runs.incrementAndGet((int) k);
                            });
                            if (r.nextInt(50) == 0) {
                                d.synchronizeCookie(cookie);
                                syncs.incrementAndGet();
                                for (int k = 1; k < cookie; k++) {
                                    if (runs.get(k) == 0) {
                                        early.incrementAndGet();
                                    }
                                }
                            }
                        }
                    });
                    threads[p].start();
                }
                for (Thread t : threads) {
                    t.join(120_000);
                    assertThat(t.isAlive()).isFalse();
                }
                d.synchronizeFull();
                assertThat(early.get()).as("functions unfinished when synchronizeCookie returned").isZero();
                assertThat(syncs.get()).isPositive();
                for (int k = 1; k <= total; k++) {
                    assertThat(runs.get(k)).as("runs of function %d", k).isEqualTo(1);
                }
                assertThat(d.pending()).isZero();
            }
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
