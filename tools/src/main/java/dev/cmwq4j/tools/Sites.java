package dev.cmwq4j.tools;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.openmbean.CompositeData;

/**
 * The blocking-site view's rows: where the works of each workqueue blocked without announcing it,
 * from the workqueue MBeans' {@code BlockingSites} attribute (an array of {@code CompositeData}
 * with the items {@code site}, {@code stack}, {@code count} and {@code blockedNanos}, longest
 * blocked time first), read by item name like every other attribute.
 *
 * <p>Each site becomes a {@link Row} of its workqueue (same engine and name) with the attributes
 * {@link #SITE}, {@link #STACK}, {@link #COUNT}, {@link #BLOCKED_NANOS} and {@link #RANK} (its
 * place in the MBean's order, from 1). A workqueue whose {@code BlocksDetected} exceeds the sum of
 * its sites' counts also gets a row {@link #UNSAMPLED} for the difference (detections the
 * profiler did not sample), so that a workqueue's counts add up to its {@code BLKdet}. A
 * workqueue without sites and without detections has no row; one whose MBean does not publish
 * the attribute (an older cmwq4j) neither.
 */
final class Sites {
    private Sites() {}

    static final String SITE = "Site";
    static final String STACK = "Stack";
    static final String COUNT = "Count";
    static final String BLOCKED_NANOS = "BlockedNanos";
    static final String RANK = "Rank";
    /** The site text of the row for unsampled detections. */
    static final String UNSAMPLED = "(unsampled)";

    /** The site rows of {@code workqueues}, each workqueue's in the MBean's order. */
    static List<Row> rows(List<Row> workqueues) {
        List<Row> out = new ArrayList<>();
        for (Row wq : workqueues) {
            if (!(wq.get("BlockingSites") instanceof CompositeData[] sites)) {
                continue;
            }
            long sampled = 0;
            int rank = 0;
            for (CompositeData site : sites) {
                Map<String, Object> values = new HashMap<>();
                put(values, SITE, item(site, "site"));
                put(values, STACK, item(site, "stack"));
                put(values, COUNT, item(site, "count"));
                put(values, BLOCKED_NANOS, item(site, "blockedNanos"));
                values.put(RANK, ++rank);
                if (values.get(COUNT) instanceof Number n) {
                    sampled += n.longValue();
                }
                out.add(new Row(wq.cmwq(), wq.name(), values));
            }
            if (wq.get("BlocksDetected") instanceof Number detected && detected.longValue() > sampled) {
                out.add(new Row(wq.cmwq(), wq.name(), Map.of(SITE, UNSAMPLED,
                        COUNT, detected.longValue() - sampled, RANK, ++rank)));
            }
        }
        return out;
    }

    /**
     * Identifies a site across snapshots (for rates): its workqueue and its frames; the unsampled
     * row by its site text.
     */
    static String key(Row row) {
        Object stack = row.get(STACK);
        String frames = stack instanceof String[] s ? String.join("\n", s) : String.valueOf(row.get(SITE));
        return row.key() + '\u0000' + frames;
    }

    /**
     * The frames of each row, for one-shot mode: a line per site naming it, then its frames
     * indented, top first.
     */
    static String stacks(List<Row> rows) {
        StringBuilder out = new StringBuilder();
        for (Row row : rows) {
            if (!(row.get(STACK) instanceof String[] frames)) {
                continue;
            }
            out.append(row.cmwq()).append('/').append(row.name()).append(" #").append(row.get(RANK))
                    .append(": ").append(row.get(SITE)).append('\n');
            for (String frame : frames) {
                out.append("    at ").append(frame).append('\n');
            }
        }
        return out.toString();
    }

    private static Object item(CompositeData data, String key) {
        return data.containsKey(key) ? data.get(key) : null;
    }

    private static void put(Map<String, Object> values, String key, Object value) {
        if (value != null) {
            values.put(key, value);
        }
    }
}
