/**
 * The scenario harness: cmwq4j against JDK and Kotlin executors on whole workloads (DESIGN.md
 * section 10), each (scenario, executor) pair in a JVM of its own.
 *
 * <h2>Running it</h2>
 * From the repository root, with any java on PATH (Maven's toolchain selection finds JDK 25):
 * <pre>
 * mvn -q -pl bench -am process-classes -Dscenarios=short   # smoke sizes, under 2 minutes on 2 cores
 * mvn -q -pl bench -am process-classes -Dscenarios=full    # DESIGN.md section 10 sizes
 * </pre>
 * Optional: {@code -Dscenario.only=mixed-announced,fanout}, {@code -Dscenario.executors=cmwq,fjp-managed},
 * {@code -Dscenario.timeoutSeconds=60} (per pair), {@code -Dscenario.repeat=3} (median of 3 JVMs).
 * Output: the tables on stdout, and {@code results/scenarios-<mode>.md}, {@code .csv},
 * {@code -wall.png}, {@code -threads.png} at the repository root; each child's stdout and stderr go
 * to {@code results/tmp/} (ignored by git).
 *
 * <h2>Structure</h2>
 * <ul>
 *   <li>{@link dev.cmwq4j.bench.scenario.ScenarioMain}: the parent; starts one child per pair with
 *       its own java binary and fixed flags, bounds it, parses its result line, writes the report
 *       ({@code Report}, {@code Charts}).
 *   <li>{@link dev.cmwq4j.bench.scenario.ScenarioChild}: the child; runs one {@code Scenario}
 *       against one {@code Peer} and prints one {@code Result} line.
 *   <li>{@code Scenario} implementations and the {@code Scenarios} registry (the place to add
 *       priority inversion), sizes in {@code Sizes}. {@code HttpScenario} runs a JDK
 *       {@code HttpServer} on the peer and loads it from a second JVM, {@code HttpLoad}, over
 *       loopback.
 *   <li>{@code Peer}: the executors, and what differs between them (announced blocking).
 *   <li>{@code RunContext}, {@code Probes}, {@code FfmRusage}: measurement; {@code getrusage}
 *       through {@code java.lang.foreign} (the one class compiled with {@code --release 22}).
 * </ul>
 */
package dev.cmwq4j.bench.scenario;
