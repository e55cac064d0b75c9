package dev.cmwq4j.tools;

import static dev.cmwq4j.tools.Tables.parse;
import static dev.cmwq4j.tools.Tables.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real path end to end: child JVMs publish fake cmwq4j MBeans, and {@code top} attaches to
 * them (Attach API, local JMX agent, JMX connector) by pid or by main-class name.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TopAttachTest {

    /** A {@link FakeTarget} child JVM, ready (MBeans registered) once constructed. */
    private static final class Child implements AutoCloseable {
        final Process process;

        Child(String... args) throws IOException {
            String java = ProcessHandle.current().info().command().orElseGet(() ->
                    Path.of(System.getProperty("java.home"), "bin", "java").toString());
            String classes;
            try {
                classes = Path.of(FakeTarget.class.getProtectionDomain().getCodeSource()
                        .getLocation().toURI()).toString();
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
            var command = new java.util.ArrayList<>(List.of(java, "-Xmx64m", "-cp",
                    classes + File.pathSeparator + System.getProperty("java.class.path"),
                    FakeTarget.class.getName()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                String first = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8)).readLine();
                assertThat(first).isEqualTo("ready");
            } catch (IOException | AssertionError e) {
                close();
                throw e;
            }
        }

        String pid() {
            return Long.toString(process.pid());
        }

        /** Ends the child (closing its stdin ends it cleanly) and waits for it. */
        @Override
        public void close() {
            try {
                process.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private record Result(int status, String out, String err) {}

    private static Result top(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int status = Top.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void oneShotAgainstALiveJvmPrintsItsNumbers() throws Exception {
        try (Child child = new Child()) {
            Result result = top(child.pid(), "--once");

            assertThat(result.status()).as("stderr: %s", result.err()).isZero();
            String text = result.out();
            assertThat(text).doesNotContain("\u001b");
            List<Map<String, String>> wqs = parse(text, "WORKQUEUE");
            assertThat(wqs).extracting(r -> r.get("WORKQUEUE"))
                    .containsExactly("db,pool", "events");
            assertThat(row(wqs, "events")).containsExactly(
                    Map.entry("WORKQUEUE", "events"), Map.entry("CMWQ", "shared"),
                    Map.entry("flags", "..."), Map.entry("total", "123456"),
                    Map.entry("infl", "7"), Map.entry("CPUtime", "3.500"),
                    Map.entry("CPUitsv", "0"), Map.entry("CMW", "11"), Map.entry("mayday", "0"),
                    Map.entry("rescued", "0"), Map.entry("BLKann", "99"),
                    Map.entry("BLKdet", "3"), Map.entry("qlat99", "850us"),
                    Map.entry("exec99", "42.0us"));
            assertThat(row(wqs, "db,pool")).containsEntry("flags", "U..")
                    .containsEntry("total", "5");
            assertThat(row(parse(text, "POOL"), "cpu0")).containsExactly(
                    Map.entry("POOL", "cpu0"), Map.entry("CMWQ", "shared"),
                    Map.entry("workers", "4"), Map.entry("idle", "1"),
                    Map.entry("running", "2"), Map.entry("blocked", "1"),
                    Map.entry("detected", "0"), Map.entry("CPUitsv", "0"),
                    Map.entry("nr_running", "2"), Map.entry("target", "2"),
                    Map.entry("pending", "6"), Map.entry("works", "nightly-export"));
        }
    }

    @Test
    void theSiteViewAgainstALiveJvm() throws Exception {
        try (Child child = new Child()) {
            Result result = top(child.pid(), "--once", "--sites");

            assertThat(result.status()).as("stderr: %s", result.err()).isZero();
            List<Map<String, String>> sites = parse(result.out(), "WORKQUEUE");
            assertThat(sites).containsExactly(
                    Map.of("WORKQUEUE", "events", "CMWQ", "shared", "count", "2", "blocked", "61.0ms",
                            "avg", "30.5ms", "site", "app.Dao.lookup(Dao.java:42)"),
                    Map.of("WORKQUEUE", "events", "CMWQ", "shared", "count", "1", "blocked", "-",
                            "avg", "-", "site", "(unsampled)"));
            assertThat(result.out()).contains("    at app.Orders.load(Orders.java:17)\n");
        }
    }

    @Test
    void aMainClassNameFindsTheJvm() throws Exception {
        try (Child child = new Child()) {
            // other builds on this machine may run a FakeTarget too: look for ours among them
            assertThat(Attach.candidates("tools.FakeTarget"))
                    .anySatisfy(c -> {
                        assertThat(c.pid()).isEqualTo(child.pid());
                        assertThat(c.mainClass()).isEqualTo(FakeTarget.class.getName());
                        assertThat(c.started()).isAfter(java.time.Instant.MIN);
                    });
        }
        String nobody = "NoSuchMain" + UUID.randomUUID().toString().replace("-", "");
        Result none = top(nobody, "--once");
        assertThat(none.status()).isEqualTo(1);
        assertThat(none.err()).contains("no JVM whose main class contains '" + nobody + "'");
    }

    @Test
    void followingANameMovesToTheNextJvmWhenOneExits() throws Exception {
        Set<String> ours = ConcurrentHashMap.newKeySet();
        var bytes = new ByteArrayOutputStream();
        var out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Options options = Options.parse(List.of("FakeTarget", "--interval", "0.05"));
        Thread top = new Thread(() -> {
            try {
                Top.follow(options, () -> Attach.candidates("tools.FakeTarget").stream()
                        .filter(c -> ours.contains(c.pid())).toList(), out, -1);
            } catch (InterruptedException e) {
                // stopped by the test
            }
        }, "top-follow");
        top.start();
        try {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> bytes.toString(StandardCharsets.UTF_8).contains("waiting for"));
            String first;
            try (Child a = new Child("111")) {
                first = a.pid();
                ours.add(first);
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        bytes.toString(StandardCharsets.UTF_8).contains("pid " + first + " - "));
            }
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    bytes.toString(StandardCharsets.UTF_8).contains("pid " + first + " exited"));
            try (Child b = new Child("222")) {
                ours.add(b.pid());
                String title = "cmwq4j top - pid " + b.pid() + " - ";
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    String text = bytes.toString(StandardCharsets.UTF_8);
                    // a complete frame of b: its title, then both tables
                    int at = text.lastIndexOf(title);
                    return at >= 0 && text.indexOf("\nPOOL ", at) > 0;
                });
                String text = bytes.toString(StandardCharsets.UTF_8);
                String frame = text.substring(text.lastIndexOf(title));
                frame = frame.substring(0, frame.contains(Top.CLEAR)
                        ? frame.indexOf(Top.CLEAR) : frame.length());
                assertThat(row(parse(frame, "WORKQUEUE"), "events"))
                        .containsEntry("total", "222");
                assertThat(text.substring(0, text.indexOf(title))).contains("total")
                        .containsPattern("events +shared +\\.\\.\\. +111 ");
                // stop top while b still runs: once b exits, top may be in the middle of an attach
                // or a JMX call to a dying JVM, which does not answer an interrupt at once
                top.interrupt();
                top.join(60_000);
                assertThat(top.isAlive()).as("top ended when interrupted").isFalse();
            }
        } finally {
            top.interrupt();
            top.join(60_000);
        }
    }

    @Test
    void exitStatusOneWhenThePidIsNoJvm() {
        // pid 0 is never a JVM (and never this one)
        Result result = top("0", "--once");
        assertThat(result.status()).isEqualTo(1);
        assertThat(result.err()).startsWith("top: pid 0: ");
    }
}
