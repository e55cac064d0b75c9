package dev.cmwq4j.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * One workqueue's blocking-site profile: per {@link Site}, the sampled unannounced blocks of its
 * works that were attributed there (counted when the monitor detects one) and their blocked time
 * (added when each ends). Made by the monitor on the workqueue's first profiled detection
 * ({@link WorkqueueCore#blockingSites}), so a workqueue whose works never block unannounced has
 * none.
 *
 * <h2>Bound</h2>
 * At most {@link #MAX_SITES} sites; once they are taken, a new site's blocks are counted in one
 * {@link Site#OTHER} tally. First come, kept for good: a listed site is never evicted, so its
 * numbers are cumulative like every other statistic, and two snapshots subtract into rates
 * ({@code top} does). Evicting the smallest site instead would let a late, hot site in, but a
 * site could then vanish and come back with lower numbers; with the other tally shown, a table
 * that filled with rare sites says so. Each site keeps {@link Site#MAX_FRAMES} frames: the
 * memory of a table is bounded by 16 x 8 stack elements.
 *
 * <h2>Protocol</h2>
 * Every field is guarded by this table's monitor, a leaf lock (nothing is taken under it). The
 * monitor thread counts ({@link #detected}), the thread that settles a block, the worker's or the
 * monitor's ({@link DetectedBlock}), adds its time ({@link #blocked}), and a statistics snapshot
 * reads ({@link #snapshot}). All are rare: at most the profiler's sampling rate per engine.
 */
final class BlockingSites {
    /** Sites a workqueue keeps; more are counted as {@link Site#OTHER}. */
    static final int MAX_SITES = 16;

    /** One site's numbers; every field under the table's monitor. */
    static final class Tally {
        final Site site;
        /** Sampled blocks attributed here. */
        long count;
        /** Their blocked time so far (blocks still open add theirs when they end). */
        long blockedNanos;
        /** Those of them that ended (their time is in), so {@code count - ended} are still open. */
        long ended;

        Tally(Site site) {
            this.site = site;
        }
    }

    /** The listed sites, at most {@link #MAX_SITES}; this table's monitor. */
    private final HashMap<Site, Tally> sites = new HashMap<>();
    /** Blocks at sites that found the table full; this table's monitor. */
    private final Tally other = new Tally(Site.OTHER);

    /**
     * Monitor thread: a sampled block at {@code site} was detected. Counts it at its site, or as
     * other once {@link #MAX_SITES} are listed, and returns the tally its time goes to. The count
     * is the last step: if making the tally throws (out of memory), nothing was counted here.
     */
    synchronized Tally detected(Site site) {
        Tally t = sites.get(site);
        if (t == null) {
            if (sites.size() < MAX_SITES) {
                Tally fresh = new Tally(site);
                sites.put(site, fresh);
                t = fresh;
            } else {
                t = other;
            }
        }
        t.count++;
        return t;
    }

    /** A block attributed to {@code t} (by {@link #detected}) ended after {@code nanos} blocked. */
    synchronized void blocked(Tally t, long nanos) {
        long sum = t.blockedNanos + nanos;
        t.blockedNanos = sum < 0 ? Long.MAX_VALUE : sum; // saturates
        t.ended++;
    }

    /** Attributed blocks whose end has not been settled yet (for tests: 0 once all are in). */
    synchronized long open() {
        long open = other.count - other.ended;
        for (Tally t : sites.values()) {
            open += t.count - t.ended;
        }
        return open;
    }

    /** The listed sites, then other if anything was counted there; any order. */
    synchronized List<Engine.SiteSnapshot> snapshot() {
        List<Engine.SiteSnapshot> out = new ArrayList<>(sites.size() + 1);
        for (Tally t : sites.values()) {
            out.add(new Engine.SiteSnapshot(t.site.frames(), t.count, t.blockedNanos));
        }
        if (other.count > 0) {
            out.add(new Engine.SiteSnapshot(other.site.frames(), other.count, other.blockedNanos));
        }
        return out;
    }
}
