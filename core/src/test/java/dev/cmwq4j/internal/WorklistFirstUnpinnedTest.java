package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A thief's look past pinned works ({@link Worklist#firstUnpinned}, the steal candidate of
 * {@link WorkerPool}): the first unpinned node in poll order (highest priority first, a lent node
 * at its lent level, FIFO within a level), within a bound, and the list stays in order once it
 * is removed from the middle.
 */
class WorklistFirstUnpinnedTest {

    private static WorkNode node(int prio, boolean pinned) {
        WorkNode n = new WorkNode(() -> {});
        n.prio = (byte) prio;
        n.place(WorkNode.PINNED, pinned);
        return n;
    }

    private static List<WorkNode> drain(Worklist l) {
        List<WorkNode> out = new ArrayList<>();
        for (WorkNode n = l.poll(); n != null; n = l.poll()) {
            out.add(n);
        }
        return out;
    }

    @Test
    void anUnpinnedHeadIsTheCandidate() {
        Worklist l = new Worklist();
        WorkNode a = node(1, false);
        WorkNode b = node(1, true);
        l.add(a);
        l.add(b);
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).isSameAs(a);
        assertThat(new Worklist().firstUnpinned(WorkerPool.STEAL_SCAN)).isNull();
    }

    @Test
    void theFirstUnpinnedInPollOrderPastPinnedOnesOfAnyLevel() {
        Worklist l = new Worklist();
        WorkNode low = node(0, false);
        WorkNode pinnedNormal = node(1, true);
        WorkNode a = node(1, false);
        WorkNode b = node(1, false);
        WorkNode pinnedHigh = node(2, true);
        l.add(low);
        l.add(pinnedNormal);
        l.add(a);
        l.add(b);
        l.add(pinnedHigh);
        // HIGH pinned, NORMAL pinned, then the older unpinned NORMAL work: never b, never LOW
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).isSameAs(a);
        l.remove(a);
        assertThat(l.size()).isEqualTo(4);
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).isSameAs(b);
        l.remove(b);
        // only pinned works above LOW: a lower level behind them is the candidate
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).isSameAs(low);
        assertThat(drain(l)).containsExactly(pinnedHigh, pinnedNormal, low);
    }

    @Test
    void aLentNodeCountsAtItsLentLevelAndOnce() {
        Worklist l = new Worklist();
        WorkNode pinnedHigh = node(2, true);
        WorkNode lentLow = node(0, false);
        Inheritance.adjust(lentLow, Inheritance.LOW, Inheritance.URGENT); // lent URGENT before it is listed
        WorkNode lentPinned = node(0, true);
        Inheritance.adjust(lentPinned, Inheritance.LOW, Inheritance.URGENT);
        WorkNode normal = node(1, false);
        l.add(pinnedHigh);
        l.add(lentPinned);
        l.add(normal);
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).as("pinned URGENT-lent, pinned HIGH, then NORMAL")
                .isSameAs(normal);
        l.add(lentLow);
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).as("lent URGENT: ahead of HIGH and NORMAL").isSameAs(lentLow);
        l.remove(lentLow); // out of its lent list and its base list
        assertThat(l.firstUnpinned(2)).as("two pinned ahead, bound 2").isNull();
        assertThat(l.firstUnpinned(3)).isSameAs(normal);
        assertThat(drain(l)).containsExactly(lentPinned, pinnedHigh, normal);
    }

    @Test
    void theLookStopsAtTheBound() {
        Worklist l = new Worklist();
        for (int i = 0; i < WorkerPool.STEAL_SCAN; i++) {
            l.add(node(1, true));
        }
        WorkNode behind = node(1, false);
        l.add(behind);
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).as("behind %d pinned works", WorkerPool.STEAL_SCAN).isNull();
        l.poll();
        assertThat(l.firstUnpinned(WorkerPool.STEAL_SCAN)).as("behind %d", WorkerPool.STEAL_SCAN - 1).isSameAs(behind);
    }
}
