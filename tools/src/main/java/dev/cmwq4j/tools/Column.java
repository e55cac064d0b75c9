package dev.cmwq4j.tools;

import java.util.Locale;
import java.util.function.Function;

/**
 * One column of a {@link Report} table: its header, how to get its value from a {@link Row}, how
 * to print that value, and optionally a companion rate column shown in refresh mode.
 *
 * @param header the column header, also the name {@code --sort} accepts
 * @param unit   how the value prints and sorts
 * @param value  the raw value of a row: a {@link Number}, a {@link String}, or null for "-"
 * @param rate   the per-second rate column that follows this one in refresh mode, or null
 */
record Column(String header, Unit unit, Function<Row, Object> value, Rate rate) {

    /** How a value prints: text left-aligned, numbers right-aligned. */
    enum Unit {
        /** A name or flags: printed as is, sorted ascending. */
        TEXT,
        /** A count or a gauge: the exact integer, sorted descending. */
        COUNT,
        /** Cumulative CPU time in nanoseconds: printed as seconds with 3 decimals. */
        CPU_TIME,
        /** A latency in nanoseconds: printed with 3 significant digits and a unit (ns .. s). */
        DURATION
    }

    /**
     * A per-second rate of a cumulative column over one refresh interval.
     *
     * @param header the rate column's header, e.g. {@code total/s}
     * @param scale  multiplies (delta / interval in seconds); {@code 1e-7} turns nanoseconds of
     *               CPU per second into percent of one CPU
     */
    record Rate(String header, double scale) {}

    /** A text column. */
    static Column text(String header, Function<Row, Object> value) {
        return new Column(header, Unit.TEXT, value, null);
    }

    /** A numeric column read from one attribute. */
    static Column of(String header, Unit unit, String attribute) {
        return new Column(header, unit, row -> row.get(attribute), null);
    }

    /** This column followed, in refresh mode, by its per-second rate. */
    Column withRate(String rateHeader, double scale) {
        return new Column(header, unit, value, new Rate(rateHeader, scale));
    }

    boolean rightAligned() {
        return unit != Unit.TEXT;
    }

    /** The cell text of a raw value; {@code raw} prints nanoseconds as exact integers. */
    String format(Object value, boolean raw) {
        if (value == null) {
            return "-";
        }
        if (!(value instanceof Number n) || unit == Unit.TEXT || unit == Unit.COUNT || raw) {
            return String.valueOf(value);
        }
        return switch (unit) {
            case CPU_TIME -> String.format(Locale.ROOT, "%.3f", n.longValue() / 1e9);
            case DURATION -> duration(n.longValue());
            default -> String.valueOf(value);
        };
    }

    /** 3 significant digits in the largest unit that keeps the number at least 1. */
    static String duration(long nanos) {
        if (nanos < 0) {
            return Long.toString(nanos);
        }
        if (nanos < 1_000) {
            return nanos + "ns";
        }
        String[] units = {"us", "ms", "s"};
        double value = nanos / 1e3;
        int unit = 0;
        while (unit < units.length - 1 && value >= 999.5) {
            value /= 1e3;
            unit++;
        }
        String digits = value >= 99.95 ? "%.0f" : value >= 9.995 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, digits, value) + units[unit];
    }

    /** The cell text of a rate: one decimal. */
    static String formatRate(Double rate) {
        return rate == null ? "-" : String.format(Locale.ROOT, "%.1f", rate);
    }
}
