package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The saturation predicate, and the /proc reads on a machine that has them. */
class CpuLoadTest {

    @Test
    void saturatedOnlyWithLessThanHalfACpuIdleAndMoreRunnableThreadsThanCpus() {
        assertThat(CpuLoad.isSaturated(0.1, 3, 2)).isTrue();
        assertThat(CpuLoad.isSaturated(0.1, 2, 2)).as("a thief that took the last idle CPU").isFalse();
        assertThat(CpuLoad.isSaturated(0.6, 5, 2)).as("half a CPU idle over the interval").isFalse();
        assertThat(CpuLoad.isSaturated(0.0, 0, 2)).isFalse();
    }

    @Test
    void samplesOfARealProcStatNeverThrowAndAnIdleEngineClearsTheFlag() {
        CpuLoad load = new CpuLoad();
        long t = 0;
        for (int i = 0; i < 5; i++) {
            load.sample(t);
            t += CpuLoad.SAMPLE_NANOS;
        }
        if (!Files.isReadable(Path.of("/proc/stat"))) {
            assertThat(load.saturated).as("no /proc: never saturated").isFalse();
        }
        load.saturated = true;
        load.idle();
        assertThat(load.saturated).isFalse();
        load.close();
        load.sample(t + CpuLoad.SAMPLE_NANOS);
        assertThat(load.saturated).as("closed: no more samples").isFalse();
    }
}
