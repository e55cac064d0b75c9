package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Engine#otherIndex}, which picks the sibling pool a thief is asked from: never the pool
 * itself, always in range, and over many draws every other pool (with two pools, the other one,
 * without a draw).
 */
class OtherIndexTest {
    @Test
    void withTwoPoolsItIsTheOtherOne() {
        for (int i = 0; i < 100; i++) {
            assertThat(Engine.otherIndex(0, 2)).isEqualTo(1);
            assertThat(Engine.otherIndex(1, 2)).isEqualTo(0);
        }
    }

    @Test
    void withMorePoolsItIsNeverItselfAndReachesEveryOther() {
        for (int n = 3; n <= 9; n++) {
            for (int self = 0; self < n; self++) {
                Set<Integer> seen = new HashSet<>();
                for (int i = 0; i < 2_000; i++) {
                    int o = Engine.otherIndex(self, n);
                    assertThat(o).as("n=%d self=%d", n, self).isBetween(0, n - 1).isNotEqualTo(self);
                    seen.add(o);
                }
                assertThat(seen).as("n=%d self=%d: every other index drawn", n, self).hasSize(n - 1);
            }
        }
    }
}
