/**
 * Micrometer binding for cmwq4j: {@link dev.cmwq4j.micrometer.CmwqMetrics} publishes the
 * statistics of a {@link dev.cmwq4j.Cmwq} instance (per workqueue, per worker pool, per instance)
 * as Micrometer meters.
 */
package dev.cmwq4j.micrometer;
