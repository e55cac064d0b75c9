package dev.cmwq4j;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The suite's Awaitility defaults, set before any test class runs: a wait is not failed by a
 * {@link VirtualMachineError} (out of memory, stack overflow) that another thread dies of.
 * Awaitility catches the uncaught exceptions of every thread during a wait and fails the wait
 * with them. The fault tests kill the engine's worker threads on purpose (an injected {@code
 * OutOfMemoryError} ends a worker's thread as it would in production, through its
 * uncaught-exception handler); a thread that finished dying only during a later wait (the same
 * test's {@code assertPoolsAtRest}, or another test's) failed that wait with the Error, which
 * JUnit treats as unrecoverable: it aborted the whole run. What a test expects of a dying thread
 * it asserts itself. Any other uncaught exception (a failed assertion in a test's own thread)
 * still fails the wait.
 *
 * <p>Installed as the default class orderer ({@code junit-platform.properties}), which JUnit
 * instantiates by name before it runs any class: an extension registered through the service
 * loader is not found while the tests run patched into the library's module. It keeps the
 * classes in the order JUnit found them.
 */
public final class AwaitilityDefaults implements ClassOrderer {
    static {
        Awaitility.ignoreExceptionsByDefaultMatching(t -> t instanceof VirtualMachineError);
    }

    @Override
    public void orderClasses(ClassOrdererContext context) {
        // the order JUnit found them in
    }
}
