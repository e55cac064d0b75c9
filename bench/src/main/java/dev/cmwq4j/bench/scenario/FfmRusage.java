package dev.cmwq4j.bench.scenario;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * {@code getrusage(2)} and {@code clock_gettime(2)} through the FFM API (Linux, LP64).
 *
 * <p>This is the one class of the module compiled with {@code --release 22} (a separate
 * maven-compiler-plugin execution, see bench/pom.xml); nothing refers to it by name except
 * {@link Probes}, which loads it reflectively. The downcalls are {@linkplain
 * Linker.Option#critical(boolean) critical} with heap access: both calls are short and never block,
 * so they can write straight into a {@code long[]} with no arena.
 *
 * <p>Run with {@code --enable-native-access=ALL-UNNAMED} to avoid the JDK's restricted-method
 * warning.
 */
@SuppressWarnings("restricted")
final class FfmRusage implements NativeProbe {
    private static final int RUSAGE_SELF = 0;
    private static final int RUSAGE_THREAD = 1;
    private static final int CLOCK_THREAD_CPUTIME_ID = 3;
    /** struct rusage on LP64 Linux: two struct timeval (2 longs each) then 14 longs. */
    private static final int RUSAGE_LONGS = 18;
    private static final int RU_MAXRSS = 4;
    private static final int RU_NVCSW = 16;
    private static final int RU_NIVCSW = 17;

    private final MethodHandle getrusage;
    private final MethodHandle clockGettime;

    FfmRusage() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            throw new UnsupportedOperationException("struct layouts and clock ids are Linux's; os is " + os);
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option critical = Linker.Option.critical(true);
        FunctionDescriptor intPtr = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS);
        getrusage = linker.downcallHandle(libc.find("getrusage").orElseThrow(), intPtr, critical);
        clockGettime = linker.downcallHandle(libc.find("clock_gettime").orElseThrow(), intPtr, critical);
    }

    @Override
    public Usage usage() {
        return rusage(RUSAGE_SELF);
    }

    @Override
    public Usage threadUsage() {
        return rusage(RUSAGE_THREAD);
    }

    private Usage rusage(int who) {
        long[] ru = new long[RUSAGE_LONGS];
        int rc;
        try {
            rc = (int) getrusage.invokeExact(who, MemorySegment.ofArray(ru));
        } catch (Throwable t) {
            throw new IllegalStateException("getrusage failed", t);
        }
        if (rc != 0) {
            throw new IllegalStateException("getrusage returned " + rc);
        }
        long user = ru[0] * 1_000_000_000L + ru[1] * 1_000L;
        long sys = ru[2] * 1_000_000_000L + ru[3] * 1_000L;
        return new Usage(user, sys, user + sys, ru[RU_NVCSW], ru[RU_NIVCSW], ru[RU_MAXRSS]);
    }

    @Override
    public long threadCpuNanos() {
        long[] ts = new long[2];
        int rc;
        try {
            rc = (int) clockGettime.invokeExact(CLOCK_THREAD_CPUTIME_ID, MemorySegment.ofArray(ts));
        } catch (Throwable t) {
            throw new IllegalStateException("clock_gettime failed", t);
        }
        if (rc != 0) {
            throw new IllegalStateException("clock_gettime returned " + rc);
        }
        return ts[0] * 1_000_000_000L + ts[1];
    }

    @Override
    public String describe() {
        return "getrusage(RUSAGE_SELF) via FFM (includes exited threads)";
    }
}
