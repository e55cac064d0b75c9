package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A node's rare state lives in a {@link NodeWaits} created by its first waiter or lender. These
 * tests race that creation with what the waiter must see: a waiter that counts itself in a
 * fresh node while the instance resolves (or a synchronous cancel ends) is always woken, and the
 * object is created once and only when needed.
 */
class NodeWaitsTest {
    /** Rounds per race; each round uses a fresh node, whose NodeWaits does not exist yet. */
    private static final int ROUNDS = 20_000;
    /** How long one waiter may take before a round counts as a lost wake-up (a busy machine is slow, never this slow). */
    private static final long STUCK_MILLIS = TimeUnit.SECONDS.toMillis(30);

    /**
     * A flusher racing the end of the instance it waits for: it counts itself ({@code waiters},
     * in a NodeWaits it may be creating) and reads {@code resolved}; the resolver adds to
     * {@code resolved} and reads the node's NodeWaits and its count. Every waiter returns.
     */
    @Test
    void aWaiterRacingTheResolutionOfAFreshNodeIsAlwaysWoken() throws Exception {
        race(n -> n.awaitResolved(1), n -> n.resolve(1), n -> assertThat(n.resolved()).isEqualTo(n.queued()), true);
    }

    /** The same race for the wait on a synchronous cancel ({@code releaseCanceling}). */
    @Test
    void aWaiterRacingTheEndOfASynchronousCancelOnAFreshNodeIsAlwaysWoken() throws Exception {
        race(WorkNode::awaitNotCanceling, WorkNode::releaseCanceling,
                n -> assertThat(n.state & WorkNode.CANCELING).isZero(), false);
    }

    private interface NodeAction {
        void on(WorkNode n) throws Exception;
    }

    /**
     * {@code ROUNDS} rounds, each on a fresh node: one thread waits ({@code waiter}) while this
     * one ends what it waits for ({@code ender}), both released at once by a barrier.
     *
     * @param claim true: the node starts with one instance claimed (a resolution wait); false:
     *     with CANCELING held (a cancel wait)
     */
    private static void race(NodeAction waiter, NodeAction ender, NodeAction check, boolean claim) throws Exception {
        WorkNode[] nodes = new WorkNode[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            WorkNode n = new WorkNode(() -> { });
            if (claim) {
                assertThat(n.tryClaim()).isTrue();
            } else {
                assertThat(n.grab(WorkNode.CANCEL_HOLD)).isEqualTo(WorkNode.GRAB_NONE);
            }
            nodes[i] = n;
        }
        CyclicBarrier start = new CyclicBarrier(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                for (WorkNode n : nodes) {
                    start.await();
                    waiter.on(n);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "node-waits-waiter");
        t.setDaemon(true);
        t.start();
        for (int i = 0; i < ROUNDS; i++) {
            WorkNode n = nodes[i];
            try {
                start.await(STUCK_MILLIS, TimeUnit.MILLISECONDS); // the waiter returned from the previous round
            } catch (TimeoutException e) {
                throw new AssertionError("round " + (i - 1) + ": the waiter was never woken (a lost wake-up)", e);
            }
            ender.on(n);
            check.on(n);
        }
        t.join(STUCK_MILLIS);
        assertThat(t.isAlive()).as("a waiter was never woken (lost wake-up)").isFalse();
        assertThat(failure.get()).isNull();
    }

    /** A work nobody waits on or lends to never gets a NodeWaits: its node stays at its size. */
    @Test
    void aNodeNobodyWaitsOnHasNone() {
        WorkNode n = new WorkNode(() -> { });
        assertThat(n.tryClaim()).isTrue();
        n.resolve(1);
        n.awaitResolved(1); // resolved already: returns without waiting
        assertThat(n.waits).isNull();
        assertThat(n.lentCounts()).isZero();
        assertThat(n.lentList()).isEqualTo(-1);
        assertThat(n.maxLent()).isZero();
    }

    /** Every caller gets the one object the first created, also when they race to create it. */
    @Test
    void racingCreatorsGetOneObject() throws Exception {
        for (int i = 0; i < 2_000; i++) {
            WorkNode n = new WorkNode(() -> { });
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicReference<NodeWaits> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    other.set(n.waits());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            t.start();
            start.await();
            NodeWaits mine = n.waits();
            t.join();
            assertThat(other.get()).isSameAs(mine).isSameAs(n.waits);
        }
    }
}
