package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.internal.EngineProbe;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * The blocking-site profile: works that block in {@code Thread.sleep} without announcing it are
 * attributed to the helper that sleeps, in the statistics, over JMX and in a JFR recording.
 *
 * <p>Which blocks the monitor detects depends on timing (a pool whose concurrency target absorbs
 * a block makes progress, and is not stuck), so the tests queue rounds of blocking works until
 * the monitor has detected what they need, and assert what must hold whatever it detected: every
 * detection is in exactly one site or unsampled, the sites are where the code blocked.
 */
class BlockingSitesTest {
    /** Created first, so that the beans register at once (see {@code Jmx}). */
    private static final MBeanServerConnection CONN = ManagementFactory.getPlatformMBeanServer();

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    /** The blocking call under test: a lookup that sleeps without announcing it. */
    static void slowLookup() {
        try {
            Thread.sleep(30); // the thing under test: a block the engine is not told about
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A work that calls the lookup: the site is this method's call and the lookup's sleep. */
    static void lookupWork() {
        slowLookup();
    }

    private static void sleepUnannounced(long millis) {
        try {
            Thread.sleep(millis); // unannounced
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Queues rounds of {@code perRound} works ({@code work} makes the i-th action of the run) and
     * flushes each, until {@code enough} holds; fails after {@code maxRounds}.
     */
    private static void rounds(Workqueue wq, int perRound, int maxRounds, IntFunction<Runnable> work,
                               BooleanSupplier enough) {
        int i = 0;
        for (int round = 0; round < maxRounds; round++) {
            for (int k = 0; k < perRound; k++) {
                wq.execute(work.apply(i++));
            }
            wq.flush();
            if (enough.getAsBoolean()) {
                return;
            }
        }
        throw new AssertionError("not reached after " + maxRounds + " rounds: " + wq.stats());
    }

    private static void rounds(Workqueue wq, Runnable work, BooleanSupplier enough) {
        rounds(wq, 20, 20, i -> work, enough);
    }

    /**
     * Detections of {@code c} the profiler had to leave unsampled although its budget was not spent:
     * the capture failed, or came after the worker had left the block (a loaded machine may
     * deschedule the monitor between the detection and the capture).
     */
    private static long leftUnsampled(Cmwq c) {
        return EngineProbe.siteCaptureFailures(c.engine()) + EngineProbe.staleSiteCaptures(c.engine());
    }

    /**
     * Waits until every detection of {@code wq} (the only workqueue of its instance that blocks
     * unannounced) is in a site or left unsampled, and every profiled block has ended and been
     * charged; returns its stats.
     */
    private static WorkqueueStats settled(Workqueue wq) {
        await().atMost(PATIENCE).until(() -> EngineProbe.openProfiledBlocks(wq.core) == 0
                && wq.stats().blocksUnsampled() == leftUnsampled(wq.cmwq()));
        return wq.stats();
    }

    private static long sampled(WorkqueueStats s) {
        return s.blockingSites().stream().mapToLong(BlockingSite::count).sum();
    }

    private static void assertTopIsSlowLookup(BlockingSite site) {
        StackTraceElement[] stack = site.stack();
        assertThat(stack).as("site of %s", site).hasSize(2);
        assertThat(stack[0].getClassName()).isEqualTo(BlockingSitesTest.class.getName());
        assertThat(stack[0].getMethodName()).isEqualTo("slowLookup");
        assertThat(stack[1].getMethodName()).isEqualTo("lookupWork");
        assertThat(site.site()).startsWith(BlockingSitesTest.class.getName() + ".slowLookup(");
        assertThat(site.isOther()).isFalse();
    }

    @Test
    void theHelperIsTheTopSiteAndTheCountsAddUpToTheDetections() {
        try (Cmwq c = Cmwq.builder().name("sites-helper").cpus(1).build()) {
            Workqueue wq = c.workqueue("lookups").build();
            long start = System.nanoTime();
            rounds(wq, BlockingSitesTest::lookupWork, () -> wq.stats().blocksDetected() > 0);
            long wall = System.nanoTime() - start;
            WorkqueueStats s = settled(wq);

            assertThat(s.blockingSites()).hasSize(1);
            BlockingSite site = s.blockingSites().get(0);
            assertTopIsSlowLookup(site);
            // a handful of detections: within the profiler's burst, so every one is profiled (but
            // for a capture that came too late, on a loaded machine: see leftUnsampled)
            assertThat(site.count()).isPositive();
            assertThat(site.count() + s.blocksUnsampled()).isEqualTo(s.blocksDetected());
            assertThat(s.blocksUnsampled()).isEqualTo(leftUnsampled(c)).isLessThan(s.blocksDetected());
            assertThat(EngineProbe.blocksSampled(c.engine())).isEqualTo(site.count());
            // blocked time: from each detection to the end of its 30 ms sleep; only plausibility
            assertThat(site.blockedNanos()).isPositive().isLessThanOrEqualTo(site.count() * wall);
            TestSupport.assertPoolsAtRest(c);
        }
    }

    @Test
    void announcedBlocksProduceNoSites() throws Exception {
        try (Cmwq c = Cmwq.builder().name("sites-announced").cpus(1).build()) {
            Workqueue wq = c.workqueue("announced").build();
            for (int i = 0; i < 20; i++) {
                wq.execute(() -> {
                    try {
                        Blocking.sleep(30);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            wq.flush();
            WorkqueueStats s = wq.stats();
            assertThat(s.blocksAnnounced()).isEqualTo(20);
            assertThat(s.blocksDetected()).isZero();
            assertThat(s.blockingSites()).isEmpty();
            assertThat(c.blockingSites()).isEmpty();
        }
    }

    // Distinct sites: siteA and siteB call each other DEPTH times, bit by bit of the work's
    // number, so each number blocks at its own stack (the frames differ in method and line).
    private static final int DEPTH = 6;

    static void siteA(int bits, int depth) {
        if (depth == 0) {
            sleepUnannounced(30);
        } else if ((bits & 1) == 0) {
            siteA(bits >>> 1, depth - 1);
        } else {
            siteB(bits >>> 1, depth - 1);
        }
    }

    static void siteB(int bits, int depth) {
        if (depth == 0) {
            sleepUnannounced(30);
        } else if ((bits & 1) == 0) {
            siteA(bits >>> 1, depth - 1);
        } else {
            siteB(bits >>> 1, depth - 1);
        }
    }

    @Test
    void sitesBeyondTheBoundAreCountedAsOther() {
        try (Cmwq c = Cmwq.builder().name("sites-bound").cpus(1).build()) {
            Workqueue wq = c.workqueue("many").build();
            // 30 distinct sites a round (64 exist): until more than 16 were sampled
            rounds(wq, 30, 10, i -> () -> siteA(i % (1 << DEPTH), DEPTH),
                    () -> wq.stats().blockingSites().stream().anyMatch(BlockingSite::isOther));
            WorkqueueStats s = settled(wq);

            List<BlockingSite> sites = s.blockingSites();
            List<BlockingSite> listed = sites.stream().filter(x -> !x.isOther()).toList();
            assertThat(listed).hasSize(16);
            assertThat(listed.stream().map(x -> Arrays.asList(x.stack())).distinct()).hasSize(16);
            assertThat(listed).allSatisfy(x -> {
                assertThat(x.stack()).hasSize(8); // the sleep helper and seven siteA/siteB frames
                assertThat(x.stack()[0].getMethodName()).isEqualTo("sleepUnannounced");
                assertThat(x.stack()[1].getMethodName()).isIn("siteA", "siteB");
            });
            BlockingSite other = sites.stream().filter(BlockingSite::isOther).findFirst().orElseThrow();
            assertThat(other.stack()).isEmpty();
            assertThat(other.site()).isEqualTo("(other)");
            assertThat(other.count()).isPositive();
            assertThat(sampled(s) + s.blocksUnsampled()).isEqualTo(s.blocksDetected());
            assertThat(sampled(s)).isEqualTo(EngineProbe.blocksSampled(c.engine()));
            // ordered by blocked time, longest first
            for (int i = 1; i < sites.size(); i++) {
                assertThat(sites.get(i - 1).blockedNanos()).isGreaterThanOrEqualTo(sites.get(i).blockedNanos());
            }
        }
    }

    @Test
    void theInstanceAggregatesTheSameSiteOverItsWorkqueues() {
        try (Cmwq c = Cmwq.builder().name("sites-aggregate").cpus(1).build()) {
            Workqueue orders = c.workqueue("orders").build();
            Workqueue billing = c.workqueue("billing").build();
            BooleanSupplier both = () -> orders.stats().blocksDetected() > 0 && billing.stats().blocksDetected() > 0;
            for (int round = 0; round < 20 && !both.getAsBoolean(); round++) {
                for (int i = 0; i < 20; i++) {
                    orders.execute(BlockingSitesTest::lookupWork);
                    billing.execute(BlockingSitesTest::lookupWork);
                }
                orders.flush();
                billing.flush();
            }
            assertThat(both.getAsBoolean()).as("both workqueues had blocks detected").isTrue();
            WorkqueueStats a = settled(orders);
            WorkqueueStats b = settled(billing);

            assertThat(a.blockingSites()).hasSize(1);
            assertThat(b.blockingSites()).hasSize(1);
            BlockingSite sa = a.blockingSites().get(0);
            BlockingSite sb = b.blockingSites().get(0);
            assertThat(sa.stack()).isEqualTo(sb.stack()); // one call site, reached the same way
            List<BlockingSite> all = c.blockingSites();
            assertThat(all).hasSize(1);
            assertTopIsSlowLookup(all.get(0));
            assertThat(all.get(0).count()).isEqualTo(sa.count() + sb.count());
            assertThat(all.get(0).blockedNanos()).isEqualTo(sa.blockedNanos() + sb.blockedNanos());
        }
    }

    @Test
    void theMxBeanHasTheSitesAsATabularAttribute() throws Exception {
        ObjectName on = new ObjectName("dev.cmwq4j:type=Workqueue,cmwq=sites-jmx,name=lookups");
        try (Cmwq c = Cmwq.builder().name("sites-jmx").cpus(1).build()) {
            Workqueue wq = c.workqueue("lookups").build();
            assertThat(CONN.isRegistered(on)).isTrue();
            assertThat((CompositeData[]) CONN.getAttribute(on, "BlockingSites")).isEmpty();
            rounds(wq, BlockingSitesTest::lookupWork, () -> wq.stats().blocksDetected() > 0);
            WorkqueueStats s = settled(wq);
            BlockingSite site = s.blockingSites().get(0);
            // the bean reuses a snapshot for 20 ms: read until it is one taken after the above
            await().atMost(PATIENCE).untilAsserted(() -> {
                CompositeData[] rows = (CompositeData[]) CONN.getAttribute(on, "BlockingSites");
                assertThat(rows).hasSize(1);
                assertThat(rows[0].get("count")).isEqualTo(site.count());
                assertThat(rows[0].get("blockedNanos")).isEqualTo(site.blockedNanos());
                assertThat(rows[0].get("site")).isEqualTo(site.site());
                assertThat((String[]) rows[0].get("stack")).containsExactly(
                        Arrays.stream(site.stack()).map(StackTraceElement::toString).toArray(String[]::new));
            });
        }
    }

    @Test
    void aRecordingHasAnUnannouncedBlockEventPerSampledBlock() throws Exception {
        EventType type;
        Path file = Files.createTempFile("cmwq4j-sites", ".jfr");
        try (Recording r = new Recording(); Cmwq c = Cmwq.builder().name("sites-jfr").cpus(1).build()) {
            r.enable("dev.cmwq4j.UnannouncedBlock").withThreshold(Duration.ZERO);
            r.start();
            type = FlightRecorder.getFlightRecorder().getEventTypes().stream()
                    .filter(t -> t.getName().equals("dev.cmwq4j.UnannouncedBlock")).findFirst().orElseThrow();
            Workqueue wq = c.workqueue("traced-sites").build();
            for (int round = 0; round < 20 && wq.stats().blocksDetected() == 0; round++) {
                for (int i = 0; i < 20; i++) {
                    wq.queue(new Work("lookup-" + i, BlockingSitesTest::lookupWork));
                }
                wq.flush();
            }
            WorkqueueStats s = settled(wq); // every sampled block ended and its event committed
            r.stop();
            r.dump(file);

            List<RecordedEvent> events = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getEventType().getName().equals("dev.cmwq4j.UnannouncedBlock")
                        && "traced-sites".equals(e.getString("workqueue"))) {
                    events.add(e);
                }
            }
            assertThat((long) events.size()).isEqualTo(sampled(s)).isPositive();
            assertThat(events).allSatisfy(e -> {
                assertThat(e.getString("site")).startsWith(BlockingSitesTest.class.getName() + ".slowLookup(");
                assertThat(e.getString("stack")).startsWith("java.base/java.lang.Thread.sleep")
                        .contains(".slowLookup(").contains(".lookupWork(").contains("dev.cmwq4j.internal.Worker");
                assertThat(e.getString("work")).startsWith("lookup-");
                assertThat(e.getString("worker")).startsWith("cmwq4j-sites-jfr-cpu0-");
                assertThat(e.getDuration()).isPositive();
            });
        } finally {
            Files.deleteIfExists(file);
        }
        // the default threshold, for recordings that do not set one
        assertThat(type.getSettingDescriptors()).anySatisfy(d -> {
            assertThat(d.getName()).isEqualTo("threshold");
            assertThat(d.getDefaultValue()).isEqualTo("20 ms");
        });
    }

    @Test
    void aFailedCaptureLeavesTheBlockUnsampledAndTheMonitorServing() {
        AtomicInteger captures = new AtomicInteger();
        EngineProbe.onSiteCapture(() -> {
            // only this test's monitor, every other capture
            if (Thread.currentThread().getName().startsWith("sites-fault-")
                    && captures.getAndIncrement() % 2 == 0) {
                throw new AssertionError("injected: the stack cannot be read");
            }
        });
        try (Cmwq c = Cmwq.builder().name("sites-fault").threadNamePrefix("sites-fault-").cpus(1).build()) {
            Workqueue wq = c.workqueue("faulty").build();
            try {
                rounds(wq, BlockingSitesTest::lookupWork, () -> EngineProbe.siteCaptureFailures(c.engine()) > 0
                        && EngineProbe.blocksSampled(c.engine()) > 0);
            } finally {
                EngineProbe.onSiteCapture(null);
            }
            WorkqueueStats s = settled(wq);
            long failures = EngineProbe.siteCaptureFailures(c.engine());
            assertThat(failures).isPositive();
            assertThat(s.blocksUnsampled()).isEqualTo(leftUnsampled(c));
            assertThat(sampled(s)).isEqualTo(EngineProbe.blocksSampled(c.engine())).isPositive();
            assertThat(sampled(s) + s.blocksUnsampled()).isEqualTo(s.blocksDetected());
            assertTopIsSlowLookup(s.blockingSites().get(0));

            // the monitor goes on detecting and profiling
            long before = sampled(s);
            rounds(wq, BlockingSitesTest::lookupWork, () -> sampled(wq.stats()) > before);
            assertThat(settled(wq).blocksUnsampled()).isEqualTo(leftUnsampled(c));
            assertThat(EngineProbe.siteCaptureFailures(c.engine())).isEqualTo(failures);
            TestSupport.assertPoolsAtRest(c);
        } finally {
            EngineProbe.onSiteCapture(null);
        }
    }

    @Test
    void withTheProfilerOffEveryDetectionIsUnsampled() {
        try (Cmwq c = Cmwq.builder().name("sites-off").blockingSites(false).cpus(1).build()) {
            Workqueue wq = c.workqueue("unprofiled").build();
            rounds(wq, BlockingSitesTest::lookupWork, () -> wq.stats().blocksDetected() > 0);
            WorkqueueStats s = wq.stats();
            assertThat(s.blockingSites()).isEmpty();
            assertThat(s.blocksUnsampled()).isEqualTo(s.blocksDetected()).isPositive();
            assertThat(EngineProbe.blocksSampled(c.engine())).isZero();
            assertThat(c.blockingSites()).isEmpty();
        }
    }

    @Test
    void aSiteIsAValue() {
        StackTraceElement top = new StackTraceElement("com.example.Dao", "lookup", "Dao.java", 42);
        StackTraceElement[] frames = {top};
        BlockingSite s = new BlockingSite(frames, 3, 7);
        frames[0] = new StackTraceElement("x.Y", "z", null, -1);
        assertThat(s.stack()).containsExactly(top); // a copy was kept
        s.stack()[0] = null;
        assertThat(s.stack()).containsExactly(top); // and a copy is handed out
        assertThat(s).isEqualTo(new BlockingSite(new StackTraceElement[] {top}, 3, 7))
                .hasSameHashCodeAs(new BlockingSite(new StackTraceElement[] {top}, 3, 7));
        assertThat(s.site()).isEqualTo("com.example.Dao.lookup(Dao.java:42)");
        assertThat(s.toString()).contains("com.example.Dao.lookup(Dao.java:42)").contains("count=3");
        assertThat(new BlockingSite(new StackTraceElement[0], 1, 0).isOther()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BlockingSite(null, 0, 0))
                .isInstanceOf(NullPointerException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BlockingSite(new StackTraceElement[0], -1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
