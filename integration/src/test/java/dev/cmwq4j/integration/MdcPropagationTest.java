package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Work;
import dev.cmwq4j.Workqueue;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The README's MDC recipe, as written there, with SLF4J's MDC (Logback's adapter). */
class MdcPropagationTest {

    /** The recipe: capture at queue time, set around the run, restore the thread's own after. */
    static final UnaryOperator<Runnable> MDC_DECORATOR = task -> {
        Map<String, String> captured = MDC.getCopyOfContextMap();
        return () -> {
            Map<String, String> previous = MDC.getCopyOfContextMap();
            if (captured == null) MDC.clear(); else MDC.setContextMap(captured);
            try { task.run(); }
            finally { if (previous == null) MDC.clear(); else MDC.setContextMap(previous); }
        };
    };

    @Test
    void theMdcOfTheQueuerReachesPlainAndFutureWorksAndAHelpedWorkSeesItsOwn() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).taskDecorator(MDC_DECORATOR).build()) {
            Workqueue wq = c.workqueue("requests").build();
            AtomicReference<String> plain = new AtomicReference<>();
            MDC.put("request", "r-1");
            CompletableFuture<String> future;
            Work w = new Work(() -> plain.set(MDC.get("request")));
            try {
                wq.queue(w);
                future = wq.supplyAsync(() -> MDC.get("request"));
            } finally {
                MDC.clear();
            }
            w.flush();
            assertThat(plain.get()).isEqualTo("r-1");
            assertThat(future.get(60, TimeUnit.SECONDS)).isEqualTo("r-1");

            // a work helped in a waiter's frame sees its own MDC, and the waiter's is intact after
            AtomicReference<String> inner = new AtomicReference<>();
            AtomicReference<String> outerAfter = new AtomicReference<>();
            Workqueue other = c.workqueue("other").build();
            Work innerWork = new Work(() -> inner.set(MDC.get("request")));
            Work outer = new Work(() -> {
                MDC.put("request", "child");
                other.queue(innerWork);
                MDC.put("request", "parent");
                innerWork.flush(); // one CPU, busy with us: runs in place
                outerAfter.set(MDC.get("request"));
            });
            MDC.put("request", "parent");
            try {
                wq.queue(outer);
            } finally {
                MDC.clear();
            }
            outer.flush();
            assertThat(inner.get()).isEqualTo("child");
            assertThat(outerAfter.get()).isEqualTo("parent");
        }
    }
}
