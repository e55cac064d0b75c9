package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The blocking-site profiler's parts on their own: how a captured stack is trimmed to a site,
 * which frames are cmwq4j's own, a workqueue's bounded table, and the sampling budget.
 */
class SiteTest {
    private static StackTraceElement frame(String cls, String method, int line) {
        return new StackTraceElement(cls, method, cls.substring(cls.lastIndexOf('.') + 1) + ".java", line);
    }

    private static final StackTraceElement SLEEP = frame("java.lang.Thread", "sleep0", 1);
    private static final StackTraceElement SLEEP2 = frame("java.lang.Thread", "sleep", 2);
    private static final StackTraceElement RUN_ACTION = frame("dev.cmwq4j.internal.WorkNode", "runAction", 3);
    private static final StackTraceElement RUN_ONE = frame("dev.cmwq4j.internal.Worker", "runOne", 4);
    private static final StackTraceElement THREAD_RUN = frame("java.lang.Thread", "run", 5);

    @Test
    void theSiteStartsAtTheUsersCallAndEndsAtTheEngine() {
        StackTraceElement dao = frame("com.example.Dao", "lookup", 42);
        StackTraceElement service = frame("com.example.Service", "handle", 7);
        StackTraceElement stream = frame("java.util.stream.ReferencePipeline", "forEach", 9);
        StackTraceElement lambda = frame("com.example.Service", "lambda$submit$0", 12);
        Site site = Site.of(new StackTraceElement[] {SLEEP, SLEEP2, dao, service, stream, lambda, RUN_ACTION,
                RUN_ONE, THREAD_RUN});
        // JDK frames between user frames stay: they are part of the path
        assertThat(site.frames()).containsExactly(dao, service, stream, lambda);
        assertThat(site.top()).isEqualTo("com.example.Dao.lookup(Dao.java:42)");
        assertThat(site).isEqualTo(Site.of(new StackTraceElement[] {SLEEP2, dao, service, stream, lambda,
                RUN_ACTION, RUN_ONE, THREAD_RUN})).hasSameHashCodeAs(Site.of(new StackTraceElement[] {dao, service,
                stream, lambda, RUN_ACTION}));
        assertThat(site).isNotEqualTo(Site.of(new StackTraceElement[] {SLEEP, frame("com.example.Dao", "lookup", 43),
                service, stream, lambda, RUN_ACTION}));
    }

    @Test
    void cmwq4jFramesAboveTheUsersCodeAreTrimmedToo() {
        // a work that waits for a pool lock inside Workqueue.queue, without announcing it
        StackTraceElement park = frame("jdk.internal.misc.Unsafe", "park", 1);
        StackTraceElement lock = frame("dev.cmwq4j.internal.Locks", "acquire", 2);
        StackTraceElement queue = frame("dev.cmwq4j.Workqueue", "queue", 3);
        StackTraceElement builder = frame("dev.cmwq4j.Workqueue$Builder", "build", 4);
        StackTraceElement user = frame("com.example.Fanout", "split", 5);
        Site site = Site.of(new StackTraceElement[] {park, lock, queue, builder, user, RUN_ACTION, RUN_ONE});
        assertThat(site.frames()).containsExactly(user);
    }

    @Test
    void atMostEightFramesAndTheWholeTopWhenThereIsNoUserFrame() {
        StackTraceElement[] deep = new StackTraceElement[20];
        deep[0] = SLEEP;
        for (int i = 1; i < deep.length; i++) {
            deep[i] = frame("com.example.Deep", "level" + i, i);
        }
        assertThat(Site.of(deep).frames()).hasSize(Site.MAX_FRAMES).startsWith(deep[1]).endsWith(deep[8]);
        StackTraceElement[] jdkOnly = {SLEEP, SLEEP2, frame("java.util.concurrent.FutureTask", "run", 3), RUN_ACTION,
                RUN_ONE, THREAD_RUN};
        assertThat(Site.of(jdkOnly).frames()).containsExactly(jdkOnly);
        assertThat(Site.OTHER.frames()).isEmpty();
        assertThat(Site.OTHER.top()).isEqualTo("(other)");
    }

    @Test
    void libraryFramesAreTheEnginesAndTheApisLibraryClassesOnly() {
        assertThat(Site.isLibraryFrame("dev.cmwq4j.internal.Worker")).isTrue();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.internal.Monitor$WorkerLook")).isTrue();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.Work")).isTrue();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.Workqueue$Builder")).isTrue();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.Blocking")).isTrue();
        // the user's code: tests in the public package, other modules, other packages
        assertThat(Site.isLibraryFrame("dev.cmwq4j.BlockingSitesTest")).isFalse();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.WorkTest$1")).isFalse();
        assertThat(Site.isLibraryFrame("dev.cmwq4j.bench.scenario.MixedScenario")).isFalse();
        assertThat(Site.isLibraryFrame("dev.cmwq4jx.Foo")).isFalse();
        assertThat(Site.isLibraryFrame("com.example.Work")).isFalse();
        assertThat(Site.isJdkFrame("jdk.internal.misc.Unsafe")).isTrue();
        assertThat(Site.isJdkFrame("sun.nio.ch.SocketDispatcher")).isTrue();
        assertThat(Site.isJdkFrame("com.sun.management.internal.Foo")).isTrue();
        assertThat(Site.isJdkFrame("javax.management.MBeanServer")).isTrue();
        assertThat(Site.isJdkFrame("javafx.Foo")).isFalse();
    }

    /** {@link Site#API_CLASSES} is every top-level class of the public package the build made. */
    @Test
    void theListOfApiClassesMatchesTheBuild() throws Exception {
        URI where = Site.class.getProtectionDomain().getCodeSource().getLocation().toURI();
        Path root = Path.of(where);
        Set<String> found = new TreeSet<>();
        if (Files.isDirectory(root)) {
            collect(root.resolve("dev/cmwq4j"), found);
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(root, Map.of())) {
                collect(jar.getPath("dev/cmwq4j"), found);
            }
        }
        assertThat(found).isNotEmpty().isEqualTo(new TreeSet<>(Site.API_CLASSES));
    }

    private static void collect(Path dir, Set<String> names) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.equals("module-info.class") && !n.equals("package-info.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()))
                    .map(n -> n.indexOf('$') < 0 ? n : n.substring(0, n.indexOf('$')))
                    .forEach(names::add);
        }
    }

    @Test
    void aTableKeepsSixteenSitesAndCountsTheRestAsOther() {
        BlockingSites table = new BlockingSites();
        BlockingSites.Tally[] tallies = new BlockingSites.Tally[20];
        for (int i = 0; i < 20; i++) {
            Site s = Site.of(new StackTraceElement[] {SLEEP, frame("com.example.S" + i, "m", i), RUN_ONE});
            tallies[i] = table.detected(s);
        }
        assertThat(table.detected(Site.of(new StackTraceElement[] {frame("com.example.S3", "m", 3)})))
                .isSameAs(tallies[3]); // a listed site stays listed
        assertThat(table.detected(Site.of(new StackTraceElement[] {frame("com.example.S17", "m", 17)})))
                .isSameAs(tallies[17]).isSameAs(tallies[16]); // the other tally
        assertThat(table.open()).isEqualTo(22);
        for (int i = 0; i < 20; i++) {
            table.blocked(tallies[i], 1_000);
        }
        assertThat(table.open()).isEqualTo(2);
        table.blocked(tallies[3], Long.MAX_VALUE); // saturates
        var snapshot = table.snapshot();
        assertThat(snapshot).hasSize(17);
        var other = snapshot.stream().filter(s -> s.frames().length == 0).findFirst().orElseThrow();
        assertThat(other.count()).isEqualTo(5);
        assertThat(other.blockedNanos()).isEqualTo(4_000);
        var s3 = snapshot.stream().filter(s -> s.frames().length > 0 && s.frames()[0].getClassName().equals(
                "com.example.S3")).findFirst().orElseThrow();
        assertThat(s3.count()).isEqualTo(2);
        assertThat(s3.blockedNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void theBudgetLetsABurstThroughThenTheRate() {
        BlockProfiler p = new BlockProfiler(10); // a token every 100 ms
        long t = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < BlockProfiler.BURST; i++) {
            assertThat(p.open(null, t, true)).as("token %d of the burst", i).isNotNull();
        }
        assertThat(p.open(null, t, true)).isNull();
        assertThat(p.open(null, t + 99_000_000L, true)).isNull();
        assertThat(p.open(null, t + 100_000_000L, true)).isNotNull();
        assertThat(p.open(null, t + 100_000_000L, true)).isNull();
        p.notDetected(new DetectedBlock(null, t, true)); // given back: a lost CAS costs no token
        assertThat(p.open(null, t + 100_000_000L, true)).isNotNull();
        // a long quiet spell refills the burst, no more
        long later = t + 3_600_000_000_000L;
        for (int i = 0; i < BlockProfiler.BURST; i++) {
            assertThat(p.open(null, later, true)).isNotNull();
        }
        assertThat(p.open(null, later, true)).isNull();

        BlockProfiler off = new BlockProfiler(0);
        assertThat(off.open(null, t, true)).isNull();
    }
}
