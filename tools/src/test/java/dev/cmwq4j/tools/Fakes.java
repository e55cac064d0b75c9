package dev.cmwq4j.tools;

import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/** Fake cmwq4j MBeans under the real object names, for the tests and {@link FakeTarget}. */
final class Fakes {
    private Fakes() {}

    /** A workqueue MXBean with settable numbers. */
    public static final class Workqueue implements FakeWorkqueueMXBean {
        final String cmwq;
        final String name;
        long total, inFlight, cpuTimeNanos, cpuIntensive, cmWakeups, maydays, rescued;
        long blocksAnnounced, blocksDetected;
        long qlat50, qlat99, qlatMax, exec50, exec99, execMax;
        int maxActive = 256;
        boolean unbound, highPriority, ordered;
        java.util.List<Site> blockingSites = java.util.List.of();

        Workqueue(String cmwq, String name) {
            this.cmwq = cmwq;
            this.name = name;
        }

        @Override public String getName() { return name; }
        @Override public String getCmwq() { return cmwq; }
        @Override public long getTotal() { return total; }
        @Override public long getInFlight() { return inFlight; }
        @Override public long getCpuTimeNanos() { return cpuTimeNanos; }
        @Override public long getCpuIntensive() { return cpuIntensive; }
        @Override public long getCmWakeups() { return cmWakeups; }
        @Override public long getMaydays() { return maydays; }
        @Override public long getRescued() { return rescued; }
        @Override public long getBlocksAnnounced() { return blocksAnnounced; }
        @Override public long getBlocksDetected() { return blocksDetected; }
        @Override public long getQueueLatencyP50Nanos() { return qlat50; }
        @Override public long getQueueLatencyP99Nanos() { return qlat99; }
        @Override public long getQueueLatencyMaxNanos() { return qlatMax; }
        @Override public long getExecTimeP50Nanos() { return exec50; }
        @Override public long getExecTimeP99Nanos() { return exec99; }
        @Override public long getExecTimeMaxNanos() { return execMax; }
        @Override public int getMaxActive() { return maxActive; }
        @Override public boolean isUnbound() { return unbound; }
        @Override public boolean isHighPriority() { return highPriority; }
        @Override public boolean isOrdered() { return ordered; }
        @Override public java.util.List<Site> getBlockingSites() { return blockingSites; }
    }

    /** A worker-pool MXBean with settable numbers. */
    public static final class Pool implements FakePoolMXBean {
        final String cmwq;
        final String name;
        int cpu;
        boolean highPriority;
        int workers, idle, running, blocked, detected, cpuIntensive, nrRunning, target, pending;
        java.util.List<String> runningWorks = java.util.List.of();

        Pool(String cmwq, String name, int cpu, boolean highPriority) {
            this.cmwq = cmwq;
            this.name = name;
            this.cpu = cpu;
            this.highPriority = highPriority;
        }

        @Override public String getName() { return name; }
        @Override public String getCmwq() { return cmwq; }
        @Override public int getCpu() { return cpu; }
        @Override public boolean isHighPriority() { return highPriority; }
        @Override public int getWorkers() { return workers; }
        @Override public int getIdle() { return idle; }
        @Override public int getRunning() { return running; }
        @Override public int getBlocked() { return blocked; }
        @Override public int getDetected() { return detected; }
        @Override public int getCpuIntensive() { return cpuIntensive; }
        @Override public int getNrRunning() { return nrRunning; }
        @Override public int getTarget() { return target; }
        @Override public int getPending() { return pending; }
        @Override public java.util.List<String> getRunningWorks() { return runningWorks; }
    }

    /**
     * An MBean with exactly the given attributes (values of any type), standing in for an older
     * or newer cmwq4j that publishes fewer or other attributes.
     */
    static final class Partial implements DynamicMBean {
        private final Map<String, Object> values;

        Partial(Map<String, Object> values) {
            this.values = new LinkedHashMap<>(values);
        }

        @Override
        public Object getAttribute(String attribute) throws AttributeNotFoundException {
            if (!values.containsKey(attribute)) {
                throw new AttributeNotFoundException(attribute);
            }
            return values.get(attribute);
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            AttributeList list = new AttributeList();
            for (String a : attributes) {
                if (values.containsKey(a)) {
                    list.add(new Attribute(a, values.get(a)));
                }
            }
            return list;
        }

        @Override
        public void setAttribute(Attribute attribute) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String action, Object[] params, String[] signature) {
            throw new UnsupportedOperationException(action);
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            MBeanAttributeInfo[] infos = values.entrySet().stream()
                    .map(e -> new MBeanAttributeInfo(e.getKey(), e.getValue().getClass().getName(),
                            e.getKey(), true, false, false))
                    .toArray(MBeanAttributeInfo[]::new);
            return new MBeanInfo(Partial.class.getName(), "partial", infos, null, null, null);
        }
    }

    /** {@code dev.cmwq4j:type=<type>,cmwq=<cmwq>,name=<name>}, values quoted when they must be. */
    static ObjectName objectName(String type, String cmwq, String name) {
        Hashtable<String, String> keys = new Hashtable<>();
        keys.put("type", type);
        keys.put("cmwq", quoteIfNeeded(cmwq));
        keys.put("name", quoteIfNeeded(name));
        try {
            return new ObjectName("dev.cmwq4j", keys);
        } catch (JMException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static String quoteIfNeeded(String value) {
        return value.chars().anyMatch(c -> ",=:\"*?\n\\".indexOf(c) >= 0) || value.isEmpty()
                ? ObjectName.quote(value) : value;
    }

    static Workqueue workqueue(MBeanServer server, String cmwq, String name) {
        Workqueue wq = new Workqueue(cmwq, name);
        register(server, wq, objectName("Workqueue", cmwq, name));
        return wq;
    }

    static Pool pool(MBeanServer server, String cmwq, String name, int cpu, boolean high) {
        Pool pool = new Pool(cmwq, name, cpu, high);
        register(server, pool, objectName("WorkerPool", cmwq, name));
        return pool;
    }

    static void register(MBeanServer server, Object bean, ObjectName name) {
        try {
            server.registerMBean(bean, name);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }
}
