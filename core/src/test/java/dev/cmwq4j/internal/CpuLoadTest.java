package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The saturation predicate, and the pressure file reads on a machine that has them. */
class CpuLoadTest {

    @Test
    void saturatedOnlyWhenSomeThreadWaitedForACpuOverHalfTheInterval() {
        assertThat(CpuLoad.isSaturated(0.9)).isTrue();
        assertThat(CpuLoad.isSaturated(0.5)).isFalse();
        assertThat(CpuLoad.isSaturated(0.0)).isFalse();
    }

    @Test
    void samplesOfTheRealPressureFileNeverThrowAndAnIdleEngineClearsTheFlag() {
        CpuLoad load = new CpuLoad();
        long t = 0;
        for (int i = 0; i < 5; i++) {
            load.sample(t);
            t += CpuLoad.SAMPLE_NANOS;
        }
        if (!Files.isReadable(Path.of("/proc/pressure/cpu"))) {
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
