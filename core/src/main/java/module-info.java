/**
 * cmwq4j: a concurrency-managed workqueue for the JVM.
 *
 * <p>Only {@code dev.cmwq4j} is exported; pools, workers, worklists and the timer live in
 * {@code dev.cmwq4j.internal} and are not part of the API.
 */
module dev.cmwq4j {
    requires java.management; // ThreadMXBean: the monitor reads worker thread CPU time
    exports dev.cmwq4j;
}
