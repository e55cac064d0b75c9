package dev.cmwq4j.internal;

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
 * <p>No protocol of its own: the owner records a run only while its lane mark is IN_FLIGHT
 * ({@code Worker.fastEnd}: after the mark's CAS from the run), and every lock holder waits out an
 * IN_FLIGHT mark before it goes on ({@link WorkerPool#closeForHolder}), nor can the owner take
 * the mark again while a holder has the lock (the ring is closed, and only a holder reopens it).
 * So a holder's snapshot ({@link #addTo}) reads slots no write is changing, and sees each run
 * once: in a slot or, folded, in its pwq. Until 2026-12-07 the owner recorded with the run
 * still named by its mark and the buffer had a sequence count that snapshots re-read around
 * their reads.
 *
 * <p>Every field is written by the owning worker's thread, IN_FLIGHT or under the pool lock (a
 * fold), or, after that thread left its pool, by the holder that handles its exit ({@link
 * #foldAll}); read by lock holders.
 */
final class FastStats {
    /** Workqueues whose works may alternate on one worker without a lock for their statistics. */
    static final int SLOTS = 4;

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
     * Records the fast run of {@code pwq} that {@code r} just ended, without a lock (the owner's
     * mark IN_FLIGHT, or under the lock), in its slot or a free one.
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
        s.pwq = pwq; // a free slot's first record takes it
        s.runs++;
        s.cpu += r.cpu;
        s.latency.record(r.latency);
        s.wall.record(r.wall);
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

    /** The slot that holds {@code pwq}'s runs, or null. */
    private Slot slotOf(PoolWorkqueue pwq) {
        for (Slot s : slots) {
            if (s != null && s.pwq == pwq) {
                return s;
            }
        }
        return null;
    }

    /** A slot with no pwq, created if need be (made whole before it is stored: an Error leaves nothing half done). */
    private Slot freeSlot() {
        for (int i = 0; i < SLOTS; i++) {
            Slot s = slots[i];
            if (s == null) {
                Seam.fastSlot();
                s = new Slot();
                slots[i] = s;
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
        s.pwq.addFastStats(s.runs, s.cpu, s.latency, s.wall); // clears the histograms
        s.runs = 0;
        s.cpu = 0;
        s.pwq = null;
    }

    /**
     * Adds the buffered statistics of {@code pwq} into a snapshot's sums ({@code runsCpu}: runs,
     * CPU; the histograms' counts, and their sum and max). A lock holder (see the class comment:
     * nothing writes meanwhile).
     */
    void addTo(PoolWorkqueue pwq, long[] runsCpu, long[] lat, long[] latSumMax, long[] wallCounts, long[] wallSumMax) {
        Slot found = slotOf(pwq);
        if (found == null) {
            return; // never written, or another pwq's: most workers of a snapshot's pool
        }
        runsCpu[0] += found.runs;
        runsCpu[1] += found.cpu;
        found.latency.addToUnfolded(lat, latSumMax); // a read: the owner's repeats stay its own
        found.wall.addToUnfolded(wallCounts, wallSumMax);
    }
}
