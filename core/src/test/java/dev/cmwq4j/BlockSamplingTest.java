package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.internal.EngineProbe;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Announced blocks shorter than a microsecond are timed one in eight (ARCHITECTURE 2, <i>Timing
 * blocks</i>): every block is still counted, a long block after short ones is timed again within
 * eight blocks, and from then on every block is, so the pool's usual block learns it.
 */
class BlockSamplingTest {
    private static final int SHORT_BLOCKS = 8_000;

    /** Announced blocks that return at once, {@code n} of them, from one work. */
    private static void shortBlocks(int n) {
        for (int i = 0; i < n; i++) {
            Blocking.run(() -> { });
        }
    }

    @Test
    void shortBlocksAreAllCountedAndTimedOneInEight() {
        try (Cmwq c = Cmwq.builder().name("block-sampling").cpus(1).build()) {
            Workqueue wq = c.workqueue("short").build();
            long announcedBefore = EngineProbe.blocksAnnounced(c.engine());
            long timedBefore = EngineProbe.blocksTimed(c.engine(), 0);
            wq.queueOn(0, new Work(() -> shortBlocks(SHORT_BLOCKS)));
            wq.flush();
            assertThat(EngineProbe.blocksAnnounced(c.engine()) - announcedBefore).as("blocks counted")
                    .isEqualTo(SHORT_BLOCKS);
            long timed = EngineProbe.blocksTimed(c.engine(), 0) - timedBefore;
            // one in eight at least (never more than seven untimed in a row); a block stretched
            // past a microsecond by a preemption times the next one too, so a loaded machine
            // times more, and a rule that timed every block would time all 8,000
            assertThat(timed).as("blocks timed").isBetween((long) SHORT_BLOCKS / 8, (long) SHORT_BLOCKS / 2);
            assertThat(EngineProbe.usualBlockNanos(c.engine(), 0)).as("usual block learned from the timed ones")
                    .isPositive();
        }
    }

    @Test
    void aLongBlockAfterShortOnesIsTimedAgainAndLearned() {
        long sleep = TimeUnit.MILLISECONDS.toNanos(2);
        int longBlocks = 24;
        try (Cmwq c = Cmwq.builder().name("block-sampling-long").cpus(1).build()) {
            Workqueue wq = c.workqueue("long").build();
            AtomicLong usualAfterShort = new AtomicLong();
            wq.queueOn(0, new Work(() -> shortBlocks(SHORT_BLOCKS / 8)));
            wq.flush();
            usualAfterShort.set(EngineProbe.usualBlockNanos(c.engine(), 0));
            long timedBefore = EngineProbe.blocksTimed(c.engine(), 0);
            wq.queueOn(0, new Work(() -> {
                for (int i = 0; i < longBlocks; i++) {
                    Blocking.run(() -> {
                        long end = System.nanoTime() + sleep;
                        for (long left = sleep; left > 0; left = end - System.nanoTime()) {
                            LockSupport.parkNanos(left);
                        }
                    });
                }
            }));
            wq.flush();
            long timed = EngineProbe.blocksTimed(c.engine(), 0) - timedBefore;
            // the first long one is timed within eight blocks, and every one after it
            assertThat(timed).as("long blocks timed").isGreaterThanOrEqualTo(longBlocks - 7);
            assertThat(usualAfterShort.get()).as("usual block after the short ones").isLessThan(sleep / 2);
            // an average moving by an eighth per timed block of at least 2 ms: above 1 ms after
            // six of them, from below
            assertThat(EngineProbe.usualBlockNanos(c.engine(), 0)).as("usual block after the long ones")
                    .isGreaterThan(sleep / 2);
        }
    }
}
