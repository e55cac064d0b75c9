package dev.cmwq4j.bench.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One live thread of this JVM with what the scheduler did with it: its {@link TaskCpu} (kernel id,
 * name, CPU time so far), the CPU it ran on last (field 39 of its {@code stat}) and its voluntary
 * and involuntary context switches so far ({@code status}). Two more reads per thread than
 * {@link TaskCpu}, so a reader that needs only CPU time keeps to that one.
 *
 * @param task the thread's kernel id, name and CPU time
 * @param lastCpu the CPU it ran on last
 * @param voluntarySwitches its voluntary context switches so far
 * @param involuntarySwitches its involuntary context switches so far
 */
public record TaskSched(TaskCpu task, int lastCpu, long voluntarySwitches, long involuntarySwitches) {
    /**
     * Every live thread of this JVM; null without {@code /proc}. A thread that ends between the
     * listing and its reads is left out.
     */
    public static List<TaskSched> all() {
        List<TaskCpu> tasks = TaskCpu.all();
        if (tasks == null) {
            return null;
        }
        List<TaskSched> out = new ArrayList<>(tasks.size());
        for (TaskCpu t : tasks) {
            Path dir = Path.of("/proc/self/task", Long.toString(t.tid()));
            try {
                String stat = Files.readString(dir.resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long vol = -1;
                long invol = -1;
                for (String line : Files.readAllLines(dir.resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:")) {
                        vol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                        invol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                out.add(new TaskSched(t, Integer.parseInt(f[36]), vol, invol));
            } catch (IOException | RuntimeException e) {
                // the thread exited meanwhile, or an unexpected format: left out
            }
        }
        return out;
    }
}
