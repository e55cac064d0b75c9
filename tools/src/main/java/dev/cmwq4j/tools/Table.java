package dev.cmwq4j.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * Plain-text table layout: columns as wide as their widest cell, two spaces apart, text
 * left-aligned and numbers right-aligned. Knows nothing about JMX or units; {@link Report}
 * hands it finished cell strings.
 */
final class Table {
    static final String SEPARATOR = "  ";

    private final List<String> headers;
    private final List<Boolean> rightAligned;
    private final List<List<String>> rows = new ArrayList<>();

    Table(List<String> headers, List<Boolean> rightAligned) {
        if (headers.size() != rightAligned.size()) {
            throw new IllegalArgumentException(headers.size() + " headers, "
                    + rightAligned.size() + " alignments");
        }
        this.headers = List.copyOf(headers);
        this.rightAligned = List.copyOf(rightAligned);
    }

    /** Appends a row; it must have one cell per header. */
    Table add(List<String> cells) {
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException(cells.size() + " cells for " + headers.size()
                    + " columns: " + cells);
        }
        rows.add(List.copyOf(cells));
        return this;
    }

    /** The header line and one line per row, each ending in a newline, no trailing blanks. */
    String render() {
        int[] width = new int[headers.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = headers.get(c).length();
            for (List<String> row : rows) {
                width[c] = Math.max(width[c], row.get(c).length());
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, headers, width);
        for (List<String> row : rows) {
            line(out, row, width);
        }
        return out.toString();
    }

    private void line(StringBuilder out, List<String> cells, int[] width) {
        int start = out.length();
        for (int c = 0; c < width.length; c++) {
            if (c > 0) {
                out.append(SEPARATOR);
            }
            String cell = cells.get(c);
            String pad = " ".repeat(width[c] - cell.length());
            out.append(rightAligned.get(c) ? pad + cell : cell + pad);
        }
        int end = out.length();
        while (end > start && out.charAt(end - 1) == ' ') {
            end--;
        }
        out.setLength(end);
        out.append('\n');
    }
}
