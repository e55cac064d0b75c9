package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM's first queue, made with no stack left (a child JVM: the test JVM's classes are long
 * initialized). A class whose static initializer throws is unusable for the rest of the JVM's
 * life ({@code NoClassDefFoundError: Could not initialize class}); the engine's classes with
 * static initializers are therefore initialized when an engine is built, not by the first queue,
 * which may come from anywhere, even from a {@code StackOverflowError} handler. Before, the
 * first queue initialized {@code Worker} (its VarHandles): made at the end of a stack, it broke
 * every later queue of the JVM, at any depth, on every instance.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeepFirstQueueTest {

    /** The child: builds an instance at a normal depth, queues first from the end of a stack, then normally. */
    public static final class Child {
        private static int overflowed;

        public static void main(String[] args) throws Exception {
            try (Cmwq c = Cmwq.builder().cpus(2).build()) {
                Workqueue wq = c.workqueue("deep-first").build();
                Work[] works = new Work[64];
                for (int i = 0; i < works.length; i++) {
                    works[i] = new Work(new Noop());
                }
                Thread deep = new Thread(null, () -> queueWhileUnwinding(wq, works, new int[1]), "deep", 256 * 1024);
                deep.start();
                deep.join();
                System.out.println(overflowed > 0 ? "overflowed while queueing" : "never overflowed while queueing");
                CountDownLatch ran = new CountDownLatch(1);
                try {
                    wq.queue(new Work(ran::countDown));
                    System.out.println(ran.await(60, TimeUnit.SECONDS) ? "a later work ran" : "a later work did not run");
                } catch (Throwable t) {
                    System.out.println("a later queue threw " + t);
                }
            }
        }

        /** Recurses to the end of the stack, then queues one work per frame on the way up. */
        private static void queueWhileUnwinding(Workqueue wq, Work[] works, int[] next) {
            try {
                queueWhileUnwinding(wq, works, next);
            } catch (StackOverflowError e) {
                // the bottom: queue from here up
            }
            int k = next[0];
            if (k < works.length) {
                next[0] = k + 1;
                try {
                    wq.queue(works[k]);
                } catch (StackOverflowError e) {
                    overflowed++;
                } catch (NoClassDefFoundError e) {
                    overflowed++; // a class that failed to initialize deeper down: what the later queue checks
                }
            }
        }

        /** A no-op, not a lambda: the child links no lambda before the deep queues. */
        private static final class Noop implements Runnable {
            @Override
            public void run() {}
        }
    }

    @Test
    void aFirstQueueAtTheEndOfTheStackLeavesTheEngineUsable() throws Exception {
        TestSupport.ChildJvm child = TestSupport.runChildJvm(Child.class, Cmwq.class, Child.class);
        assertThat(child.ended()).isTrue();
        assertThat(child.lines()).as("the child's output").containsExactly("overflowed while queueing", "a later work ran");
        assertThat(child.exitValue()).isZero();
    }
}
