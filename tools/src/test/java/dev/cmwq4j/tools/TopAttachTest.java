package dev.cmwq4j.tools;

import static dev.cmwq4j.tools.Tables.parse;
import static dev.cmwq4j.tools.Tables.row;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real path end to end: a child JVM publishes fake cmwq4j MBeans, and {@code top --once}
 * attaches to it by pid (Attach API, local JMX agent, JMX connector) and prints them.
 */
class TopAttachTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void oneShotAgainstALiveJvmPrintsItsNumbers() throws Exception {
        String java = ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classes = Path.of(FakeTarget.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI()).toString();
        Process child = new ProcessBuilder(java, "-Xmx64m", "-cp", classes + File.pathSeparator
                + System.getProperty("java.class.path"), FakeTarget.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            var lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(lines.readLine()).isEqualTo("ready");

            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            int status = Top.run(List.of(Long.toString(child.pid()), "--once"),
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));

            String text = out.toString(StandardCharsets.UTF_8);
            assertThat(status).as("stderr: %s", err).isZero();
            assertThat(text).doesNotContain("\u001b");
            List<Map<String, String>> wqs = parse(text, "WORKQUEUE");
            assertThat(wqs).extracting(r -> r.get("WORKQUEUE")).containsExactly("db,pool", "events");
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
                    Map.entry("pending", "6"));
        } finally {
            child.getOutputStream().close();
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void exitStatusOneWhenThePidIsNoJvm() {
        var err = new ByteArrayOutputStream();
        // pid 0 is never a JVM (and never this one)
        int status = Top.run(List.of("0", "--once"), System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("top: pid 0: ");
    }
}
