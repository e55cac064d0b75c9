package dev.cmwq4j.tools;

import java.util.List;

/**
 * Every cmwq4j MBean of one JVM, read in one pass.
 *
 * @param nanoTime   {@link System#nanoTime()} in the reading JVM when the pass started; the
 *                   difference between two snapshots is the interval that rates divide by
 * @param workqueues one row per {@code dev.cmwq4j:type=Workqueue} MBean, in no particular order
 * @param pools      one row per {@code dev.cmwq4j:type=WorkerPool} MBean, in no particular order
 */
record Snapshot(long nanoTime, List<Row> workqueues, List<Row> pools) {
    Snapshot {
        workqueues = List.copyOf(workqueues);
        pools = List.copyOf(pools);
    }

    boolean isEmpty() {
        return workqueues.isEmpty() && pools.isEmpty();
    }
}
