package dev.cmwq4j.bench.scenario;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Priority;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code priority-inversion} (DESIGN.md section 6): a backlog of N low-priority works of W us CPU
 * each is queued on one bound workqueue, then one more work X; a thread at {@link Priority#HIGH}
 * (Java priority 8) flushes X. The result is the flush's latency, measured around
 * {@code X.flush()}.
 *
 * <p>Both modes run in the same JVM, on two private {@link Cmwq}s with default options except
 * {@link Cmwq.Builder#priorityInheritance(boolean)}: with inheritance the flusher lends X its
 * priority and X moves ahead of the backlog, so it waits only for the works already running;
 * without, X waits for the whole backlog (about N * W / CPUs). The modes alternate, the order
 * swapping each round, after one unmeasured warm-up round each with a tenth of the backlog.
 * After each measured flush the rest of the backlog is cancelled, so a round costs what the flush
 * waited.
 *
 * <p>Reported: wall = the median flush latency with inheritance; the latency columns are those of
 * the flushes with inheritance; the note has both medians and ranges. cmwq only: no peer has
 * priority inheritance.
 */
final class PriorityInversionScenario implements Scenario {
    @Override
    public String id() {
        return "priority-inversion";
    }

    @Override
    public String describe(Sizes s) {
        return s.inversionBacklog() + " LOW works of " + s.inversionWorkNanos() / 1000 + " us CPU on one workqueue, "
                + "then a thread at HIGH flushes one more queued last; wall = its flush latency with priority "
                + "inheritance (median of " + s.inversionRounds() + "), without inheritance in the note (same JVM)";
    }

    @Override
    public double idealSeconds(Sizes s, int ncpu) {
        return Double.NaN; // the target is "a few work durations": see the note
    }

    @Override
    public boolean supports(Peer peer) {
        return peer == Peer.CMWQ;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Sizes s = ctx.sizes;
        int n = s.inversionBacklog();
        long work = s.inversionWorkNanos();
        int rounds = s.inversionRounds();
        AtomicLong flushes = new AtomicLong();
        Work[] backlog = new Work[n];
        for (int i = 0; i < n; i++) {
            backlog[i] = new Work(() -> Cpu.spin(work));
        }
        Work last = new Work(() -> Cpu.spin(work));
        long[] with = ctx.latencyArray(rounds);
        long[] without = new long[rounds];
        ctx.tracks(2L * rounds, flushes::get);
        ctx.begin();
        try (Cmwq on = Cmwq.builder().name("pi-on").jmx(false).build();
                Cmwq off = Cmwq.builder().name("pi-off").jmx(false).priorityInheritance(false).build()) {
            Workqueue wqOn = on.workqueue("background").priority(Priority.LOW).build();
            Workqueue wqOff = off.workqueue("background").priority(Priority.LOW).build();
            flushBehind(wqOn, backlog, n / 10, last); // warm-up
            flushBehind(wqOff, backlog, n / 10, last);
            ctx.startClock();
            for (int r = 0; r < rounds; r++) {
                checkBound(ctx);
                if ((r & 1) == 0) {
                    with[r] = flushBehind(wqOn, backlog, n, last);
                    without[r] = flushBehind(wqOff, backlog, n, last);
                } else {
                    without[r] = flushBehind(wqOff, backlog, n, last);
                    with[r] = flushBehind(wqOn, backlog, n, last);
                }
                flushes.addAndGet(2);
            }
            ctx.stopClock();
        }
        long medWith = median(with);
        long medWithout = median(without);
        ctx.put("wallNanos", medWith);
        ctx.put("flushWithInheritanceNanos", medWith);
        ctx.put("flushWithoutInheritanceNanos", medWithout);
        ctx.note(String.format(Locale.ROOT,
                "flush latency with inheritance: median %s (%s .. %s) = %.1f work durations; without: median %s "
                        + "(%s .. %s); %.0fx; %d rounds each, alternating",
                ms(medWith), ms(min(with)), ms(max(with)), (double) medWith / work, ms(medWithout), ms(min(without)),
                ms(max(without)), (double) medWithout / Math.max(1, medWith), rounds));
    }

    /**
     * Queues {@code count} backlog works then {@code last}, all LOW, and flushes {@code last} from
     * this thread at Java priority 8 (HIGH). Returns the flush's latency; cancels what is left of
     * the backlog and waits for the workqueue to empty before returning.
     */
    private static long flushBehind(Workqueue wq, Work[] backlog, int count, Work last) {
        for (int i = 0; i < count; i++) {
            wq.queue(backlog[i]);
        }
        wq.queue(last);
        Thread me = Thread.currentThread();
        int priority = me.getPriority();
        me.setPriority(8);
        long t0 = System.nanoTime();
        try {
            last.flush();
        } finally {
            me.setPriority(priority);
        }
        long latency = System.nanoTime() - t0;
        for (int i = 0; i < count; i++) {
            backlog[i].cancel();
        }
        wq.drain();
        return latency;
    }

    private static void checkBound(RunContext ctx) throws Waits.TimedOut {
        if (System.nanoTime() - ctx.boundEndNanos > 0) {
            throw new Waits.TimedOut("time bound reached between rounds");
        }
    }

    private static long median(long[] a) {
        long[] b = a.clone();
        Arrays.sort(b);
        return b[b.length / 2];
    }

    private static long min(long[] a) {
        return Arrays.stream(a).min().orElse(-1);
    }

    private static long max(long[] a) {
        return Arrays.stream(a).max().orElse(-1);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
