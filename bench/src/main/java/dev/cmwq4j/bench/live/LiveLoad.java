package dev.cmwq4j.bench.live;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.BlockingSite;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.WorkqueueStats;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A target for the {@code top} tool: a mixed load on four workqueues of the shared instance for
 * a while (CPU, announced blocking, plain sleeps, and orders whose lookups block unannounced at two
 * sites for {@code top --sites}), then quiet; it prints its own statistics
 * snapshot (nanoseconds, as {@code top --raw} prints them) and stays up so that
 * {@code top --once --raw} can read the same, now still, numbers.
 *
 * <p>Run: {@code mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.live.LiveLoad
 * -Dmain.args="10 60"} (load seconds, then seconds to stay up); in another terminal
 * {@code mvn -q -pl tools process-classes -Dtop=LiveLoad} while it runs, and
 * {@code -Dtop="LiveLoad --once --raw"} once it prints its snapshot.
 */
public final class LiveLoad {
    private LiveLoad() {}

    public static void main(String[] args) throws Exception {
        int loadSeconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int holdSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        Workqueue cpu = Workqueue.builder("live-cpu").build();
        Workqueue io = Workqueue.builder("live-io").build();
        Workqueue batch = Workqueue.builder("live-batch").unbound().maxActive(4).build();
        Workqueue orders = Workqueue.builder("live-orders").build();
        System.out.println("LiveLoad pid " + ProcessHandle.current().pid() + ": load for " + loadSeconds + " s");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(loadSeconds);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 200; i++) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                switch (r.nextInt(4)) {
                    case 0 -> cpu.execute(() -> spin(20_000));
                    case 1 -> io.execute(() -> {
                        spin(20_000);
                        try {
                            if (ThreadLocalRandom.current().nextBoolean()) {
                                Blocking.sleep(1);
                            } else {
                                Thread.sleep(1); // unannounced: the monitor's business
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    case 2 -> orders.execute(LiveLoad::handleOrder);
                    default -> batch.execute(() -> spin(100_000));
                }
            }
            cpu.flush();
            io.flush();
            batch.flush();
            orders.flush();
        }
        System.out.println("quiet now; snapshot (ns):");
        System.out.println("workqueue total infl CPUtime CPUitsv CMW mayday rescued BLKann BLKdet qlat99 exec99");
        for (WorkqueueStats s : Cmwq.shared().workqueueStats()) {
            System.out.printf("%s %d %d %d %d %d %d %d %d %d %d %d%n", s.name(), s.total(), s.inFlight(),
                    s.cpuTimeNanos(), s.cpuIntensive(), s.cmWakeups(), s.maydays(), s.rescued(),
                    s.blocksAnnounced(), s.blocksDetected(), s.queueLatency().valueAtPercentile(99),
                    s.executionTime().valueAtPercentile(99));
        }
        System.out.println("blocking sites: workqueue count blockedNanos site");
        for (WorkqueueStats s : Cmwq.shared().workqueueStats()) {
            for (BlockingSite site : s.blockingSites()) {
                System.out.printf("%s %d %d %s%n", s.name(), site.count(), site.blockedNanos(), site.site());
            }
            if (s.blocksUnsampled() > 0) {
                System.out.printf("%s %d - (unsampled)%n", s.name(), s.blocksUnsampled());
            }
        }
        System.out.println("pool workers idle running blocked detected CPUitsv nr_running target pending");
        for (PoolStats p : Cmwq.shared().poolStats()) {
            System.out.printf("%s %d %d %d %d %d %d %d %d %d%n", p.name(), p.workers(), p.idle(), p.running(),
                    p.blocked(), p.detected(), p.cpuIntensive(), p.nrRunning(), p.target(), p.pending());
        }
        System.out.println("holding for " + holdSeconds + " s");
        System.out.flush();
        Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
    }

    /**
     * An order: a customer lookup and, one time in four, an audit write, both blocking without
     * announcing it (what {@code top --sites} points at).
     */
    private static void handleOrder() {
        spin(20_000);
        loadCustomer();
        if (ThreadLocalRandom.current().nextInt(4) == 0) {
            writeAudit();
        }
    }

    /** A remote lookup, unannounced: the sleep stands for the wait on a socket. */
    private static void loadCustomer() {
        try {
            Thread.sleep(3);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A synchronous audit write, unannounced. */
    private static void writeAudit() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
