package dev.cmwq4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import dev.cmwq4j.WorkqueueStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CmwqMetricsTest {
    private static final Duration MAX_AGE = Duration.ofSeconds(1);
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    /** Meters per workqueue: 9 counters and gauges, and 2 histograms of 4 meters each. */
    private static final int PER_WORKQUEUE = 17;
    /** Meters per pool: 5 worker states, nr_running, target, pending. */
    private static final int PER_POOL = 8;
    /** Pools of an instance with one CPU: cpu0, cpu0H, unbound, unboundH. */
    private static final int POOLS_OF_ONE_CPU = 4;

    /** Closed after each test, in reverse order of creation (binders before their instances). */
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** A clock that only moves when a test moves it. */
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private Cmwq cmwq(String name, int cpus) {
        Cmwq c = Cmwq.builder().name(name).cpus(cpus).jmx(false).build();
        toClose.add(c);
        return c;
    }

    /** A binder on the test's clock. */
    private CmwqMetrics metrics(Cmwq c, Iterable<Tag> tags) {
        CmwqMetrics m = new CmwqMetrics(c, tags, MAX_AGE, clock::get);
        toClose.add(m);
        return m;
    }

    private CmwqMetrics metrics(Cmwq c) {
        return metrics(c, Tags.empty());
    }

    /** Ages the snapshot past its maximum age: the next meter read takes a new one. */
    private void expire() {
        clock.addAndGet(MAX_AGE.toNanos());
    }

    /** Reads every meter of {@code registry}, as a scrape does. */
    private static void scrape(MeterRegistry registry) {
        for (Meter m : registry.getMeters()) {
            for (Measurement ms : m.measure()) {
                ms.getValue();
            }
        }
    }

    private static double counter(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).functionCounter().count();
    }

    private static double gauge(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).gauge().value();
    }

    private static Set<String> workqueueTags(MeterRegistry r) {
        return r.getMeters().stream().map(m -> m.getId().getTag("workqueue")).filter(t -> t != null)
                .collect(Collectors.toSet());
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void completedCountsTheWorksOfEachWorkqueue() {
        Cmwq c = cmwq("mm-completed", 2);
        Workqueue a = c.workqueue("a").build();
        Workqueue b = c.workqueue("b").unbound().maxActive(3).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "a")).isZero();

        AtomicLong ran = new AtomicLong();
        for (int i = 0; i < 100; i++) {
            a.queue(new Work(ran::incrementAndGet));
        }
        for (int i = 0; i < 30; i++) {
            b.queue(new Work(ran::incrementAndGet));
        }
        a.flush();
        b.flush();
        expire();

        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "a")).isEqualTo(100);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "b")).isEqualTo(30);
        FunctionTimer execA = registry.get("cmwq4j.works.execution").tag("workqueue", "a").functionTimer();
        assertThat(execA.count()).isEqualTo(100);
        assertThat(execA.totalTime(TimeUnit.NANOSECONDS)).isGreaterThanOrEqualTo(0);
        assertThat(registry.get("cmwq4j.works.queue.latency").tag("workqueue", "b").functionTimer().count())
                .isEqualTo(30);
        assertThat(ran).hasValue(130);
    }

    @Test
    void inFlightSeesARunningWorkAndTheWorksHeldBehindIt() {
        Cmwq c = cmwq("mm-in-flight", 1);
        Workqueue wq = c.workqueue("held").ordered().build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        wq.queue(new Work(() -> {
            started.countDown();
            Blocking.run(() -> awaitLatch(release));
        }));
        wq.queue(new Work(() -> { }));
        wq.queue(new Work(() -> { }));
        awaitLatch(started);
        expire();
        assertThat(gauge(registry, "cmwq4j.works.in.flight", "workqueue", "held"))
                .as("one running, two held by ordering").isEqualTo(3);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "held")).isZero();

        release.countDown();
        wq.flush();
        expire();
        assertThat(gauge(registry, "cmwq4j.works.in.flight", "workqueue", "held")).isZero();
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "held")).isEqualTo(3);
    }

    @Test
    void blocksAreCountedByKind() {
        Cmwq c = cmwq("mm-blocks", 1);
        Workqueue wq = c.workqueue("blocker").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        wq.queue(new Work(() -> Blocking.run(() -> { })));
        wq.flush();
        expire();
        assertThat(counter(registry, "cmwq4j.blocks", "workqueue", "blocker", "kind", "announced")).isEqualTo(1);
        assertThat(counter(registry, "cmwq4j.blocks", "workqueue", "blocker", "kind", "detected"))
                .isEqualTo(wq.stats().blocksDetected());
    }

    @Test
    void poolMetersShowWorkersByState() {
        Cmwq c = cmwq("mm-pools", 1);
        Workqueue wq = c.workqueue("sleeper").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        assertThat(registry.get("cmwq4j.workers").meters().stream().map(m -> m.getId().getTag("pool")).distinct())
                .containsExactlyInAnyOrder("cpu0", "cpu0H", "unbound", "unboundH");
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        wq.queue(new Work(() -> Blocking.run(() -> {
            blocked.countDown();
            awaitLatch(release);
        })));
        awaitLatch(blocked);
        expire();
        assertThat(gauge(registry, "cmwq4j.workers", "pool", "cpu0", "state", "blocked")).isEqualTo(1);
        // an announced block stays in the running count (a counted block, the default: nothing
        // else waits, so the monitor has no stall to take it out for)
        assertThat(gauge(registry, "cmwq4j.pool.nr.running", "pool", "cpu0")).isEqualTo(1);

        release.countDown();
        wq.flush();
        await().atMost(PATIENCE).untilAsserted(() -> {
            expire();
            double sum = 0;
            for (String state : CmwqMetrics.WORKER_STATES) {
                sum += gauge(registry, "cmwq4j.workers", "pool", "cpu0", "state", state);
            }
            PoolStats cpu0 = c.poolStats().get(0);
            assertThat(gauge(registry, "cmwq4j.workers", "pool", "cpu0", "state", "blocked")).isZero();
            assertThat(sum).as("the states add up to the pool's workers").isEqualTo(cpu0.workers());
            assertThat(gauge(registry, "cmwq4j.pool.pending", "pool", "cpu0")).isZero();
        });
        assertThat(gauge(registry, "cmwq4j.pool.target", "pool", "cpu0")).isGreaterThanOrEqualTo(1);
        double threads = gauge(registry, "cmwq4j.threads");
        double peak = gauge(registry, "cmwq4j.threads.peak");
        assertThat(threads).isGreaterThanOrEqualTo(1);
        assertThat(peak).isGreaterThanOrEqualTo(threads).isLessThanOrEqualTo(c.peakThreads());
    }

    @Test
    void histogramsAreTimersAndPercentileGauges() {
        Cmwq c = cmwq("mm-histograms", 1);
        Workqueue wq = c.workqueue("timed").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        TimeGauge p99 = registry.get("cmwq4j.works.execution.quantile").tags("workqueue", "timed", "quantile", "0.99")
                .timeGauge();
        assertThat(p99.value(TimeUnit.NANOSECONDS)).as("no work yet").isNaN();

        for (int i = 0; i < 20; i++) {
            wq.queue(new Work(() -> Blocking.run(() -> { })));
        }
        wq.flush();
        expire();
        WorkqueueStats s = wq.stats(); // nothing runs any more: the same numbers as the snapshot
        FunctionTimer exec = registry.get("cmwq4j.works.execution").tag("workqueue", "timed").functionTimer();
        assertThat(exec.count()).isEqualTo(20);
        assertThat(exec.totalTime(TimeUnit.NANOSECONDS))
                .isCloseTo(s.executionTime().meanNanos() * 20, Offset.offset(1.0));
        // a time gauge keeps the registry's base unit (seconds here): nanoseconds come back within rounding
        Offset<Double> rounding = Offset.offset(0.01);
        assertThat(p99.value(TimeUnit.NANOSECONDS)).isCloseTo(s.executionTime().valueAtPercentile(99), rounding);
        assertThat(registry.get("cmwq4j.works.execution.quantile").tags("workqueue", "timed", "quantile", "0.5")
                .timeGauge().value(TimeUnit.NANOSECONDS)).isCloseTo(s.executionTime().valueAtPercentile(50), rounding);
        assertThat(registry.get("cmwq4j.works.execution.quantile").tags("workqueue", "timed", "quantile", "1")
                .timeGauge().value(TimeUnit.NANOSECONDS)).as("quantile 1 is the maximum")
                .isCloseTo(s.executionTime().maxNanos(), rounding);
        assertThat(registry.get("cmwq4j.works.queue.latency.quantile").tags("workqueue", "timed", "quantile", "1")
                .timeGauge().value(TimeUnit.NANOSECONDS)).isCloseTo(s.queueLatency().maxNanos(), rounding);
        assertThat(counter(registry, "cmwq4j.works.cpu.time", "workqueue", "timed"))
                .as("seconds").isEqualTo(s.cpuTimeNanos() / 1e9);
    }

    @Test
    void aWorkqueueBuiltAfterBindToAppearsAtTheNextRefresh() {
        Cmwq c = cmwq("mm-late", 1);
        c.workqueue("early").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        assertThat(workqueueTags(registry)).containsExactly("early");
        assertThat(registry.getMeters()).hasSize(2 + POOLS_OF_ONE_CPU * PER_POOL + PER_WORKQUEUE);

        Workqueue late = c.workqueue("late").build();
        scrape(registry);
        assertThat(workqueueTags(registry)).as("the snapshot is still fresh").containsExactly("early");

        expire();
        scrape(registry); // the first read refreshes and registers the late workqueue's meters
        assertThat(workqueueTags(registry)).containsExactlyInAnyOrder("early", "late");
        late.queue(new Work(() -> { }));
        late.flush();
        expire();
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "late")).isEqualTo(1);
    }

    @Test
    void aClosedWorkqueueLosesItsMetersAtTheNextRefresh() {
        Cmwq c = cmwq("mm-closed", 1);
        Workqueue stays = c.workqueue("stays").build();
        Workqueue goes = c.workqueue("goes").build();
        assertThat(c.workqueueStats()).extracting(WorkqueueStats::name).containsExactly("stays", "goes");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        int before = registry.getMeters().size();

        goes.close();
        assertThat(c.workqueueStats()).as("closed workqueues leave the statistics")
                .extracting(WorkqueueStats::name).containsExactly("stays");
        expire();
        scrape(registry);
        assertThat(workqueueTags(registry)).containsExactly("stays");
        assertThat(registry.getMeters()).hasSize(before - PER_WORKQUEUE);
        stays.queue(new Work(() -> { }));
        stays.flush();
        expire();
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "stays")).isEqualTo(1);
    }

    @Test
    void workqueuesThatShareANameShareItsMetersWithTheirSums() {
        Cmwq c = cmwq("mm-dup", 1);
        Workqueue first = c.workqueue("dup").build();
        Workqueue second = c.workqueue("dup").build();
        for (int i = 0; i < 3; i++) {
            first.queue(new Work(() -> { }));
        }
        for (int i = 0; i < 4; i++) {
            second.queue(new Work(() -> { }));
        }
        first.flush();
        second.flush();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c).bindTo(registry);
        assertThat(registry.getMeters()).hasSize(2 + POOLS_OF_ONE_CPU * PER_POOL + PER_WORKQUEUE);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "dup")).isEqualTo(7);
        assertThat(registry.get("cmwq4j.works.execution").tag("workqueue", "dup").functionTimer().count())
                .isEqualTo(7);

        first.close();
        expire();
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "dup"))
                .as("the one left open").isEqualTo(4);
        second.close();
        expire();
        scrape(registry);
        assertThat(workqueueTags(registry)).isEmpty();
    }

    @Test
    void oneSnapshotServesEveryMeterWithinTheMaximumAge() {
        Cmwq c = cmwq("mm-snapshot", 1);
        Workqueue one = c.workqueue("one").build();
        c.workqueue("two").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CmwqMetrics m = metrics(c);
        m.bindTo(registry);
        assertThat(m.snapshotsTaken()).as("bindTo takes the first").isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            scrape(registry);
        }
        assertThat(m.snapshotsTaken()).isEqualTo(1);

        one.queue(new Work(() -> { }));
        one.flush();
        clock.addAndGet(MAX_AGE.toNanos() - 1);
        scrape(registry);
        assertThat(m.snapshotsTaken()).as("not yet too old").isEqualTo(1);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "one"))
                .as("the meters read the snapshot, not the engine").isZero();
        clock.addAndGet(1);
        scrape(registry);
        assertThat(m.snapshotsTaken()).as("one engine read for a whole scrape").isEqualTo(2);
        assertThat(counter(registry, "cmwq4j.works.completed", "workqueue", "one")).isEqualTo(1);
    }

    @Test
    void concurrentScrapesShareOneRefresh() throws Exception {
        Cmwq c = cmwq("mm-concurrent", 1);
        c.workqueue("one").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CmwqMetrics m = metrics(c);
        m.bindTo(registry);
        expire();
        int threads = 4;
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    awaitLatch(go);
                    for (int i = 0; i < 20; i++) {
                        scrape(registry);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            });
            th.start();
        }
        go.countDown();
        awaitLatch(done);
        assertThat(failures).isEmpty();
        assertThat(m.snapshotsTaken()).as("the first snapshot, and one refresh for all readers").isEqualTo(2);
    }

    @Test
    void aMaximumAgeOfZeroReadsTheEngineOnEveryMeterRead() {
        Cmwq c = cmwq("mm-zero", 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CmwqMetrics m = new CmwqMetrics(c, Tags.empty(), Duration.ZERO);
        toClose.add(m);
        m.bindTo(registry);
        long before = m.snapshotsTaken();
        Gauge threads = registry.get("cmwq4j.threads").gauge();
        threads.value();
        threads.value();
        threads.value();
        assertThat(m.snapshotsTaken()).isEqualTo(before + 3);
    }

    @Test
    void everyMeterCarriesTheInstanceAndExtraTags() {
        Cmwq c = cmwq("mm-tags", 1);
        c.workqueue("tagged").build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c, Tags.of("app", "thumbnails", "cmwq", "not-this")).bindTo(registry);
        assertThat(registry.getMeters()).isNotEmpty().allSatisfy(m -> {
            assertThat(m.getId().getName()).startsWith("cmwq4j.");
            assertThat(m.getId().getTag("cmwq")).as("the binder's own tag wins").isEqualTo("mm-tags");
            assertThat(m.getId().getTag("app")).isEqualTo("thumbnails");
            assertThat(m.getId().getTag("workqueue") == null || m.getId().getTag("pool") == null).isTrue();
        });
    }

    @Test
    void bindingTwoRegistriesKeepsBothInStepAndCloseRemovesEverything() {
        Cmwq c = cmwq("mm-two", 1);
        c.workqueue("first").build();
        SimpleMeterRegistry r1 = new SimpleMeterRegistry();
        SimpleMeterRegistry r2 = new SimpleMeterRegistry();
        CmwqMetrics m = metrics(c);
        m.bindTo(r1);
        m.bindTo(r2);
        m.bindTo(r1); // no-op
        assertThat(r1.getMeters()).hasSize(2 + POOLS_OF_ONE_CPU * PER_POOL + PER_WORKQUEUE);
        assertThat(r2.getMeters()).hasSameSizeAs(r1.getMeters());

        c.workqueue("second").build();
        expire();
        scrape(r1); // a refresh registers in every bound registry
        assertThat(workqueueTags(r2)).containsExactlyInAnyOrder("first", "second");
        assertThat(r2.getMeters()).hasSameSizeAs(r1.getMeters());

        m.close();
        assertThat(r1.getMeters()).isEmpty();
        assertThat(r2.getMeters()).isEmpty();
        m.close(); // idempotent
        assertThatThrownBy(() -> m.bindTo(r1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClosedRegistryIsForgottenAtTheNextRefresh() {
        Cmwq c = cmwq("mm-closed-registry", 1);
        SimpleMeterRegistry open = new SimpleMeterRegistry();
        SimpleMeterRegistry closing = new SimpleMeterRegistry();
        CmwqMetrics m = metrics(c);
        m.bindTo(open);
        m.bindTo(closing);
        assertThat(m.registryCount()).isEqualTo(2);
        closing.close();
        c.workqueue("after").build();
        expire();
        scrape(open);
        assertThat(m.registryCount()).as("not kept reachable by the binder").isEqualTo(1);
        assertThat(workqueueTags(open)).containsExactly("after");
        assertThat(workqueueTags(closing)).isEmpty();
        m.close();
        assertThat(open.getMeters()).isEmpty();
    }

    @Test
    void theNoArgumentConstructorBindsTheSharedInstance() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CmwqMetrics m = new CmwqMetrics();
        toClose.add(m);
        m.bindTo(registry);
        assertThat(registry.get("cmwq4j.threads").tag("cmwq", "shared").gauge().value()).isNotNaN();
        assertThat(registry.get("cmwq4j.workers").tags("cmwq", "shared", "pool", "cpu0", "state", "idle").gauge())
                .isNotNull();
        assertThat(registry.getMeters()).allSatisfy(meter -> assertThat(meter.getId().getTag("cmwq")).isEqualTo("shared"));
    }

    @Test
    void nullAndNegativeArgumentsAreRejected() {
        Cmwq c = cmwq("mm-args", 1);
        assertThatThrownBy(() -> new CmwqMetrics(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("cmwq");
        assertThatThrownBy(() -> new CmwqMetrics(null, Tags.empty())).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new CmwqMetrics(c, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("extraTags");
        assertThatThrownBy(() -> new CmwqMetrics(c, Tags.empty(), null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("maxAge");
        assertThatThrownBy(() -> new CmwqMetrics(c, Tags.empty(), Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAge");
        CmwqMetrics m = metrics(c);
        assertThatThrownBy(() -> m.bindTo(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("registry");
    }

    /** Prints every meter of a small instance after some work: its name, type, tags and value. */
    @Test
    void printTheMeters() {
        Cmwq c = cmwq("demo", 1);
        Workqueue wq = c.workqueue("thumbnails").build();
        for (int i = 0; i < 10; i++) {
            wq.queue(new Work(() -> Blocking.run(() -> { })));
        }
        wq.flush();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics(c, Tags.of("app", "demo")).bindTo(registry);
        List<Meter> meters = new ArrayList<>(registry.getMeters());
        meters.sort(Comparator.comparing((Meter m) -> m.getId().getName())
                .thenComparing(m -> m.getId().getTags().toString()));
        StringBuilder out = new StringBuilder("CmwqMetrics: " + meters.size() + " meters\n");
        for (Meter m : meters) {
            String tags = m.getId().getTags().stream().map(t -> t.getKey() + "=" + t.getValue())
                    .collect(Collectors.joining(","));
            out.append(String.format("%-38s %-15s {%s} %s%n", m.getId().getName(), m.getId().getType(), tags,
                    value(m)));
        }
        System.out.print(out);
        assertThat(meters).hasSize(2 + POOLS_OF_ONE_CPU * PER_POOL + PER_WORKQUEUE);
    }

    private static String value(Meter m) {
        if (m instanceof FunctionCounter fc) {
            return "count=" + fc.count();
        }
        if (m instanceof FunctionTimer ft) {
            return String.format("count=%.0f total=%.6fs", ft.count(), ft.totalTime(TimeUnit.SECONDS));
        }
        if (m instanceof TimeGauge tg) {
            return String.format("%.9fs", tg.value(TimeUnit.SECONDS));
        }
        if (m instanceof Gauge g) {
            return "value=" + g.value();
        }
        return m.measure().toString();
    }
}
