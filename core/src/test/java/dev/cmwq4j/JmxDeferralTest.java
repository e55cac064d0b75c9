package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.Engine;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The deferred registration of {@link Jmx.Publisher}: publications made while no MBean server
 * exists wait for a batch thread, and their tokens keep exact semantics. The surefire JVM has a
 * platform server already, so each test builds its own publisher that is told none exists, with
 * a batch delay that a latch ends (no sleeping), and a unique instance name.
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

    /** A publisher told that no MBean server exists (until {@code exists} says so); its batch waits for {@code gate}. */
    private static Jmx.Publisher deferring(AtomicBoolean exists, CountDownLatch gate) {
        return new Jmx.Publisher(exists::get, () -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Releases the batch and waits until its thread has ended. */
    private static void finishBatch(Jmx.Publisher p, CountDownLatch gate) throws InterruptedException {
        Thread batch = p.batch();
        gate.countDown();
        if (batch != null) {
            batch.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(batch.isAlive()).as("the batch thread ends when its queue is empty").isFalse();
        }
        assertThat(p.batch()).isNull();
    }

    @Test
    void thePlatformServerIsListedByMBeanServerFactory() {
        // the deferral's test for "an MBean server exists" relies on it (checked on this JDK)
        assertThat(MBeanServerFactory.findMBeanServer(null)).contains(SERVER);
    }

    @Test
    void aPublicationTakenBackWhileQueuedIsNeverRegistered() throws Exception {
        String cmwq = uniqueName("defer-taken-back");
        CountDownLatch gate = new CountDownLatch(1);
        Jmx.Publisher p = deferring(new AtomicBoolean(false), gate);
        Object cpu0 = p.publishPool(cmwq, pool("cpu0"));
        Object cpu1 = p.publishPool(cmwq, pool("cpu1"));
        assertThat(p.queued()).isEqualTo(2);
        Thread batch = p.batch();
        assertThat(batch).isNotNull();
        assertThat(batch.getName()).isEqualTo("cmwq4j-jmx");
        assertThat(batch.isDaemon()).isTrue();
        assertThat(SERVER.queryNames(new ObjectName(Jmx.DOMAIN + ":cmwq=" + cmwq + ",*"), null))
                .as("nothing registered while the batch waits").isEmpty();

        p.unpublish(cpu0);
        assertThat(p.queued()).isEqualTo(1);
        finishBatch(p, gate);

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
        CountDownLatch gate = new CountDownLatch(1);
        Jmx.Publisher p = deferring(new AtomicBoolean(false), gate);
        try (Cmwq c = Cmwq.builder().name(cmwq).jmx(false).cpus(1).build()) {
            Workqueue wq = c.workqueue("orders").build();
            Object token = p.publishWorkqueue(cmwq, wq.core);
            ObjectName name = new ObjectName(Jmx.DOMAIN + ":type=Workqueue,cmwq=" + cmwq + ",name=orders");
            assertThat(SERVER.isRegistered(name)).isFalse();
            finishBatch(p, gate);
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
        CountDownLatch gate = new CountDownLatch(1);
        Jmx.Publisher p = deferring(exists, gate);
        Object first = p.publishPool(cmwq, pool("first"));
        exists.set(true); // a server appears while the batch waits
        Object second = p.publishPool(cmwq, pool("second"));
        assertThat(p.queued()).as("queued behind the batch, in order").isEqualTo(2);
        assertThat(SERVER.isRegistered(poolName(cmwq, "second"))).isFalse();
        finishBatch(p, gate);
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
            CountDownLatch gate = new CountDownLatch(1);
            Jmx.Publisher p = deferring(new AtomicBoolean(false), gate);
            Object token = p.publishPool(cmwq, pool("cpu0"));
            Thread batch = p.batch();
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
            start.await(10, TimeUnit.SECONDS);
            gate.countDown(); // the batch registers while the other thread takes the token back
            taker.join(TimeUnit.SECONDS.toMillis(30));
            batch.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(taker.isAlive()).isFalse();
            assertThat(batch.isAlive()).isFalse();
            assertThat(SERVER.isRegistered(poolName(cmwq, "cpu0"))).as("round %d", i).isFalse();
        }
    }
}
