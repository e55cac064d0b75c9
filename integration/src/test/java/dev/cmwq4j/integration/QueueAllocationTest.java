package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What the queue path allocates on the queueing thread, read from that thread's allocation
 * counter ({@code com.sun.management.ThreadMXBean}, exact to the byte, whatever the machine's
 * load): a pre-built {@link Work} nothing, {@code execute(Runnable)} one node of at most 80
 * bytes (README, issue 16's target: one object per task). Into a frozen workqueue, so that the
 * works wait and the path measured is the queue alone, admission included (the queueing thread
 * takes the idle pool's lock and lists the work inactive). In this module, not core's: core's
 * tests run inside its module, which does not read {@code jdk.management}. A test of bytes, not
 * of speed: a larger node (stop 34's one-byte field made every task node 88 bytes, unseen until
 * a JOL check) fails it on any machine.
 */
class QueueAllocationTest {

    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 100_000;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void executeAllocatesOneNodeOfAtMost80BytesAndAPrebuiltWorkNothing() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("frozen").freezable().maxActive(1).build();
            wq.freeze(); // nothing starts: every task waits on the inactive list until the thaw
            AtomicInteger ran = new AtomicInteger();
            Runnable task = ran::incrementAndGet;
            for (int i = 0; i < WARM_UP; i++) { // the path's classes loaded, its one-time state made
                wq.execute(task);
            }
            long before = allocatedBytes();
            for (int i = 0; i < MEASURED; i++) {
                wq.execute(task);
            }
            double perExecute = (allocatedBytes() - before) / (double) MEASURED;

            Work[] works = new Work[WARM_UP + MEASURED];
            for (int i = 0; i < works.length; i++) {
                works[i] = new Work(task);
            }
            for (int i = 0; i < WARM_UP; i++) {
                assertThat(wq.queue(works[i])).isTrue();
            }
            before = allocatedBytes();
            for (int i = WARM_UP; i < works.length; i++) {
                wq.queue(works[i]);
            }
            double perQueue = (allocatedBytes() - before) / (double) MEASURED;

            wq.thaw();
            wq.flush();
            assertThat(ran.get()).as("every task and work ran once after the thaw")
                    .isEqualTo(2 * (WARM_UP + MEASURED));
            assertThat(perExecute).as("bytes allocated per execute(Runnable)").isBetween(1.0, 80.5);
            assertThat(perQueue).as("bytes allocated per queue of a pre-built Work").isLessThan(0.5);
        }
    }
}
