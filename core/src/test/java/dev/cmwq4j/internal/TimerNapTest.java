package dev.cmwq4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The timer's nap protocol ({@link Timer#beginNap}, the armer's {@code napsPast}): an entry armed
 * while the service thread naps unparks it exactly when the entry falls due before the nap ends.
 * The test thread plays the service thread; whether it was unparked shows as a permit: a park
 * with a permit returns at once, one without waits its whole timeout.
 */
class TimerNapTest {
    static final long FAR = TimeUnit.DAYS.toNanos(365L * 50); // beyond any "day" a nap might be capped at

    static final class Entry extends TimerEntry {
        @Override
        protected void fire() {}
    }

    /** Parks up to {@code nanos}: true if it returned at once (a permit was there). */
    static boolean hadPermit(long nanos) {
        long t0 = System.nanoTime();
        LockSupport.parkNanos(nanos);
        return System.nanoTime() - t0 < nanos / 2;
    }

    static void clearPermit() {
        LockSupport.unpark(Thread.currentThread());
        LockSupport.parkNanos(1); // consumes it
    }

    @Test
    void anEntryArmedDuringAnUntimedParkWakesTheServiceThreadHoweverFarItsDeadline() {
        Timer timer = new Timer();
        timer.firedBy(Thread.currentThread());
        clearPermit();
        long now = System.nanoTime();
        assertThat(timer.beginNap(now, Long.MAX_VALUE)).as("nothing armed: park untimed").isEqualTo(Long.MAX_VALUE);
        Thread armer = new Thread(() -> timer.schedule(new Entry(), System.nanoTime() + FAR));
        armer.start();
        joinQuietly(armer);
        assertThat(hadPermit(TimeUnit.SECONDS.toNanos(5))).as("unparked for the new earliest entry").isTrue();
        timer.endNap();
    }

    @Test
    void anEntryDueAfterATimedNapEndsDoesNotWakeTheThreadButOneDueBeforeDoes() {
        Timer timer = new Timer();
        timer.firedBy(Thread.currentThread());
        clearPermit();
        long now = System.nanoTime();
        long nap = TimeUnit.SECONDS.toNanos(10);
        assertThat(timer.beginNap(now, nap)).isEqualTo(nap);
        Thread late = new Thread(() -> timer.schedule(new Entry(), now + 2 * nap));
        late.start();
        joinQuietly(late);
        assertThat(hadPermit(TimeUnit.MILLISECONDS.toNanos(200))).as("a deadline after the nap: no unpark").isFalse();
        Thread early = new Thread(() -> timer.schedule(new Entry(), now + nap / 2));
        early.start();
        joinQuietly(early);
        assertThat(hadPermit(TimeUnit.SECONDS.toNanos(5))).as("a deadline within the nap: unparked").isTrue();
        timer.endNap();
    }

    @Test
    void anEntryArmedBeforeTheNapShortensIt() {
        Timer timer = new Timer();
        long now = System.nanoTime();
        timer.schedule(new Entry(), now + TimeUnit.MILLISECONDS.toNanos(5));
        long wait = timer.beginNap(now, TimeUnit.SECONDS.toNanos(10));
        timer.endNap();
        assertThat(wait).as("cut to the armed deadline").isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(5));
    }

    static void joinQuietly(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertThat(t.isAlive()).isFalse();
    }
}
