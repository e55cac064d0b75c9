package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A node counts its instances ({@code queued}, {@code resolved}) in ints, modulo 2^32, so that a
 * task node stays small; a work queued ten million times a second wraps them in minutes. Every
 * comparison is a difference ({@link WorkNode#resolvedThrough}), exact across the wrap: these
 * tests start the counters just below it.
 */
class InstanceCountsTest {
    /** A node whose counters stand at {@code at}, at rest (nothing pending or running). */
    private static WorkNode nodeAt(int at) {
        WorkNode n = new WorkNode(() -> { });
        n.queued = at;
        n.resolved = at;
        return n;
    }

    /** The end of the running instance, as {@code Worker.execute} ends it when nothing was handed off. */
    private static void endRun(WorkNode n) {
        int s = n.state;
        assertThat(s & WorkNode.RUNNING).isNotZero();
        assertThat(n.casState(s, s & ~(WorkNode.RUNNING | WorkNode.CANCELLED_BEHIND))).isTrue();
        n.resolve(1 + WorkNode.behind(s));
    }

    @Test
    void aFlushTargetAcrossTheWrapWaitsForItsInstanceAndNoLonger() {
        WorkNode n = nodeAt(Integer.MAX_VALUE - 1);
        assertThat(n.tryClaim()).isTrue(); // instance MAX_VALUE
        assertThat(n.tryStart()).isTrue();
        int first = n.queued();
        assertThat(n.resolvedThrough(first)).as("running, not resolved").isFalse();
        endRun(n); // resolves MAX_VALUE
        assertThat(n.resolvedThrough(first)).isTrue();

        assertThat(n.tryClaim()).isTrue(); // instance MIN_VALUE: the counter wrapped
        int second = n.queued();
        assertThat(second).isEqualTo(Integer.MIN_VALUE);
        assertThat(n.resolvedThrough(first)).as("an earlier instance stays resolved across the wrap").isTrue();
        assertThat(n.resolvedThrough(second)).isFalse();
        n.unclaim(); // given up before it was listed, nothing running: resolves at once
        assertThat(n.resolvedThrough(second)).isTrue();
        assertThat(n.resolved()).isEqualTo(n.queued());
        n.awaitResolved(second); // returns at once
    }

    @Test
    void aWaiterAcrossTheWrapIsWokenByTheResolutionThatReachesItsTarget() throws Exception {
        WorkNode n = nodeAt(-2); // resolved -2; the next two instances are -1 and 0
        assertThat(n.tryClaim()).isTrue();
        assertThat(n.tryStart()).isTrue();
        assertThat(n.tryClaim()).isTrue(); // queued behind the running one
        int target = n.queued();
        assertThat(target).isZero();
        CountDownLatch returned = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            n.awaitResolved(target);
            returned.countDown();
        });
        waiter.start();
        endRun(n); // resolves -1: not yet
        assertThat(returned.await(50, TimeUnit.MILLISECONDS)).as("woken before its instance resolved").isFalse();
        n.unclaim(); // instance 0 given up, nothing running: resolves 0
        assertThat(returned.await(30, TimeUnit.SECONDS)).as("woken when its instance resolved").isTrue();
        waiter.join();
    }
}
