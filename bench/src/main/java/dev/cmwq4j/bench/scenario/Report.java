package dev.cmwq4j.bench.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders results as Markdown (a summary and a detail table) and CSV. */
final class Report {
    private Report() {}

    /** Key of a (scenario, executor) pair in the results map. */
    static String key(Scenario s, Peer p) {
        return s.id() + "|" + p.id;
    }

    static String markdown(Header h, List<Scenario> scenarios, List<Peer> peers, Map<String, Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("# cmwq4j scenarios: ").append(h.sizes().mode()).append(" run\n\n");
        for (String line : h.machine().headerLines()) {
            sb.append(line).append('\n');
        }
        sb.append("- load average (1 5 15 min): ").append(h.loadBefore()).append(" before, ")
                .append(h.loadAfter()).append(" after").append(busyWarning(h)).append('\n');
        sb.append("- child JVM: `").append(String.join(" ", h.childFlags())).append("`, one per pair, started from ")
                .append(h.machine().javaBinary()).append('\n');
        sb.append("- per-pair time bound: ").append(h.budgetMillis() / 1000).append(" s; deadlock = nothing completed for ")
                .append(h.sizes().stallMillis() / 1000).append(" s; repeats per pair: ").append(h.repeat())
                .append(h.repeat() > 1 ? " (median wall time shown)" : "").append('\n');
        sb.append("- process usage: ").append(h.usageSource()).append('\n');
        sb.append("- harness total: ").append(fmtSeconds(h.totalNanos())).append("\n\n");

        sb.append("Scenarios:\n\n");
        for (Scenario s : scenarios) {
            sb.append("- `").append(s.id()).append("`: ").append(s.describe(h.sizes())).append('\n');
        }
        sb.append("\nExecutors:\n\n");
        for (Peer p : peers) {
            sb.append("- `").append(p.id).append("`: ").append(p.description).append('\n');
        }

        // Summary: one row per executor, wall + threads per scenario.
        sb.append("\n## Wall time and peak threads\n\n");
        sb.append("| executor |");
        for (Scenario s : scenarios) {
            sb.append(' ').append(s.id()).append(" wall | thr |");
        }
        sb.append("\n|---|");
        sb.append("---:|---:|".repeat(scenarios.size()));
        sb.append('\n');
        sb.append("| *ideal* |");
        for (Scenario s : scenarios) {
            double ideal = s.idealSeconds(h.sizes(), h.machine().nproc());
            sb.append(' ').append(Double.isNaN(ideal) ? "" : "*" + fmtSeconds((long) (ideal * 1e9)) + "*").append(" | |");
        }
        sb.append('\n');
        for (Peer p : peers) {
            sb.append("| ").append(p.id).append(" |");
            for (Scenario s : scenarios) {
                Result r = results.get(key(s, p));
                if (r == null) {
                    sb.append(" – | – |");
                    continue;
                }
                String wall = r.ok() ? fmtSeconds(r.num("wallNanos")) : statusCell(r);
                if (r.ok() && isBest(s, r, peers, results)) {
                    wall = "**" + wall + "**";
                }
                long thr = r.num("peakThreads");
                sb.append(' ').append(wall).append(" | ").append(thr < 0 ? "?" : Long.toString(thr)).append(" |");
            }
            sb.append('\n');
        }
        sb.append("\nwall: first submission to last completion (http: the load generator's first request to last "
                + "response; priority-inversion: the high-priority flush's latency with priority inheritance, "
                + "cmwq only, the latency without it in the details; **bold**: best of the column; –: not run, "
                + "the scenario does not apply). thr: most live "
                + "platform threads during the run minus those alive before the executor was made (virtual "
                + "threads are not counted, their carriers are; http: the server JVM's, its HttpServer dispatcher "
                + "thread included; on deadlock/timeout, the count when it was "
                + "detected). ideal: CPU work / CPUs, or the critical path if longer.\n");

        // Details.
        sb.append("\n## Details\n\n");
        sb.append("| scenario | executor | status | wall | CPU | JIT | CPU/wall | thr | vol cs | invol cs | cs/work | max RSS | "
                + "p50 | p99 | max | note |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Scenario s : scenarios) {
            for (Peer p : peers) {
                Result r = results.get(key(s, p));
                if (r == null) {
                    continue;
                }
                long wall = r.num("wallNanos");
                long cpu = r.num("cpuNanos");
                sb.append("| ").append(s.id()).append(" | ").append(p.id).append(" | ").append(r.status())
                        .append(" | ").append(fmtSeconds(wall))
                        .append(" | ").append(fmtSeconds(cpu))
                        .append(" | ").append(fmtSeconds(r.num("jitNanos")))
                        .append(" | ").append(wall > 0 && cpu >= 0 ? String.format(Locale.ROOT, "%.2f", (double) cpu / wall) : "")
                        .append(" | ").append(fmtCount(r.num("peakThreads")))
                        .append(" | ").append(fmtCount(r.num("voluntarySwitches")))
                        .append(" | ").append(fmtCount(r.num("involuntarySwitches")))
                        .append(" | ").append(switchesPerWork(r))
                        .append(" | ").append(r.num("maxRssKb") < 0 ? "" : (r.num("maxRssKb") / 1024) + " MiB")
                        .append(" | ").append(fmtMillis(r.num("p50Nanos")))
                        .append(" | ").append(fmtMillis(r.num("p99Nanos")))
                        .append(" | ").append(fmtMillis(r.num("maxNanos")))
                        .append(" | ").append(noteOf(r).replace("|", "\\|"))
                        .append(" |\n");
            }
        }
        sb.append("\nCPU: user+system time of the whole child process over the run (executor creation included; "
                + "http: the server JVM over the measured load, the load generator's JVM not included). "
                + "JIT: the part of it the JIT compiler threads spent (each child is a fresh JVM, so the "
                + "executor's own code is compiled during the run). "
                + "vol/invol cs: voluntary/involuntary context switches of the whole process over the run, "
                + "exited threads included, less those of the harness thread while it waited for completion. "
                + "cs/work: both kinds of context switches per work the scenario ran (fanout: parents and "
                + "subtasks; http: per request, in the server JVM). max RSS: the child's peak resident set (the JVM included). "
                + "p50/p99/max: per-task latency from submission to completion (per parent task in fanout; "
                + "not recorded for tiny; http: request round trip measured in the load generator's JVM, "
                + "throughput in the note). CPU work in tasks is measured on the thread's CPU clock, so it does "
                + "not shrink when a thread is preempted.\n");
        return sb.toString();
    }

    /** Voluntary plus involuntary context switches per work, or blank if either is unknown. */
    private static String switchesPerWork(Result r) {
        long works = r.num("works");
        long vol = r.num("voluntarySwitches");
        long invol = r.num("involuntarySwitches");
        if (works <= 0 || vol < 0 || invol < 0) {
            return "";
        }
        return String.format(Locale.ROOT, "%.3g", (double) (vol + invol) / works);
    }

    /** A warning when other work was using the CPUs: every number here is then noisy. */
    private static String busyWarning(Header h) {
        double worst = 0;
        for (String load : List.of(h.loadBefore(), h.loadAfter())) {
            try {
                worst = Math.max(worst, Double.parseDouble(load.split(" ")[0]));
            } catch (RuntimeException e) {
                // unknown
            }
        }
        // The harness itself keeps about ncpu threads busy; more than that is someone else.
        return worst > 1.5 * h.machine().nproc()
                ? " (**the machine was busy with other work: treat these numbers as noisy**)" : "";
    }

    private static boolean isBest(Scenario s, Result r, List<Peer> peers, Map<String, Result> results) {
        long mine = r.num("wallNanos");
        for (Peer p : peers) {
            Result o = results.get(key(s, p));
            if (o != null && o.ok() && o.num("wallNanos") < mine) {
                return false;
            }
        }
        return true;
    }

    private static String statusCell(Result r) {
        return switch (r.status()) {
            case Result.DEADLOCK -> "deadlock";
            case Result.TIMEOUT -> "timeout";
            default -> r.status();
        };
    }

    private static String noteOf(Result r) {
        List<String> parts = new ArrayList<>();
        if (!r.get("detail").isEmpty()) {
            parts.add(r.get("detail"));
        }
        if (Result.TIMEOUT.equals(r.status()) && r.num("total") > 0) {
            parts.add("done " + r.num("done") + "/" + r.num("total"));
        }
        if (!r.get("note").isEmpty()) {
            parts.add(r.get("note"));
        }
        if (!r.get("runs").isEmpty() && !r.get("runs").endsWith("/1 ok")) {
            parts.add("runs " + r.get("runs"));
        }
        return String.join("; ", parts);
    }

    static String csv(String mode, List<Scenario> scenarios, List<Peer> peers, Map<String, Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("mode,scenario,executor,status,wall_s,cpu_s,user_s,sys_s,peak_threads,jvm_peak_threads,"
                + "base_threads,jit_s,voluntary_cs,involuntary_cs,waiter_voluntary_cs,max_rss_kib,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,"
                + "throughput_per_s,done,total,runs,usage_source,java,detail,note\n");
        for (Scenario s : scenarios) {
            for (Peer p : peers) {
                Result r = results.get(key(s, p));
                if (r == null) {
                    continue;
                }
                List<String> row = List.of(mode, s.id(), p.id, r.status(),
                        sec(r.num("wallNanos")), sec(r.num("cpuNanos")), sec(r.num("userNanos")),
                        sec(r.num("sysNanos")), num(r.num("peakThreads")), num(r.num("jvmPeakThreads")),
                        num(r.num("baseThreads")), sec(r.num("jitNanos")), num(r.num("voluntarySwitches")),
                        num(r.num("involuntarySwitches")), num(r.num("waiterVoluntarySwitches")),
                        num(r.num("maxRssKb")),
                        ms(r.num("p50Nanos")), ms(r.num("p90Nanos")), ms(r.num("p99Nanos")),
                        ms(r.num("p999Nanos")), ms(r.num("maxNanos")), num(r.num("throughputPerSec")),
                        num(r.num("done")), num(r.num("total")), r.get("runs"), r.get("usageSource"), r.get("java"),
                        r.get("detail"), r.get("note"));
                StringBuilder line = new StringBuilder();
                for (String cell : row) {
                    if (!line.isEmpty()) {
                        line.append(',');
                    }
                    line.append(csvCell(cell));
                }
                sb.append(line).append('\n');
            }
        }
        return sb.toString();
    }

    private static String csvCell(String v) {
        if (v.contains(",") || v.contains("\"") || v.contains("\n")) {
            return "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }

    private static String sec(long nanos) {
        return nanos < 0 ? "" : String.format(Locale.ROOT, "%.4f", nanos / 1e9);
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "" : String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    private static String num(long v) {
        return v < 0 ? "" : Long.toString(v);
    }

    static String fmtSeconds(long nanos) {
        if (nanos < 0) {
            return "";
        }
        double s = nanos / 1e9;
        if (s < 0.01) { // priority-inversion's latencies
            return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
        }
        if (s < 0.1) {
            return String.format(Locale.ROOT, "%.3f s", s);
        }
        if (s < 10) {
            return String.format(Locale.ROOT, "%.2f s", s);
        }
        return String.format(Locale.ROOT, "%.1f s", s);
    }

    private static String fmtMillis(long nanos) {
        if (nanos < 0) {
            return "";
        }
        double ms = nanos / 1e6;
        return ms < 100 ? String.format(Locale.ROOT, "%.2f ms", ms) : String.format(Locale.ROOT, "%.0f ms", ms);
    }

    private static String fmtCount(long v) {
        return v < 0 ? "" : Long.toString(v);
    }

    /** What the report header needs besides the results. */
    record Header(MachineInfo machine, Sizes sizes, List<String> childFlags, long budgetMillis, int repeat,
            String usageSource, String loadBefore, String loadAfter, long totalNanos) {}
}
