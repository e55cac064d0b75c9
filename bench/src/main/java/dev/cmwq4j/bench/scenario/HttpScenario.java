package dev.cmwq4j.bench.scenario;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * {@code http}: the JDK's {@link HttpServer} on {@code 127.0.0.1} (ephemeral port) with the peer
 * under test as its executor ({@code setExecutor}; cmwq: the {@code Workqueue} itself), loaded
 * from a second JVM ({@link HttpLoad}) over loopback.
 *
 * <p>The server's dispatcher thread accepts and selects, and hands every request to the executor
 * as one task (the JDK's {@code Exchange}), which reads the request, runs the handler and writes
 * the response. The handler: {@code httpCpuNanos} of CPU, then an announced sleep of
 * {@code httpSleepNanos} (cmwq {@code Blocking.sleep}, {@code fjp-managed}
 * {@code ForkJoinPool.managedBlock}, plain {@code Thread.sleep} elsewhere: the stand-in for a
 * downstream call), then a 6-byte response with a {@code Content-Length}.
 *
 * <p>The load generator runs a closed loop over {@code httpConnections} keep-alive connections:
 * first {@code httpWarmupPerConnection} unrecorded requests per connection (class loading, first
 * threads), then {@code httpRequests} measured ones. The clock is the load generator's: first
 * request to last response; the latency percentiles are its round trips, sent back as an
 * HdrHistogram. CPU and context switches are this (the server's) JVM over the measured load;
 * peak threads are this JVM's from before the executor is made, warm-up included, and include
 * the server's dispatcher thread. With only 2 CPUs shared by both JVMs, the client's own CPU use is part of the limit.
 *
 * <p>Server flag: {@code sun.net.httpserver.nodelay=true} (TCP_NODELAY on accepted connections),
 * set for every peer, so that no response can be held back by Nagle's algorithm (a safeguard: the
 * JDK 25 server writes the headers and a small fixed-length body in one go anyway).
 */
final class HttpScenario implements Scenario {
    /** The response body, also {@link HttpServe}'s. */
    static final byte[] BODY = "hello\n".getBytes(StandardCharsets.US_ASCII);
    /** Flags of the load-generator JVM: small, C1 only, so that its JIT takes little of the CPUs. */
    static final List<String> LOAD_JVM_FLAGS = List.of("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1");
    /** Bound on the load generator's start and warm-up handshakes. */
    private static final long HANDSHAKE_NANOS = TimeUnit.SECONDS.toNanos(20);
    /** Time kept back from the child's bound for reporting. */
    private static final long REPORT_MARGIN_MILLIS = 2_000;

    @Override
    public String id() {
        return "http";
    }

    @Override
    public String describe(Sizes s) {
        return "JDK HttpServer on 127.0.0.1, executor = the peer; handler " + s.httpCpuNanos() / 1000 + " us CPU + "
                + s.httpSleepNanos() / 1000 + " us announced sleep + " + BODY.length + "-byte response; load from a "
                + "second JVM: " + s.httpConnections() + " keep-alive connections, closed loop, " + s.httpRequests()
                + " requests (after " + s.httpWarmupPerConnection() + " unrecorded per connection); wall = the load's "
                + "first request to last response, p50/p99 = its round trips";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        double cpu = (double) s.httpRequests() * s.httpCpuNanos() / ncpu;
        double path = Math.ceil((double) s.httpRequests() / s.httpConnections()) * (s.httpCpuNanos() + s.httpSleepNanos());
        return Math.max(cpu, path) / 1e9;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Sizes s = ctx.sizes;
        long cpu = s.httpCpuNanos();
        long sleep = s.httpSleepNanos();
        System.setProperty("sun.net.httpserver.nodelay", "true"); // read when the first server is made

        // Before the resource window: bind the server (its idle-timer thread starts here), start the
        // load generator (the JDK's process-reaper thread starts here) and the thread that reads
        // it. The dispatcher thread starts with the server, inside the window.
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1024);
        int port = server.getAddress().getPort();
        long lifetimeMillis = Math.max(5_000, TimeUnit.NANOSECONDS.toMillis(ctx.boundEndNanos - System.nanoTime()));
        Process load = startLoad(port, s, lifetimeMillis);
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (var in = load.inputReader(StandardCharsets.US_ASCII)) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // end of the stream
            }
            lines.add(EOF);
        }, "http-load-reader");
        reader.setDaemon(true);
        reader.start();
        var toLoad = load.outputWriter(StandardCharsets.US_ASCII);
        expect(lines, HttpLoad.READY, null, 0, ctx, System.nanoTime() + HANDSHAKE_NANOS);

        AtomicLong handled = new AtomicLong();
        ctx.begin();
        PeerExecutor ex = ctx.newExecutor(id());
        server.createContext("/", exchange -> handle(exchange, ctx, ex, cpu, sleep, handled));
        server.setExecutor(ex.executor());
        server.start();

        toLoad.write("WARMUP\n");
        toLoad.flush();
        expect(lines, HttpLoad.WARM, handled::get, (long) s.httpConnections() * s.httpWarmupPerConnection(), ctx,
                System.nanoTime() + HANDSHAKE_NANOS);

        long handledBefore = handled.get();
        int requests = s.httpRequests();
        ctx.put("works", requests);
        LongSupplier measured = () -> handled.get() - handledBefore;
        ctx.tracks(requests, measured);
        long deadlineMillis = TimeUnit.NANOSECONDS.toMillis(ctx.boundEndNanos - System.nanoTime())
                - REPORT_MARGIN_MILLIS;
        if (deadlineMillis <= 0) {
            throw new Waits.TimedOut("no time left for the load after the warm-up");
        }
        ctx.startClockAndUsage();
        toLoad.write("GO " + deadlineMillis + "\n");
        toLoad.flush();
        // No deadline of its own: the load generator stops at deadlineMillis and reports.
        String line = expect(lines, HttpLoad.RESULT, measured, requests, ctx, 0);
        ctx.stopClock();

        Map<String, String> r = HttpLoad.parseResult(line);
        long done = Long.parseLong(r.get("done"));
        long nanos = Long.parseLong(r.get("nanos"));
        long errors = Long.parseLong(r.get("errors"));
        ctx.put("wallNanos", nanos);
        double rate = nanos > 0 ? done * 1e9 / nanos : 0;
        ctx.put("throughputPerSec", Math.round(rate));
        ctx.note(String.format(Locale.ROOT, "%d req in %.2f s = %.0f req/s over %s connections", done, nanos / 1e9,
                rate, r.get("connections")));
        if (!"ok".equals(r.get("status"))) {
            throw new Waits.TimedOut("load generator deadline of " + deadlineMillis + " ms reached at " + done + "/"
                    + requests + " requests");
        }
        if (errors > 0) {
            ctx.error(new IOException(errors + " request(s) failed in the load generator, first: "
                    + r.get("firstError")));
        }
        byte[] hist = Base64.getDecoder().decode(r.get("hist"));
        ctx.latencyHistogram(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(hist), 0));
    }

    private static void handle(HttpExchange exchange, RunContext ctx, PeerExecutor ex, long cpu, long sleep,
            AtomicLong handled) throws IOException {
        try {
            Cpu.spin(cpu);
            ex.sleep(sleep, true);
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(BODY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.error(e);
        } catch (IOException | RuntimeException e) {
            ctx.error(e);
        } finally {
            exchange.close();
            handled.incrementAndGet();
        }
    }

    private static Process startLoad(int port, Sizes s, long lifetimeMillis) throws IOException {
        String javaBin = ProcessHandle.current().info().command()
                .orElse(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin);
        cmd.addAll(LOAD_JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(HttpLoad.class.getName());
        cmd.add(Integer.toString(port));
        cmd.add(Integer.toString(s.httpConnections()));
        cmd.add(Integer.toString(s.httpWarmupPerConnection()));
        cmd.add(Integer.toString(s.httpRequests()));
        cmd.add(Long.toString(lifetimeMillis));
        // Its stderr goes to this child's stderr (the harness's per-pair .err file).
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static final String EOF = "\u0000eof";

    /**
     * Waits for the load generator's line starting with {@code prefix}. Throws {@link Waits.Stalled}
     * if {@code progress} (requests handled by the server, of {@code total}) stands still for the
     * stall window, and fails if the load generator exits or {@code deadline} ({@code nanoTime};
     * 0: none) passes.
     */
    private static String expect(LinkedBlockingQueue<String> lines, String prefix, LongSupplier progress,
            long total, RunContext ctx, long deadline) throws Exception {
        long last = progress == null ? 0 : progress.getAsLong();
        long since = System.nanoTime();
        for (;;) {
            String line = lines.poll(20, TimeUnit.MILLISECONDS);
            long now = System.nanoTime();
            if (line != null) {
                if (line.equals(EOF)) {
                    throw new IllegalStateException("load generator exited while waiting for " + prefix);
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
                System.err.println("http: load generator said: " + line);
            }
            if (deadline != 0 && now - deadline > 0) {
                throw new Waits.TimedOut("load generator: no " + prefix + " within "
                        + TimeUnit.NANOSECONDS.toSeconds(HANDSHAKE_NANOS) + " s");
            }
            if (progress != null) {
                long p = progress.getAsLong();
                if (p != last) {
                    last = p;
                    since = now;
                } else if (now - since >= ctx.stallNanos) {
                    throw new Waits.Stalled(p, total, now - since);
                }
            }
        }
    }
}
