package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cmwq4j.internal.EngineProbe;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The service thread lingers on short naps after pools that go idle and busy again many times a
 * second, and still parks once they stay idle: lingering must never become a monitor that wakes
 * for good.
 */
class MonitorLingerTest {

    @Test
    void afterRapidIdleBusyEdgesTheMonitorStillParksOnceThePoolsStayIdle() {
        try (Cmwq c = Cmwq.builder().name("linger").cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("edges").build();
            AtomicLong runs = new AtomicLong();
            Work w = new Work("edge", runs::incrementAndGet);
            // a work, then idle, thousands of times: each queue is an idle-to-busy edge that
            // unparked the monitor, so its parks are short and it lingers after them
            for (int i = 0; i < 5_000; i++) {
                assertThat(wq.queue(w)).isTrue();
                w.flush();
            }
            assertThat(runs.get()).isEqualTo(5_000);
            long[] last = {EngineProbe.monitorLooks(c.engine()), System.nanoTime()};
            // quiet: no look for 500 ms, far beyond the 20 ms it lingers and its 4 ms naps
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(25)).until(() -> {
                long looks = EngineProbe.monitorLooks(c.engine());
                long now = System.nanoTime();
                if (looks != last[0]) {
                    last[0] = looks;
                    last[1] = now;
                }
                return now - last[1] > 500_000_000L;
            });
            // and it still wakes for new work
            for (int i = 0; i < 100; i++) {
                assertThat(wq.queue(w)).isTrue();
                w.flush();
            }
            assertThat(runs.get()).isEqualTo(5_100);
        }
    }
}
