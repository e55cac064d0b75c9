package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import static dev.cmwq4j.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * The monitor notices blocking that was never announced: each kind of block below, done without
 * {@link Blocking}, lets the pool's next work start on another worker.
 */
class MonitorTest {

    /** Something that blocks the calling thread until released. */
    interface Blocker {
        void block() throws Exception;
    }

    /**
     * Runs {@code blocker} unannounced in a work on a one-CPU pool, queues a second work, and
     * asserts that the second starts while the first is still blocked.
     */
    private static void assertDetected(Blocker blocker, Runnable release) throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("m").build();
            CountDownLatch blocking = new CountDownLatch(1);
            AtomicBoolean firstDone = new AtomicBoolean();
            CountDownLatch secondRan = new CountDownLatch(1);
            AtomicBoolean secondSawFirstDone = new AtomicBoolean(true);
            wq.queue(new Work(() -> {
                blocking.countDown();
                try {
                    blocker.block();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                } finally {
                    firstDone.set(true);
                }
            }));
            assertThat(blocking.await(30, TimeUnit.SECONDS)).isTrue();
            wq.queue(new Work(() -> {
                secondSawFirstDone.set(firstDone.get());
                secondRan.countDown();
            }));
            try {
                assertThat(secondRan.await(20, TimeUnit.SECONDS)).as("second work started").isTrue();
                assertThat(secondSawFirstDone.get()).as("first work was still blocked").isFalse();
            } finally {
                release.run();
            }
            wq.flush();
            // Observed as blocked (taken out of nrRunning, or seen off the CPU with work waiting,
            // which raises the pool's concurrency target); or, if the JVM spun long enough on the
            // way into the block, as a CPU hog: either way the monitor let the next work start.
            var m = c.engine();
            long seen = EngineProbe.blocksDetected(m) + EngineProbe.targetRaised(m) + EngineProbe.cpuIntensiveFlagged(m);
            assertThat(seen)
                    .as("detected %d, target raised %d, cpu-intensive %d", EngineProbe.blocksDetected(m),
                            EngineProbe.targetRaised(m), EngineProbe.cpuIntensiveFlagged(m))
                    .isGreaterThanOrEqualTo(1);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void threadSleep() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        assertDetected(() -> {
            while (!stop.get()) {
                Thread.sleep(5);
            }
        }, () -> stop.set(true));
    }

    @Test
    void objectWait() throws Exception {
        Object lock = new Object();
        AtomicBoolean stop = new AtomicBoolean();
        assertDetected(() -> {
            synchronized (lock) {
                while (!stop.get()) {
                    lock.wait();
                }
            }
        }, () -> {
            synchronized (lock) {
                stop.set(true);
                lock.notifyAll();
            }
        });
    }

    @Test
    void contendedSynchronized() throws Exception {
        Object lock = new Object();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            synchronized (lock) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        holder.start();
        held.await();
        assertDetected(() -> {
            synchronized (lock) {
                lock.hashCode();
            }
        }, release::countDown);
        holder.join();
    }

    @Test
    void lockSupportPark() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread[] parked = new Thread[1];
        assertDetected(() -> {
            parked[0] = Thread.currentThread();
            while (!stop.get()) {
                LockSupport.park(this);
            }
        }, () -> {
            stop.set(true);
            LockSupport.unpark(parked[0]);
        });
    }

    @Test
    void contendedReentrantLock() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            lock.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        });
        holder.start();
        held.await();
        assertDetected(() -> {
            lock.lock();
            lock.unlock();
        }, release::countDown);
        holder.join();
    }

    @Test
    void loopbackSocketRead() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket[] accepted = new Socket[1];
            Thread acceptor = new Thread(() -> {
                try {
                    accepted[0] = server.accept();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            acceptor.start();
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                acceptor.join();
                InputStream in = client.getInputStream();
                assertDetected(() -> assertThat(in.read()).isEqualTo(42), () -> {
                    try {
                        accepted[0].getOutputStream().write(42);
                        accepted[0].getOutputStream().flush();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                accepted[0].close();
            }
        }
    }

    @Test
    void nioPipeRead() throws Exception {
        Pipe pipe = Pipe.open();
        assertDetected(() -> {
            ByteBuffer b = ByteBuffer.allocate(1);
            while (b.hasRemaining()) {
                pipe.source().read(b);
            }
        }, () -> {
            try {
                pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        pipe.source().close();
        pipe.sink().close();
    }

    @Test
    void fifoRead() throws Exception {
        Path dir = Files.createTempDirectory("cmwq4j-fifo");
        Path fifo = dir.resolve("f");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo available");
        FileOutputStream[] writer = new FileOutputStream[1];
        // the open of a FIFO for writing blocks until a reader opens it: do it in a side thread
        Thread opener = new Thread(() -> {
            try {
                writer[0] = new FileOutputStream(fifo.toFile());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        opener.start();
        try (FileInputStream in = new FileInputStream(fifo.toFile())) {
            opener.join();
            assertDetected(() -> assertThat(in.read()).isEqualTo(7), () -> {
                try {
                    writer[0].write(7);
                    writer[0].flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            writer[0].close();
        } finally {
            Files.deleteIfExists(fifo);
            Files.deleteIfExists(dir);
        }
    }

    /** Counted down as {@link SlowInit}'s initialization begins. */
    static final CountDownLatch INITIALIZING = new CountDownLatch(1);
    /** Lets {@link SlowInit}'s initialization end. */
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    /**
     * Initialized by the first work of {@link #worksWaitingForAClassInitializationAreNotABlock}
     * (only works touch it: the latches it waits on are the test's, so that the test thread's
     * reads of them do not initialize it).
     */
    static final class SlowInit {
        static {
            initializeSlowly(INITIALIZING, RELEASE);
        }

        static void touch() {}
    }

    /** A class initializer's body: says it began, then waits (announced) for the release. */
    private static void initializeSlowly(CountDownLatch initializing, CountDownLatch release) {
        initializing.countDown();
        try {
            Blocking.call(() -> release.await(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Queues {@code n} works on {@code wq} that each call {@code touch}, then count themselves in {@code ran}. */
    private static void queueTouches(Workqueue wq, int n, Runnable touch, AtomicLong ran) {
        for (int i = 0; i < n; i++) {
            wq.queue(new Work("touch" + i, () -> {
                touch.run();
                ran.incrementAndGet();
            }));
        }
    }

    /**
     * Works that wait for a class another worker initializes are held by the JVM, RUNNABLE and
     * off the CPU but not in native code: not a block a new worker gets past, since each new
     * worker's work waits for the same class. Six works touch a class whose initializer waits
     * (announced) for a latch: the announcement gives the pool a second worker, whose work then
     * waits for the initialization; the monitor, looking at it many times, must not take it for
     * a native block, which would make a worker for every waiting work (a convoy: six workers).
     * The engine runs announced blocks by the kernel's rule (no counted blocks), so that the
     * announcement, not a detection, gives the pool its second worker.
     */
    @Test
    void worksWaitingForAClassInitializationAreNotABlock() throws Exception {
        EngineProbe.jvmHeldMax(java.time.Duration.ofHours(1)); // the looks below may take long on a busy machine
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("init").build();
            var m = c.engine();
            AtomicLong ran = new AtomicLong();
            queueTouches(wq, 6, SlowInit::touch, ran);
            try {
                assertThat(INITIALIZING.await(30, TimeUnit.SECONDS)).isTrue();
                // the second worker, made for the announced block, takes the next work and waits
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> workers(m) >= 2 && pending(m) <= 4);
                long looks = EngineProbe.monitorLooks(m);
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> EngineProbe.monitorLooks(m) >= looks + 40);
                assertThat(EngineProbe.blocksDetected(m)).as("detected blocks").isZero();
                assertThat(workers(m)).as("workers while the class initializes").isEqualTo(2);
                assertThat(ran.get()).isZero();
            } finally {
                RELEASE.countDown();
                EngineProbe.jvmHeldMax(null);
            }
            wq.flush();
            assertThat(ran.get()).isEqualTo(6);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    /** Counted down as {@link SlowInitAgain}'s initialization begins. */
    static final CountDownLatch INITIALIZING_AGAIN = new CountDownLatch(1);
    /** Lets {@link SlowInitAgain}'s initialization end. */
    static final CountDownLatch RELEASE_AGAIN = new CountDownLatch(1);

    /** As {@link SlowInit}, for {@link #aWorkerHeldByTheJvmTooLongIsTakenOutAllTheSame}. */
    static final class SlowInitAgain {
        static {
            initializeSlowly(INITIALIZING_AGAIN, RELEASE_AGAIN);
        }

        static void touch() {}
    }

    /**
     * A class whose initializer waits for good (on a thread outside the pools) would hold every
     * work that needs it: past the bound on a JVM-held wait (50 ms here), the monitor takes the
     * waiter out all the same, and a third worker runs the next work, which waits too. The
     * kernel's rule for announced blocks, as in {@link #worksWaitingForAClassInitializationAreNotABlock}.
     */
    @Test
    void aWorkerHeldByTheJvmTooLongIsTakenOutAllTheSame() throws Exception {
        EngineProbe.jvmHeldMax(java.time.Duration.ofMillis(50));
        try (Cmwq c = EngineProbe.withCountedBlocks(false, () -> Cmwq.builder().cpus(1).build())) {
            Workqueue wq = c.workqueue("init-again").build();
            var m = c.engine();
            AtomicLong ran = new AtomicLong();
            queueTouches(wq, 4, SlowInitAgain::touch, ran);
            try {
                assertThat(INITIALIZING_AGAIN.await(30, TimeUnit.SECONDS)).isTrue();
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> EngineProbe.blocksDetected(m) >= 1 && workers(m) >= 3);
                assertThat(ran.get()).isZero();
            } finally {
                RELEASE_AGAIN.countDown();
                EngineProbe.jvmHeldMax(null);
            }
            wq.flush();
            assertThat(ran.get()).isEqualTo(4);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    private static int workers(dev.cmwq4j.internal.Engine m) {
        return EngineProbe.poolCounts(m).stream().mapToInt(EngineProbe.PoolCounts::workers).sum();
    }

    private static int pending(dev.cmwq4j.internal.Engine m) {
        return EngineProbe.poolCounts(m).stream().mapToInt(EngineProbe.PoolCounts::pending).sum();
    }

    @Test
    void aCpuHogIsFlaggedCpuIntensiveAndOthersStartMeanwhile() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("hog").build();
            CountDownLatch hogRunning = new CountDownLatch(1);
            AtomicLong hogEnd = new AtomicLong(Long.MAX_VALUE);
            AtomicLong otherStart = new AtomicLong();
            CountDownLatch otherRan = new CountDownLatch(1);
            wq.queue(new Work(() -> {
                hogRunning.countDown();
                // burns CPU, unannounced, until the monitor flagged it and the other work ran (or
                // 30 s). On a busy machine the monitor may first take the preempted hog for a
                // native block (a heuristic, see Monitor.examineRunning) and start the other work
                // that way; burning on until the flag keeps the test about the flag.
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((otherRan.getCount() > 0 || EngineProbe.cpuIntensiveFlagged(c.engine()) == 0)
                        && System.nanoTime() < giveUp) {
                    spin(100_000L);
                }
                hogEnd.set(System.nanoTime());
            }));
            assertThat(hogRunning.await(30, TimeUnit.SECONDS)).isTrue();
            // The other work keeps a backlog (it queues itself again) until the hog is flagged:
            // the monitor examines a running work for the flag only while its pool has one, and
            // on a busy machine the first instance may run early, through a detection of the
            // preempted hog as a native block, after which the hog ran on unexamined for good.
            Work[] other = new Work[1];
            long keepUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            other[0] = new Work(() -> {
                otherStart.compareAndSet(0, System.nanoTime());
                otherRan.countDown();
                if (EngineProbe.cpuIntensiveFlagged(c.engine()) == 0 && System.nanoTime() < keepUntil) {
                    spin(50_000L);
                    wq.queue(other[0]);
                }
            });
            wq.queue(other[0]);
            assertThat(otherRan.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            assertThat(otherStart.get()).as("other work started before the hog ended").isLessThan(hogEnd.get());
            assertThat(EngineProbe.cpuIntensiveFlagged(c.engine())).isGreaterThanOrEqualTo(1);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void shortCpuBoundWorksAreNeverFlaggedNorCountedAsBlocked() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).build()) {
            Workqueue wq = c.workqueue("short").build();
            TestSupport.Concurrency conc = new TestSupport.Concurrency();
            CountDownLatch done = new CountDownLatch(300);
            for (int i = 0; i < 300; i++) { // a backlog, so the monitor looks closely all along
                wq.queue(new Work(() -> {
                    conc.enter();
                    spin(2_000_000L); // 2 ms, under the 10 ms threshold
                    conc.exit();
                    done.countDown();
                }));
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(EngineProbe.cpuIntensiveFlagged(c.engine())).isZero();
            // Native-block detection is a heuristic (RUNNABLE, no CPU between two samples, not 'R'
            // in /proc): a spinning thread held at a JVM safepoint or descheduled at the wrong
            // moment can look blocked once in a while (1 run in 10 of the suite saw one). What
            // must not happen is taking CPU-bound works for blocked ones as a rule.
            long detected = EngineProbe.blocksDetected(c.engine());
            assertThat(detected).as("false block detections out of 300 works").isLessThanOrEqualTo(3);
            assertThat(conc.max()).as("one at a time on one CPU, one more per false detection")
                    .isLessThanOrEqualTo(1 + (int) detected);
            TestSupport.assertPoolsAtRest(c);
        }
    }
}
