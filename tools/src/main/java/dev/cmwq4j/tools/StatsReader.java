package dev.cmwq4j.tools;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanServerConnection;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.ReflectionException;

/**
 * Reads {@link Snapshot}s of the cmwq4j MBeans through any {@link MBeanServerConnection}: a
 * remote JMX connector, or an in-process {@code MBeanServer}.
 *
 * <p>The reader knows the MBeans only by their published names and attribute names, never by a
 * cmwq4j class, so it works against any cmwq4j version that publishes
 * {@code dev.cmwq4j:type=Workqueue,cmwq=<engine>,name=<workqueue>} and
 * {@code dev.cmwq4j:type=WorkerPool,cmwq=<engine>,name=<pool>}. It asks for every attribute it
 * knows in one {@code getAttributes} call per MBean; JMX leaves out the attributes an MBean does
 * not have, and those show as "-". An MBean unregistered between the query and the read (a
 * workqueue closed meanwhile) is skipped.
 */
final class StatsReader {
    static final String DOMAIN = "dev.cmwq4j";

    /** Attributes of a {@code type=Workqueue} MBean. */
    static final List<String> WORKQUEUE_ATTRIBUTES = List.of(
            "Name", "Cmwq", "Total", "InFlight", "CpuTimeNanos", "CpuIntensive", "CmWakeups",
            "Maydays", "Rescued", "BlocksAnnounced", "BlocksDetected",
            "QueueLatencyP50Nanos", "QueueLatencyP99Nanos", "QueueLatencyMaxNanos",
            "ExecTimeP50Nanos", "ExecTimeP99Nanos", "ExecTimeMaxNanos",
            "MaxActive", "Unbound", "HighPriority", "Ordered", "BlockingSites");

    /** Attributes of a {@code type=WorkerPool} MBean. */
    static final List<String> POOL_ATTRIBUTES = List.of(
            "Name", "Cmwq", "Cpu", "HighPriority", "Workers", "Idle", "Running", "Blocked",
            "Detected", "CpuIntensive", "NrRunning", "Target", "Pending", "RunningWorks");

    private final MBeanServerConnection connection;
    /** Only MBeans of this engine, or all when null. */
    private final String cmwq;

    /**
     * @param connection where the MBeans are
     * @param cmwq       read only the MBeans whose {@code cmwq} key (unquoted) equals this, or all
     *                   when null
     */
    StatsReader(MBeanServerConnection connection, String cmwq) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.cmwq = cmwq;
    }

    /** Reads every workqueue and pool MBean once. */
    Snapshot read() throws IOException {
        long now = System.nanoTime();
        return new Snapshot(now, rows("Workqueue", WORKQUEUE_ATTRIBUTES),
                rows("WorkerPool", POOL_ATTRIBUTES));
    }

    private List<Row> rows(String type, List<String> attributes) throws IOException {
        String[] wanted = attributes.toArray(String[]::new);
        List<Row> rows = new ArrayList<>();
        for (ObjectName name : connection.queryNames(pattern(type), null)) {
            String engine = keyValue(name, "cmwq");
            if (cmwq != null && !cmwq.equals(engine)) {
                continue;
            }
            AttributeList values;
            try {
                values = connection.getAttributes(name, wanted);
            } catch (InstanceNotFoundException gone) {
                continue;
            } catch (ReflectionException broken) {
                values = new AttributeList();
            }
            Map<String, Object> byName = new HashMap<>();
            for (Attribute attribute : values.asList()) {
                if (attribute.getValue() != null) {
                    byName.put(attribute.getName(), attribute.getValue());
                }
            }
            String label = keyValue(name, "name");
            rows.add(new Row(engine == null ? "-" : engine,
                    label == null ? name.getCanonicalName() : label, byName));
        }
        return rows;
    }

    private static ObjectName pattern(String type) {
        try {
            return new ObjectName(DOMAIN + ":type=" + type + ",*");
        } catch (MalformedObjectNameException impossible) {
            throw new AssertionError(impossible);
        }
    }

    /** The key's value with {@link ObjectName#quote} undone, or null when the key is absent. */
    static String keyValue(ObjectName name, String key) {
        String value = name.getKeyProperty(key);
        if (value != null && value.startsWith("\"")) {
            try {
                return ObjectName.unquote(value);
            } catch (IllegalArgumentException notQuotedAfterAll) {
                return value;
            }
        }
        return value;
    }
}
