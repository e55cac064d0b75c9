package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.DelayedWork;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The README's OpenTelemetry recipe: {@code Context.current().wrap(task)} as the task decorator. */
class OpenTelemetryContextTest {
    static final ContextKey<String> TRACE = ContextKey.named("trace");

    @Test
    void theCurrentContextOfTheQueuerIsCurrentInTheWorkAndNotAfter() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).taskDecorator(task -> Context.current().wrap(task)).build()) {
            Workqueue wq = c.workqueue("traced").build();
            ExecutorService es = wq.asExecutorService();
            AtomicReference<String> plain = new AtomicReference<>();
            AtomicReference<String> delayed = new AtomicReference<>();
            Work w = new Work(() -> plain.set(Context.current().get(TRACE)));
            DelayedWork d = new DelayedWork(() -> delayed.set(Context.current().get(TRACE)));
            java.util.concurrent.Future<String> submitted;
            try (Scope ignored = Context.current().with(TRACE, "span-7").makeCurrent()) {
                wq.queue(w);
                wq.queueDelayed(d, Duration.ofMillis(2));
                submitted = es.submit(() -> Context.current().get(TRACE));
            }
            w.flush();
            d.flush();
            assertThat(plain.get()).isEqualTo("span-7");
            assertThat(delayed.get()).isEqualTo("span-7");
            assertThat(submitted.get(60, TimeUnit.SECONDS)).isEqualTo("span-7");
            // the worker's own context is the root again after each run
            AtomicReference<String> after = new AtomicReference<>("unset");
            Work probe = new Work(() -> after.set(Context.current().get(TRACE)));
            wq.queue(probe);
            probe.flush();
            assertThat(after.get()).isNull();
            es.shutdown();
            assertThat(es.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
    }
}
