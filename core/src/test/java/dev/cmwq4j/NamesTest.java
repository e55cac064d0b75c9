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
 * rejected.
 */
class NamesTest {

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
}
