package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The thread-name registry on its own: bases, names, release, sweep. */
class ThreadNamesTest {

    /** A base no other test uses. */
    private static String base() {
        return "tn-" + System.nanoTime() + "-";
    }

    /** A thread that has run and terminated. */
    private static Thread ended() throws InterruptedException {
        Thread t = new Thread(() -> { });
        t.start();
        t.join();
        return t;
    }

    @Test
    void aHeldBaseIsGivenWithASuffixAndFreeOnceClosedAndItsThreadsEnded() throws Exception {
        String b = base();
        ThreadNames.Lease first = ThreadNames.claim(b, false);
        ThreadNames.Lease second = ThreadNames.claim(b, false);
        assertThat(first.base).isEqualTo(b);
        assertThat(second.base).isEqualTo(b + "2-");
        Thread t = new Thread(() -> { }); // not started yet: holds its name and its base
        assertThat(second.name(t, "monitor")).isEqualTo(b + "2-monitor");
        second.close();
        assertThat(ThreadNames.claim(b, false).base).as("closed, but its thread has not ended").isEqualTo(b + "3-");
        t.start();
        t.join();
        assertThat(ThreadNames.claim(b, false).base).as("closed and its threads ended").isEqualTo(b + "2-");
        first.close();
        assertThat(ThreadNames.claim(b, false).base).as("closed, no thread").isEqualTo(b);
    }

    @Test
    void aLiveNameGetsADashSuffixAndAForgottenOneIsFreeAgain() throws Exception {
        ThreadNames.Lease l = ThreadNames.claim(base(), false);
        Thread a = new Thread(() -> { });
        Thread b = new Thread(() -> { });
        Thread c = new Thread(() -> { });
        assertThat(l.name(a, "rescuer-q")).isEqualTo(l.base + "rescuer-q");
        assertThat(l.name(b, "rescuer-q")).isEqualTo(l.base + "rescuer-q-2");
        l.forget(b, l.base + "rescuer-q-2"); // its start failed
        assertThat(l.name(c, "rescuer-q")).isEqualTo(l.base + "rescuer-q-2");
        assertThat(l.name(ended(), "rescuer-r")).isEqualTo(l.base + "rescuer-r");
        assertThat(l.name(ended(), "rescuer-r")).as("the first holder terminated").isEqualTo(l.base + "rescuer-r");
        l.close();
    }

    @Test
    void theSharedBaseIsKeptForTheSharedInstance() {
        ThreadNames.Lease impostor = ThreadNames.claim(ThreadNames.SHARED_BASE, false);
        assertThat(impostor.base).isNotEqualTo(ThreadNames.SHARED_BASE).startsWith(ThreadNames.SHARED_BASE);
        impostor.close();
    }

    @Test
    void theRegistryStaysProportionalToWhatLives() throws Exception {
        int before = ThreadNames.size(); // what other tests of this JVM left: live, or dead and not swept yet
        List<ThreadNames.Lease> leases = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ThreadNames.Lease l = ThreadNames.claim(base(), false);
            l.name(ended(), "cpu0-" + i);
            l.close();
            leases.add(l);
        }
        // 600 entries went in (a base and a name each), all dead now: sweeps keep the registry
        // under twice what was there (it sweeps when it doubles), or 64
        assertThat(ThreadNames.size()).isLessThan(Math.max(64, 2 * before + 4)); // +: the lease being claimed is live
    }
}
