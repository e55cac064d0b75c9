package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The suite's Awaitility defaults ({@link AwaitilityDefaults}) are in force in every test class. */
class AwaitilityDefaultsTest {

    /**
     * A thread that dies with an uncaught Error while a test waits does not fail that wait: the
     * fault tests' injected errors must not abort the run from a later wait.
     */
    @Test
    void aThreadDyingDuringAWaitDoesNotFailTheWait() throws Exception {
        CountDownLatch dying = new CountDownLatch(1);
        AtomicBoolean died = new AtomicBoolean();
        Thread t = new Thread(() -> {
            try {
                dying.await();
            } catch (InterruptedException e) {
                return;
            }
            died.set(true);
            throw new AssertionError("injected: a thread's uncaught error");
        });
        t.setDaemon(true);
        t.start();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            dying.countDown();
            return !t.isAlive();
        });
        assertThat(died.get()).isTrue();
    }
}
