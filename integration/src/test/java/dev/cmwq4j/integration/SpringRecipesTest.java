package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Workqueue;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.TaskExecutor;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.concurrent.ConcurrentTaskExecutor;
import org.springframework.scheduling.concurrent.ConcurrentTaskScheduler;
import org.springframework.scheduling.support.PeriodicTrigger;

/** The README's Spring recipes: a workqueue as Spring's TaskExecutor, @Async executor, and TaskScheduler. */
class SpringRecipesTest {
    private static final long BOUND = 60;

    /** Runs its {@code @Async} method on the workqueue. */
    public static class Thumbnails {
        @Async
        public CompletableFuture<String> render(String name) {
            return CompletableFuture.completedFuture(name + "@" + Thread.currentThread().getName());
        }
    }

    @Configuration
    @EnableAsync
    static class AsyncConfig {
        static Cmwq cmwq;

        @Bean
        TaskExecutor taskExecutor() {
            return new ConcurrentTaskExecutor(cmwq.workqueue("spring-async").build());
        }

        @Bean
        Thumbnails thumbnails() {
            return new Thumbnails();
        }
    }

    @Test
    void asyncMethodsAndTheTaskExecutorRunOnTheWorkqueue() throws Exception {
        try (Cmwq c = Cmwq.builder().name("spring").cpus(2).jmx(false).build()) {
            AsyncConfig.cmwq = c;
            try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext(AsyncConfig.class)) {
                String result = ctx.getBean(Thumbnails.class).render("cat.png").get(BOUND, TimeUnit.SECONDS);
                assertThat(result).startsWith("cat.png@cmwq4j-");
                ConcurrentTaskExecutor executor = (ConcurrentTaskExecutor) ctx.getBean(TaskExecutor.class);
                Future<String> f = executor.submit(() -> Thread.currentThread().getName());
                assertThat(f.get(BOUND, TimeUnit.SECONDS)).startsWith("cmwq4j-");
            }
        }
    }

    @Test
    void theScheduledViewIsASpringTaskScheduler() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
            Workqueue wq = c.workqueue("spring-scheduler").build();
            ConcurrentTaskScheduler scheduler = new ConcurrentTaskScheduler(wq.asScheduledExecutorService());
            CountDownLatch once = new CountDownLatch(1);
            scheduler.schedule(once::countDown, Instant.now().plusMillis(5));
            assertThat(once.await(BOUND, TimeUnit.SECONDS)).isTrue();

            AtomicInteger ticks = new AtomicInteger();
            CountDownLatch five = new CountDownLatch(5);
            ScheduledFuture<?> rate = scheduler.scheduleAtFixedRate(() -> {
                ticks.incrementAndGet();
                five.countDown();
            }, Duration.ofMillis(2));
            assertThat(five.await(BOUND, TimeUnit.SECONDS)).isTrue();
            rate.cancel(false);

            CountDownLatch triggered = new CountDownLatch(3);
            ScheduledFuture<?> byTrigger = scheduler.schedule(triggered::countDown, new PeriodicTrigger(Duration.ofMillis(2)));
            assertThat(triggered.await(BOUND, TimeUnit.SECONDS)).isTrue();
            byTrigger.cancel(false);
            assertThat(ticks.get()).isGreaterThanOrEqualTo(5);
        }
    }
}
