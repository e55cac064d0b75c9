package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Workqueue;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Reactor on a workqueue: {@code Schedulers.fromExecutorService} over
 * {@link Workqueue#asScheduledExecutorService()} drives {@code Flux.interval} (a fixed-rate task
 * of the view) and {@code Mono.delay} (a delayed one) on the engine's timer and workers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReactorSchedulerTest {
    private static final String PREFIX = "reactor-it-";
    private static final Duration BLOCK = Duration.ofSeconds(30);

    @Test
    void fluxIntervalAndMonoDelayRunOnTheScheduledView() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).threadNamePrefix(PREFIX).build()) {
            Workqueue wq = c.workqueue("reactor").build();
            ScheduledExecutorService ses = wq.asScheduledExecutorService();
            Scheduler scheduler = Schedulers.fromExecutorService(ses, "cmwq4j");
            try {
                List<String> ticks = Flux.interval(Duration.ofMillis(5), scheduler)
                        .take(5)
                        .map(i -> i + "@" + Thread.currentThread().getName())
                        .collectList()
                        .block(BLOCK);
                assertThat(ticks).hasSize(5);
                for (int i = 0; i < 5; i++) {
                    assertThat(ticks.get(i)).startsWith(i + "@" + PREFIX);
                }

                String delayed = Mono.delay(Duration.ofMillis(20), scheduler)
                        .map(v -> v + "@" + Thread.currentThread().getName())
                        .block(BLOCK);
                assertThat(delayed).startsWith("0@" + PREFIX);

                // subscribeOn and publishOn: immediate tasks of the same view
                String on = Mono.fromCallable(() -> Thread.currentThread().getName())
                        .subscribeOn(scheduler)
                        .publishOn(scheduler)
                        .block(BLOCK);
                assertThat(on).startsWith(PREFIX);
            } finally {
                scheduler.dispose(); // shutdownNow of the view: the interval was cancelled by take(5)
            }
            assertThat(ses.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            assertThat(wq.isClosed()).as("the view never closes its workqueue").isFalse();
        }
    }
}
