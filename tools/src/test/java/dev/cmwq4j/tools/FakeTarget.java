package dev.cmwq4j.tools;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;

/**
 * A stand-in for a cmwq4j application, run as a child JVM by {@link TopAttachTest}: registers
 * fake MBeans with known numbers on the platform MBean server, prints {@code ready}, and lives
 * until its standard input closes (so it also dies with the test JVM). The optional argument is
 * the {@code events} workqueue's total (default 123456).
 */
public final class FakeTarget {
    private FakeTarget() {}

    public static void main(String[] args) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Fakes.Workqueue events = Fakes.workqueue(server, "shared", "events");
        events.total = args.length > 0 ? Long.parseLong(args[0]) : 123_456;
        events.inFlight = 7;
        events.cpuTimeNanos = 3_500_000_000L;
        events.cmWakeups = 11;
        events.blocksAnnounced = 99;
        events.blocksDetected = 3;
        events.qlat99 = 850_000;
        events.exec99 = 42_000;
        events.blockingSites = java.util.List.of(new FakeWorkqueueMXBean.Site("app.Dao.lookup(Dao.java:42)",
                new String[] {"app.Dao.lookup(Dao.java:42)", "app.Orders.load(Orders.java:17)"}, 2, 61_000_000L));
        Fakes.Workqueue odd = Fakes.workqueue(server, "shared", "db,pool");
        odd.total = 5;
        odd.unbound = true;
        Fakes.Pool cpu0 = Fakes.pool(server, "shared", "cpu0", 0, false);
        cpu0.workers = 4;
        cpu0.idle = 1;
        cpu0.running = 2;
        cpu0.blocked = 1;
        cpu0.nrRunning = 2;
        cpu0.target = 2;
        cpu0.pending = 6;
        cpu0.runningWorks = java.util.List.of("nightly-export");
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the parent to close our stdin
        }
    }
}
