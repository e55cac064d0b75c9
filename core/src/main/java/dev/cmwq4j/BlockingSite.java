package dev.cmwq4j;

import dev.cmwq4j.internal.Engine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A place in the application's code where works blocked without announcing it, and how much: one
 * entry of the blocking-site profile ({@link WorkqueueStats#blockingSites()},
 * {@link Cmwq#blockingSites()}).
 *
 * <p>When the monitor detects a counted worker blocked without {@link Blocking} (a plain
 * {@code Thread.sleep}, a lock, a socket read), it may capture the worker's stack (sampled:
 * {@link Cmwq.Builder#blockingSites}) and attribute the block to a site: the stack with the JDK's
 * and cmwq4j's own frames trimmed from the top, so that {@code stack()[0]} is the application's
 * code that called into the blocking method, followed by up to seven of its callers, down to the
 * cmwq4j frame that ran the work. Blocks at the same call, reached the same way, share a site.
 * That is where to announce the block ({@code Blocking.run(...)} around the call), or the work to
 * move to an unbound workqueue or make asynchronous.
 *
 * <p>A workqueue keeps at most 16 sites, the first it sees; blocks at further sites are counted
 * in one <em>other</em> entry, whose stack is empty ({@link #isOther()}).
 *
 * @param stack the site's frames, top user frame first; empty for the other entry. The record
 *     keeps its own copy, and {@link #stack()} returns a copy
 * @param count sampled unannounced blocks attributed to this site
 * @param blockedNanos their blocked time, each from its detection by the monitor until its
 *     worker was counted again (the work went on computing, announced a block, or ended); a block
 *     still going on adds its time when it ends. The time before detection (at least the stall
 *     window, {@link Cmwq.Builder#stallWindow}) is not included
 */
public record BlockingSite(StackTraceElement[] stack, long count, long blockedNanos) {

    /**
     * Checks and copies the stack.
     *
     * @throws NullPointerException if {@code stack} or one of its elements is null
     * @throws IllegalArgumentException if {@code count} or {@code blockedNanos} is negative
     */
    public BlockingSite {
        stack = Objects.requireNonNull(stack, "stack").clone();
        for (StackTraceElement e : stack) {
            Objects.requireNonNull(e, "stack element");
        }
        if (count < 0 || blockedNanos < 0) {
            throw new IllegalArgumentException("negative count " + count + " or blocked time " + blockedNanos);
        }
    }

    /** {@return a copy of the site's frames, top user frame first; empty for the other entry} */
    @Override
    public StackTraceElement[] stack() {
        return stack.clone();
    }

    /** {@return true for the entry that counts the blocks at sites beyond a workqueue's first 16} */
    public boolean isOther() {
        return stack.length == 0;
    }

    /**
     * {@return the top frame as text, {@code com.example.Dao.lookup(Dao.java:42)}: the call that
     * blocked (as {@link StackTraceElement#toString()} has it, without a module or class-loader
     * prefix); {@code (other)} for the other entry}
     */
    public String site() {
        return stack.length == 0 ? "(other)" : Engine.frameText(stack[0]);
    }

    /** Equal when the stacks are equal element by element, and the numbers too. */
    @Override
    public boolean equals(Object o) {
        return o instanceof BlockingSite s && s.count == count && s.blockedNanos == blockedNanos
                && Arrays.equals(s.stack, stack);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(stack) * 31 + Long.hashCode(count)) * 31 + Long.hashCode(blockedNanos);
    }

    @Override
    public String toString() {
        return "BlockingSite[" + site() + ", count=" + count + ", blockedNanos=" + blockedNanos + "]";
    }

    /** The order of every list of sites: blocked time, then count, descending; other last among equals. */
    static final Comparator<BlockingSite> ORDER = Comparator.comparingLong(BlockingSite::blockedNanos).reversed()
            .thenComparing(Comparator.comparingLong(BlockingSite::count).reversed())
            .thenComparing(BlockingSite::isOther);

    /** The records of an engine snapshot's sites, in {@link #ORDER}, immutable. */
    static List<BlockingSite> of(List<Engine.SiteSnapshot> sites) {
        List<BlockingSite> out = new ArrayList<>(sites.size());
        for (Engine.SiteSnapshot s : sites) {
            out.add(new BlockingSite(s.frames(), s.count(), s.blockedNanos()));
        }
        out.sort(ORDER);
        return List.copyOf(out);
    }

    /**
     * Several workqueues' sites as one list: the entries of one stack (the others too) summed,
     * saturating; in {@link #ORDER}, immutable.
     */
    static List<BlockingSite> merge(Collection<? extends List<BlockingSite>> lists) {
        Map<List<StackTraceElement>, long[]> sums = new LinkedHashMap<>();
        for (List<BlockingSite> list : lists) {
            for (BlockingSite s : list) {
                long[] sum = sums.computeIfAbsent(List.of(s.stack), k -> new long[2]);
                sum[0] = saturatedAdd(sum[0], s.count);
                sum[1] = saturatedAdd(sum[1], s.blockedNanos);
            }
        }
        List<BlockingSite> out = new ArrayList<>(sums.size());
        sums.forEach((stack, sum) -> out.add(new BlockingSite(stack.toArray(StackTraceElement[]::new), sum[0], sum[1])));
        out.sort(ORDER);
        return List.copyOf(out);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }
}
