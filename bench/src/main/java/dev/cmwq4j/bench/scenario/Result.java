package dev.cmwq4j.bench.scenario;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The result of one (scenario, executor) run: the one line a child JVM prints to stdout and the
 * parent parses. Format: the {@link #PREFIX}, then tab-separated {@code key=value} pairs with
 * URL-encoded values. Numbers are nanoseconds, counts or KiB; -1 means unknown.
 */
final class Result {
    static final String PREFIX = "@@cmwq4j-scenario-result";

    // Statuses.
    static final String OK = "ok";
    static final String DEADLOCK = "deadlock";
    static final String TIMEOUT = "timeout";
    static final String ERROR = "error";
    static final String CRASH = "crash";

    final Map<String, String> fields = new LinkedHashMap<>();

    Result put(String key, Object value) {
        fields.put(key, String.valueOf(value));
        return this;
    }

    String get(String key) {
        return fields.getOrDefault(key, "");
    }

    long num(String key) {
        String v = fields.get(key);
        if (v == null || v.isEmpty()) {
            return -1;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    String status() {
        return get("status");
    }

    boolean ok() {
        return OK.equals(status());
    }

    String toLine() {
        StringBuilder sb = new StringBuilder(PREFIX);
        for (Map.Entry<String, String> e : fields.entrySet()) {
            sb.append('\t').append(e.getKey()).append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    /** Parses a line from {@link #toLine()}, or returns null if it is not one. */
    static Result parse(String line) {
        if (!line.startsWith(PREFIX + "\t")) {
            return null;
        }
        Result r = new Result();
        for (String kv : line.substring(PREFIX.length() + 1).split("\t")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                r.fields.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return r;
    }
}
