package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fields a pool's workers write at every run, the inbound stack's head, and a pool
 * workqueue's count of lane starts sit on cache lines that no other field of their object
 * shares (ARCHITECTURE 4, <i>Lines of their own</i>): the layout the JVM chose, read with
 * {@code Unsafe.objectFieldOffset}, the only view of it a product JVM gives. A field added or
 * moved so that it lands among them, or a JVM that lays fields out otherwise, fails here, where
 * a benchmark would only have slowed down.
 */
class FieldLinesTest {
    private static final int LINE = 64;

    /** Written by the pool's workers at every run (or, the lane's backlog hint, as it changes) without the lock. */
    private static final Set<String> PER_RUN = Set.of(
            "progress", "runCpuAvg", "blocksPerRun", "demandSamples", "blockAvgNanos", "runWallAvg",
            "laneBacklogHint");

    /** WorkerPool's padding fields. */
    private static final String POOL_PADDING = "p[ab][0-7]|i[pq][0-9]+|headerGap";

    @Test
    void aPoolsPerRunFieldsShareNoLineWithItsOtherFields() throws Exception {
        assertOnLinesOfTheirOwn(WorkerPool.class, PER_RUN, POOL_PADDING);
    }

    /** The inbound stack's head: CASed by every queuer, swapped by every drain. */
    @Test
    void aPoolsInboundStackShareNoLineWithItsOtherFields() throws Exception {
        assertOnLinesOfTheirOwn(WorkerPool.class, Set.of("inbound"), POOL_PADDING);
    }

    /**
     * A pool workqueue's count of lane starts, written at every lane run, away from what every
     * queuer reads ({@code pool}, {@code fastWq}, {@code wq}).
     */
    @Test
    void aPwqsLaneStartsShareNoLineWithItsOtherFields() throws Exception {
        assertOnLinesOfTheirOwn(PoolWorkqueue.class, Set.of("laneStarts"), "l[pq][0-7]");
    }

    /**
     * The fields of {@code group} span at most one line, start a whole line into the object (the
     * header, and whatever the heap put before it, are a line away), and every other field of
     * {@code c} but the padding (names matching {@code padding}) is at least a line away from them.
     */
    private static void assertOnLinesOfTheirOwn(Class<?> c, Set<String> group, String padding) throws Exception {
        List<long[]> mine = new ArrayList<>();
        List<long[]> others = new ArrayList<>();
        List<String> otherNames = new ArrayList<>();
        Object unsafe = unsafe();
        for (Field f : c.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            long offset = (long) unsafe.getClass().getMethod("objectFieldOffset", Field.class).invoke(unsafe, f);
            long[] range = {offset, offset + size(f.getType())};
            if (group.contains(f.getName())) {
                mine.add(range);
            } else if (!f.getName().matches(padding)) {
                others.add(range);
                otherNames.add(f.getName() + "@" + offset);
            }
        }
        assertThat(mine).as("the fields found").hasSize(group.size());
        long first = mine.stream().mapToLong(r -> r[0]).min().orElseThrow();
        long end = mine.stream().mapToLong(r -> r[1]).max().orElseThrow();
        assertThat(first).as("offset of the first of %s", group).isGreaterThanOrEqualTo(LINE);
        for (int i = 0; i < others.size(); i++) {
            long[] o = others.get(i);
            boolean apart = o[1] + LINE <= first || o[0] >= end + LINE;
            assertThat(apart).as("%s is at least a line from %s [%d, %d)", otherNames.get(i), group, first, end)
                    .isTrue();
        }
        assertThat(end - first).as("%s fit one line", group).isLessThanOrEqualTo(LINE);
    }

    private static long size(Class<?> type) {
        if (type == long.class || type == double.class) {
            return 8;
        }
        if (type == int.class || type == float.class) {
            return 4;
        }
        if (type == short.class || type == char.class) {
            return 2;
        }
        if (type == byte.class || type == boolean.class) {
            return 1;
        }
        return 4; // a reference; 8 without compressed references, where offsets move apart anyway
    }

    private static Object unsafe() throws Exception {
        Class<?> c = Class.forName("sun.misc.Unsafe");
        Field f = c.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        return f.get(null);
    }
}
