package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Workqueue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine reads /proc with {@code java.io} into a byte buffer ({@code Monitor.readProc}), not
 * with {@code java.nio.file}: what it reads must match the file, and a worker's kernel thread id
 * parsed from it must be its thread's.
 */
class ProcReadTest {

    @Test
    void theReaderReturnsTheFilesBytes() throws Exception {
        Path stat = Path.of("/proc/self/stat");
        assumeTrue(Files.isReadable(stat), "no /proc here");
        byte[] buf = new byte[1024];
        int n = EngineProbe.readProc("/proc/self/stat", buf);
        String read = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
        String expected = Files.readString(stat, StandardCharsets.ISO_8859_1);
        // the pid and the command name are stable; later fields move while the JVM runs
        assertThat(read.substring(0, read.indexOf(')') + 1)).isEqualTo(expected.substring(0, expected.indexOf(')') + 1));
        byte[] small = new byte[8];
        assertThat(EngineProbe.readProc("/proc/self/stat", small)).as("a small buffer is filled, no more").isEqualTo(8);
    }

    @Test
    void aWorkerKnowsItsKernelThreadId() throws Exception {
        Path self = Path.of("/proc/thread-self/stat");
        assumeTrue(Files.isReadable(self), "no /proc here");
        try (Cmwq c = Cmwq.builder().name("proc-read").cpus(1).build()) {
            Workqueue wq = c.workqueue("tid").build();
            CompletableFuture<int[]> ids = wq.supplyAsync(() -> {
                try {
                    String stat = Files.readString(Path.of("/proc/thread-self/stat"));
                    return new int[] {EngineProbe.currentWorkerNativeTid(), Integer.parseInt(stat.substring(0, stat.indexOf(' ')))};
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            int[] pair = ids.get(60, TimeUnit.SECONDS);
            assertThat(pair[0]).as("the worker's nativeTid").isPositive().isEqualTo(pair[1]);
        }
    }
}
