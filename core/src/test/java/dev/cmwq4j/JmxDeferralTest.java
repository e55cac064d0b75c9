package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.Engine;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The deferred registration of {@link Jmx.Publisher}: publications made while no MBean server
 * exists wait, with no thread of their own, until a poll (an engine's service thread calls it)
 * finds a server or their waiting passed the deadline; then a batch thread registers them, and
 * their tokens keep exact semantics. The surefire JVM has a platform server already, so each test
 * builds its own publisher that is told none exists (until the test says one does), polls it
 * itself, and uses a unique instance name.
 */
class JmxDeferralTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static Engine.PoolSource pool(String name) {
        return () -> new Engine.PoolSnapshot(name, 0, false, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    }

    private static ObjectName poolName(String cmwq, String pool) throws Exception {
        return new ObjectName(Jmx.DOMAIN + ":type=WorkerPool,cmwq=" + cmwq + ",name=" + pool);
    }

    private static String uniqueName(String prefix) {
        return prefix + "-" + System.nanoTime();
    }

    /** No deadline within a test: the batch starts only once {@code exists} says a server exists. */
    private static final long NEVER = TimeUnit.HOURS.toNanos(1);

    /** A publisher told that no MBean server exists until {@code exists} says so. */
    private static Jmx.Publisher deferring(AtomicBoolean exists) {
        return new Jmx.Publisher(exists::get, NEVER);
    }

    /** Tells the publisher a server exists, polls it (which starts the batch) and waits until the batch ended. */
    private static void finishBatch(Jmx.Publisher p, AtomicBoolean exists) throws InterruptedException {
        exists.set(true);
        assertThat(p.poll()).as("no further poll once the batch runs").isEqualTo(-1);
        awaitBatchEnd(p);
    }

    private static void awaitBatchEnd(Jmx.Publisher p) throws InterruptedException {
        Thread batch = p.batch();
        if (batch != null) {
            assertThat(batch.getName()).isEqualTo("cmwq4j-jmx");
            assertThat(batch.isDaemon()).isTrue();
            batch.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(batch.isAlive()).as("the batch thread ends when its queue is empty").isFalse();
        }
        assertThat(p.batch()).isNull();
        assertThat(p.queued()).isZero();
    }

    @Test
    void thePlatformServerIsListedByMBeanServerFactory() {
        // the deferral's test for "an MBean server exists" relies on it (checked on this JDK)
        assertThat(MBeanServerFactory.findMBeanServer(null)).contains(SERVER);
    }

    @Test
    void aPublicationTakenBackWhileQueuedIsNeverRegistered() throws Exception {
        String cmwq = uniqueName("defer-taken-back");
        AtomicBoolean exists = new AtomicBoolean(false);
        Jmx.Publisher p = deferring(exists);
        Object cpu0 = p.publishPool(cmwq, pool("cpu0"));
        Object cpu1 = p.publishPool(cmwq, pool("cpu1"));
        assertThat(p.queued()).isEqualTo(2);
        assertThat(p.batch()).as("no thread while the queue waits").isNull();
        assertThat(p.pollAfterNanos()).as("the engine is asked to poll").isEqualTo(Jmx.POLL_NANOS);
        for (int i = 0; i < 3; i++) {
            assertThat(p.poll()).as("poll again while no server exists").isPositive();
        }
        assertThat(p.batch()).as("still no thread after polls that found no server").isNull();
        assertThat(SERVER.queryNames(new ObjectName(Jmx.DOMAIN + ":cmwq=" + cmwq + ",*"), null))
                .as("nothing registered while the queue waits").isEmpty();

        p.unpublish(cpu0);
        assertThat(p.queued()).isEqualTo(1);
        finishBatch(p, exists);
        assertThat(p.pollAfterNanos()).as("nothing waits").isEqualTo(-1);

        assertThat(SERVER.isRegistered(poolName(cmwq, "cpu1"))).as("registered by the batch").isTrue();
        assertThat(SERVER.getAttribute(poolName(cmwq, "cpu1"), "Target")).isEqualTo(1);
        assertThat(SERVER.isRegistered(poolName(cmwq, "cpu0"))).as("taken back before the batch").isFalse();
        p.unpublish(cpu0); // again: a no-op
        p.unpublish(null);
        p.unpublish(cpu1);
        assertThat(SERVER.queryNames(new ObjectName(Jmx.DOMAIN + ":cmwq=" + cmwq + ",*"), null))
                .as("unregistered at once").isEmpty();
    }

    @Test
    void aWorkqueueRegistersAfterTheBatchAndGoesAwayWhenUnpublished() throws Exception {
        String cmwq = uniqueName("defer-wq");
        AtomicBoolean exists = new AtomicBoolean(false);
        Jmx.Publisher p = deferring(exists);
        try (Cmwq c = Cmwq.builder().name(cmwq).jmx(false).cpus(1).build()) {
            Workqueue wq = c.workqueue("orders").build();
            Object token = p.publishWorkqueue(cmwq, wq.core);
            ObjectName name = new ObjectName(Jmx.DOMAIN + ":type=Workqueue,cmwq=" + cmwq + ",name=orders");
            assertThat(SERVER.isRegistered(name)).isFalse();
            finishBatch(p, exists);
            assertThat(SERVER.isRegistered(name)).isTrue();
            assertThat(SERVER.getAttribute(name, "Name")).isEqualTo("orders");
            p.unpublish(token);
            assertThat(SERVER.isRegistered(name)).isFalse();
        }
    }

    @Test
    void onceAServerExistsPublicationsRegisterAtOnceButNotAheadOfABatch() throws Exception {
        String cmwq = uniqueName("defer-order");
        AtomicBoolean exists = new AtomicBoolean(false);
        Jmx.Publisher p = deferring(exists);
        Object first = p.publishPool(cmwq, pool("first"));
        exists.set(true); // a server appears while the queue waits for a poll
        Object second = p.publishPool(cmwq, pool("second"));
        assertThat(p.queued()).as("queued behind the first, in order").isEqualTo(2);
        assertThat(SERVER.isRegistered(poolName(cmwq, "second"))).isFalse();
        finishBatch(p, exists);
        assertThat(SERVER.isRegistered(poolName(cmwq, "first"))).isTrue();
        assertThat(SERVER.isRegistered(poolName(cmwq, "second"))).isTrue();

        Object third = p.publishPool(cmwq, pool("third"));
        assertThat(p.batch()).as("no batch once a server exists").isNull();
        assertThat(SERVER.isRegistered(poolName(cmwq, "third"))).as("registered at once").isTrue();
        for (Object token : new Object[] {first, second, third}) {
            p.unpublish(token);
        }
        assertThat(SERVER.queryNames(new ObjectName(Jmx.DOMAIN + ":cmwq=" + cmwq + ",*"), null)).isEmpty();
    }

    @Test
    void aRegistrationRacingAnUnpublishLeavesNoBean() throws Exception {
        for (int i = 0; i < 100; i++) {
            String cmwq = uniqueName("defer-race");
            AtomicBoolean exists = new AtomicBoolean(false);
            Jmx.Publisher p = deferring(exists);
            Object token = p.publishPool(cmwq, pool("cpu0"));
            CyclicBarrier start = new CyclicBarrier(2);
            Thread taker = new Thread(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                p.unpublish(token);
            });
            taker.start();
            exists.set(true);
            start.await(10, TimeUnit.SECONDS);
            p.poll(); // the batch starts and registers while the other thread takes the token back
            Thread batch = p.batch();
            taker.join(TimeUnit.SECONDS.toMillis(30));
            if (batch != null) {
                batch.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(batch.isAlive()).isFalse();
            }
            assertThat(taker.isAlive()).isFalse();
            assertThat(SERVER.isRegistered(poolName(cmwq, "cpu0"))).as("round %d", i).isFalse();
        }
    }

    /**
     * With no server in sight, the queue waits for the deadline: polls before it start nothing, the
     * first poll after it starts the batch, which creates the platform server (here: finds the
     * surefire JVM's) and registers the queue.
     */
    @Test
    void aQueueThatWaitedOutTheDeadlineIsRegisteredByABatchThatCreatesTheServer() throws Exception {
        String cmwq = uniqueName("defer-deadline");
        long deadline = TimeUnit.MILLISECONDS.toNanos(200);
        Jmx.Publisher p = new Jmx.Publisher(() -> false, deadline);
        Object token = p.publishPool(cmwq, pool("cpu0"));
        long published = System.nanoTime(); // after the publication began to wait
        long after = p.poll();
        if (System.nanoTime() - published < deadline) { // polled before the deadline (a busy machine may be late)
            assertThat(after).isPositive();
            assertThat(p.batch()).as("no batch before the deadline").isNull();
        }
        while (System.nanoTime() - published < deadline) {
            Thread.onSpinWait(); // the deadline is the input here, not a synchronization
        }
        assertThat(p.poll()).as("the poll after the deadline starts the batch").isEqualTo(-1);
        awaitBatchEnd(p);
        assertThat(SERVER.isRegistered(poolName(cmwq, "cpu0"))).as("registered after the deadline").isTrue();
        p.unpublish(token);
        assertThat(SERVER.isRegistered(poolName(cmwq, "cpu0"))).isFalse();
    }
}
