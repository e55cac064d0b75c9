package dev.cmwq4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code invokeAny} from tasks of the view's own workqueue, raced against each other under a small
 * {@code maxActive} (1 or 2, unordered): each caller holds a slot its tasks may need, and lends it
 * to the first of them waiting behind it while it waits (ARCHITECTURE 5, the wait table). Every call
 * must return (no caller waits for good behind the slots of the others); its result must be what
 * one of its own tasks returned, or an {@link ExecutionException} when all of them failed; and no
 * task runs twice. Under {@code maxActive} 1 no lend is left to the waiting caller's periodic
 * safety-net look: each comes with an event.
 *
 * <p>Size: {@code cmwq4j.stress.scale} (1 by default, 50 with {@code -Pstress}).
 */
class InvokeAnyStressTest {
    private static final int SCALE = Integer.getInteger("cmwq4j.stress.scale", 1);
    private static final Duration BOUND = Duration.ofSeconds(60);

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void callersOfTheirOwnViewNeverWaitForGoodAndGetOneOfTheirOwnResults() throws Exception {
        int rounds = 20 * SCALE;
        for (int round = 0; round < rounds; round++) {
            SplittableRandom random = new SplittableRandom(round);
            int maxActive = 1 + round % 2;
            int callers = 3 + random.nextInt(4);
            int perCaller = 2 + random.nextInt(4);
            long netLendsBefore = WorkqueueExecutorService.SAFETY_NET_LENDS.get();
            try (Cmwq c = Cmwq.builder().cpus(2).jmx(false).build()) {
                Workqueue wq = c.workqueue("invoke-any-stress-" + round).maxActive(maxActive).build();
                ExecutorService es = wq.asExecutorService();
                AtomicIntegerArray runs = new AtomicIntegerArray(callers * perCaller);
                boolean[][] fails = new boolean[callers][perCaller];
                List<Future<String>> outcomes = new ArrayList<>();
                for (int k = 0; k < callers; k++) {
                    List<Callable<String>> tasks = new ArrayList<>();
                    boolean allFail = random.nextInt(4) == 0;
                    for (int j = 0; j < perCaller; j++) {
                        int id = k * perCaller + j;
                        boolean fail = allFail || random.nextInt(3) == 0;
                        fails[k][j] = fail;
                        tasks.add(() -> {
                            runs.incrementAndGet(id);
                            if (fail) {
                                throw new IllegalStateException("task " + id + " fails");
                            }
                            return "task " + id;
                        });
                    }
                    boolean timed = random.nextBoolean();
                    outcomes.add(es.submit(() -> {
                        try {
                            return timed ? es.invokeAny(tasks, BOUND.toMillis(), TimeUnit.MILLISECONDS) : es.invokeAny(tasks);
                        } catch (ExecutionException e) {
                            return "all failed";
                        }
                    }));
                }
                try {
                    checkOutcomes(round, maxActive, perCaller, fails, outcomes, runs);
                } finally {
                    es.shutdownNow(); // a caller that waits for good is interrupted, so the close below returns
                }
            }
            if (maxActive == 1) {
                // under maxActive 1 every lend comes with an event (the wait's start, the end of
                // the task lent to), however long the waits: none may be left to the safety
                // net's periodic look, which would only hide a missed one as a delay. (Under 2,
                // the net may lend first, and rightly, once a listed task starts and the next
                // waits inactive.)
                assertThat(WorkqueueExecutorService.SAFETY_NET_LENDS.get() - netLendsBefore)
                        .as("round %d: lends made by the safety net's look instead of an event", round).isZero();
            }
        }
    }

    private static void checkOutcomes(int round, int maxActive, int perCaller, boolean[][] fails,
            List<Future<String>> outcomes, AtomicIntegerArray runs) throws Exception {
        int callers = outcomes.size();
        for (int k = 0; k < callers; k++) {
            String result = outcomes.get(k).get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            List<String> allowed = new ArrayList<>();
            boolean anySucceeds = false;
            for (int j = 0; j < perCaller; j++) {
                if (!fails[k][j]) {
                    allowed.add("task " + (k * perCaller + j));
                    anySucceeds = true;
                }
            }
            if (!anySucceeds) {
                allowed.add("all failed");
            }
            assertThat(result).as("round %d (maxActive %d), caller %d", round, maxActive, k).isIn(allowed);
        }
        for (int i = 0; i < runs.length(); i++) {
            assertThat(runs.get(i)).as("round %d, runs of task %d", round, i).isLessThanOrEqualTo(1);
        }
    }
}
