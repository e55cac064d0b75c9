package dev.cmwq4j.bench;

import dev.cmwq4j.Workqueue;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What a fresh JVM pays the first time it uses cmwq4j: building the first workqueue on the shared
 * {@code Cmwq} (pools, the service thread, JMX registration), then the first 1000 no-op works
 * (thread creation, class loading, interpreted code). Wall and process CPU time of each step.
 * Run it in a fresh JVM each time, which {@code -Dmain} does:
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ColdStart
 * mvn -q -pl bench -am process-classes -Dmain=dev.cmwq4j.bench.ColdStart -Dmain.args=--no-jmx
 * </pre>
 */
public final class ColdStart {
    private ColdStart() {}

    public static void main(String[] args) throws Exception {
        boolean jmx = !(args.length > 0 && args[0].equals("--no-jmx"));
        if (!jmx) {
            System.setProperty("cmwq4j.jmx", "false"); // read when the shared instance is built
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        Workqueue wq = Workqueue.builder("cold-start").build();
        long t1 = System.nanoTime();
        long cpu1 = os.getProcessCpuTime();
        CountDownLatch done = new CountDownLatch(1000);
        for (int i = 0; i < 1000; i++) {
            wq.execute(done::countDown);
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the first 1000 works did not finish");
        }
        long t2 = System.nanoTime();
        long cpu2 = os.getProcessCpuTime();
        System.out.printf(Locale.ROOT, "jmx %s: first workqueue built in %.1f ms (process CPU %.0f ms); "
                + "first 1000 works in %.1f ms (process CPU %.0f ms); cmwq threads %d%n",
                jmx ? "on" : "off", (t1 - t0) / 1e6, (cpu1 - cpu0) / 1e6, (t2 - t1) / 1e6,
                (cpu2 - cpu1) / 1e6, wq.cmwq().threads());
        wq.close();
    }
}
