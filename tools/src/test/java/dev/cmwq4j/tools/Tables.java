package dev.cmwq4j.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses top's plain-text tables back into cells, for exact assertions. */
final class Tables {
    private Tables() {}

    /**
     * The rows of the table whose header line starts with {@code firstHeader}, each as a map
     * from header to cell text. Cells are separated by runs of two or more spaces.
     */
    static List<Map<String, String>> parse(String text, String firstHeader) {
        List<String> lines = text.lines().toList();
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(firstHeader + " ")) {
                start = i;
                break;
            }
        }
        if (start < 0) {
            throw new AssertionError("no table starting with " + firstHeader + " in:\n" + text);
        }
        List<String> headers = split(lines.get(start));
        List<Map<String, String>> rows = new ArrayList<>();
        for (int i = start + 1; i < lines.size() && !lines.get(i).isBlank(); i++) {
            List<String> cells = split(lines.get(i));
            if (cells.size() != headers.size()) {
                throw new AssertionError("row has " + cells.size() + " cells, header "
                        + headers.size() + ": '" + lines.get(i) + "' in:\n" + text);
            }
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < headers.size(); c++) {
                row.put(headers.get(c), cells.get(c));
            }
            rows.add(row);
        }
        return rows;
    }

    /** The row whose first cell is {@code name}. */
    static Map<String, String> row(List<Map<String, String>> rows, String name) {
        return rows.stream().filter(r -> r.values().iterator().next().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + name + " in " + rows));
    }

    private static List<String> split(String line) {
        return Arrays.asList(line.strip().split(" {2,}"));
    }
}
