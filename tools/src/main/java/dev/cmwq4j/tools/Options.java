package dev.cmwq4j.tools;

import java.time.Duration;
import java.util.List;

/**
 * {@code top}'s command line.
 *
 * @param target   the JVM to attach to: a pid, or part of its main class name (as {@code jps -l}
 *                 shows it)
 * @param once     print the cumulative tables once, without ANSI codes or rates, and exit
 * @param interval time between refreshes
 * @param cmwq     show only this engine's workqueues and pools, or all when null
 * @param sort     column header to sort by (case-insensitive), or null for name order
 * @param raw      print CPU time and latencies as exact nanoseconds
 * @param sites    show the blocking-site view instead of the workqueue and pool tables
 */
record Options(String target, boolean once, Duration interval, String cmwq, String sort,
               boolean raw, boolean sites) {

    static final String USAGE = """
            usage: top <pid | main-class> [--once] [--sites] [--interval <s>] [--cmwq <name>] [--sort <column>] [--raw]
              <pid>                a running JVM that uses cmwq4j (find it with jps -l)
              <main-class>         or part of its main class name, as jps -l shows it; refresh mode
                                   then follows it: when that JVM exits, it waits for the next one
              --once               print the cumulative tables once, plain text, and exit
              --sites              where works block without announcing it: per workqueue, the call
                                   sites the monitor's profiler found (count, blocked time, top frame);
                                   with --once, each site's frames too
              --interval <s>       seconds between refreshes (default 1; decimals allowed)
              --cmwq <name>        only the workqueues and pools of this Cmwq engine
              --sort <column>      sort by a column header, e.g. total, total/s, CPU%, qlat99
              --raw                CPU time and latencies in exact nanoseconds""";

    /**
     * Parses {@code args}; options take their value as the next argument or after {@code =}.
     *
     * @throws IllegalArgumentException with a message for the user on a bad command line
     */
    static Options parse(List<String> args) {
        String target = null;
        boolean once = false;
        boolean raw = false;
        boolean sites = false;
        Duration interval = Duration.ofSeconds(1);
        String cmwq = null;
        String sort = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "--once" -> once = true;
                case "--raw" -> raw = true;
                case "--sites" -> sites = true;
                case "--interval", "--cmwq", "--sort" -> {
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new IllegalArgumentException(name + " needs a value");
                        }
                        value = args.get(++i);
                    }
                    switch (name) {
                        case "--interval" -> interval = seconds(value);
                        case "--cmwq" -> cmwq = value;
                        default -> sort = value;
                    }
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    if (target != null) {
                        throw new IllegalArgumentException("one JVM only, got " + target
                                + " and " + arg);
                    }
                    target = arg;
                }
            }
        }
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("which JVM? give its pid or main class");
        }
        Options options = new Options(target, once, interval, cmwq, sort, raw, sites);
        options.report(); // rejects a --sort column this mode does not show
        return options;
    }

    private static Duration seconds(String value) {
        double seconds;
        try {
            seconds = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--interval: not a number of seconds: " + value);
        }
        if (!(seconds >= 0.01 && seconds <= 86_400)) {
            throw new IllegalArgumentException("--interval: between 0.01 and 86400 seconds, got "
                    + value);
        }
        return Duration.ofNanos(Math.round(seconds * 1e9));
    }

    /** The report these options ask for: rates in refresh mode only. */
    Report report() {
        return new Report(!once, raw, sort, sites);
    }
}
