package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import dev.cmwq4j.internal.WorkqueueCore;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

/**
 * Publishes an engine's pools and workqueues as MXBeans on the platform MBean server, under the
 * names documented on {@link WorkqueueMXBean} and {@link WorkerPoolMXBean}. Registration never
 * fails the caller: a JMX error is logged and the object simply stays unpublished. Workqueues
 * (and pools of instances) with the same name get {@code name}, {@code name#2}, {@code name#3},
 * ..., with no limit: each object of that name has its bean.
 *
 * <h2>Deferred registration</h2>
 * The first call of {@link ManagementFactory#getPlatformMBeanServer()} in a JVM creates the
 * platform server and registers every platform MXBean in it: 150-400 ms of CPU, and as much wall
 * time, in a fresh JVM, where building the shared instance costs a few milliseconds otherwise. So
 * the {@link #PUBLISHER} registers on the caller's thread only once some MBean server exists in the
 * JVM ({@link MBeanServerFactory#findMBeanServer}{@code (null)} is not empty; the platform server
 * is created through {@code MBeanServerFactory}, so it is listed there once it exists): the
 * application uses JMX, an agent created the server, or an earlier batch of ours did. While none
 * exists, a publication is queued, and the engine that published it asks its service thread to
 * {@linkplain Publisher#poll poll} the publisher every {@link #POLL_MILLIS} ms
 * ({@link Publisher#pollAfterNanos}): a poll that finds a server someone else created, or that
 * comes {@link #CREATE_AFTER_MILLIS} (30 s, property {@code cmwq4j.jmx.createAfterMillis}) after
 * the queue began to wait, starts a daemon thread, {@code cmwq4j-jmx}, which creates the platform
 * server if there is still none, registers the queue in order, and ends when the queue is empty.
 * The waiting costs no thread: a program that lives less than half a minute, and is not watched,
 * runs no JMX thread at all (a thread that waited out the 30 s was one more in every scenario's
 * thread count). Whoever wants the beans creates the server anyway: a tool that attaches
 * ({@code top}, JConsole, VisualVM) starts the target's management agent, which creates it, and
 * the beans follow within a poll; an application that uses JMX, or runs a remote JMX agent, has it
 * from the start. So a program that lives less than half a minute never pays for the server,
 * which it did after one second before: a 3 s HTTP benchmark spent about 0.4 s of CPU on it.
 *
 * <p>{@code publish*} returns a {@link Registration} as the token. {@link Engine.Publisher#unpublish}
 * of a registration still queued takes it off the queue (it is never registered); of a registered
 * one unregisters it at once. One lock, the publisher's, guards the queue, each registration's
 * state and each single register and unregister call, so a registration racing an unpublish never
 * leaves a bean behind.
 */
final class Jmx {
    private Jmx() {}

    static final String DOMAIN = "dev.cmwq4j";

    /** How often an engine's service thread polls for an MBean server created by someone else, while publications wait. */
    static final long POLL_MILLIS = 250;
    /** {@link #POLL_MILLIS} in nanoseconds, as the engine's timer takes it. */
    static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS);

    /** How long queued publications wait (from when the queue began to wait) before a poll starts a batch that creates the platform server itself. */
    static final long CREATE_AFTER_MILLIS = Math.max(0, Long.getLong("cmwq4j.jmx.createAfterMillis", 30_000));

    /** The engine's hook: it publishes through this and never sees the beans. */
    static final Engine.Publisher PUBLISHER = new Publisher(new AnyMBeanServer(),
            TimeUnit.MILLISECONDS.toNanos(CREATE_AFTER_MILLIS));

    /** Does an MBean server exist in this JVM? (A class, not a lambda: see {@link Publisher}.) */
    private static final class AnyMBeanServer implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            return !MBeanServerFactory.findMBeanServer(null).isEmpty();
        }
    }

    /** A registration's states; see {@link Registration#state}. */
    static final int PENDING = 0;
    static final int REGISTERED = 1;
    static final int DONE = 2;

    /** One publication, and the token {@code publish*} returns for it. */
    static final class Registration {
        final String type;
        final String cmwq;
        /** The pool, for a pool; null for a workqueue. */
        final Engine.PoolSource stats;
        /** The workqueue, for a workqueue; null for a pool. */
        final WorkqueueCore wq;
        /**
         * PENDING (queued), REGISTERED (as {@link #name}) or DONE (taken back, or its registration
         * failed: nothing of it is registered). Written and read under the publisher's lock.
         */
        int state = PENDING;
        /** The name it is registered as, while REGISTERED; under the publisher's lock. */
        ObjectName name;

        Registration(String type, String cmwq, Engine.PoolSource stats, WorkqueueCore wq) {
            this.type = type;
            this.cmwq = cmwq;
            this.stats = stats;
            this.wq = wq;
        }

        /**
         * Builds the bean and registers it; its state becomes REGISTERED or DONE. Throws nothing:
         * a failure (a JMX error, or out of memory while building the bean) is logged.
         */
        void register() {
            try {
                Object bean;
                String beanName;
                if (wq != null) {
                    bean = new WorkqueueBean(cmwq, wq);
                    beanName = wq.spec().name();
                } else {
                    PoolBean pool = new PoolBean(cmwq, stats);
                    bean = pool;
                    beanName = pool.getName();
                }
                name = PlatformServer.register(bean, type, cmwq, beanName);
            } catch (Throwable e) {
                name = null;
                PlatformServer.log(type, wq != null ? wq.spec().name() : "(pool)", e);
            }
            state = name != null ? REGISTERED : DONE;
        }
    }

    /**
     * The {@link Engine.Publisher}: registers at once while an MBean server exists, else queues for
     * a batch thread that a poll starts (see the class comment). Only classes of {@code java.base} are touched on the
     * caller's path while it defers: no lambda, no JMX class beyond {@code MBeanServerFactory}.
     */
    static final class Publisher implements Engine.Publisher {
        /** Whether some MBean server exists in the JVM (a seam for tests, as is {@link #createAfterNanos}). */
        private final BooleanSupplier serverExists;
        /** How long the queue waits for a server someone else creates before a batch creates the platform one. */
        private final long createAfterNanos;
        /**
         * Guards {@link #queue}, {@link #batch}, {@link #waitingSince}, every registration's state
         * and each (un)register call. A lock, not a monitor: {@link #poll}, on a service thread,
         * only tries it, since a holder may be registering (the first bean of a class costs
         * milliseconds, and creating the platform server, which a registration may wait for,
         * hundreds).
         */
        private final ReentrantLock lock = new ReentrantLock();
        /** Queued registrations, in publication order; under {@link #lock}. */
        private final ArrayDeque<Registration> queue = new ArrayDeque<>();
        /**
         * The batch thread that registers {@link #queue}, or null: set by the poll that starts it,
         * cleared by the batch when it finds the queue empty (or ends by a throw); under {@link #lock}.
         */
        private Thread batch;
        /**
         * When the queue last began to wait with no batch ({@link System#nanoTime}): set by the
         * publication that finds it empty, and by a batch that ended by a throw (due at once); under
         * {@link #lock}.
         */
        private long waitingSince;

        Publisher(BooleanSupplier serverExists, long createAfterNanos) {
            this.serverExists = serverExists;
            this.createAfterNanos = createAfterNanos;
        }

        @Override
        public Object publishPool(String cmwq, Engine.PoolSource stats) {
            return publish(new Registration("WorkerPool", cmwq, stats, null));
        }

        @Override
        public Object publishWorkqueue(String cmwq, WorkqueueCore wq) {
            return publish(new Registration("Workqueue", cmwq, null, wq));
        }

        private Registration publish(Registration r) {
            lock.lock();
            try {
                // behind a batch that has not finished, queue too: registrations keep their order
                boolean first = batch == null && queue.isEmpty();
                if (first && serverExists()) {
                    r.register();
                    return r;
                }
                if (first) {
                    waitingSince = System.nanoTime();
                }
                queue.add(r);
            } finally {
                lock.unlock();
            }
            return r;
        }

        /** While publications wait and no batch runs: {@link Jmx#POLL_MILLIS}; else -1. */
        @Override
        public long pollAfterNanos() {
            lock.lock();
            try {
                return waitsForPoll() ? POLL_NANOS : -1;
            } finally {
                lock.unlock();
            }
        }

        /** Publications wait, and no batch runs to register them. Lock. */
        private boolean waitsForPoll() {
            return batch == null && !queue.isEmpty();
        }

        /**
         * A poll, on an engine's service thread: starts the batch if publications wait and an MBean
         * server exists, or they have waited {@link #createAfterNanos}. Quick and throws nothing: no
         * JMX work here, and no wait for the lock (held by someone else, it polls again later).
         *
         * @return when to poll again, as {@link #pollAfterNanos}
         */
        @Override
        public long poll() {
            if (!lock.tryLock()) {
                return POLL_NANOS;
            }
            try {
                if (!waitsForPoll()) {
                    return -1;
                }
                if (System.nanoTime() - waitingSince < createAfterNanos && !serverExists()) {
                    return POLL_NANOS;
                }
                return startBatch() ? -1 : POLL_NANOS;
            } finally {
                lock.unlock();
            }
        }

        /**
         * Starts the batch thread for the queue. Lock held.
         *
         * @return false if no thread could be had (out of memory): the queue waits for the next poll
         */
        private boolean startBatch() {
            try {
                Thread t = new Thread(new Batch(), "cmwq4j-jmx");
                t.setDaemon(true);
                batch = t;
                t.start();
                return true;
            } catch (Throwable e) {
                batch = null;
                return false;
            }
        }

        private boolean serverExists() {
            try {
                return serverExists.getAsBoolean();
            } catch (Throwable e) { // unlikely; then assume none, and let the deadline decide
                return false;
            }
        }

        @Override
        public void unpublish(Object token) {
            if (!(token instanceof Registration r)) {
                return; // null: nothing was published
            }
            lock.lock();
            try {
                if (r.state == PENDING) {
                    queue.remove(r);
                } else if (r.state == REGISTERED) {
                    PlatformServer.unregister(r.name);
                    r.name = null;
                }
                r.state = DONE;
            } finally {
                lock.unlock();
            }
        }

        /** Queued registrations (for tests). */
        int queued() {
            lock.lock();
            try {
                return queue.size();
            } finally {
                lock.unlock();
            }
        }

        /** The batch thread, while one is running (for tests). */
        Thread batch() {
            lock.lock();
            try {
                return batch;
            } finally {
                lock.unlock();
            }
        }

        /**
         * Registers the queue, one registration per lock hold, and ends the batch when it is empty
         * (in the same hold as the look that found it empty: a publication after it finds no batch).
         * The caller has created the platform server already, outside the lock, so a publication,
         * an unpublish or a poll meanwhile waits for one registration at most (a poll does not wait).
         */
        private void registerQueued() {
            for (;;) {
                lock.lock();
                try {
                    Registration r = queue.poll();
                    if (r == null) {
                        batch = null;
                        return;
                    }
                    r.register(); // DONE if it failed: logged, never retried
                } finally {
                    lock.unlock();
                }
            }
        }

        /** The batch thread: creates the platform server if none exists, registers the queue. */
        private final class Batch implements Runnable {
            @Override
            public void run() {
                try {
                    try {
                        ManagementFactory.getPlatformMBeanServer(); // the expensive part, outside the lock
                    } catch (Throwable e) {
                        // register() logs it, once per registration, and leaves each unpublished
                    }
                    registerQueued();
                } finally {
                    lock.lock();
                    try {
                        if (batch == Thread.currentThread()) { // ended by a throw: what is left is due
                            batch = null;                     // at the next publication's poll
                            waitingSince = System.nanoTime() - createAfterNanos;
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            }
        }
    }

    /**
     * The calls on the platform MBean server, in a class of their own: verifying a class loads
     * the exception classes it catches, and {@code Jmx} itself is loaded on the caller's path.
     */
    static final class PlatformServer {
        private PlatformServer() {}

        /** Registers {@code bean} as {@code type=<type>,cmwq=<cmwq>,name=<name>}; returns its name or null. */
        static ObjectName register(Object bean, String type, String cmwq, String name) {
            MBeanServer server;
            try {
                server = ManagementFactory.getPlatformMBeanServer();
            } catch (Throwable e) {
                log(type, name, e);
                return null;
            }
            return register(server, bean, type, cmwq, name);
        }

        /**
         * Registers {@code bean} on {@code server} under the first free name of {@code name},
         * {@code name#2}, {@code name#3}, ... ({@link #suffixed}): as many objects of one name as
         * there are, each gets a bean. Returns the name it got, or null after a JMX error, logged.
         */
        static ObjectName register(MBeanServer server, Object bean, String type, String cmwq, String name) {
            for (int i = 1; ; i++) {
                try {
                    ObjectName on = objectName(type, cmwq, suffixed(name, i));
                    if (server.isRegistered(on)) {
                        continue; // same name in one instance: try the next suffix
                    }
                    server.registerMBean(bean, on);
                    return on;
                } catch (InstanceAlreadyExistsException e) {
                    // registered by someone else since isRegistered: try the next suffix
                } catch (JMException | RuntimeException e) {
                    log(type, name, e);
                    return null;
                }
            }
        }

        /** The {@code i}-th name for objects named {@code name}: {@code name}, then {@code name#i}. */
        static String suffixed(String name, int i) {
            return i == 1 ? name : name + "#" + i;
        }

        static ObjectName objectName(String type, String cmwq, String name) throws JMException {
            return new ObjectName(DOMAIN + ":type=" + type + ",cmwq=" + value(cmwq) + ",name=" + value(name));
        }

        static void log(String type, String name, Throwable e) {
            try {
                Engine.LOG.log(System.Logger.Level.WARNING, "cmwq4j: cannot register " + type + " '" + name + "' with JMX", e);
            } catch (Throwable ignored) {
                // logging failed too: the object stays unpublished all the same
            }
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

        @Override
        public java.util.List<SiteInfo> getBlockingSites() {
            java.util.List<BlockingSite> sites = s().blockingSites();
            java.util.List<SiteInfo> out = new java.util.ArrayList<>(sites.size());
            for (BlockingSite site : sites) {
                out.add(SiteInfo.of(site));
            }
            return out;
        }
    }

    /** The MXBean of one pool: the getters read a snapshot at most 20 ms old. */
    static final class PoolBean implements WorkerPoolMXBean {
        private final String cmwq;
        /** The first snapshot: a pool's name, CPU and priority never change. */
        private final PoolStats first;
        private final Snapshot<PoolStats> snapshot;

        /** The pool, for {@link #getRunningWorks} (read fresh each time: it changes by the microsecond). */
        private final Engine.PoolSource pool;

        PoolBean(String cmwq, Engine.PoolSource stats) {
            this.cmwq = cmwq;
            this.pool = stats;
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
        @Override public java.util.List<String> getRunningWorks() { return pool.runningWorks(); }
    }
}
