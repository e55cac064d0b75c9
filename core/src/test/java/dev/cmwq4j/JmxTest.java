package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The MXBeans, read the way a remote tool reads them: attributes by name over a connection. */
class JmxTest {
    private static final MBeanServerConnection CONN = ManagementFactory.getPlatformMBeanServer();

    private static long attr(ObjectName on, String name) throws Exception {
        return ((Number) CONN.getAttribute(on, name)).longValue();
    }

    @Test
    void workqueueAndPoolBeansMatchTheStatsAndGoAwayOnClose() throws Exception {
        ObjectName wqName = new ObjectName("dev.cmwq4j:type=Workqueue,cmwq=jmx-test,name=orders");
        ObjectName poolName = new ObjectName("dev.cmwq4j:type=WorkerPool,cmwq=jmx-test,name=cpu0");
        try (Cmwq c = Cmwq.builder().name("jmx-test").cpus(1).build()) {
            Workqueue wq = c.workqueue("orders").build();
            assertThat(CONN.isRegistered(wqName)).isTrue();
            assertThat(CONN.queryNames(new ObjectName("dev.cmwq4j:type=WorkerPool,cmwq=jmx-test,*"), null))
                    .hasSize(4);
            CountDownLatch done = new CountDownLatch(100);
            for (int i = 0; i < 100; i++) {
                wq.execute(() -> {
                    Blocking.run(() -> { });
                    done.countDown();
                });
            }
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            wq.flush();
            WorkqueueStats s = wq.stats();
            assertThat(attr(wqName, "Total")).isEqualTo(s.total()).isEqualTo(100);
            assertThat(attr(wqName, "InFlight")).isZero();
            assertThat(attr(wqName, "BlocksAnnounced")).isEqualTo(s.blocksAnnounced()).isEqualTo(100);
            assertThat(attr(wqName, "CpuTimeNanos")).isEqualTo(s.cpuTimeNanos());
            assertThat(attr(wqName, "ExecTimeP99Nanos")).isEqualTo(s.executionTime().valueAtPercentile(99));
            assertThat(attr(wqName, "QueueLatencyMaxNanos")).isEqualTo(s.queueLatency().maxNanos());
            assertThat(attr(wqName, "MaxActive")).isEqualTo(256);
            assertThat(CONN.getAttribute(wqName, "Name")).isEqualTo("orders");
            assertThat(CONN.getAttribute(wqName, "Cmwq")).isEqualTo("jmx-test");
            assertThat(CONN.getAttribute(wqName, "Ordered")).isEqualTo(false);
            PoolStats p = c.poolStats().get(0);
            assertThat(attr(poolName, "Workers")).isEqualTo(p.workers());
            assertThat(attr(poolName, "Cpu")).isZero();
            // the target is the policy's (a pool that counts its blocks starts from 1 + W / C,
            // which a cold JVM's first blocks may put above 1: ARCHITECTURE 2, "Timing blocks"),
            // and the monitor may move it between two reads: the bean shows what the stats show
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(
                    () -> attr(poolName, "Target") == c.poolStats().get(0).target());
            assertThat(attr(poolName, "Target")).isPositive();
            assertThat(attr(poolName, "Pending")).isZero();
            wq.close();
            assertThat(CONN.isRegistered(wqName)).as("unregistered on close").isFalse();
        }
        assertThat(CONN.isRegistered(poolName)).as("pools unregistered on shutdown").isFalse();
    }

    @Test
    void namesAreQuotedWhenNeededAndDuplicatesGetASuffix() throws Exception {
        try (Cmwq c = Cmwq.builder().name("jmx:odd,name").cpus(1).build()) {
            c.workqueue("a=b").build();
            c.workqueue("dup").build();
            c.workqueue("dup").build();
            Set<ObjectName> names = CONN.queryNames(new ObjectName("dev.cmwq4j:type=Workqueue,*"), null);
            assertThat(names).contains(
                    new ObjectName("dev.cmwq4j:type=Workqueue,cmwq=" + ObjectName.quote("jmx:odd,name") + ",name="
                            + ObjectName.quote("a=b")),
                    new ObjectName("dev.cmwq4j:type=Workqueue,cmwq=" + ObjectName.quote("jmx:odd,name") + ",name=dup"),
                    new ObjectName("dev.cmwq4j:type=Workqueue,cmwq=" + ObjectName.quote("jmx:odd,name") + ",name=dup#2"));
        }
        assertThat(CONN.queryNames(new ObjectName("dev.cmwq4j:cmwq=" + ObjectName.quote("jmx:odd,name") + ",*"), null))
                .isEmpty();
    }

    @Test
    void jmxCanBeTurnedOff() throws Exception {
        try (Cmwq c = Cmwq.builder().name("jmx-off").jmx(false).cpus(1).build()) {
            c.workqueue("x").build();
            assertThat(CONN.queryNames(new ObjectName("dev.cmwq4j:cmwq=jmx-off,*"), null)).isEmpty();
        }
    }
}
