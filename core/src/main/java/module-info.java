/**
 * cmwq4j: a concurrency-managed workqueue for the JVM.
 *
 * <p>Only {@code dev.cmwq4j} is exported; pools, workers, worklists and the timer live in
 * {@code dev.cmwq4j.internal} and are not part of the API.
 */
module dev.cmwq4j {
    requires java.management; // ThreadMXBean (worker CPU time), MXBeans for pools and workqueues
    requires jdk.jfr; // the dev.cmwq4j.* events; free while no recording asks for them
    exports dev.cmwq4j;
}
