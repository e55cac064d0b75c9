package dev.cmwq4j.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The statistics of one worker's fast runs (ARCHITECTURE 6, <i>The fast lane</i>, Statistics):
 * what the lane records without the pool lock, until a lock holder folds it into the pwqs.
 *
 * <h2>Design</h2>
 * {@link #SLOTS} slots, each the runs, CPU and two histograms of one pwq of the worker's pool
 * (the lane runs only its own pool's works). A run of a pwq that has a slot, or finds one free,
 * is recorded there without a lock; a run of a pwq that finds every slot taken by others first
 * folds the slot switched to longest ago into its pwq under the pool lock ({@link #record}
 * returns false, {@link #foldOldest}). So works of up to {@link #SLOTS} workqueues alternating on one worker
 * never lock for their statistics (with one slot, each switch took the lock, and with it a
 * conversion of the run just ended).
 *
 * <p>Snapshots read the slots of one pwq under the pool lock and a sequence count
 * ({@link #addTo}); the owner writes under the count (odd while it writes) and folds under the
 * pool lock, so a snapshot, which holds that lock, sees each run once: in a slot or in its pwq.
 * A worker's exit folds every slot ({@link #foldAll}).
 *
 * <p>Every field but {@link #seq} is written by the owning worker's thread only (after that
 * thread ended: by the pool lock holder that handles its exit), and read by snapshots under
 * {@link #seq}.
 */
final class FastStats {
    /** Workqueues whose works may alternate on one worker without a lock for their statistics. */
    static final int SLOTS = 4;

    /** Odd while the owner writes; release-stored even after. */
    private volatile int seq;
    private static final AtomicIntegerFieldUpdater<FastStats> SEQ =
            AtomicIntegerFieldUpdater.newUpdater(FastStats.class, "seq");

    /** One pwq's buffered runs; {@code pwq} null while free. Fields as the class's. */
    private static final class Slot {
        PoolWorkqueue pwq;
        long runs;
        long cpu;
        final LogHistogram latency = new LogHistogram();
        final LogHistogram wall = new LogHistogram();
        /** When the owner last switched to this slot (a count): the oldest is folded first. */
        long lastUse;
    }

    /** Created at first use: most workers never run fast runs of more than one pwq. */
    private final Slot[] slots = new Slot[SLOTS];
    /** The slot written last (null before the first record): a stream of one pwq's runs finds it at once. Owner only. */
    private Slot current;
    private long uses;

    /**
     * Records the fast run of {@code pwq} that {@code r} just ended, without a lock, in its slot
     * or a free one.
     *
     * @return false if every slot holds another pwq: nothing recorded; the caller folds one
     *     under the pool lock ({@link #foldOldest}) and records again
     */
    boolean record(PoolWorkqueue pwq, RunAccounting r) {
        Slot s = current;
        if (s == null || s.pwq != pwq) {
            s = switchTo(pwq);
            if (s == null) {
                return false;
            }
        }
        int v = beginWrite();
        s.pwq = pwq; // a free slot's first record takes it
        s.runs++;
        s.cpu += r.cpu;
        s.latency.record(r.latency);
        s.wall.record(r.wall);
        SEQ.lazySet(this, v + 2);
        return true;
    }

    /**
     * The slot of {@code pwq}, else a free one (the caller's write takes it), else null; made
     * {@link #current}, dated for {@link #foldOldest} (by the switches to it: a slot in use since
     * the switch is the newest anyway). Owner.
     */
    private Slot switchTo(PoolWorkqueue pwq) {
        Slot found = slotOf(pwq);
        if (found == null) {
            found = freeSlot();
            if (found == null) {
                return null;
            }
        }
        found.lastUse = ++uses;
        current = found;
        return found;
    }

    /** The slot that holds {@code pwq}'s runs, or null (racy for a reader: checked by the count). */
    private Slot slotOf(PoolWorkqueue pwq) {
        for (Slot s : slots) {
            if (s != null && s.pwq == pwq) {
                return s;
            }
        }
        return null;
    }

    /** A slot with no pwq, created if need be (before any write opens: an Error leaves nothing half done). */
    private Slot freeSlot() {
        for (int i = 0; i < SLOTS; i++) {
            Slot s = slots[i];
            if (s == null) {
                s = new Slot();
                int v = beginWrite();
                slots[i] = s;
                SEQ.lazySet(this, v + 2);
                return s;
            }
            if (s.pwq == null) {
                return s;
            }
        }
        return null;
    }

    /** Folds the slot written longest ago into its pwq and frees it. Owner; pool lock. */
    void foldOldest() {
        Slot oldest = null;
        for (Slot s : slots) {
            if (s != null && s.pwq != null && (oldest == null || s.lastUse < oldest.lastUse)) {
                oldest = s;
            }
        }
        if (oldest != null) {
            fold(oldest);
        }
    }

    /** Folds every slot into its pwq: the worker leaves its pool. Pool lock. */
    void foldAll() {
        for (Slot s : slots) {
            if (s != null && s.pwq != null) {
                fold(s);
            }
        }
    }

    private void fold(Slot s) {
        int v = beginWrite();
        s.pwq.addFastStats(s.runs, s.cpu, s.latency, s.wall); // clears the histograms
        s.runs = 0;
        s.cpu = 0;
        s.pwq = null;
        SEQ.lazySet(this, v + 2);
    }

    /**
     * Opens a write: the count made odd, ordered before the writes that follow; the writer
     * closes it with a release store of the returned value plus 2.
     */
    private int beginWrite() {
        int v = seq;
        SEQ.lazySet(this, v + 1);
        java.lang.invoke.VarHandle.storeStoreFence();
        return v;
    }

    /**
     * Adds the buffered statistics of {@code pwq} into a snapshot's sums ({@code runsCpu}: runs,
     * CPU; the histograms' counts, and their sum and max), read under the count. Any thread,
     * under the pool lock (so no fold moves them meanwhile).
     */
    void addTo(PoolWorkqueue pwq, long[] runsCpu, long[] lat, long[] latSumMax, long[] wallCounts, long[] wallSumMax) {
        if (slots[0] == null) {
            return; // never written (the first record creates the first slot): most workers of a snapshot's pool
        }
        long[] l = null;
        long[] ls = new long[2];
        long[] w = null;
        long[] ws = new long[2];
        for (;;) {
            int v = seq;
            if ((v & 1) != 0) {
                Thread.yield(); // the writer is in its few stores, or lost its CPU there
                continue;
            }
            Slot found = slotOf(pwq);
            if (found == null) {
                java.lang.invoke.VarHandle.loadLoadFence();
                if (seq == v) {
                    return;
                }
                continue;
            }
            if (l == null) {
                l = new long[lat.length];
                w = new long[wallCounts.length];
            } else {
                java.util.Arrays.fill(l, 0);
                java.util.Arrays.fill(w, 0);
            }
            ls[0] = ls[1] = ws[0] = ws[1] = 0;
            long e = found.runs;
            long c = found.cpu;
            found.latency.addToUnfolded(l, ls);
            found.wall.addToUnfolded(w, ws);
            java.lang.invoke.VarHandle.loadLoadFence();
            if (seq != v) {
                continue;
            }
            runsCpu[0] += e;
            runsCpu[1] += c;
            for (int k = 0; k < l.length; k++) {
                lat[k] += l[k];
                wallCounts[k] += w[k];
            }
            latSumMax[0] += ls[0];
            latSumMax[1] = Math.max(latSumMax[1], ls[1]);
            wallSumMax[0] += ws[0];
            wallSumMax[1] = Math.max(wallSumMax[1], ws[1]);
            return;
        }
    }
}
