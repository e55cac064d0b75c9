package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Names: a work's name and where it shows (failure log, watchdog report, JFR), blank names
 * rejected, and thread names that carry their instance and never repeat among live threads.
 */
class NamesTest {

    /** Names of the live threads, sorted. */
    private static List<String> liveThreadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName).sorted()
                .toList();
    }

    /** Live threads named {@code prefix...}; none of another base that {@code prefix} is a prefix of. */
    private static List<String> liveThreads(String base, String... otherBases) {
        return liveThreadNames().stream().filter(n -> n.startsWith(base))
                .filter(n -> java.util.Arrays.stream(otherBases).noneMatch(n::startsWith)).toList();
    }

    /**
     * Runs on each pool kind of {@code c} (CPU 0 and 1, high priority, unbound) one work that
     * waits (announced) until {@code release}, and returns the names of the threads they run on
     * once all have started.
     */
    private static List<String> occupyPools(Cmwq c, CountDownLatch release) throws InterruptedException {
        Workqueue normal = c.workqueue("normal").build();
        Workqueue high = c.workqueue("high").highPriority().build();
        Workqueue unbound = c.workqueue("unbound").unbound().build();
        CopyOnWriteArrayList<String> ran = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(4);
        Runnable hold = () -> {
            ran.add(Thread.currentThread().getName());
            started.countDown();
            TestSupport.blockOn(release);
        };
        normal.queueOn(0, new Work("hold-cpu0", hold));
        normal.queueOn(1, new Work("hold-cpu1", hold));
        high.queueOn(0, new Work("hold-high", hold));
        unbound.queue(new Work("hold-unbound", hold));
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        return List.copyOf(ran);
    }

    @Test
    void threadNamesCarryTheInstanceAndNoTwoLiveThreadsShareOne() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        // two instances with the same name, one of them with two memReclaim workqueues of one name
        try (Cmwq a = Cmwq.builder().name("orders").cpus(2).build();
                Cmwq b = Cmwq.builder().name("orders").cpus(2).build()) {
            a.workqueue("ledger").memReclaim().build();
            a.workqueue("ledger").memReclaim().build();
            b.workqueue("ledger").memReclaim().build();
            try {
                List<String> ranOnA = occupyPools(a, release);
                List<String> ranOnB = occupyPools(b, release);
                // the shared instance too, through a system workqueue
                CountDownLatch sharedRan = new CountDownLatch(1);
                CopyOnWriteArrayList<String> ranOnShared = new CopyOnWriteArrayList<>();
                Workqueues.system().queue(new Work("where", () -> {
                    ranOnShared.add(Thread.currentThread().getName());
                    sharedRan.countDown();
                }));
                assertThat(sharedRan.await(30, TimeUnit.SECONDS)).isTrue();

                List<String> all = liveThreadNames();
                List<String> ours = all.stream().filter(n -> n.startsWith("cmwq4j-")).toList();
                System.out.println("live cmwq4j threads with two instances named 'orders' and the shared one:");
                ours.forEach(n -> System.out.println("  " + n));

                // engine threads: the JVM-wide helpers cmwq4j-jmx and cmwq4j-cpu-clock belong to no
                // instance (and other libraries' threads, e.g. Awaitility's, are not ours to check)
                assertThat(ours.stream().filter(n -> !n.equals("cmwq4j-jmx") && !n.equals("cmwq4j-cpu-clock")))
                        .as("no two live engine threads share a name").doesNotHaveDuplicates();
                String worker = "(cpu[01]H?|unboundH?)-\\d+";
                assertThat(ranOnA).allMatch(n -> n.matches("cmwq4j-orders-" + worker), "A's workers")
                        .anyMatch(n -> n.matches("cmwq4j-orders-cpu0-\\d+"))
                        .anyMatch(n -> n.matches("cmwq4j-orders-cpu1-\\d+"))
                        .anyMatch(n -> n.matches("cmwq4j-orders-cpu0H-\\d+"))
                        .anyMatch(n -> n.matches("cmwq4j-orders-unbound-\\d+"));
                assertThat(ranOnB).allMatch(n -> n.matches("cmwq4j-orders-2-" + worker), "B's workers");
                assertThat(ranOnShared).allMatch(n -> n.matches("cmwq4j-shared-cpu[0-9]+-\\d+"), "shared workers");
                assertThat(liveThreads("cmwq4j-orders-", "cmwq4j-orders-2-"))
                        .contains("cmwq4j-orders-monitor", "cmwq4j-orders-rescuer-ledger",
                                "cmwq4j-orders-rescuer-ledger-2")
                        .allMatch(n -> n.matches("cmwq4j-orders-(" + worker + "|monitor|rescuer-ledger(-2)?)"));
                assertThat(liveThreads("cmwq4j-orders-2-"))
                        .contains("cmwq4j-orders-2-monitor", "cmwq4j-orders-2-rescuer-ledger")
                        .allMatch(n -> n.matches("cmwq4j-orders-2-(" + worker + "|monitor|rescuer-ledger)"));
                assertThat(all).contains("cmwq4j-shared-monitor");
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void aNameIsFreeAgainOnceItsInstanceClosedAndItsThreadsEnded() throws Exception {
        try (Cmwq first = Cmwq.builder().name("names-reuse").cpus(1).build()) {
            Cmwq second = Cmwq.builder().name("names-reuse").cpus(1).build();
            second.workqueue("q").build().queue(new Work(() -> { }));
            assertThat(liveThreadNames()).contains("cmwq4j-names-reuse-monitor", "cmwq4j-names-reuse-2-monitor");
            second.close();
            // while its threads still run, '-2' stays taken; once they have ended it is free again
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> liveThreads("cmwq4j-names-reuse-2-").isEmpty());
            try (Cmwq third = Cmwq.builder().name("names-reuse").cpus(1).build()) {
                assertThat(liveThreadNames()).contains("cmwq4j-names-reuse-2-monitor")
                        .doesNotContain("cmwq4j-names-reuse-3-monitor");
            }
            assertThat(liveThreadNames()).as("the first instance kept its names throughout")
                    .contains("cmwq4j-names-reuse-monitor");
        }
    }

    @Test
    void aPrefixReplacesTheDefaultStartAndIsMadeUniqueTheSameWay() throws Exception {
        try (Cmwq p1 = Cmwq.builder().threadNamePrefix("names-app-").cpus(1).build();
                Cmwq p2 = Cmwq.builder().threadNamePrefix("names-app-").cpus(1).build()) {
            CopyOnWriteArrayList<String> ran = new CopyOnWriteArrayList<>();
            p1.workqueue("q").build().queue(new Work(() -> ran.add(Thread.currentThread().getName())));
            p2.workqueue("q").build().queue(new Work(() -> ran.add(Thread.currentThread().getName())));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ran.size() == 2);
            assertThat(ran).anyMatch(n -> n.matches("names-app-cpu0-\\d+"))
                    .anyMatch(n -> n.matches("names-app-2-cpu0-\\d+"));
            assertThat(liveThreadNames()).contains("names-app-monitor", "names-app-2-monitor");
        }
    }

    @Test
    void theSharedInstancesThreadNamesAreKeptForIt() throws Exception {
        try (Cmwq impostor = Cmwq.builder().name("shared").cpus(1).build()) {
            assertThat(impostor.name()).isEqualTo("shared");
            CopyOnWriteArrayList<String> ran = new CopyOnWriteArrayList<>();
            impostor.workqueue("q").build().queue(new Work(() -> ran.add(Thread.currentThread().getName())));
            Workqueues.system().queue(new Work(() -> ran.add(Thread.currentThread().getName())));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ran.size() == 2);
            assertThat(ran).anyMatch(n -> n.matches("cmwq4j-shared-cpu\\d+-\\d+"))
                    .anyMatch(n -> n.matches("cmwq4j-shared-\\d+-cpu0-\\d+"));
            assertThat(liveThreadNames()).contains("cmwq4j-shared-monitor");
        }
    }

    /** A task that describes itself: its toString is its default name. */
    private record Refresh(String key) implements Runnable {
        @Override
        public void run() {}
    }

    /** A plain named class. */
    private static final class Sweep implements Runnable {
        @Override
        public void run() {}
    }

    private static void noop() {}

    @Test
    void aWorkHasTheNameItWasGivenOrOneDerivedFromItsAction() {
        Work named = new Work("refresh-cache", () -> { });
        assertThat(named.name()).isEqualTo("refresh-cache");
        assertThat(named).hasToString("Work[refresh-cache]");
        DelayedWork delayed = new DelayedWork("tick", () -> { });
        assertThat(delayed.name()).isEqualTo("tick");
        assertThat(delayed).hasToString("DelayedWork[tick]");

        assertThat(new Work(() -> { }).name()).isEqualTo("NamesTest$$Lambda");
        assertThat(new Work(NamesTest::noop).name()).isEqualTo("NamesTest$$Lambda");
        assertThat(new Work(() -> { })).hasToString("Work[NamesTest$$Lambda]");
        assertThat(new DelayedWork(() -> { })).hasToString("DelayedWork[NamesTest$$Lambda]");
        assertThat(new Work(new Runnable() {
            @Override
            public void run() {}
        }).name()).isEqualTo("NamesTest$1");
        assertThat(new Work(new Sweep()).name()).isEqualTo("Sweep");
        assertThat(new Work(new Refresh("users")).name()).isEqualTo("Refresh[key=users]");
        // a toString that throws does not break the name
        assertThat(new Work(new Runnable() {
            @Override
            public void run() {}

            @Override
            public String toString() {
                throw new IllegalStateException("broken toString");
            }
        }).name()).isEqualTo("NamesTest$2");
        // nor one that throws an Error (an assertion in it): reports, JFR and the watchdog ask
        assertThat(new Work(new Runnable() {
            @Override
            public void run() {}

            @Override
            public String toString() {
                throw new AssertionError("an assertion in toString");
            }
        }).name()).isEqualTo("NamesTest$3");
    }

    @Test
    void nullAndBlankNamesAreRejected() {
        Runnable r = () -> { };
        assertThatThrownBy(() -> new Work(null, r)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Work("w", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Work("", r)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Work("  ", r)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DelayedWork(null, r)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new DelayedWork("d", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new DelayedWork("\t", r)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Workqueue.builder("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Workqueue.builder("  ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Workqueue.builder(null)).isInstanceOf(NullPointerException.class);
        try (Cmwq c = Cmwq.builder().name("names-blank").cpus(1).build()) {
            assertThatThrownBy(() -> c.workqueue("")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.workqueue(" \n ")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.workqueue(null)).isInstanceOf(NullPointerException.class);
            assertThat(c.workqueue("fine").build().name()).isEqualTo("fine");
        }
        assertThatThrownBy(() -> Cmwq.builder().name("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFailingWorkIsLoggedAndHandedOverByItsName() throws Exception {
        try (CapturedLog log = new CapturedLog(); Cmwq c = Cmwq.builder().name("names-log").cpus(1).build()) {
            Workqueue wq = c.workqueue("payments").build();
            wq.queue(new Work("charge-card", () -> {
                throw new IllegalStateException("declined");
            }));
            wq.flush();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> log.messages().stream()
                    .anyMatch(m -> m.contains("work 'charge-card' of workqueue 'payments' threw")));
            System.out.println("failure log line: " + log.messages().stream()
                    .filter(m -> m.contains("charge-card")).findFirst().orElseThrow());
        }
        CopyOnWriteArrayList<String> handled = new CopyOnWriteArrayList<>();
        try (Cmwq c = Cmwq.builder().name("names-handler").cpus(1)
                .failureHandler((w, t) -> handled.add(w.name() + ": " + t.getMessage())).build()) {
            Workqueue wq = c.workqueue("payments").build();
            wq.queue(new Work("refund", () -> {
                throw new IllegalStateException("no such charge");
            }));
            wq.execute(new Refresh("k")); // a one-shot task, named after its action
            wq.flush();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 1);
            assertThat(handled).containsExactly("refund: no such charge");
            wq.execute(() -> {
                throw new IllegalStateException("one-shot");
            });
            wq.flush();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 2);
            assertThat(handled.get(1)).isEqualTo("NamesTest$$Lambda: one-shot");
        }
    }

    @Test
    void theWatchdogReportNamesTheStuckWork() throws Exception {
        CopyOnWriteArrayList<WatchdogReport> reports = new CopyOnWriteArrayList<>();
        // one thread in all: once it is stuck, nothing else can start
        try (Cmwq c = Cmwq.builder().name("names-watchdog").cpus(1).maxThreads(1)
                .watchdog(Duration.ofMillis(200), reports::add).build()) {
            Workqueue wq = c.workqueue("stuck").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            wq.queue(new Work("hung-export", () -> {
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            try {
                assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                wq.queue(new Work("behind", () -> { }));
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !reports.isEmpty());
                WatchdogReport r = reports.get(0);
                assertThat(r.workers()).extracting(WatchdogReport.BusyWorker::work).containsExactly("hung-export");
                assertThat(r.describe()).contains("running work 'hung-export'");
            } finally {
                release.countDown();
            }
            wq.flush();
        }
    }

    @Test
    void jfrEventsCarryTheWorkName() throws Exception {
        Path file = Files.createTempFile("cmwq4j-names", ".jfr");
        try {
            try (Recording r = new Recording(); Cmwq c = Cmwq.builder().name("names-jfr").cpus(1).build()) {
                r.enable("dev.cmwq4j.WorkStarted");
                r.enable("dev.cmwq4j.WorkEnded").withThreshold(Duration.ZERO);
                r.start();
                Workqueue wq = c.workqueue("recorded").build();
                wq.queue(new Work("nightly-report", () -> { }));
                wq.queue(new Work(new Sweep()));
                wq.flush();
                r.stop();
                r.dump(file);
            }
            List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().startsWith("dev.cmwq4j.Work"))
                    .filter(e -> "recorded".equals(e.getString("workqueue")))
                    .toList();
            assertThat(events).extracting(e -> e.getEventType().getName() + " " + e.getString("work"))
                    .contains("dev.cmwq4j.WorkStarted nightly-report", "dev.cmwq4j.WorkEnded nightly-report",
                            "dev.cmwq4j.WorkStarted Sweep", "dev.cmwq4j.WorkEnded Sweep");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A minimal MXBean for the suffix test. */
    public interface ProbeMXBean {
        int getValue();
    }

    private static final class Probe implements ProbeMXBean {
        @Override
        public int getValue() {
            return 1;
        }
    }

    @Test
    void anMBeanNameUsedMoreThan999TimesStillGetsABean() throws Exception {
        // a private server (newMBeanServer keeps no reference: the publisher does not see it)
        javax.management.MBeanServer server = javax.management.MBeanServerFactory.newMBeanServer();
        for (int i = 1; i <= 1000; i++) {
            server.registerMBean(new Probe(), Jmx.PlatformServer.objectName("Workqueue", "names-jmx",
                    Jmx.PlatformServer.suffixed("busy", i)));
        }
        assertThat(Jmx.PlatformServer.suffixed("busy", 1)).isEqualTo("busy");
        assertThat(Jmx.PlatformServer.suffixed("busy", 2)).isEqualTo("busy#2");
        javax.management.ObjectName got = Jmx.PlatformServer.register(server, new Probe(), "Workqueue", "names-jmx",
                "busy");
        assertThat(got).isNotNull();
        assertThat(got.getKeyProperty("name")).isEqualTo("busy#1001"); // it was null past 999 before
        assertThat(got.getKeyProperty("cmwq")).isEqualTo("names-jmx");
        assertThat(server.queryNames(new javax.management.ObjectName(Jmx.DOMAIN + ":type=Workqueue,*"), null))
                .hasSize(1001);
    }

    @Test
    void aPoolsMBeanListsTheNamesOfTheWorksItRunsNow() throws Exception {
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName cpu0 = new javax.management.ObjectName(
                "dev.cmwq4j:type=WorkerPool,cmwq=names-running,name=cpu0");
        CountDownLatch release = new CountDownLatch(1);
        try (Cmwq c = Cmwq.builder().name("names-running").cpus(1).build()) {
            Workqueue wq = c.workqueue("exports").build();
            CountDownLatch started = new CountDownLatch(1);
            wq.queue(new Work("nightly-export", () -> {
                started.countDown();
                TestSupport.blockOn(release);
            }));
            try {
                assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> server.isRegistered(cpu0));
                assertThat((String[]) server.getAttribute(cpu0, "RunningWorks")).containsExactly("nightly-export");
            } finally {
                release.countDown();
            }
            wq.flush();
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> ((String[]) server.getAttribute(cpu0, "RunningWorks")).length == 0);
        }
    }
}
