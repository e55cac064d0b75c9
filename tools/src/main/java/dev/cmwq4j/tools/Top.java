package dev.cmwq4j.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;

/**
 * {@code top} for cmwq4j: a live per-workqueue and per-pool view of a running JVM, in the spirit
 * of the kernel's {@code tools/workqueue/wq_monitor.py}.
 *
 * <pre>
 * java -cp tools/target/classes dev.cmwq4j.tools.Top &lt;pid&gt; [--once] [--interval &lt;s&gt;]
 *      [--cmwq &lt;name&gt;] [--sort &lt;column&gt;] [--raw]
 * mvn -q -pl tools process-classes -Dtop="&lt;pid&gt; [options]"
 * </pre>
 *
 * <h2>Overview</h2>
 * The pieces, each testable alone:
 * <ul>
 *   <li>{@link Attach}: pid to JMX connection (Attach API, then the target's local JMX agent);
 *   <li>{@link StatsReader}: connection to {@link Snapshot}, reading the MBeans
 *       {@code dev.cmwq4j:type=Workqueue,...} and {@code dev.cmwq4j:type=WorkerPool,...} by
 *       name only (no dependency on cmwq4j-core, so any version that publishes them works);
 *   <li>{@link Report}: snapshots to the two tables (columns, units, rates, sorting), laid out by
 *       {@link Table};
 *   <li>this class: the command line ({@link Options}) and the two modes.
 * </ul>
 * Refresh mode (the default) clears the screen with ANSI codes every interval and prints a title
 * line and both tables, with per-second rates over the last interval. One-shot mode
 * ({@code --once}) prints the cumulative tables once, plain text, for scripts.
 *
 * <p>Exit status: 0 after one-shot mode; 1 when the JVM cannot be attached to or the connection
 * is lost (the target exited); 2 on a bad command line.
 */
public final class Top {
    /** ANSI: cursor home, clear screen. */
    static final String CLEAR = "\u001b[H\u001b[2J";
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private Top() {}

    /** Runs {@code top} with the arguments described in the class comment and exits. */
    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /** The whole command; returns the exit status instead of exiting. */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.contains("-h") || args.contains("--help")) {
            out.println(Options.USAGE);
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("top: " + e.getMessage());
            err.println(Options.USAGE);
            return 2;
        }
        try (JMXConnector connector = Attach.connect(options.pid())) {
            MBeanServerConnection connection = connector.getMBeanServerConnection();
            if (options.once()) {
                once(connection, options, out, err);
            } else {
                refresh(connection, options, out, -1);
            }
            return 0;
        } catch (IOException e) {
            err.println("top: pid " + options.pid() + ": " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** One-shot mode: the cumulative tables, once, no ANSI codes. */
    static void once(MBeanServerConnection connection, Options options, PrintStream out,
                     PrintStream err) throws IOException {
        Snapshot now = new StatsReader(connection, options.cmwq()).read();
        if (now.isEmpty()) {
            err.println("top: no cmwq4j MBeans (" + StatsReader.DOMAIN + ":type=Workqueue,*) in pid "
                    + options.pid() + (options.cmwq() == null ? "" : " for cmwq " + options.cmwq()));
        }
        out.print(options.report().render(now, null));
        out.flush();
    }

    /**
     * Refresh mode: clear the screen, print a frame, wait for the next tick; {@code frames}
     * frames, or forever when negative. The tick is fixed-rate; a slow read skips ahead.
     */
    static void refresh(MBeanServerConnection connection, Options options, PrintStream out,
                        long frames) throws IOException, InterruptedException {
        StatsReader reader = new StatsReader(connection, options.cmwq());
        Report report = options.report();
        long period = options.interval().toNanos();
        Snapshot before = null;
        long next = System.nanoTime();
        for (long frame = 0; frames < 0 || frame < frames; frame++) {
            if (frame > 0) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait); // pacing the display, not synchronization
                } else {
                    next = System.nanoTime();
                }
            }
            next += period;
            Snapshot now = reader.read();
            String title = Report.title(options.pid(), now, period / 1e9,
                    LocalTime.now().format(CLOCK));
            out.print(CLEAR + title + "\n\n" + report.render(now, before));
            out.flush();
            before = now;
        }
    }
}
