package dev.cmwq4j.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;

/**
 * {@code top} for cmwq4j: a live per-workqueue and per-pool view of a running JVM, in the spirit
 * of the kernel's {@code tools/workqueue/wq_monitor.py}.
 *
 * <pre>
 * java -cp tools/target/classes dev.cmwq4j.tools.Top &lt;pid | main-class&gt; [--once] [--sites]
 *      [--interval &lt;s&gt;] [--cmwq &lt;name&gt;] [--sort &lt;column&gt;] [--raw]
 * mvn -q -pl tools process-classes -Dtop="&lt;pid | main-class&gt; [options]"
 * </pre>
 *
 * <h2>Overview</h2>
 * The pieces, each testable alone:
 * <ul>
 *   <li>{@link Attach}: pid or main-class name to JMX connection (Attach API, then the target's
 *       local JMX agent);
 *   <li>{@link StatsReader}: connection to {@link Snapshot}, reading the MBeans
 *       {@code dev.cmwq4j:type=Workqueue,...} and {@code dev.cmwq4j:type=WorkerPool,...} by
 *       name only (no dependency on cmwq4j-core, so any version that publishes them works);
 *   <li>{@link Report}: snapshots to the two tables (columns, units, rates, sorting), laid out by
 *       {@link Table}; or, with {@code --sites}, to the blocking-site table ({@link Sites});
 *   <li>this class: the command line ({@link Options}) and the modes.
 * </ul>
 * Refresh mode (the default) clears the screen with ANSI codes every interval and prints a title
 * line and both tables, with per-second rates over the last interval. Given a main-class name
 * instead of a pid, it follows that name: when the JVM exits it leaves the last frame on screen,
 * waits for the next JVM that matches (the newest, if several), and goes on there, which suits
 * the benchmark's one-JVM-per-scenario children. One-shot mode ({@code --once}) prints the
 * cumulative tables once, plain text, for scripts; a name must then match exactly one JVM.
 *
 * <p>Exit status: 0 after one-shot mode; 1 when the JVM cannot be found or attached to, or the
 * connection is lost (a pid target exited); 2 on a bad command line. Following a name ends only
 * when interrupted.
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
        try {
            if (!options.once() && !Attach.isPid(options.target())) {
                follow(options, () -> Attach.candidates(options.target()), out, -1);
                return 0;
            }
            String pid = Attach.pidOf(options.target());
            JMXConnector connector;
            try {
                connector = Attach.connect(pid);
            } catch (IOException e) {
                throw new IOException("pid " + pid + ": " + firstLine(e.getMessage()), e);
            }
            try (connector) {
                MBeanServerConnection connection = connector.getMBeanServerConnection();
                if (options.once()) {
                    once(connection, options, pid, out, err);
                } else {
                    refresh(connection, options, pid, out, -1);
                }
                return 0;
            } catch (IOException e) {
                throw new IOException("pid " + pid + ": connection lost (exited?): "
                        + firstLine(e.getMessage()), e);
            }
        } catch (IOException e) {
            err.println("top: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** One-shot mode: the cumulative tables, once, no ANSI codes. */
    /** How long one-shot mode waits for a target's beans to appear after it attached. */
    static final long REGISTRATION_WAIT_NANOS = 2_000_000_000L;

    static void once(MBeanServerConnection connection, Options options, String pid,
                     PrintStream out, PrintStream err) throws IOException {
        Snapshot now = new StatsReader(connection, options.cmwq()).read();
        // attaching started the target's JMX agent, which created its MBean server just now: a
        // target that had none registers its beans within a poll of its service thread (250 ms)
        long deadline = System.nanoTime() + REGISTRATION_WAIT_NANOS;
        while (now.isEmpty() && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
            now = new StatsReader(connection, options.cmwq()).read();
        }
        if (now.isEmpty()) {
            err.println("top: no cmwq4j MBeans (" + StatsReader.DOMAIN + ":type=Workqueue,*) in pid "
                    + pid + (options.cmwq() == null ? "" : " for cmwq " + options.cmwq()));
        }
        out.print(options.report().render(now, null));
        out.flush();
    }

    /**
     * Refresh mode on one connection: {@code frames} frames, or until the connection fails when
     * negative.
     */
    static void refresh(MBeanServerConnection connection, Options options, String pid,
                        PrintStream out, long frames) throws IOException, InterruptedException {
        new Screen(connection, options, pid).run(out, frames);
    }

    /**
     * Refresh mode on a main-class name: attach to the newest matching JVM, refresh until it
     * exits, then wait for the next one; {@code frames} frames in all (negative: until
     * interrupted). A JVM that exited, or would not attach, is not tried again.
     *
     * @param candidates the JVMs that match now, asked again while waiting
     */
    static void follow(Options options, Supplier<List<Attach.Candidate>> candidates,
                       PrintStream out, long frames) throws InterruptedException {
        Set<String> done = new HashSet<>();
        String waiting = "waiting for a JVM whose main class contains '" + options.target()
                + "' ...\n";
        out.print(CLEAR + waiting);
        out.flush();
        long shown = 0;
        while (frames < 0 || shown < frames) {
            Optional<Attach.Candidate> target =
                    Attach.newest(candidates.get(), done);
            if (target.isEmpty()) {
                pace(System.nanoTime() + options.interval().toNanos());
                continue;
            }
            String pid = target.get().pid();
            done.add(pid);
            Screen screen = null;
            String why;
            try (JMXConnector connector = Attach.connect(pid)) {
                screen = new Screen(connector.getMBeanServerConnection(), options, pid);
                screen.run(out, frames < 0 ? -1 : frames - shown);
                why = null;
            } catch (IOException e) {
                why = screen != null && screen.shown > 0 ? "pid " + pid + " exited"
                        : "pid " + pid + " (exited?): " + firstLine(e.getMessage());
            } finally {
                shown += screen == null ? 0 : screen.shown;
            }
            if (why != null) {
                out.print("\n" + why + "; " + waiting);
                out.flush();
            }
        }
    }

    /** The refreshing display of one connection; {@link #shown} counts its frames. */
    private static final class Screen {
        private final StatsReader reader;
        private final Report report;
        private final String pid;
        private final long period;
        /** The previous frame's snapshot, for rates; null before the first frame. */
        private Snapshot before;
        long shown;

        Screen(MBeanServerConnection connection, Options options, String pid) {
            this.reader = new StatsReader(connection, options.cmwq());
            this.report = options.report();
            this.pid = pid;
            this.period = options.interval().toNanos();
        }

        /**
         * Clear the screen, print a frame, wait for the next tick; {@code frames} times, or until
         * the connection fails when negative. The tick is fixed-rate; a slow read skips ahead.
         */
        void run(PrintStream out, long frames) throws IOException, InterruptedException {
            long next = System.nanoTime();
            for (long frame = 0; frames < 0 || frame < frames; frame++) {
                if (frame > 0) {
                    next = pace(next);
                }
                next += period;
                Snapshot now = reader.read();
                String title = Report.title(pid, now, period / 1e9,
                        LocalTime.now().format(CLOCK));
                out.print(CLEAR + title + "\n\n" + report.render(now, before));
                out.flush();
                before = now;
                shown++;
            }
        }
    }

    /** RMI nests causes into its messages; the first line says enough. */
    static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").strip();
    }

    /** Sleeps until {@code deadline} (pacing the display, not synchronization); the new base. */
    private static long pace(long deadline) throws InterruptedException {
        long wait = deadline - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
            return deadline;
        }
        return System.nanoTime();
    }
}
