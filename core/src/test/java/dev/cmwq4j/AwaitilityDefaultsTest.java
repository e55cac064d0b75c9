package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The suite's Awaitility defaults ({@link AwaitilityDefaults}) are in force in every test class. */
class AwaitilityDefaultsTest {

    /**
     * A thread that dies of an injected {@link OutOfMemoryError} while a test waits does not fail
     * the wait: the fault tests' injected errors must not abort the run from a later wait.
     */
    @Test
    void aThreadDyingOfAnInjectedErrorDuringAWaitDoesNotFailTheWait() throws Exception {
        AtomicBoolean died = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Thread> t = new java.util.concurrent.atomic.AtomicReference<>();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            if (t.get() == null) { // started by the wait itself: it dies while the wait is on
                t.set(dying(died, new OutOfMemoryError("injected: a thread's uncaught error")));
            }
            return !t.get().isAlive();
        });
        assertThat(died.get()).isTrue();
    }

    /** A failed assertion in another thread still fails the wait it happens during. */
    @Test
    void aThreadDyingOfAFailedAssertionDuringAWaitFailsTheWait() {
        AtomicBoolean died = new AtomicBoolean();
        AtomicBoolean never = new AtomicBoolean();
        assertThatThrownBy(() -> Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            dying(died, new AssertionError("a test thread's failed assertion"));
            return never.get();
        })).isInstanceOf(AssertionError.class).hasMessage("a test thread's failed assertion");
    }

    /** Starts a daemon thread that dies of {@code error} (a default handler prints it). */
    private static Thread dying(AtomicBoolean died, Error error) {
        Thread t = new Thread(() -> {
            died.set(true);
            throw error;
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
