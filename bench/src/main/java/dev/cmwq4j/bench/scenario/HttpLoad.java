package dev.cmwq4j.bench.scenario;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * The load generator of the {@code http} scenario: a JVM of its own, started by the child that
 * runs the server, so that the client's threads, allocation and GC are not charged to the
 * executor under test.
 *
 * <p>Closed loop over {@code connections} keep-alive HTTP/1.1 connections to {@code 127.0.0.1}
 * (plain blocking sockets, one platform thread each, {@code TCP_NODELAY}): a thread sends
 * {@code GET /}, reads the whole response, records the round trip, and sends the next, until the
 * shared request count is used up. Latency is measured from just before the request is written to
 * just after the last body byte is read (no coordinated-omission correction: a closed loop slows
 * down with the server).
 *
 * <p>Args: {@code port connections warmupPerConnection requests maxLifetimeMillis}. Protocol with
 * the parent (the child JVM), one line each way:
 * <ol>
 *   <li>connects every connection, prints {@code READY};
 *   <li>on {@code WARMUP}: {@code warmupPerConnection} unrecorded requests on every connection,
 *       prints {@code WARM};
 *   <li>on {@code GO <deadlineMillis>}: the measured load; prints
 *       {@code RESULT key=value ...} (values URL-encoded; {@code hist} is the HdrHistogram of the
 *       round trips in nanoseconds, compressed and base64-encoded) and exits. If the deadline
 *       passes first, it reports {@code status=timeout} with the partial counts.
 * </ol>
 * It halts by itself when its stdin closes (the parent is gone) and after
 * {@code maxLifetimeMillis} in any case.
 */
public final class HttpLoad {
    private HttpLoad() {}

    static final String READY = "READY";
    static final String WARM = "WARM";
    static final String RESULT = "RESULT";

    private static final LinkedBlockingQueue<String> COMMANDS = new LinkedBlockingQueue<>();
    private static final AtomicReference<Throwable> FIRST_ERROR = new AtomicReference<>();
    private static final AtomicLong ERRORS = new AtomicLong();

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: HttpLoad <port> <connections> <warmupPerConnection> <requests> <maxLifetimeMillis>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        int warmup = Integer.parseInt(args[2]);
        int requests = Integer.parseInt(args[3]);
        long maxLifetimeMillis = Long.parseLong(args[4]);
        daemon("httpload-lifetime", () -> {
            try {
                Thread.sleep(maxLifetimeMillis);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("HttpLoad: lifetime of " + maxLifetimeMillis + " ms reached, halting");
            Runtime.getRuntime().halt(4);
        });
        daemon("httpload-stdin", () -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    COMMANDS.add(line.trim());
                }
            } catch (IOException e) {
                // treated as end of input
            }
            Runtime.getRuntime().halt(3); // the parent is gone
        });

        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        byte[] request = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUser-Agent: cmwq4j-httpload\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        List<Conn> conns = new ArrayList<>(connections);
        for (int i = 0; i < connections; i++) {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(loopback, port), 10_000);
            conns.add(new Conn(s, request));
        }
        Phase warm = new Phase(connections);
        Phase measured = new Phase(connections);
        AtomicInteger tickets = new AtomicInteger(requests);
        AtomicLong completed = new AtomicLong();
        AtomicLong lastResponse = new AtomicLong();
        List<Histogram> histograms = new ArrayList<>(connections);
        List<Thread> threads = new ArrayList<>(connections);
        for (int i = 0; i < connections; i++) {
            Conn c = conns.get(i);
            Histogram h = new Histogram(3);
            histograms.add(h);
            Thread t = new Thread(() -> c.run(warm, warmup, measured, tickets, h, completed, lastResponse),
                    "httpload-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        say(READY);

        expect("WARMUP");
        warm.go.countDown();
        if (!warm.done.await(maxLifetimeMillis, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("warm-up did not finish");
        }
        say(WARM + " errors=" + ERRORS.get());

        String go = expect("GO");
        long deadlineMillis = Long.parseLong(go.substring(2).trim());
        long start = System.nanoTime();
        lastResponse.set(start);
        measured.go.countDown();
        boolean finished = measured.done.await(deadlineMillis, TimeUnit.MILLISECONDS);
        long end = finished ? lastResponse.get() : System.nanoTime();

        Histogram all = new Histogram(3);
        if (finished) { // the threads are done with their histograms
            for (Histogram h : histograms) {
                all.add(h);
            }
        }
        ByteBuffer buf = ByteBuffer.allocate(all.getNeededByteBufferCapacity());
        int n = all.encodeIntoCompressedByteBuffer(buf);
        String hist = Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n));
        Throwable err = FIRST_ERROR.get();
        StringBuilder sb = new StringBuilder(RESULT);
        field(sb, "status", finished ? "ok" : "timeout");
        field(sb, "done", completed.get());
        field(sb, "requests", requests);
        field(sb, "connections", connections);
        field(sb, "errors", ERRORS.get());
        field(sb, "firstError", err == null ? "" : err.toString());
        field(sb, "nanos", end - start);
        field(sb, "hist", hist);
        say(sb.toString());
        Runtime.getRuntime().halt(0); // connection threads may still be blocked (timeout)
    }

    private static void field(StringBuilder sb, String key, Object value) {
        sb.append(' ').append(key).append('=').append(URLEncoder.encode(String.valueOf(value), StandardCharsets.UTF_8));
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static String expect(String command) throws InterruptedException {
        for (;;) {
            String line = COMMANDS.take();
            if (line.startsWith(command)) {
                return line;
            }
            System.err.println("HttpLoad: ignoring '" + line + "' while waiting for " + command);
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    static void error(Throwable t) {
        ERRORS.incrementAndGet();
        if (FIRST_ERROR.compareAndSet(null, t)) {
            System.err.println("HttpLoad: first error: " + t);
        }
    }

    /** A start gate and a finish count for one phase over all connections. */
    private static final class Phase {
        final CountDownLatch go = new CountDownLatch(1);
        final CountDownLatch done;

        Phase(int connections) {
            done = new CountDownLatch(connections);
        }
    }

    /** One keep-alive connection and its thread's loop. */
    private static final class Conn {
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;
        private final byte[] request;
        private final byte[] line = new byte[1024];

        Conn(Socket socket, byte[] request) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.in = new BufferedInputStream(socket.getInputStream(), 8192);
            this.request = request;
        }

        void run(Phase warm, int warmup, Phase measured, AtomicInteger tickets, Histogram h, AtomicLong completed,
                AtomicLong lastResponse) {
            boolean alive = true;
            try {
                warm.go.await();
                try {
                    for (int i = 0; i < warmup; i++) {
                        exchange();
                    }
                } catch (IOException | RuntimeException e) {
                    error(e);
                    alive = false;
                } finally {
                    warm.done.countDown();
                }
                measured.go.await();
                while (alive && tickets.getAndDecrement() > 0) {
                    long t0 = System.nanoTime();
                    try {
                        exchange();
                    } catch (IOException | RuntimeException e) {
                        error(e);
                        alive = false;
                        break;
                    }
                    long t1 = System.nanoTime();
                    h.recordValue(t1 - t0);
                    completed.incrementAndGet();
                    lastResponse.accumulateAndGet(t1, Math::max);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                measured.done.countDown();
                if (!alive) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // closing a broken connection
                    }
                }
            }
        }

        /** One request and its whole response; throws unless the status is 200. */
        private void exchange() throws IOException {
            out.write(request);
            out.flush();
            int n = readLine();
            // "HTTP/1.1 200 ..."
            if (n < 12 || line[9] != '2' || line[10] != '0' || line[11] != '0') {
                throw new IOException("bad status line: " + new String(line, 0, Math.max(n, 0), StandardCharsets.US_ASCII));
            }
            long length = -1;
            while ((n = readLine()) > 0) {
                if (n > 15 && startsWithIgnoreCase("content-length:")) {
                    length = Long.parseLong(new String(line, 15, n - 15, StandardCharsets.US_ASCII).trim());
                }
            }
            if (n < 0) {
                throw new IOException("connection closed in the response headers");
            }
            if (length < 0) {
                throw new IOException("response without Content-Length");
            }
            in.skipNBytes(length);
        }

        private boolean startsWithIgnoreCase(String prefix) {
            for (int i = 0; i < prefix.length(); i++) {
                if (Character.toLowerCase((char) line[i]) != prefix.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        /** Reads one header line into {@link #line} without its CRLF; -1 at end of stream. */
        private int readLine() throws IOException {
            int n = 0;
            for (;;) {
                int b = in.read();
                if (b < 0) {
                    if (n == 0) {
                        return -1;
                    }
                    throw new IOException("connection closed mid-line");
                }
                if (b == '\n') {
                    return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
                }
                if (n == line.length) {
                    throw new IOException("header line longer than " + line.length + " bytes");
                }
                line[n++] = (byte) b;
            }
        }
    }

    /** Parses a {@code RESULT} line into its fields (used by the child). */
    static Map<String, String> parseResult(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : line.substring(RESULT.length()).trim().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }
}
