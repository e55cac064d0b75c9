package dev.cmwq4j.internal;

import java.util.Arrays;
import java.util.Set;

/**
 * A blocking site: where the user's code blocked, as the blocking-site profile keys it. Made from
 * a worker's stack captured by the monitor the moment it detected an unannounced block
 * ({@link BlockProfiler}); immutable.
 *
 * <h2>Trimming</h2>
 * A captured stack reads, from the top: the JDK's blocking method and the JDK frames that led to
 * it ({@code Thread.sleep}, {@code LockSupport.park}, a socket read); the user's code; then
 * cmwq4j's own frames down to {@code Thread.run} (the work's action called from
 * {@code WorkNode.runAction}, {@code Worker.runOne}, the run loop). {@link #of} keeps the
 * frames from the first one that is neither the JDK's ({@link #isJdkFrame}) nor cmwq4j's own
 * ({@link #isLibraryFrame}), the <em>top user frame</em>, the code that called into the
 * blocking method, down to the first cmwq4j frame below it (the engine that ran it), at most
 * {@link #MAX_FRAMES}. JDK frames between user frames stay (a stream or a
 * {@code CompletableFuture} the user called through is part of the path). Frames of a third-party
 * library (a JDBC driver's socket read) count as user frames: the site then starts in the
 * library, and the user's own call is further down the kept frames.
 *
 * <p>cmwq4j's own frames are told by class name: the engine's package, and the public package's
 * library classes by name ({@link #API_CLASSES}; a test checks that list against the classes the
 * build produced). Not by package alone: the project's tests, which are user code here, live in
 * the public package too, and so could an application on the class path. A stack with no user
 * frame at all (a task that is a JDK class blocking in JDK code) keeps its top
 * {@link #MAX_FRAMES} frames as they are, so the site still says what blocked.
 *
 * <p>Two sites are equal when their frames are ({@link StackTraceElement#equals}: class, method,
 * file, line, module, class loader): the same call, reached the same way.
 */
final class Site {
    /** Frames a site keeps: the top user frame and up to seven of its callers. */
    static final int MAX_FRAMES = 8;

    /** The site of the detections counted together once a table is full ("other"): no frames. */
    static final Site OTHER = new Site(new StackTraceElement[0]);

    /**
     * The classes of the public package that are the library's own (top-level names; nested
     * classes share their outer class's name up to the '$'). Keep in step with
     * {@code core/src/main/java/dev/cmwq4j}: {@code SiteTest} fails when a class is missing.
     */
    static final Set<String> API_CLASSES = Set.of("AsyncDomain", "Blocking", "BlockingSite", "Cmwq", "DelayedWork",
            "DurationHistogram", "Jmx", "PoolStats", "Priority", "ScheduledTask", "WatchdogReport", "Work",
            "WorkerPoolMXBean", "Workqueue", "WorkqueueExecutorService", "WorkqueueFuture", "WorkqueueMXBean",
            "WorkqueueScheduledExecutorService", "WorkqueueStats", "Workqueues");

    private static final String API_PACKAGE = "dev.cmwq4j.";
    private static final String ENGINE_PACKAGE = "dev.cmwq4j.internal.";

    /** The kept frames, top first; never handed out without a copy. */
    private final StackTraceElement[] frames;
    private final int hash;

    private Site(StackTraceElement[] frames) {
        this.frames = frames;
        this.hash = Arrays.hashCode(frames);
    }

    /**
     * The site of a worker's stack captured while it blocked (see the class comment).
     *
     * @param stack a stack as {@link Thread#getStackTrace()} returns it, top first; not modified
     */
    static Site of(StackTraceElement[] stack) {
        int n = stack.length;
        int top = 0;
        while (top < n && isOwnOrJdk(stack[top])) {
            top++;
        }
        if (top == n) { // no user frame: what blocked, as it is
            return new Site(Arrays.copyOf(stack, Math.min(n, MAX_FRAMES)));
        }
        int end = top + 1;
        while (end < n && end - top < MAX_FRAMES && !isLibraryFrame(stack[end].getClassName())) {
            end++;
        }
        return new Site(Arrays.copyOfRange(stack, top, end));
    }

    private static boolean isOwnOrJdk(StackTraceElement e) {
        String c = e.getClassName();
        return isJdkFrame(c) || isLibraryFrame(c);
    }

    /** A frame of the JDK: {@code java.*}, {@code javax.*}, {@code jdk.*}, {@code sun.*}, {@code com.sun.*}. */
    static boolean isJdkFrame(String className) {
        return className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
                || className.startsWith("sun.") || className.startsWith("com.sun.");
    }

    /**
     * A frame of cmwq4j's own code: the engine ({@code dev.cmwq4j.internal}) or a library class of
     * the public package ({@link #API_CLASSES}); not a test's or an application's class that
     * happens to live in {@code dev.cmwq4j}, nor another module's ({@code dev.cmwq4j.bench}).
     */
    static boolean isLibraryFrame(String className) {
        if (!className.startsWith(API_PACKAGE)) {
            return false;
        }
        if (className.startsWith(ENGINE_PACKAGE)) {
            return true;
        }
        String rest = className.substring(API_PACKAGE.length());
        if (rest.indexOf('.') >= 0) {
            return false; // a subpackage: another module's, or the user's
        }
        int nested = rest.indexOf('$');
        return API_CLASSES.contains(nested < 0 ? rest : rest.substring(0, nested));
    }

    /** The kept frames, top first: a copy. Empty for {@link #OTHER}. */
    StackTraceElement[] frames() {
        return frames.clone();
    }

    /** The top user frame as text ({@link #frameText}), or {@code "(other)"}. */
    String top() {
        return frames.length == 0 ? "(other)" : frameText(frames[0]);
    }

    /**
     * A frame as a site is named: {@code com.example.Dao.lookup(Dao.java:42)}, as
     * {@link StackTraceElement#toString()} has it but without the module and class loader it may
     * prefix ({@code app@1.0/}): the same on the class path and the module path, and short.
     */
    static String frameText(StackTraceElement e) {
        String where;
        if (e.isNativeMethod()) {
            where = "Native Method";
        } else if (e.getFileName() == null) {
            where = "Unknown Source";
        } else {
            where = e.getLineNumber() >= 0 ? e.getFileName() + ":" + e.getLineNumber() : e.getFileName();
        }
        return e.getClassName() + "." + e.getMethodName() + "(" + where + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Site s && s.hash == hash && Arrays.equals(s.frames, frames);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "Site" + Arrays.toString(frames);
    }
}
