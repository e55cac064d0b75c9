package dev.cmwq4j.bench.scenario;

import java.util.List;
import java.util.Locale;

/**
 * The scenario registry, in table order.
 *
 * <p>To add a scenario, implement {@link Scenario} (sizes go in {@link Sizes}) and add it to
 * {@link #ALL}; the harness, the tables, the CSV and the charts pick it up. {@code http}
 * ({@link HttpScenario}) loads a JDK {@code HttpServer} from a second JVM ({@link HttpLoad}) on
 * loopback; latency percentiles matter most there. {@code priority-inversion}
 * ({@link PriorityInversionScenario}) runs for cmwq only ({@link Scenario#supports}): no peer has
 * priority inheritance.
 */
final class Scenarios {
    private Scenarios() {}

    static final List<Scenario> ALL = List.of(
            new TinyScenario(false),
            new TinyScenario(true),
            new CpuScenario(),
            new MixedScenario(true),
            new MixedScenario(false),
            new FanoutScenario(),
            new ManySubsystemsScenario(),
            new HttpScenario(),
            new PriorityInversionScenario()
    );

    static Scenario byId(String id) {
        String want = id.trim().toLowerCase(Locale.ROOT);
        for (Scenario s : ALL) {
            if (s.id().equals(want)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + id + "'; known: " + ids());
    }

    static String ids() {
        StringBuilder sb = new StringBuilder();
        for (Scenario s : ALL) {
            sb.append(sb.isEmpty() ? "" : ", ").append(s.id());
        }
        return sb.toString();
    }
}
