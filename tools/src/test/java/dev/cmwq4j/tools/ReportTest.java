package dev.cmwq4j.tools;

import static dev.cmwq4j.tools.Tables.parse;
import static dev.cmwq4j.tools.Tables.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import org.junit.jupiter.api.Test;

/**
 * Reads fake MBeans from an in-process MBean server through {@link StatsReader} (the server is
 * an {@code MBeanServerConnection}) and checks every printed number.
 */
class ReportTest {
    /** A fresh server per test, not the platform one: no MBeans but the test's own. */
    private final MBeanServer server = MBeanServerFactory.newMBeanServer();

    private String once(String... options) throws Exception {
        var args = new java.util.ArrayList<>(List.of("1", "--once"));
        args.addAll(List.of(options));
        var bytes = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Top.once(server, Options.parse(args), "1", new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static Fakes.Workqueue fill(Fakes.Workqueue wq, long base) {
        wq.total = base + 1;
        wq.inFlight = base + 2;
        wq.cpuTimeNanos = 1_234_567_891L;
        wq.cpuIntensive = base + 3;
        wq.cmWakeups = base + 4;
        wq.maydays = base + 5;
        wq.rescued = base + 6;
        wq.blocksAnnounced = base + 7;
        wq.blocksDetected = base + 8;
        wq.qlat99 = 12_345;       // 12.3us
        wq.exec99 = 2_500_000;    // 2.50ms
        return wq;
    }

    @Test
    void oneShotPrintsEveryCounterOfEveryWorkqueueExactly() throws Exception {
        fill(Fakes.workqueue(server, "shared", "events"), 1000);
        Fakes.Workqueue db = fill(Fakes.workqueue(server, "shared", "db"), 2000);
        db.unbound = true;
        db.ordered = true;
        Fakes.Pool cpu0 = Fakes.pool(server, "shared", "cpu0", 0, false);
        cpu0.workers = 5;
        cpu0.idle = 1;
        cpu0.running = 2;
        cpu0.blocked = 1;
        cpu0.detected = 1;
        cpu0.cpuIntensive = 0;
        cpu0.nrRunning = 2;
        cpu0.target = 3;
        cpu0.pending = 17;
        cpu0.runningWorks = List.of("export", "charge card", "export"); // one worker each
        Fakes.pool(server, "shared", "unbound", -1, false).workers = 9;
        Fakes.pool(server, "shared", "cpu0H", 0, true);
        Fakes.pool(server, "shared", "cpu1", 1, false);

        String out = once();

        assertThat(out).doesNotContain("\u001b");
        List<Map<String, String>> wqs = parse(out, "WORKQUEUE");
        assertThat(wqs).extracting(r -> r.get("WORKQUEUE")).containsExactly("db", "events");
        assertThat(row(wqs, "events")).containsExactly(
                Map.entry("WORKQUEUE", "events"), Map.entry("CMWQ", "shared"),
                Map.entry("flags", "..."), Map.entry("total", "1001"), Map.entry("infl", "1002"),
                Map.entry("CPUtime", "1.235"), Map.entry("CPUitsv", "1003"),
                Map.entry("CMW", "1004"), Map.entry("mayday", "1005"),
                Map.entry("rescued", "1006"), Map.entry("BLKann", "1007"),
                Map.entry("BLKdet", "1008"), Map.entry("qlat99", "12.3us"),
                Map.entry("exec99", "2.50ms"));
        assertThat(row(wqs, "db")).containsEntry("flags", "U.O").containsEntry("total", "2001")
                .containsEntry("BLKdet", "2008");

        List<Map<String, String>> pools = parse(out, "POOL");
        assertThat(pools).extracting(r -> r.get("POOL"))
                .containsExactly("cpu0", "cpu0H", "cpu1", "unbound");
        assertThat(row(pools, "cpu0")).containsExactly(
                Map.entry("POOL", "cpu0"), Map.entry("CMWQ", "shared"),
                Map.entry("workers", "5"), Map.entry("idle", "1"), Map.entry("running", "2"),
                Map.entry("blocked", "1"), Map.entry("detected", "1"), Map.entry("CPUitsv", "0"),
                Map.entry("nr_running", "2"), Map.entry("target", "3"),
                Map.entry("pending", "17"), Map.entry("works", "export x2, charge card"));
        assertThat(row(pools, "cpu1")).containsEntry("works", "-"); // none running
        assertThat(row(pools, "unbound")).containsEntry("workers", "9");
    }

    @Test
    void rawPrintsNanosecondsExactly() throws Exception {
        fill(Fakes.workqueue(server, "shared", "events"), 0);

        Map<String, String> events = row(parse(once("--raw"), "WORKQUEUE"), "events");

        assertThat(events).containsEntry("CPUtime", "1234567891")
                .containsEntry("qlat99", "12345").containsEntry("exec99", "2500000");
    }

    @Test
    void namesWithSpecialCharactersAreUnquoted() throws Exception {
        String odd = "db,pool=\"main\":*?";
        String engine = "engine:1";
        assertThat(Fakes.objectName("Workqueue", engine, odd).getKeyProperty("name"))
                .startsWith("\"");
        Fakes.workqueue(server, engine, odd).total = 42;
        Fakes.workqueue(server, "shared", "with space").total = 7;
        Fakes.pool(server, engine, "cpu0", 0, false).workers = 3;

        String out = once();

        List<Map<String, String>> wqs = parse(out, "WORKQUEUE");
        assertThat(row(wqs, odd)).containsEntry("CMWQ", engine).containsEntry("total", "42");
        assertThat(row(wqs, "with space")).containsEntry("total", "7");
        assertThat(row(parse(out, "POOL"), "cpu0")).containsEntry("CMWQ", engine)
                .containsEntry("workers", "3");
    }

    @Test
    void cmwqFilterKeepsOneEngine() throws Exception {
        Fakes.workqueue(server, "shared", "events");
        Fakes.workqueue(server, "engine:1", "mine");
        Fakes.pool(server, "shared", "cpu0", 0, false);
        Fakes.pool(server, "engine:1", "cpu0", 0, false);

        String out = once("--cmwq", "engine:1");

        assertThat(parse(out, "WORKQUEUE")).extracting(r -> r.get("WORKQUEUE"))
                .containsExactly("mine");
        assertThat(parse(out, "POOL")).extracting(r -> r.get("CMWQ")).containsExactly("engine:1");
    }

    @Test
    void missingAttributesPrintAsDash() throws Exception {
        // An older cmwq4j: only Total and InFlight; a newer one: an attribute the tool ignores.
        Fakes.register(server, new Fakes.Partial(Map.of("Total", 5L, "InFlight", 1L,
                "SomethingNew", 9L)), Fakes.objectName("Workqueue", "shared", "old"));
        Fakes.register(server, new Fakes.Partial(Map.of("Workers", 4)),
                Fakes.objectName("WorkerPool", "shared", "cpu0"));

        String out = once();

        assertThat(row(parse(out, "WORKQUEUE"), "old")).containsExactly(
                Map.entry("WORKQUEUE", "old"), Map.entry("CMWQ", "shared"),
                Map.entry("flags", "-"), Map.entry("total", "5"), Map.entry("infl", "1"),
                Map.entry("CPUtime", "-"), Map.entry("CPUitsv", "-"), Map.entry("CMW", "-"),
                Map.entry("mayday", "-"), Map.entry("rescued", "-"), Map.entry("BLKann", "-"),
                Map.entry("BLKdet", "-"), Map.entry("qlat99", "-"), Map.entry("exec99", "-"));
        assertThat(row(parse(out, "POOL"), "cpu0")).containsEntry("workers", "4")
                .containsEntry("pending", "-").containsEntry("works", "-");
    }

    @Test
    void sortsNumbersDescendingTextAscendingMissingLast() throws Exception {
        Fakes.workqueue(server, "shared", "a").total = 10;
        Fakes.workqueue(server, "shared", "b").total = 30;
        Fakes.workqueue(server, "shared", "c").total = 20;
        Fakes.register(server, new Fakes.Partial(Map.of("InFlight", 0L)),
                Fakes.objectName("Workqueue", "shared", "0-no-total"));
        Fakes.pool(server, "shared", "cpu0", 0, false).pending = 1;
        Fakes.pool(server, "shared", "cpu1", 1, false).pending = 5;

        assertThat(parse(once("--sort", "TOTAL"), "WORKQUEUE")).extracting(r -> r.get("WORKQUEUE"))
                .containsExactly("b", "c", "a", "0-no-total");
        assertThat(parse(once("--sort=WORKQUEUE"), "WORKQUEUE"))
                .extracting(r -> r.get("WORKQUEUE")).containsExactly("0-no-total", "a", "b", "c");
        // a column of the pool table only: the workqueue table keeps its default order
        String byPending = once("--sort", "pending");
        assertThat(parse(byPending, "POOL")).extracting(r -> r.get("POOL"))
                .containsExactly("cpu1", "cpu0");
        assertThat(parse(byPending, "WORKQUEUE")).extracting(r -> r.get("WORKQUEUE"))
                .containsExactly("0-no-total", "a", "b", "c");
    }

    @Test
    void ratesOverOneIntervalAndDashWhereThereIsNoRate() {
        Row before = new Row("shared", "events", Map.of("Total", 100L, "CpuTimeNanos", 0L));
        Row after = new Row("shared", "events", Map.of("Total", 300L,
                "CpuTimeNanos", 1_000_000_000L));
        Row fresh = new Row("shared", "fresh", Map.of("Total", 50L, "CpuTimeNanos", 5L));
        Row replacedBefore = new Row("shared", "replaced", Map.of("Total", 900L));
        Row replacedAfter = new Row("shared", "replaced", Map.of("Total", 3L));
        Snapshot first = new Snapshot(0, List.of(before, replacedBefore), List.of());
        Snapshot second = new Snapshot(2_000_000_000L, List.of(after, fresh, replacedAfter),
                List.of());
        Report report = new Report(true, false, "total/s");

        List<Map<String, String>> rows = parse(report.render(second, first), "WORKQUEUE");

        assertThat(rows).extracting(r -> r.get("WORKQUEUE"))
                .containsExactly("events", "fresh", "replaced");
        assertThat(row(rows, "events")).containsEntry("total", "300")
                .containsEntry("total/s", "100.0").containsEntry("CPUtime", "1.000")
                .containsEntry("CPU%", "50.0");
        assertThat(row(rows, "fresh")).containsEntry("total/s", "-").containsEntry("CPU%", "-");
        assertThat(row(rows, "replaced")).containsEntry("total/s", "-");
        // first frame: rate columns present, all "-"
        assertThat(row(parse(report.render(first, null), "WORKQUEUE"), "events"))
                .containsEntry("total/s", "-").containsEntry("CPU%", "-");
    }

    @Test
    void refreshModeClearsTheScreenAndShowsRatesFromTheSecondFrame() throws Exception {
        Fakes.Workqueue events = Fakes.workqueue(server, "shared", "events");
        events.total = 10;
        var bytes = new ByteArrayOutputStream();

        Top.refresh(server, Options.parse(List.of("1", "--interval", "0.01")), "1",
                new PrintStream(bytes, true, StandardCharsets.UTF_8), 2);

        String[] frames = bytes.toString(StandardCharsets.UTF_8).split("\u001b\\[H\u001b\\[2J", -1);
        assertThat(frames).hasSize(3);
        assertThat(frames[0]).isEmpty();
        assertThat(frames[1]).startsWith("cmwq4j top - pid 1 - ")
                .contains("every 0.01s - 1 workqueues, 0 pools");
        assertThat(row(parse(frames[1], "WORKQUEUE"), "events")).containsEntry("total/s", "-");
        // nothing ran between the frames: the rate is an exact zero
        assertThat(row(parse(frames[2], "WORKQUEUE"), "events")).containsEntry("total", "10")
                .containsEntry("total/s", "0.0");
    }

    private static FakeWorkqueueMXBean.Site site(String top, long count, long blockedNanos, String... below) {
        String[] stack = new String[below.length + 1];
        stack[0] = top;
        System.arraycopy(below, 0, stack, 1, below.length);
        return new FakeWorkqueueMXBean.Site(top, stack, count, blockedNanos);
    }

    @Test
    void theSiteViewListsEachWorkqueuesSitesAndWhatWasNotSampled() throws Exception {
        Fakes.Workqueue db = Fakes.workqueue(server, "shared", "db");
        db.blockingSites = List.of(
                site("app.Dao.lookup(Dao.java:42)", 12, 1_500_000_000L, "app.Service.handle(Service.java:7)"),
                site("app.Cache.load(Cache.java:9)", 3, 30_000_000L));
        db.blocksDetected = 20; // 5 not sampled
        Fakes.Workqueue events = Fakes.workqueue(server, "shared", "events");
        events.blocksDetected = 0; // nothing blocked: no row
        Fakes.Workqueue mail = Fakes.workqueue(server, "engine:1", "mail");
        mail.blockingSites = List.of(new FakeWorkqueueMXBean.Site("(other)", new String[0], 2, 4_000_000L));
        mail.blocksDetected = 2;
        Fakes.register(server, new Fakes.Partial(Map.of("Total", 5L, "BlocksDetected", 9L)),
                Fakes.objectName("Workqueue", "shared", "old")); // an older cmwq4j: no sites published

        String out = once("--sites");

        List<Map<String, String>> rows = parse(out, "WORKQUEUE");
        assertThat(rows).extracting(r -> r.get("WORKQUEUE") + " " + r.get("site")).containsExactly(
                "mail (other)", "db app.Dao.lookup(Dao.java:42)", "db app.Cache.load(Cache.java:9)",
                "db (unsampled)");
        assertThat(rows.get(1)).containsExactly(Map.entry("WORKQUEUE", "db"), Map.entry("CMWQ", "shared"),
                Map.entry("count", "12"), Map.entry("blocked", "1.50s"), Map.entry("avg", "125ms"),
                Map.entry("site", "app.Dao.lookup(Dao.java:42)"));
        assertThat(rows.get(2)).containsEntry("count", "3").containsEntry("blocked", "30.0ms")
                .containsEntry("avg", "10.0ms");
        assertThat(rows.get(3)).containsEntry("count", "5").containsEntry("blocked", "-").containsEntry("avg", "-");
        assertThat(rows.get(0)).containsEntry("CMWQ", "engine:1").containsEntry("count", "2");
        // one-shot mode: each site's frames below the table
        assertThat(out).contains("""
                shared/db #1: app.Dao.lookup(Dao.java:42)
                    at app.Dao.lookup(Dao.java:42)
                    at app.Service.handle(Service.java:7)
                shared/db #2: app.Cache.load(Cache.java:9)
                    at app.Cache.load(Cache.java:9)
                """);
        assertThat(out).doesNotContain("POOL");
        // sorted by blocked time over all workqueues
        assertThat(parse(once("--sites", "--sort", "blocked"), "WORKQUEUE")).extracting(r -> r.get("site"))
                .containsExactly("app.Dao.lookup(Dao.java:42)", "app.Cache.load(Cache.java:9)", "(other)",
                        "(unsampled)");
    }

    @Test
    void siteRatesFollowEachSiteAcrossFrames() throws Exception {
        javax.management.openmbean.CompositeType type = new javax.management.openmbean.CompositeType("site", "site",
                new String[] {"site", "stack", "count", "blockedNanos"}, new String[] {"site", "stack", "count",
                "blockedNanos"}, new javax.management.openmbean.OpenType<?>[] {
                    javax.management.openmbean.SimpleType.STRING,
                    new javax.management.openmbean.ArrayType<String[]>(1, javax.management.openmbean.SimpleType.STRING),
                    javax.management.openmbean.SimpleType.LONG, javax.management.openmbean.SimpleType.LONG});
        java.util.function.BiFunction<String, long[], javax.management.openmbean.CompositeData> data = (top, n) -> {
            try {
                return new javax.management.openmbean.CompositeDataSupport(type,
                        new String[] {"site", "stack", "count", "blockedNanos"},
                        new Object[] {top, new String[] {top, "app.Main.run(Main.java:1)"}, n[0], n[1]});
            } catch (javax.management.openmbean.OpenDataException e) {
                throw new AssertionError(e);
            }
        };
        Row before = new Row("shared", "db", Map.of("BlocksDetected", 11L, "BlockingSites",
                new javax.management.openmbean.CompositeData[] {data.apply("a.A.x(A.java:1)", new long[] {10, 4_000_000_000L}),
                    data.apply("b.B.y(B.java:2)", new long[] {1, 0})}));
        // the second site overtook the first: the rates follow the sites, not the ranks
        Row after = new Row("shared", "db", Map.of("BlocksDetected", 31L, "BlockingSites",
                new javax.management.openmbean.CompositeData[] {data.apply("b.B.y(B.java:2)", new long[] {21, 9_000_000_000L}),
                    data.apply("a.A.x(A.java:1)", new long[] {10, 4_000_000_000L})}));
        Report report = new Report(true, false, null, true);

        List<Map<String, String>> rows = parse(report.render(new Snapshot(2_000_000_000L, List.of(after), List.of()),
                new Snapshot(0, List.of(before), List.of())), "WORKQUEUE");

        assertThat(rows).extracting(r -> r.get("site")).containsExactly("b.B.y(B.java:2)", "a.A.x(A.java:1)");
        assertThat(rows.get(0)).containsEntry("count/s", "10.0").containsEntry("blk%", "450.0");
        assertThat(rows.get(1)).containsEntry("count/s", "0.0").containsEntry("blk%", "0.0");
    }

    @Test
    void durationsKeepThreeSignificantDigits() {
        assertThat(Column.duration(0)).isEqualTo("0ns");
        assertThat(Column.duration(999)).isEqualTo("999ns");
        assertThat(Column.duration(1_000)).isEqualTo("1.00us");
        assertThat(Column.duration(12_345)).isEqualTo("12.3us");
        assertThat(Column.duration(999_499)).isEqualTo("999us");
        assertThat(Column.duration(999_500)).isEqualTo("1.00ms");
        assertThat(Column.duration(2_500_000_000L)).isEqualTo("2.50s");
        assertThat(Column.duration(7_200_000_000_000L)).isEqualTo("7200s");
    }

    @Test
    void badCommandLinesAreRejected() {
        assertThatThrownBy(() -> Options.parse(List.of())).hasMessageContaining("pid");
        assertThatThrownBy(() -> Options.parse(List.of("1", "Main")))
                .hasMessageContaining("one JVM only");
        assertThatThrownBy(() -> Options.parse(List.of("1", "--interval", "0")))
                .hasMessageContaining("--interval");
        assertThatThrownBy(() -> Options.parse(List.of("1", "--interval")))
                .hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Options.parse(List.of("1", "--bogus")))
                .hasMessageContaining("unknown option");
        assertThatThrownBy(() -> Options.parse(List.of("1", "--sort", "nope")))
                .hasMessageContaining("no column 'nope'");
        // rates exist only in refresh mode
        assertThatThrownBy(() -> Options.parse(List.of("1", "--once", "--sort", "total/s")))
                .hasMessageContaining("one-shot");
        assertThat(Options.parse(List.of("--sort", "CPU%", "42", "--interval=0.5")))
                .isEqualTo(new Options("42", false, java.time.Duration.ofMillis(500), null,
                        "CPU%", false, false));
        assertThat(Options.parse(List.of("42", "--sites", "--sort", "blk%")).sites()).isTrue();
        // the site view has its own columns
        assertThatThrownBy(() -> Options.parse(List.of("1", "--sites", "--sort", "total")))
                .hasMessageContaining("no column 'total'").hasMessageContaining("site view");
        assertThatThrownBy(() -> Options.parse(List.of("1", "--sort", "avg")))
                .hasMessageContaining("no column 'avg'");
        assertThat(Options.parse(List.of("ScenarioChild", "--once")).target())
                .isEqualTo("ScenarioChild");
    }

    @Test
    void aNameFollowsTheNewestMatchingJvmNotYetDone() {
        var old = new Attach.Candidate("300", "a.Main", java.time.Instant.ofEpochSecond(10));
        var young = new Attach.Candidate("200", "a.Main", java.time.Instant.ofEpochSecond(20));
        var unknown = new Attach.Candidate("100", "a.Main", java.time.Instant.MIN);
        assertThat(Attach.newest(List.of(old, young, unknown), java.util.Set.of()))
                .contains(young);
        assertThat(Attach.newest(List.of(old, young, unknown), java.util.Set.of("200")))
                .contains(old);
        assertThat(Attach.newest(List.of(old, young), java.util.Set.of("200", "300"))).isEmpty();
        assertThat(Attach.isPid("123")).isTrue();
        assertThat(Attach.isPid("ScenarioChild")).isFalse();
    }

    @Test
    void exitStatusTwoOnABadCommandLine() {
        var err = new ByteArrayOutputStream();
        int status = Top.run(List.of("--once"), System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: top <pid | main-class>");
    }
}
