package dev.cmwq4j.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * The JFR events of cmwq4j, named {@code dev.cmwq4j.*}, and the guarded calls that emit them.
 *
 * <h2>Cost</h2>
 * No event class is loaded until Flight Recorder is initialized in this JVM (a recording started
 * by {@code -XX:StartFlightRecording}, {@code jcmd JFR.start} or the {@code Recording} API): loading
 * one makes JFR set up its metadata and instrument the class, which took ~150 ms of a worker's
 * first work in a fresh JVM. Until then every call site is one read of {@link #probes}, which is
 * null. A {@link FlightRecorderListener}, installed by the engine's service thread as it starts
 * ({@link #listen}; by the engine's build if a recording already runs), creates the probes when
 * the recorder initializes; from then on each call site asks a preallocated probe of the event
 * class {@code isEnabled()}: with no recording (or the event disabled) that is one read of a
 * field JFR keeps per event class, and nothing is allocated. All code that names an event class
 * lives in {@code Probes}, so that even verifying this class loads none: the verifier loads both
 * sides of an assignment it checks (an event passed or returned as a supertype), which cost a
 * cold start 4-8 ms for the seven event classes and {@code jdk.jfr.Event} when the emitting code
 * lived here. Defaults keep a recording cheap: the per-work instant events (queued, activated,
 * started) are off unless a recording turns them on; a work's end is recorded only past 10 ms of
 * execution and a block only past 1 ms; no event takes a stack trace (an unannounced block carries
 * the blocked worker's, captured by the profiler, as a field).
 *
 * <h2>Events</h2>
 * <ul>
 *   <li>{@code WorkQueued}, {@code WorkActivated} (left the inactive list, {@code maxActive}),
 *       {@code WorkStarted}: instants, off by default;
 *   <li>{@code WorkEnded}: a duration event spanning the execution, threshold 10 ms;
 *   <li>{@code WorkerBlocked}: a duration event from the block (announced: the {@code Blocking}
 *       call; detected: the monitor's observation) to the wake-up, when the worker is counted
 *       again; threshold 1 ms;
 *   <li>{@code UnannouncedBlock}: a duration event from the detection of a block the
 *       blocking-site profiler sampled ({@link BlockProfiler}) to the worker's re-count, with the
 *       site it was attributed to and the worker's stack as text fields (the event's own stack
 *       would be the committing thread's, the monitor's or the worker's after the block, so none
 *       is taken); threshold 20 ms. One per sampled block: {@code WorkerBlocked} with kind
 *       {@code detected} covers every detected block, without a stack;
 *   <li>{@code CpuIntensive}: a work flagged by the monitor; {@code Mayday}: a rescuer called.
 * </ul>
 * Events about a work carry its workqueue's name and, in {@code work}, the work's name
 * ({@code Work.name()}: given, or derived from its action), computed only for an event that is
 * committed.
 */
final class Events {
    private Events() {}

    @Category({"cmwq4j", "Work"}) @StackTrace(false)
    abstract static class WorkEvent extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Work") @Description("The work's name (Work.name())") String work;
        @Label("Pool") String pool;
    }

    @Name("dev.cmwq4j.WorkQueued") @Label("Work Queued") @Enabled(false)
    static final class WorkQueued extends WorkEvent {}

    @Name("dev.cmwq4j.WorkActivated") @Label("Work Activated") @Enabled(false)
    @Description("A work held back by maxActive moved to its pool's worklist")
    static final class WorkActivated extends WorkEvent {}

    @Name("dev.cmwq4j.WorkStarted") @Label("Work Started") @Enabled(false)
    static final class WorkStarted extends WorkEvent {}

    @Name("dev.cmwq4j.WorkEnded") @Label("Work Ended") @Threshold("10 ms")
    @Description("A work's execution: the event spans it, from start to end")
    static final class WorkEnded extends WorkEvent {
        /** The work and its pool workqueue, for the fields at commit; not recorded (transient). */
        transient WorkNode node;
        transient PoolWorkqueue pwq;
    }

    @Name("dev.cmwq4j.WorkerBlocked") @Label("Worker Blocked") @Category({"cmwq4j", "Worker"})
    @StackTrace(false) @Threshold("1 ms")
    @Description("A worker left the concurrency count because it blocked, until it was counted again")
    static final class WorkerBlocked extends Event {
        @Label("Kind") @Description("announced (Blocking) or detected (monitor)") String kind;
        @Label("Worker") String worker;
        @Label("Workqueue") String workqueue;
        @Label("Work") String work;
    }

    @Name("dev.cmwq4j.UnannouncedBlock") @Label("Unannounced Block") @Category({"cmwq4j", "Worker"})
    @StackTrace(false) @Threshold("20 ms")
    @Description("A block the monitor detected without an announcement (Blocking) and profiled, from its detection"
            + " until the worker was counted again, with the call site it was attributed to. The event's own"
            + " thread is the one that committed it; the blocked worker is in 'worker', its stack in 'stack'")
    static final class UnannouncedBlock extends Event {
        @Label("Site") @Description("The top user frame: the code that called into the blocking method") String site;
        @Label("Stack") @Description("The worker's stack when the block was detected, top first, one frame per line")
        String stack;
        @Label("Worker") String worker;
        @Label("Workqueue") String workqueue;
        @Label("Work") @Description("The work's name (Work.name())") String work;
    }

    @Name("dev.cmwq4j.CpuIntensive") @Label("CPU Intensive") @Category({"cmwq4j", "Worker"}) @StackTrace(false)
    @Description("The monitor flagged a work that kept its CPU past the threshold")
    static final class CpuIntensive extends Event {
        @Label("Worker") String worker;
        @Label("Workqueue") String workqueue;
        @Label("Work") String work;
        @Label("CPU Time") @Timespan(Timespan.NANOSECONDS) long cpuTime;
    }

    @Name("dev.cmwq4j.Mayday") @Label("Mayday") @Category({"cmwq4j", "Pool"}) @StackTrace(false)
    @Description("A pool could not get a worker and called a rescuer")
    static final class Mayday extends Event {
        @Label("Pool") String pool;
        @Label("Workqueue") String workqueue;
    }

    /**
     * Everything that touches an event class: a probe per event class (never committed, only
     * asked {@code isEnabled()}) and the code that fills and commits events. Made once Flight
     * Recorder is initialized, so it is loaded (and verified, which loads the event classes) only
     * then: {@link Events}'s own methods name no event class but {@link Event}, so verifying
     * {@code Events} loads none.
     */
    private static final class Probes {
        final WorkQueued queued = new WorkQueued();
        final WorkActivated activated = new WorkActivated();
        final WorkStarted started = new WorkStarted();
        final WorkEnded ended = new WorkEnded();
        final WorkerBlocked blocked = new WorkerBlocked();
        final CpuIntensive cpuIntensive = new CpuIntensive();
        final Mayday mayday = new Mayday();
        final UnannouncedBlock unannounced = new UnannouncedBlock();

        private static void fill(WorkEvent e, WorkNode n, PoolWorkqueue pwq) {
            e.workqueue = pwq.wq.name;
            e.work = n.workName();
            e.pool = pwq.pool.name;
        }

        void queued(WorkNode n, PoolWorkqueue pwq) {
            if (queued.isEnabled()) {
                WorkQueued e = new WorkQueued();
                fill(e, n, pwq);
                e.commit();
            }
        }

        void activated(WorkNode n, PoolWorkqueue pwq) {
            if (activated.isEnabled()) {
                WorkActivated e = new WorkActivated();
                fill(e, n, pwq);
                e.commit();
            }
        }

        Event started(WorkNode n, PoolWorkqueue pwq) {
            if (started.isEnabled()) {
                WorkStarted e = new WorkStarted();
                fill(e, n, pwq);
                e.commit();
            }
            if (ended.isEnabled()) {
                WorkEnded e = new WorkEnded(); // its names are filled only if it is committed
                e.node = n;
                e.pwq = pwq;
                e.begin();
                return e;
            }
            return null;
        }

        static void ended(Event begun) {
            begun.end();
            if (begun.shouldCommit()) {
                if (begun instanceof WorkEnded e) {
                    fill(e, e.node, e.pwq);
                }
                begun.commit();
            }
        }

        Event blocked(String kind, Worker w) {
            if (!blocked.isEnabled()) {
                return null;
            }
            WorkerBlocked e = new WorkerBlocked();
            e.kind = kind;
            e.worker = threadName(w);
            e.workqueue = workqueueName(w);
            e.work = workName(w);
            e.begin();
            return e;
        }

        Event unannouncedBegin() {
            if (!unannounced.isEnabled()) {
                return null;
            }
            UnannouncedBlock e = new UnannouncedBlock(); // its fields are filled only if it is committed
            e.begin();
            return e;
        }

        static void unannouncedEnd(Event begun, DetectedBlock b) {
            begun.end();
            if (begun.shouldCommit() && begun instanceof UnannouncedBlock e) {
                e.site = b.siteText();
                e.stack = b.stackText();
                e.worker = b.workerName();
                e.workqueue = b.workqueueName();
                e.work = b.workName();
                e.commit();
            }
        }

        void cpuIntensive(Worker w, long cpuNanos) {
            if (cpuIntensive.isEnabled()) {
                CpuIntensive e = new CpuIntensive();
                e.worker = threadName(w);
                e.workqueue = workqueueName(w);
                e.work = workName(w);
                e.cpuTime = cpuNanos;
                e.commit();
            }
        }

        void mayday(WorkerPool pool, WorkqueueCore wq) {
            if (mayday.isEnabled()) {
                Mayday e = new Mayday();
                e.pool = pool.name;
                e.workqueue = wq.name;
                e.commit();
            }
        }
    }

    /**
     * The probes, or null while Flight Recorder is not initialized. Written once, by the
     * listener's {@code recorderInitialized} (on the thread that initializes the recorder); read
     * by every call site.
     */
    private static volatile Probes probes;

    /**
     * Installs the listener that creates the {@link #probes} (once per JVM; idempotent). Called by
     * each engine's service thread as it starts ({@code Monitor.run}), not by the caller building
     * the engine: {@link FlightRecorder#addListener} loads and initializes about ten classes of
     * {@code jdk.jfr}'s internals (1.5-2 ms of a fresh JVM's build), none of which the first
     * works need. A recorder initialized before that (a recording started with the JVM, or while
     * the engine was built) calls the listener as it is added; see {@link #listenIfRecording} for
     * the works that run before.
     */
    static void listen() {
        Listener.install();
    }

    /**
     * The engine's build: installs the listener now if Flight Recorder is already initialized
     * (a recording runs), so that the first works' events are not missed while the service thread
     * starts; otherwise leaves it to the service thread ({@link #listen}). {@link
     * FlightRecorder#isInitialized} reads a static field of one class. Never throws.
     */
    static void listenIfRecording() {
        try {
            if (FlightRecorder.isInitialized()) {
                Listener.install();
            }
        } catch (Throwable e) {
            // no Flight Recorder in this runtime (or out of memory): the service thread tries again
        }
    }

    /**
     * The listener, installed by this class's initializer, which runs once per JVM: at the first
     * {@link #install}.
     */
    private static final class Listener {
        static {
            try {
                FlightRecorder.addListener(new FlightRecorderListener() {
                    @Override
                    public void recorderInitialized(FlightRecorder recorder) {
                        probes = new Probes();
                    }
                });
            } catch (RuntimeException | LinkageError e) {
                // no Flight Recorder in this runtime: the events stay off
            }
        }

        private Listener() {}

        /** Initializes this class (its initializer installs the listener); nothing after the first call. */
        static void install() {
            // the call is the point: it runs the initializer on first use
        }
    }

    // Every method below is best effort and never throws: an event's fields may call user code
    // (a work's name can be its action's toString), filling and committing allocate, and the
    // callers are in the middle of the engine's bookkeeping, some under a pool lock (an insert
    // counts its work in flight, records WorkQueued, then lists the work). An Error thrown from
    // here used to leave such a work counted and never listed.

    static void queued(WorkNode n, PoolWorkqueue pwq) {
        Probes p = probes;
        if (p != null) {
            try {
                p.queued(n, pwq);
            } catch (Throwable e) {
                // the event is lost, not the work
            }
        }
    }

    static void activated(WorkNode n, PoolWorkqueue pwq) {
        Probes p = probes;
        if (p != null) {
            try {
                p.activated(n, pwq);
            } catch (Throwable e) {
                // the event is lost, not the work
            }
        }
    }

    /** At a work's start: emits WorkStarted; returns the begun WorkEnded event, or null. */
    static Event started(WorkNode n, PoolWorkqueue pwq) {
        Probes p = probes;
        if (p == null) {
            return null;
        }
        try {
            return p.started(n, pwq);
        } catch (Throwable e) {
            return null; // else the work, whose run follows, would be reported failed and not run
        }
    }

    /**
     * At a work's end, with what {@link #started} returned. A WorkEnded event gets its names
     * (an unnamed work's default name may call its action's {@code toString}) only past the
     * threshold: with a recording on,
     * the works under 10 ms, nearly all of them, cost no string.
     */
    static void ended(Event begun) {
        if (begun != null) { // then the probes exist (they made it)
            try {
                Probes.ended(begun);
            } catch (Throwable e) {
                // the event is lost
            }
        }
    }

    /** A worker left the count for a block: returns the begun event, or null. */
    static Event blocked(String kind, Worker w) {
        Probes p = probes;
        if (p == null) {
            return null;
        }
        try {
            return p.blocked(kind, w);
        } catch (Throwable e) {
            return null;
        }
    }

    /** The blocked worker is counted again. */
    static void woken(Event begun) {
        ended(begun);
    }

    /** A profiled unannounced block was detected: returns the begun UnannouncedBlock event, or null. */
    static Event unannouncedBegin() {
        Probes p = probes;
        if (p == null) {
            return null;
        }
        try {
            return p.unannouncedBegin();
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * The profiled block {@code b} ended, with what {@link #unannouncedBegin} returned (not null):
     * past the threshold, the event gets its fields from {@code b} and is committed.
     */
    static void unannouncedEnd(Event begun, DetectedBlock b) {
        try {
            Probes.unannouncedEnd(begun, b);
        } catch (Throwable e) {
            // the event is lost
        }
    }

    static void cpuIntensive(Worker w, long cpuNanos) {
        Probes p = probes;
        if (p != null) {
            try {
                p.cpuIntensive(w, cpuNanos);
            } catch (Throwable e) {
                // the event is lost
            }
        }
    }

    private static String threadName(Worker w) {
        Thread t = w.thread;
        return t == null ? "?" : t.getName();
    }

    /** The workqueue of the worker's current work (racy: the worker may move on), or null. */
    private static String workqueueName(Worker w) {
        PoolWorkqueue pwq = w.currentPwq;
        return pwq == null ? null : pwq.wq.name;
    }

    private static String workName(Worker w) {
        WorkNode n = w.current;
        return n == null ? null : n.workName();
    }

    static void mayday(WorkerPool pool, WorkqueueCore wq) {
        Probes p = probes;
        if (p != null) {
            try {
                p.mayday(pool, wq);
            } catch (Throwable e) {
                // the event is lost
            }
        }
    }
}
