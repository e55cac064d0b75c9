package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import dev.cmwq4j.internal.WorkqueueCore;
import java.lang.management.ManagementFactory;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Publishes an engine's pools and workqueues as MXBeans on the platform MBean server, under the
 * names documented on {@link WorkqueueMXBean} and {@link WorkerPoolMXBean}. Registration never
 * fails the caller: a JMX error is logged and the object simply stays unpublished. Two
 * workqueues of one instance with the same name get {@code name}, {@code name#2}, ...
 */
final class Jmx {
    private Jmx() {}

    private static final System.Logger LOG = System.getLogger("dev.cmwq4j");

    /** The engine's hook: it publishes through this and never sees the beans. */
    static final Engine.Publisher PUBLISHER = new Engine.Publisher() {
        @Override
        public Object publishPool(String cmwq, java.util.function.Supplier<Engine.PoolSnapshot> stats) {
            PoolBean bean = new PoolBean(cmwq, stats);
            return register(bean, "WorkerPool", cmwq, bean.getName());
        }

        @Override
        public Object publishWorkqueue(String cmwq, WorkqueueCore wq) {
            return register(new WorkqueueBean(cmwq, wq), "Workqueue", cmwq, wq.spec().name());
        }

        @Override
        public void unpublish(Object token) {
            unregister((ObjectName) token);
        }
    };

    static final String DOMAIN = "dev.cmwq4j";

    /** Registers {@code bean} as {@code type=<type>,cmwq=<cmwq>,name=<name>}; returns its name or null. */
    static ObjectName register(Object bean, String type, String cmwq, String name) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (int i = 1; i < 1000; i++) {
            String n = i == 1 ? name : name + "#" + i;
            try {
                ObjectName on = new ObjectName(DOMAIN + ":type=" + type + ",cmwq=" + value(cmwq) + ",name=" + value(n));
                server.registerMBean(bean, on);
                return on;
            } catch (InstanceAlreadyExistsException e) {
                // same name twice in one instance: try the next suffix
            } catch (JMException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cmwq4j: cannot register " + type + " '" + name + "' with JMX", e);
                return null;
            }
        }
        return null;
    }

    static void unregister(ObjectName on) {
        if (on == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(on);
        } catch (JMException | RuntimeException e) {
            // already gone
        }
    }

    /** A key property value, quoted only when it has to be. */
    static String value(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == ',' || c == '=' || c == ':' || c == '"' || c == '*' || c == '?' || c == '\n' || c == '\\') {
                return ObjectName.quote(v);
            }
        }
        return v.isEmpty() ? ObjectName.quote(v) : v;
    }

    /**
     * How long one snapshot serves the getters: a client reading all attributes at once (one
     * {@code getAttributes} call) gets numbers from one moment, for the cost of one snapshot.
     */
    static final long SNAPSHOT_REUSE_NANOS = 20_000_000;

    /**
     * The last snapshot of a bean and when it was taken: a racy cache, any getter may replace it
     * (two getters racing both take a snapshot; either is fine).
     */
    private static final class Snapshot<T> {
        private final java.util.function.Supplier<T> take;
        private volatile T last;
        private volatile long lastAt;

        Snapshot(java.util.function.Supplier<T> take) {
            this.take = take;
        }

        T get() {
            long now = System.nanoTime();
            T s = last;
            if (s == null || now - lastAt > SNAPSHOT_REUSE_NANOS) {
                s = take.get();
                last = s;
                lastAt = now;
            }
            return s;
        }
    }

    /** The MXBean of one workqueue: the getters read a snapshot at most 20 ms old. */
    static final class WorkqueueBean implements WorkqueueMXBean {
        private final String cmwq;
        private final WorkqueueCore wq;
        private final Snapshot<WorkqueueStats> snapshot;

        WorkqueueBean(String cmwq, WorkqueueCore wq) {
            this.cmwq = cmwq;
            this.wq = wq;
            this.snapshot = new Snapshot<>(() -> WorkqueueStats.of(wq.snapshot()));
        }

        private WorkqueueStats s() {
            return snapshot.get();
        }

        @Override public String getName() { return wq.spec().name(); }
        @Override public String getCmwq() { return cmwq; }
        @Override public long getTotal() { return s().total(); }
        @Override public long getInFlight() { return s().inFlight(); }
        @Override public long getCpuTimeNanos() { return s().cpuTimeNanos(); }
        @Override public long getCpuIntensive() { return s().cpuIntensive(); }
        @Override public long getCmWakeups() { return s().cmWakeups(); }
        @Override public long getMaydays() { return s().maydays(); }
        @Override public long getRescued() { return s().rescued(); }
        @Override public long getBlocksAnnounced() { return s().blocksAnnounced(); }
        @Override public long getBlocksDetected() { return s().blocksDetected(); }
        @Override public long getQueueLatencyP50Nanos() { return s().queueLatency().valueAtPercentile(50); }
        @Override public long getQueueLatencyP99Nanos() { return s().queueLatency().valueAtPercentile(99); }
        @Override public long getQueueLatencyMaxNanos() { return s().queueLatency().maxNanos(); }
        @Override public long getExecTimeP50Nanos() { return s().executionTime().valueAtPercentile(50); }
        @Override public long getExecTimeP99Nanos() { return s().executionTime().valueAtPercentile(99); }
        @Override public long getExecTimeMaxNanos() { return s().executionTime().maxNanos(); }
        @Override public int getMaxActive() { return wq.maxActive(); }
        @Override public boolean isUnbound() { return wq.spec().unbound(); }
        @Override public boolean isHighPriority() { return wq.spec().highPriority(); }
        @Override public boolean isOrdered() { return wq.spec().ordered(); }
    }

    /** The MXBean of one pool: the getters read a snapshot at most 20 ms old. */
    static final class PoolBean implements WorkerPoolMXBean {
        private final String cmwq;
        /** The first snapshot: a pool's name, CPU and priority never change. */
        private final PoolStats first;
        private final Snapshot<PoolStats> snapshot;

        PoolBean(String cmwq, java.util.function.Supplier<Engine.PoolSnapshot> stats) {
            this.cmwq = cmwq;
            this.snapshot = new Snapshot<>(() -> PoolStats.of(stats.get()));
            this.first = PoolStats.of(stats.get()); // not through the cache: later reads are fresh
        }

        private PoolStats s() {
            return snapshot.get();
        }

        @Override public String getName() { return first.name(); }
        @Override public String getCmwq() { return cmwq; }
        @Override public int getCpu() { return first.cpu(); }
        @Override public boolean isHighPriority() { return first.highPriority(); }
        @Override public int getWorkers() { return s().workers(); }
        @Override public int getIdle() { return s().idle(); }
        @Override public int getRunning() { return s().running(); }
        @Override public int getBlocked() { return s().blocked(); }
        @Override public int getDetected() { return s().detected(); }
        @Override public int getCpuIntensive() { return s().cpuIntensive(); }
        @Override public int getNrRunning() { return s().nrRunning(); }
        @Override public int getTarget() { return s().target(); }
        @Override public int getPending() { return s().pending(); }
    }
}
