package dev.cmwq4j.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Workqueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import kotlin.Unit;
import kotlinx.coroutines.BuildersKt;
import kotlinx.coroutines.CoroutineDispatcher;
import kotlinx.coroutines.CoroutineStart;
import kotlinx.coroutines.ExecutorsKt;
import org.junit.jupiter.api.Test;

/**
 * The README's Kotlin recipe, {@code wq.asCoroutineDispatcher()} ({@code ExecutorsKt.from} from
 * Java): coroutines that block, announced or not, do not starve the dispatcher.
 */
class KotlinDispatcherTest {

    @Test
    void blockingCoroutinesOnAWorkqueueDispatcherAllRunAndAnotherWorkerTakesOver() throws Exception {
        try (Cmwq c = Cmwq.builder().cpus(1).jmx(false).build()) {
            Workqueue wq = c.workqueue("coroutines").build();
            CoroutineDispatcher dispatcher = ExecutorsKt.from(wq);
            Set<String> threads = ConcurrentHashMap.newKeySet();
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            // runBlocking waits for its children; each child blocks its thread for a while
            BuildersKt.runBlocking(dispatcher, (scope, continuation) -> {
                for (int i = 0; i < 8; i++) {
                    boolean announced = i % 2 == 0;
                    BuildersKt.launch(scope, dispatcher, CoroutineStart.DEFAULT, (child, k) -> {
                        threads.add(Thread.currentThread().getName());
                        try {
                            if (announced) {
                                Blocking.sleep(java.time.Duration.ofMillis(50));
                            } else {
                                Thread.sleep(50);
                            }
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        done.incrementAndGet();
                        return Unit.INSTANCE;
                    });
                }
                return Unit.INSTANCE;
            });
            assertThat(done.get()).isEqualTo(8);
            // one CPU: more than one worker means the blocked ones were replaced, not waited out
            assertThat(threads).allMatch(name -> name.startsWith("cmwq4j-"));
            assertThat(threads.size()).isGreaterThan(1);
        }
    }
}
