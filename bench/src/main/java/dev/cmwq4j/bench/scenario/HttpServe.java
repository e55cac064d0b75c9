package dev.cmwq4j.bench.scenario;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.PoolStats;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The {@code http} scenario's server on its own, for a load generator of the user's choice (issue
 * 17 measured with {@code wrk}): the JDK's {@link HttpServer} on {@code 127.0.0.1} with one peer
 * as its executor, and a handler that burns CPU, sleeps, burns CPU again and answers 6 bytes.
 * {@code bench/tools/wrk-http.sh} runs it against every peer in turn under {@code wrk}.
 *
 * <pre>
 * java -cp ... dev.cmwq4j.bench.scenario.HttpServe PEER PORT [CPU_US SLEEP_US CPU_AFTER_US [announced|plain]]
 * </pre>
 *
 * Defaults: issue 17's handler, 200 us of CPU, a 2 ms plain sleep, 100 us of CPU. With {@code
 * announced} the sleep is announced where the peer can be told ({@code cmwq}: {@code
 * Blocking.sleep}; {@code fjp-managed}: {@code ForkJoinPool.managedBlock}). Prints {@code listening
 * PORT ... base_threads N} when it accepts connections (N: the process's threads before the
 * executor and the server were made, the JVM's own), then runs until killed.
 */
public final class HttpServe {
    private HttpServe() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: HttpServe PEER PORT [CPU_US SLEEP_US CPU_AFTER_US [announced|plain]]");
            System.exit(2);
        }
        Peer peer = Peer.byId(args[0]);
        int port = Integer.parseInt(args[1]);
        long cpu = TimeUnit.MICROSECONDS.toNanos(args.length > 2 ? Long.parseLong(args[2]) : 200);
        long sleep = TimeUnit.MICROSECONDS.toNanos(args.length > 3 ? Long.parseLong(args[3]) : 2000);
        long cpuAfter = TimeUnit.MICROSECONDS.toNanos(args.length > 4 ? Long.parseLong(args[4]) : 100);
        boolean announced = args.length > 5 && args[5].equals("announced");
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 1024);
        int baseThreads = Probes.processThreads(); // before the executor and the server's dispatcher
        PeerExecutor ex = peer.create("http");
        server.createContext("/", exchange -> handle(exchange, ex, cpu, sleep, cpuAfter, announced));
        server.setExecutor(ex.executor());
        server.start();
        System.out.printf(Locale.ROOT, "listening %d peer %s base_threads %d handler %d us cpu, %d us %s sleep, %d us cpu%n",
                server.getAddress().getPort(), peer.id, baseThreads, cpu / 1000, sleep / 1000,
                announced ? "announced" : "plain", cpuAfter / 1000);
        System.out.flush();
        long sampleMillis = Long.getLong("httpserve.sampleMillis", 0);
        if (sampleMillis > 0 && peer == Peer.CMWQ) {
            sample(sampleMillis);
        }
        Thread.currentThread().join(); // until killed
    }

    /**
     * With {@code -Dhttpserve.sampleMillis=MS} and the {@code cmwq} peer: prints the shared
     * instance's busy pools every MS milliseconds on this thread, until killed (a diagnosis: how
     * many workers each pool has running, blocked and idle, its count and target, its backlog).
     */
    private static void sample(long millis) throws InterruptedException {
        long t0 = System.nanoTime();
        for (;;) {
            Thread.sleep(millis);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%7.3f", (System.nanoTime() - t0) / 1e9));
            for (PoolStats p : Cmwq.shared().poolStats()) {
                if (p.workers() > 0) {
                    sb.append(String.format(Locale.ROOT, " | %s w%d i%d r%d b%d d%d n%d t%d q%d", p.name(),
                            p.workers(), p.idle(), p.running(), p.blocked(), p.detected(), p.nrRunning(), p.target(),
                            p.pending()));
                }
            }
            System.out.println(sb);
        }
    }

    private static void handle(HttpExchange exchange, PeerExecutor ex, long cpu, long sleep, long cpuAfter,
            boolean announced) throws IOException {
        try {
            Cpu.spin(cpu);
            ex.sleep(sleep, announced);
            Cpu.spin(cpuAfter);
            exchange.sendResponseHeaders(200, HttpScenario.BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(HttpScenario.BODY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }
}
