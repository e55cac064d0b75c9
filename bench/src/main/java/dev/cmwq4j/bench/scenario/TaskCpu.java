package dev.cmwq4j.bench.scenario;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One live thread of this JVM as {@code /proc/self/task} shows it: its kernel id, its name (cut
 * at 15 characters, as the kernel keeps it) and its CPU time so far, the first field of its
 * {@code schedstat} (nanoseconds; the kernel updates it at context switches and scheduler ticks).
 *
 * @param tid the thread's kernel id
 * @param name its name as {@code /proc} shows it
 * @param cpuNanos its CPU time so far, ns
 */
public record TaskCpu(long tid, String name, long cpuNanos) {
    /**
     * Every live thread of this JVM; null without {@code /proc}. A thread that ends between the
     * listing and its reads is left out.
     */
    public static List<TaskCpu> all() {
        List<TaskCpu> out = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim();
                    String stat = Files.readString(task.resolve("schedstat")).trim();
                    long tid = Long.parseLong(task.getFileName().toString());
                    out.add(new TaskCpu(tid, name, Long.parseLong(stat.substring(0, stat.indexOf(' ')))));
                } catch (IOException | RuntimeException e) {
                    // the thread exited meanwhile, or an unexpected format: left out
                }
            }
        } catch (IOException e) {
            return null;
        }
        return out;
    }
}
