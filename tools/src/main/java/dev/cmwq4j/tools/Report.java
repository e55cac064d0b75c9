package dev.cmwq4j.tools;

import dev.cmwq4j.tools.Column.Unit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Turns {@link Snapshot}s into the two tables {@code top} prints: one row per workqueue, then one
 * row per worker pool.
 *
 * <h2>Overview</h2>
 * The workqueue table has the columns of the kernel's {@code wq_monitor} (total works executed,
 * in flight, CPU time, CPU-intensive violations, concurrency-management wakeups, maydays,
 * rescued) and the JVM's own (blocks announced with {@code Blocking} and detected by the monitor,
 * p99 queue-to-start latency, p99 execution time). The pool table shows workers by state, the
 * concurrency state of each pool and, last, the names of the works its workers run now. The columns are data ({@link #WORKQUEUE_COLUMNS},
 * {@link #POOL_COLUMNS}); this class only evaluates them, adds rates, sorts, and hands strings to
 * {@link Table}.
 *
 * <p>With rates on (refresh mode), a cumulative column that has a {@link Column.Rate} is
 * followed by its per-second rate over the interval between the previous snapshot and this one:
 * {@code total/s} and {@code CPU%} (percent of one CPU). A rate is "-" on the first frame, for
 * a row that was not in the previous snapshot, and when the counter went down (the MBean was
 * replaced by a new one with the same name).
 *
 * <p>Order: by engine, then workqueue name; pools by engine, CPU (unbound last), priority, name.
 * {@code --sort COLUMN} sorts each table that has that column by it instead, numbers descending
 * and text ascending, "-" last, ties in the default order.
 *
 * <h2>The blocking-site view</h2>
 * With {@code --sites}, one table replaces the two: per workqueue, the call sites where its works
 * blocked without announcing it ({@link Sites}), longest blocked time first, with the number of
 * sampled blocks ({@code count}, and {@code count/s}), their blocked time ({@code blocked}, and
 * {@code blk%}: percent of one thread's time blocked there over the interval), the mean block
 * ({@code avg}) and the site (the top frame of the user's code). One-shot mode prints each
 * site's frames below the table.
 */
final class Report {
    /** The workqueue table, in print order. */
    static final List<Column> WORKQUEUE_COLUMNS = List.of(
            Column.text("WORKQUEUE", Row::name),
            Column.text("CMWQ", Row::cmwq),
            Column.text("flags", Report::flags),
            Column.of("total", Unit.COUNT, "Total").withRate("total/s", 1),
            Column.of("infl", Unit.COUNT, "InFlight"),
            Column.of("CPUtime", Unit.CPU_TIME, "CpuTimeNanos").withRate("CPU%", 100 / 1e9),
            Column.of("CPUitsv", Unit.COUNT, "CpuIntensive"),
            Column.of("CMW", Unit.COUNT, "CmWakeups"),
            Column.of("mayday", Unit.COUNT, "Maydays"),
            Column.of("rescued", Unit.COUNT, "Rescued"),
            Column.of("BLKann", Unit.COUNT, "BlocksAnnounced"),
            Column.of("BLKdet", Unit.COUNT, "BlocksDetected"),
            Column.of("qlat99", Unit.DURATION, "QueueLatencyP99Nanos"),
            Column.of("exec99", Unit.DURATION, "ExecTimeP99Nanos"));

    /** The worker-pool table, in print order. */
    static final List<Column> POOL_COLUMNS = List.of(
            Column.text("POOL", Row::name),
            Column.text("CMWQ", Row::cmwq),
            Column.of("workers", Unit.COUNT, "Workers"),
            Column.of("idle", Unit.COUNT, "Idle"),
            Column.of("running", Unit.COUNT, "Running"),
            Column.of("blocked", Unit.COUNT, "Blocked"),
            Column.of("detected", Unit.COUNT, "Detected"),
            Column.of("CPUitsv", Unit.COUNT, "CpuIntensive"),
            Column.of("nr_running", Unit.COUNT, "NrRunning"),
            Column.of("target", Unit.COUNT, "Target"),
            Column.of("pending", Unit.COUNT, "Pending"),
            Column.text("works", Report::works));

    /** The blocking-site table ({@code --sites}), in print order. */
    static final List<Column> SITE_COLUMNS = List.of(
            Column.text("WORKQUEUE", Row::name),
            Column.text("CMWQ", Row::cmwq),
            Column.of("count", Unit.COUNT, Sites.COUNT).withRate("count/s", 1),
            Column.of("blocked", Unit.DURATION, Sites.BLOCKED_NANOS).withRate("blk%", 100 / 1e9),
            new Column("avg", Unit.DURATION, Report::meanBlock, null),
            Column.text("site", row -> row.get(Sites.SITE)));

    private static final Comparator<Row> WORKQUEUE_ORDER =
            Comparator.comparing(Row::cmwq).thenComparing(Row::name);
    private static final Comparator<Row> POOL_ORDER = Comparator.comparing(Row::cmwq)
            .thenComparingLong(Report::cpuOrder)
            .thenComparing(row -> Boolean.TRUE.equals(row.get("HighPriority")))
            .thenComparing(Row::name);
    /** Sites by engine, workqueue, then the MBean's order (longest blocked time first). */
    private static final Comparator<Row> SITE_ORDER = WORKQUEUE_ORDER
            .thenComparingInt(row -> row.get(Sites.RANK) instanceof Integer rank ? rank : Integer.MAX_VALUE);

    private final boolean rates;
    private final boolean raw;
    /** Header to sort by (case-insensitive), or null for the default order. */
    private final String sort;
    /** The blocking-site view instead of the workqueue and pool tables. */
    private final boolean sites;

    /**
     * @param rates add the rate columns (refresh mode)
     * @param raw   print CPU time and latencies as exact nanoseconds
     * @param sort  a header of a table of this view to sort by, or null; see
     *              {@link #headers(boolean, boolean)}
     * @param sites the blocking-site view ({@code --sites})
     * @throws IllegalArgumentException if {@code sort} names no column shown in this mode
     */
    Report(boolean rates, boolean raw, String sort, boolean sites) {
        if (sort != null && headers(rates, sites).stream().noneMatch(sort::equalsIgnoreCase)) {
            throw new IllegalArgumentException("no column '" + sort + "' to sort by"
                    + (rates ? "" : " in one-shot mode") + (sites ? " of the site view" : "")
                    + "; columns: " + String.join(" ", headers(rates, sites)));
        }
        this.rates = rates;
        this.raw = raw;
        this.sort = sort;
        this.sites = sites;
    }

    /** The workqueue and pool tables. */
    Report(boolean rates, boolean raw, String sort) {
        this(rates, raw, sort, false);
    }

    /** Every header {@code --sort} accepts, with or without the rate columns, in either view. */
    static List<String> headers(boolean rates, boolean sites) {
        Stream<Column> columns = sites ? SITE_COLUMNS.stream()
                : Stream.concat(WORKQUEUE_COLUMNS.stream(), POOL_COLUMNS.stream());
        return columns
                .flatMap(c -> rates && c.rate() != null
                        ? Stream.of(c.header(), c.rate().header()) : Stream.of(c.header()))
                .distinct()
                .toList();
    }

    /**
     * Both tables, separated by a blank line; or, in the site view, the site table (and in
     * one-shot mode the sites' frames after a blank line).
     *
     * @param now    the snapshot to print
     * @param before the previous snapshot, for rates; null on the first frame and in one-shot mode
     */
    String render(Snapshot now, Snapshot before) {
        double seconds = intervalSeconds(now, before);
        if (sites) {
            List<Row> rows = Sites.rows(now.workqueues());
            String table = table(SITE_COLUMNS, rows, before == null ? null : Sites.rows(before.workqueues()),
                    seconds, SITE_ORDER, Sites::key);
            return rates ? table : table + "\n" + Sites.stacks(sorted(rows, SITE_ORDER));
        }
        return table(WORKQUEUE_COLUMNS, now.workqueues(), before == null ? null
                        : before.workqueues(), seconds, WORKQUEUE_ORDER, Row::key)
                + "\n"
                + table(POOL_COLUMNS, now.pools(), before == null ? null : before.pools(),
                        seconds, POOL_ORDER, Row::key);
    }

    private static List<Row> sorted(List<Row> rows, Comparator<Row> order) {
        List<Row> out = new ArrayList<>(rows);
        out.sort(order);
        return out;
    }

    /** A site's mean blocked time per sampled block, or null. */
    static Object meanBlock(Row row) {
        return row.get(Sites.BLOCKED_NANOS) instanceof Number blocked && row.get(Sites.COUNT) instanceof Number n
                && n.longValue() > 0 ? blocked.longValue() / n.longValue() : null;
    }

    private static double intervalSeconds(Snapshot now, Snapshot before) {
        return before == null ? Double.NaN : (now.nanoTime() - before.nanoTime()) / 1e9;
    }

    /** One printed column: a base column or the rate of one. */
    private record Cell(String header, boolean rightAligned, Function<Row, Object> sortKey,
                        Function<Row, String> text) {}

    private String table(List<Column> columns, List<Row> rows, List<Row> previousRows,
                         double seconds, Comparator<Row> defaultOrder, Function<Row, String> key) {
        Map<String, Row> previous = new HashMap<>();
        if (previousRows != null) {
            previousRows.forEach(row -> previous.put(key.apply(row), row));
        }
        List<Cell> cells = new ArrayList<>();
        for (Column column : columns) {
            cells.add(new Cell(column.header(), column.rightAligned(), column.value(),
                    row -> column.format(column.value().apply(row), raw)));
            if (rates && column.rate() != null) {
                Function<Row, Object> rate = row ->
                        rate(column, row, previous.get(key.apply(row)), seconds);
                cells.add(new Cell(column.rate().header(), true, rate,
                        row -> Column.formatRate((Double) rate.apply(row))));
            }
        }
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort(order(cells, defaultOrder));
        Table table = new Table(cells.stream().map(Cell::header).toList(),
                cells.stream().map(Cell::rightAligned).toList());
        for (Row row : sorted) {
            table.add(cells.stream().map(c -> c.text().apply(row)).toList());
        }
        return table.render();
    }

    private Comparator<Row> order(List<Cell> cells, Comparator<Row> defaultOrder) {
        if (sort == null) {
            return defaultOrder;
        }
        for (Cell cell : cells) {
            if (cell.header().equalsIgnoreCase(sort)) {
                return Comparator.comparing(cell.sortKey(), Report::bySortValue)
                        .thenComparing(defaultOrder);
            }
        }
        return defaultOrder;
    }

    /** Numbers descending, text ascending, missing last. */
    private static int bySortValue(Object a, Object b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1;
        }
        if (a instanceof Number x && b instanceof Number y) {
            return Double.compare(y.doubleValue(), x.doubleValue());
        }
        return String.valueOf(a).compareTo(String.valueOf(b));
    }

    /** Per-second rate of a cumulative column between two reads of one MBean, or null. */
    static Double rate(Column column, Row now, Row before, double seconds) {
        if (before == null || !(seconds > 0)
                || !(column.value().apply(now) instanceof Number n)
                || !(column.value().apply(before) instanceof Number b)
                || n.longValue() < b.longValue()) {
            return null;
        }
        return (n.longValue() - b.longValue()) / seconds * column.rate().scale();
    }

    /**
     * {@code U} unbound, {@code H} high priority, {@code O} ordered, {@code .} for each that is
     * false or not published; "-" when none of the three is published.
     */
    static String flags(Row row) {
        Object unbound = row.get("Unbound");
        Object high = row.get("HighPriority");
        Object ordered = row.get("Ordered");
        if (unbound == null && high == null && ordered == null) {
            return "-";
        }
        return (Boolean.TRUE.equals(unbound) ? "U" : ".")
                + (Boolean.TRUE.equals(high) ? "H" : ".")
                + (Boolean.TRUE.equals(ordered) ? "O" : ".");
    }

    /**
     * The names of the works the pool's workers run now (its {@code RunningWorks} attribute), in
     * the order given, a name that several workers run once with a count ({@code export x3});
     * "-" when none runs or the attribute is not published (an older cmwq4j).
     */
    static String works(Row row) {
        if (!(row.get("RunningWorks") instanceof String[] names) || names.length == 0) {
            return "-";
        }
        Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (String name : names) {
            counts.merge(String.valueOf(name), 1, Integer::sum);
        }
        List<String> cells = new ArrayList<>();
        counts.forEach((name, n) -> cells.add(n == 1 ? name : name + " x" + n));
        return String.join(", ", cells);
    }

    private static long cpuOrder(Row row) {
        return row.get("Cpu") instanceof Number cpu && cpu.intValue() >= 0
                ? cpu.longValue() : Long.MAX_VALUE;
    }

    /** The one-line summary above the tables in refresh mode. */
    static String title(String pid, Snapshot now, double intervalSeconds, String clock) {
        return String.format(Locale.ROOT, "cmwq4j top - pid %s - %s - every %ss - %d workqueues,"
                        + " %d pools", pid, clock, trim(intervalSeconds), now.workqueues().size(),
                now.pools().size());
    }

    private static String trim(double seconds) {
        return seconds == Math.rint(seconds) ? Long.toString((long) seconds)
                : Double.toString(seconds);
    }
}
