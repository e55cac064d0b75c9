package dev.cmwq4j.internal;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pool worklist alone, single-threaded and without its lock: one {@code poll} plus one
 * {@code add} of the polled node at the tail, with {@code depth} nodes listed (a steady FIFO), all
 * at the default priority. This is the part of the queue-to-execute hot path that priorities
 * change; bench's {@code QueueExecuteBench} measures the whole path, whose noise on a shared
 * machine is far larger than this difference.
 *
 * <p>It lives in core's test scope, in the worklist's own package, so that it needs nothing of
 * {@code Worklist} and {@code WorkNode} beyond package access. Run (JMH's own arguments after
 * {@code -Dcore.jmh}; the forks use the toolchain JDK):
 * {@code mvn -q -pl core process-test-classes -Dcore.jmh="WorklistBench"}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class WorklistBench {
    @Param({"1", "256"})
    public int depth;

    private Worklist list;

    @Setup
    public void setUp() {
        list = new Worklist();
        for (int i = 0; i < depth; i++) {
            list.add(new WorkNode(() -> {}));
        }
    }

    @Benchmark
    public WorkNode pollThenAdd() {
        WorkNode n = list.poll();
        list.add(n);
        return n;
    }
}
