package dev.cmwq4j.bench.scenario;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The scenario harness: runs every (scenario, executor) pair in a JVM of its own, each with a
 * time bound, and writes a Markdown report, a CSV and PNG charts.
 *
 * <pre>
 * mvn -q -pl bench -am process-classes -Dscenarios=short   # about 2 minutes on 2 cores
 * mvn -q -pl bench -am process-classes -Dscenarios=full    # DESIGN.md section 10 sizes
 *   optional: -Dscenario.only=mixed-announced,fanout -Dscenario.executors=cmwq,fjp-managed
 *             -Dscenario.timeoutSeconds=60 -Dscenario.repeat=3
 * </pre>
 *
 * Options (when run by hand, {@code java -cp ... dev.cmwq4j.bench.scenario.ScenarioMain}):
 * {@code --mode=short|full}, {@code --out=DIR} (default {@code results}), {@code --only=a,b},
 * {@code --executors=x,y}, {@code --timeout=SECONDS} (per pair), {@code --repeat=N} (children
 * per pair, the median wall time is reported), {@code --warmups=N} (rounds of the scenario each child
 * runs unmeasured first, with the same executors: the JIT-compiled, long-lived case; default 0,
 * a cold JVM per cell), {@code --props=k=v,k2=v2} (system properties for
 * every child, e.g. {@code cmwq4j.blockingSites=false}; from Maven {@code -Dscenario.props=...}),
 * {@code --jvm=OPTION}, repeated (a JVM option for every child, after the fixed ones, e.g.
 * {@code --jvm=-XX:CompileCommand=dontinline,dev.cmwq4j.internal.OneShotNode::runAction}; the
 * report's header lists them),
 * {@code --list}.
 *
 * <p>Each child is started with the parent's own java binary ({@code ProcessHandle.current()}),
 * fixed JVM flags ({@link #CHILD_JVM_FLAGS}) and the parent's class path. It prints one
 * {@link Result} line. A child that runs past its bound is killed with {@code destroyForcibly}
 * and reported as {@code timeout}; one that stops making progress reports {@code deadlock} by
 * itself. The harness never waits on a child without a bound.
 */
public final class ScenarioMain {
    private ScenarioMain() {}

    /** Fixed flags of every child JVM. */
    static final List<String> CHILD_JVM_FLAGS = List.of(
            "-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "--enable-native-access=ALL-UNNAMED");
    /** Extra time the parent gives a child past its own bound (JVM start, reporting). */
    private static final long GRACE_MILLIS = 15_000;

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        if (opts.containsKey("list")) {
            System.out.println("scenarios: " + Scenarios.ids());
            System.out.println("executors: " + Peer.ids());
            return;
        }
        Sizes sizes = Sizes.of(opts.getOrDefault("mode", "short"));
        List<Scenario> scenarios = new ArrayList<>();
        for (String id : list(opts.get("only"))) {
            scenarios.add(Scenarios.byId(id));
        }
        if (scenarios.isEmpty()) {
            scenarios.addAll(Scenarios.ALL);
        }
        List<Peer> peers = new ArrayList<>();
        for (String id : list(opts.get("executors"))) {
            peers.add(Peer.byId(id));
        }
        if (peers.isEmpty()) {
            peers.addAll(List.of(Peer.values()));
        }
        String timeout = opts.getOrDefault("timeout", "");
        long budgetMillis = timeout.isBlank() ? sizes.budgetMillis() : Long.parseLong(timeout.trim()) * 1000;
        String repeatOpt = opts.getOrDefault("repeat", "");
        int repeat = repeatOpt.isBlank() ? 1 : Math.max(1, Integer.parseInt(repeatOpt.trim()));
        String warmupOpt = opts.getOrDefault("warmups", "");
        int warmups = warmupOpt.isBlank() ? 0 : Math.max(0, Integer.parseInt(warmupOpt.trim()));
        List<String> childFlags = new ArrayList<>(CHILD_JVM_FLAGS);
        if (warmups > 0) {
            childFlags.add("-D" + ScenarioChild.WARMUPS_PROPERTY + "=" + warmups);
        }
        String jvm = opts.get("jvm");
        if (jvm != null) {
            for (String option : jvm.split("\n")) {
                if (!option.isBlank()) {
                    childFlags.add(option);
                }
            }
        }
        for (String prop : list(opts.get("props"))) {
            if (prop.indexOf('=') <= 0) {
                throw new IllegalArgumentException("--props: expected name=value, got '" + prop + "'");
            }
            childFlags.add("-D" + prop);
        }
        Path out = Path.of(opts.getOrDefault("out", "results")).toAbsolutePath().normalize();
        Path logs = out.resolve("tmp").resolve("scenarios-" + sizes.mode());
        Files.createDirectories(logs);

        String javaBin = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classPath = System.getProperty("java.class.path");
        MachineInfo machine = MachineInfo.collect(javaBin, out.getParent() != null ? out.getParent() : out);
        String loadBefore = MachineInfo.loadAverage();
        long start = System.nanoTime();

        System.out.printf(Locale.ROOT, "cmwq4j scenarios (%s): %d scenarios x %d executors (supported pairs only), "
                + "one JVM each, bound %d s%n", sizes.mode(), scenarios.size(), peers.size(), budgetMillis / 1000);
        System.out.println("java: " + javaBin + " (" + Runtime.version() + "), " + machine.nproc() + " CPUs, load "
                + loadBefore);
        System.out.flush();

        Map<String, Result> results = new LinkedHashMap<>();
        String usageSource = null;
        int n = 0;
        int pairs = 0;
        for (Scenario s : scenarios) {
            for (Peer p : peers) {
                pairs += s.supports(p) ? 1 : 0;
            }
        }
        for (Scenario s : scenarios) {
            for (Peer p : peers) {
                if (!s.supports(p)) {
                    continue; // e.g. priority-inversion: only cmwq has priority inheritance
                }
                n++;
                List<Result> runs = new ArrayList<>();
                for (int i = 0; i < repeat; i++) {
                    runs.add(runChild(javaBin, classPath, childFlags, s, p, sizes, budgetMillis, warmups, logs, i));
                }
                Result r = pick(runs);
                results.put(Report.key(s, p), r);
                if (usageSource == null && !r.get("usageSource").isEmpty()) {
                    usageSource = r.get("usageSource");
                }
                System.out.printf(Locale.ROOT, "[%2d/%d] %-18s %-12s %-8s %9s  thr %4s  %s%n", n, pairs, s.id(), p.id,
                        r.status(), Report.fmtSeconds(r.num("wallNanos")),
                        r.num("peakThreads") < 0 ? "?" : Long.toString(r.num("peakThreads")),
                        r.ok() ? "" : r.get("detail"));
                System.out.flush();
            }
        }
        long total = System.nanoTime() - start;
        String usage = "getrusage".equals(usageSource)
                ? "getrusage(RUSAGE_SELF) through java.lang.foreign (exited threads included)"
                : "/proc/self (live threads only; the FFM getrusage probe was not available)";
        Report.Header header = new Report.Header(machine, sizes, childFlags, budgetMillis, repeat, usage,
                loadBefore, MachineInfo.loadAverage(), total);
        String md = Report.markdown(header, scenarios, peers, results);
        String base = "scenarios-" + sizes.mode();
        Files.writeString(out.resolve(base + ".md"), md, StandardCharsets.UTF_8);
        Files.writeString(out.resolve(base + ".csv"), Report.csv(sizes.mode(), scenarios, peers, results),
                StandardCharsets.UTF_8);
        String charts;
        try {
            Charts.write(out.resolve(base + "-wall.png"), out.resolve(base + "-threads.png"), sizes.mode(), scenarios,
                    peers, results);
            charts = base + "-wall.png, " + base + "-threads.png";
        } catch (Throwable t) { // charts are a bonus: never lose the tables for them
            charts = "charts failed: " + t;
        }
        System.out.println();
        System.out.println(md);
        System.out.println("written: " + out.resolve(base + ".md") + ", " + base + ".csv, " + charts
                + "; child logs in " + logs);
    }

    private static Result runChild(String javaBin, String classPath, List<String> childFlags, Scenario s, Peer p,
            Sizes sizes, long budgetMillis, int warmups, Path logs, int rep) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin);
        cmd.addAll(childFlags);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(ScenarioChild.class.getName());
        cmd.add(s.id());
        cmd.add(p.id);
        cmd.add(sizes.mode());
        cmd.add(Long.toString(budgetMillis));
        String stem = s.id() + "__" + p.id + (rep == 0 ? "" : "-" + rep);
        Path outFile = logs.resolve(stem + ".out");
        Path errFile = logs.resolve(stem + ".err");
        Process proc = new ProcessBuilder(cmd)
                .redirectOutput(outFile.toFile())
                .redirectError(errFile.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(nullFile()))
                .start();
        boolean exited = proc.waitFor(budgetMillis * (1 + warmups) + GRACE_MILLIS, TimeUnit.MILLISECONDS);
        if (!exited) {
            proc.descendants().forEach(ProcessHandle::destroyForcibly);
            proc.destroyForcibly();
            proc.waitFor(10, TimeUnit.SECONDS);
        }
        Result r = null;
        for (String line : Files.readAllLines(outFile, StandardCharsets.UTF_8)) {
            Result parsed = Result.parse(line);
            if (parsed != null) {
                r = parsed;
            }
        }
        if (r == null) {
            r = new Result().put("scenario", s.id()).put("executor", p.id);
            if (exited) {
                r.put("status", Result.CRASH).put("detail", "exit " + proc.exitValue() + ", no result line: "
                        + tail(errFile));
            } else {
                r.put("status", Result.TIMEOUT).put("detail", "killed (destroyForcibly) after "
                        + (budgetMillis + GRACE_MILLIS) / 1000 + " s without a result");
            }
        }
        return r;
    }

    /** The run with the median wall time among the finished ones; else the first. */
    private static Result pick(List<Result> runs) {
        List<Result> ok = new ArrayList<>(runs.stream().filter(Result::ok).toList());
        Result chosen;
        if (ok.isEmpty()) {
            chosen = runs.get(0);
        } else {
            ok.sort(Comparator.comparingLong(r -> r.num("wallNanos")));
            chosen = ok.get(ok.size() / 2);
        }
        chosen.put("runs", ok.size() + "/" + runs.size() + " ok");
        return chosen;
    }

    private static java.io.File nullFile() {
        return new java.io.File(System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String> last = lines.subList(Math.max(0, lines.size() - 3), lines.size());
            return String.join(" / ", last);
        } catch (IOException e) {
            return "(no stderr)";
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (String a : args) {
            if (a.equals("short") || a.equals("full")) {
                opts.put("mode", a);
            } else if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                if (eq < 0) {
                    opts.put(a.substring(2), "");
                } else if (a.startsWith("--jvm=")) {
                    // repeatable, and an option may hold commas (-XX:CompileCommand=...): one a line
                    opts.merge("jvm", a.substring(eq + 1), (x, y) -> x + "\n" + y);
                } else {
                    opts.put(a.substring(2, eq), a.substring(eq + 1));
                }
            } else {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; see the ScenarioMain javadoc");
            }
        }
        return opts;
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        if (csv != null) {
            for (String s : csv.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        }
        return out;
    }
}
