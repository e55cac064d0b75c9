package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real publisher in a JVM with no MBean server yet (a child JVM; the test JVM has one): the
 * shared instance is built without creating one, and no thread waits for one (the service thread
 * polls); its beans appear once someone creates it (as an attaching tool's management agent does),
 * from the {@code cmwq4j-jmx} thread that a poll starts, which then ends.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JmxColdStartTest {

    /** The child: prints one line per step. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Workqueue wq = Workqueues.system();
            CountDownLatch ran = new CountDownLatch(1);
            wq.execute(ran::countDown);
            ran.await();
            System.out.println(MBeanServerFactory.findMBeanServer(null).isEmpty() ? "no server" : "a server");
            // the publications wait for a server on the service thread's polls, not on a thread of their own
            System.out.println(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("cmwq4j-jmx")) ? "a jmx thread" : "no jmx thread");
            // what an attaching tool's management agent does: create the platform server; the
            // batch, which would create it itself only after 30 s, registers within a poll
            ManagementFactory.getPlatformMBeanServer();
            ObjectName system = new ObjectName(Jmx.DOMAIN + ":type=Workqueue,cmwq=shared,name=system");
            ObjectName cpu0 = new ObjectName(Jmx.DOMAIN + ":type=WorkerPool,cmwq=shared,name=cpu0");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> ManagementFactory.getPlatformMBeanServer()
                    .isRegistered(system) && ManagementFactory.getPlatformMBeanServer().isRegistered(cpu0));
            System.out.println("registered, total " + ManagementFactory.getPlatformMBeanServer()
                    .getAttribute(system, "Total"));
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Thread.getAllStackTraces().keySet()
                    .stream().noneMatch(t -> t.getName().equals("cmwq4j-jmx")));
            System.out.println("batch ended");
            // published from now on at once, on the caller's thread
            try (Workqueue later = Workqueue.builder("later").build()) {
                ObjectName name = new ObjectName(Jmx.DOMAIN + ":type=Workqueue,cmwq=shared,name=later");
                System.out.println(ManagementFactory.getPlatformMBeanServer().isRegistered(name)
                        ? "later registered at once" : "later not registered");
            }
        }
    }

    @Test
    void theSharedInstanceIsBuiltWithoutAnMBeanServerAndItsBeansAppearLater() throws Exception {
        TestSupport.ChildJvm child = TestSupport.runChildJvm(Child.class, Cmwq.class, Child.class,
                Awaitility.class, org.hamcrest.Matcher.class);
        assertThat(child.ended()).isTrue();
        assertThat(child.lines()).as("the child's output").containsExactly("no server", "no jmx thread", "registered, total 1",
                "batch ended", "later registered at once");
        assertThat(child.exitValue()).isZero();
    }
}
