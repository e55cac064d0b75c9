package dev.cmwq4j;

import dev.cmwq4j.internal.WaitProtocol;
import dev.cmwq4j.internal.WorkNode;
import java.util.Comparator;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * A domain of asynchronous function calls with cookies: the kernel's {@code async_schedule} and
 * {@code async_synchronize_cookie}.
 *
 * <p>{@link #schedule} starts a function on the domain's workqueue and returns its cookie; cookies
 * grow in scheduling order. Functions run in parallel. {@link #synchronizeCookie(long)} waits until
 * every function scheduled before a cookie has finished, and for nothing scheduled after it;
 * {@link #synchronizeFull()} waits until nothing of the domain is pending or running. Domains are
 * independent: synchronizing one never waits for another.
 *
 * <pre>{@code
 * AsyncDomain probes = new AsyncDomain("probes");
 * for (Device d : devices) {
 *     probes.schedule(cookie -> {
 *         Driver drv = d.probe();              // slow, in parallel with the other probes
 *         probes.synchronizeCookie(cookie);   // wait for the earlier probes ...
 *         registry.add(drv);                   // ... so that devices register in order
 *     });
 * }
 * probes.synchronizeFull();
 * }</pre>
 *
 * <h2>Degrading instead of failing</h2>
 * As in the kernel, {@code schedule} never fails for lack of resources and never loses a
 * function: when the domain already has {@value #MAX_PENDING} functions pending, when the
 * workqueue cannot get a thread (the {@link Cmwq}'s thread cap is reached or thread creation
 * fails, and no worker is idle), or when memory runs out, the function runs synchronously, in the
 * caller, before {@code schedule} returns.
 *
 * <h2>Implementation overview</h2>
 * Each scheduled function is an entry on a list in cookie order, under {@code lock}; the entry is
 * itself the action of a one-shot {@link Work}. An entry leaves the list when its function ends;
 * the lowest cookie still on the list is thus the oldest unfinished function, and a synchronizer
 * for cookie c waits (as an announced block on a worker) until that is at least c. Before it
 * waits, a synchronizer on a worker runs unstarted functions it waits for in place
 * ({@code Helping}). A function run in the caller for lack of memory has no entry: it is counted
 * in {@code untracked}, and synchronizers conservatively wait for such runs too while any with a
 * lower cookie than theirs is in progress.
 */
public final class AsyncDomain {
    /** Pending functions per domain beyond which {@code schedule} runs them in the caller. */
    public static final int MAX_PENDING = 32_768;

    private final String name;
    private final Workqueue wq;
    private final int maxPending;

    private final ReentrantLock lock = new ReentrantLock();
    /** Entries in cookie order, oldest first; under {@link #lock}. */
    private Entry head, tail;
    /** Entries on the list; under {@link #lock}. */
    private int pending;
    /** The cookie of the next function; under {@link #lock}. */
    private long nextCookie = 1;
    /** Functions running in a caller without an entry (out of memory); under {@link #lock}. */
    private int untracked;
    /** Lowest cookie among those untracked runs (conservative); under {@link #lock}. */
    private long untrackedLow;
    /**
     * Threads waiting in {@link #synchronizeCookie}, lowest cookie first; under {@link #lock}.
     * Progress releases only those whose cookie it satisfied, so a completion wakes no one
     * needlessly (waking all of them made the probe pattern quadratic).
     */
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(w -> w.cookie));
    /** Waiters woken so far; under {@link #lock}. Each is woken once, when its wait is over. */
    private long wakeups;

    /** One thread waiting for every function before {@link #cookie}; its fields under {@link #lock}. */
    private static final class Waiter {
        final long cookie;
        final Condition released;
        boolean done;

        Waiter(long cookie, Condition released) {
            this.cookie = cookie;
            this.released = released;
        }
    }

    /**
     * The innermost function of any domain running on this thread (helping nests them), for the
     * self-wait check: an {@link Entry} chain through {@link Entry#outer}.
     */
    private static final ThreadLocal<Entry> RUNNING = new ThreadLocal<>();

    /**
     * A domain whose functions run on {@link Workqueues#systemUnbound()}, as the kernel's do.
     *
     * @param name the domain's name, for {@link #toString()} and error messages
     * @throws NullPointerException if {@code name} is null
     */
    public AsyncDomain(String name) {
        this(name, Workqueues.systemUnbound());
    }

    /**
     * A domain whose functions run on {@code wq}.
     *
     * @param name the domain's name, for {@link #toString()} and error messages
     * @param wq the workqueue the functions run on; not ordered
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code wq} is ordered: its functions could not run in
     *     parallel
     */
    public AsyncDomain(String name, Workqueue wq) {
        this(name, wq, MAX_PENDING);
    }

    AsyncDomain(String name, Workqueue wq, int maxPending) {
        this.name = Objects.requireNonNull(name, "name");
        this.wq = Objects.requireNonNull(wq, "wq");
        if (wq.isOrdered()) {
            throw new IllegalArgumentException("async domain '" + name + "' needs a workqueue that runs works in "
                    + "parallel; '" + wq.name() + "' is ordered");
        }
        this.maxPending = maxPending;
    }

    /** {@return the name given to the constructor} */
    public String name() {
        return name;
    }

    /** {@return the workqueue the functions run on} */
    public Workqueue workqueue() {
        return wq;
    }

    /**
     * {@return the number of functions scheduled and not yet finished} Those run in a caller for
     * lack of memory are not counted.
     */
    public int pending() {
        lock.lock();
        try {
            return pending;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Scheduling.

    /**
     * Schedules {@code fn} to run asynchronously.
     *
     * @param fn the function; what it throws goes to the failure handler of the workqueue's
     *     {@link Cmwq}, unless it ran in the caller for lack of memory (then it reaches the caller)
     * @return its cookie: {@code synchronizeCookie(cookie)} waits for the functions scheduled
     *     before it, {@code synchronizeCookie(cookie + 1)} for it as well
     * @throws NullPointerException if {@code fn} is null
     * @throws RejectedExecutionException if the workqueue is closed (or draining); nothing is
     *     scheduled then
     */
    public long schedule(Runnable fn) {
        Objects.requireNonNull(fn, "fn");
        return schedule(fn, null);
    }

    /**
     * Schedules {@code fn} to run asynchronously; it receives its own cookie, so that it can
     * {@linkplain #synchronizeCookie(long) wait} for the functions scheduled before it.
     *
     * @param fn the function, called with its own cookie; what it throws is handled as for
     *     {@link #schedule(Runnable)}
     * @return its cookie
     * @throws NullPointerException if {@code fn} is null
     * @throws RejectedExecutionException if the workqueue is closed (or draining)
     */
    public long schedule(LongConsumer fn) {
        Objects.requireNonNull(fn, "fn");
        return schedule(null, fn);
    }

    private long schedule(Runnable fn, LongConsumer cfn) {
        Entry e;
        try {
            e = new Entry(fn, cfn);
            e.work = new Work(e);
        } catch (OutOfMemoryError oom) {
            return runUntracked(fn, cfn);
        }
        boolean inCaller;
        lock.lock();
        try {
            e.cookie = nextCookie++;
            append(e);
            pending++;
            inCaller = pending > maxPending || wq.core.starvedOfThreads();
        } finally {
            lock.unlock();
        }
        if (inCaller) {
            runInCaller(e);
            return e.cookie;
        }
        try {
            wq.queue(e.work);
        } catch (RejectedExecutionException rejected) {
            finished(e);
            throw rejected;
        } catch (OutOfMemoryError oom) {
            runInCaller(e);
        }
        return e.cookie;
    }

    /** Runs a tracked entry in the calling thread; what it throws goes to the failure handler. */
    private void runInCaller(Entry e) {
        e.run();
    }

    /**
     * Out of memory for an entry: runs the function in the caller without one. What it throws
     * reaches the caller (reporting it could need memory too).
     */
    private long runUntracked(Runnable fn, LongConsumer cfn) {
        long cookie;
        lock.lock();
        try {
            cookie = nextCookie++;
            if (untracked++ == 0) {
                untrackedLow = cookie;
            }
        } finally {
            lock.unlock();
        }
        try {
            if (fn != null) {
                fn.run();
            } else {
                cfn.accept(cookie);
            }
        } finally {
            lock.lock();
            try {
                untracked--;
                releaseSatisfied();
            } finally {
                lock.unlock();
            }
        }
        return cookie;
    }

    // ------------------------------------------------------------------------------------------
    // Synchronizing.

    /**
     * Waits until every function of this domain scheduled before {@code cookie} (with a lower
     * cookie) has finished. Functions scheduled at or after {@code cookie} are not waited for.
     * Called from a work, it first runs waited-for functions that have not started in place
     * (helping), then waits as an announced block. Uninterruptible; the interrupt status is kept.
     *
     * @param cookie the cookie to wait up to (exclusive), as {@link #schedule} returned it
     * @throws IllegalStateException if the calling thread is running a function of this domain
     *     with a lower cookie, which would wait for itself
     */
    public void synchronizeCookie(long cookie) {
        boolean mayHelp = true; // until a help fails: off a worker, at the first try
        lock.lock();
        try {
            checkNotWaitingForSelf(cookie);
            while (!finishedBefore(cookie)) {
                if (mayHelp) {
                    Entry h = firstUnstartedBefore(cookie);
                    if (h != null) {
                        WaitProtocol.checkNoDeadlock(h.work.node, "synchronize", h.work);
                        lock.unlock();
                        try {
                            mayHelp = WaitProtocol.help(h.work.node);
                        } finally {
                            lock.lock();
                        }
                        continue;
                    }
                }
                awaitProgress(cookie);
                mayHelp = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waiters woken so far; each only once its wait was over (tests). */
    long wakeups() {
        lock.lock();
        try {
            return wakeups;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no function of this domain is pending or running, including functions
     * scheduled while it waits (say, by the functions themselves). To wait only for what was
     * scheduled so far, use {@link #synchronizeCookie(long)} with the last cookie plus one.
     *
     * @throws IllegalStateException if called from a function of this domain
     */
    public void synchronizeFull() {
        synchronizeCookie(Long.MAX_VALUE);
    }

    /** Every function with a cookie below {@code cookie} has finished. Lock. */
    private boolean finishedBefore(long cookie) {
        return cookie <= lowestUnfinished();
    }

    /** The lowest cookie whose function may not have finished, or Long.MAX_VALUE. Lock. */
    private long lowestUnfinished() {
        long low = head == null ? Long.MAX_VALUE : head.cookie;
        return untracked == 0 ? low : Math.min(low, untrackedLow);
    }

    /** Looks this far down the list for a function to help. */
    private static final int HELP_SCAN = 64;

    /** An entry before {@code cookie} whose function has not started, near the head. Lock. */
    private Entry firstUnstartedBefore(long cookie) {
        int n = 0;
        for (Entry e = head; e != null && e.cookie < cookie && n < HELP_SCAN; e = e.next, n++) {
            if (e.work.isPending()) {
                return e;
            }
        }
        return null;
    }

    /** O(help depth): the functions this thread runs, innermost first, not the whole list. */
    private void checkNotWaitingForSelf(long cookie) {
        for (Entry e = RUNNING.get(); e != null; e = e.outer) {
            if (e.domain() == this && e.cookie < cookie) {
                throw new IllegalStateException("function " + e.cookie + " of async domain '" + name
                        + "' synchronizes up to cookie " + cookie + ": it would wait for itself");
            }
        }
    }

    /**
     * Waits, through the {@link WaitProtocol} (check, lend to every awaited function, announce),
     * until progress satisfies {@code cookie}: only then is this waiter woken. Lock held; the
     * engine never takes a domain's lock, so the pool locks a loan takes cannot deadlock with it.
     */
    private void awaitProgress(long cookie) {
        WorkNode[] awaited = unfinishedBefore(cookie);
        for (WorkNode n : awaited) {
            WaitProtocol.checkNoDeadlock(n, "synchronize", n);
        }
        WaitProtocol.Wait wait = WaitProtocol.enterWorks(awaited);
        Waiter me = new Waiter(cookie, lock.newCondition());
        waiters.add(me);
        try {
            while (!me.done) {
                me.released.awaitUninterruptibly();
            }
        } finally {
            if (!me.done) {
                waiters.remove(me); // left by an Error: take it back
            }
            WaitProtocol.exit(wait);
        }
    }

    /** The works of the functions before {@code cookie} that have not finished, in cookie order. Lock. */
    private WorkNode[] unfinishedBefore(long cookie) {
        int n = 0;
        for (Entry e = head; e != null && e.cookie < cookie; e = e.next) {
            n++;
        }
        WorkNode[] nodes = new WorkNode[n];
        int i = 0;
        for (Entry e = head; i < n; e = e.next) {
            nodes[i++] = e.work.node;
        }
        return nodes;
    }

    /** Wakes the waiters whose cookie the functions finished so far satisfy, and no others. Lock. */
    private void releaseSatisfied() {
        if (waiters.isEmpty()) {
            return;
        }
        long low = lowestUnfinished();
        for (Waiter first = waiters.peek(); first != null && first.cookie <= low; first = waiters.peek()) {
            waiters.poll();
            first.done = true;
            wakeups++;
            first.released.signal();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The list.

    private void append(Entry e) {
        e.prev = tail;
        if (tail == null) {
            head = e;
        } else {
            tail.next = e;
        }
        tail = e;
    }

    /** An entry's function ended: take it off the list and wake synchronizers if it was oldest. */
    private void finished(Entry e) {
        lock.lock();
        try {
            boolean wasHead = e == head;
            if (e.prev == null) {
                head = e.next;
            } else {
                e.prev.next = e.next;
            }
            if (e.next == null) {
                tail = e.prev;
            } else {
                e.next.prev = e.prev;
            }
            e.prev = null;
            e.next = null;
            pending--;
            if (wasHead) {
                releaseSatisfied();
            }
        } finally {
            lock.unlock();
        }
    }

    /** One scheduled function: a list entry and the action of its one-shot work. */
    private final class Entry implements Runnable {
        final Runnable fn;
        final LongConsumer cfn;
        /** Written under {@link #lock} before the work is queued. */
        long cookie;
        /** List links; under {@link #lock}. */
        Entry prev, next;
        /** Written once by {@code schedule}, before queueing. */
        Work work;
        /** The function of any domain this thread ran when it started this one (helping nests). */
        private Entry outer;

        Entry(Runnable fn, LongConsumer cfn) {
            this.fn = fn;
            this.cfn = cfn;
        }

        /**
         * Runs the function; what it throws goes to the failure handler before the entry leaves
         * the list, so a synchronizer that returns sees the failure reported.
         */
        AsyncDomain domain() {
            return AsyncDomain.this;
        }

        @Override
        public void run() {
            outer = RUNNING.get();
            RUNNING.set(this);
            try {
                if (fn != null) {
                    fn.run();
                } else {
                    cfn.accept(cookie);
                }
            } catch (Throwable t) {
                wq.core.reportFailure(work.node, t);
            } finally {
                if (outer == null) {
                    RUNNING.remove();
                } else {
                    RUNNING.set(outer);
                }
                outer = null;
                finished(this);
            }
        }

        @Override
        public String toString() {
            return "async function " + cookie + " of domain '" + name + "': "
                    + dev.cmwq4j.internal.WorkNode.defaultName(fn != null ? fn : cfn);
        }
    }

    @Override
    public String toString() {
        return "AsyncDomain[" + name + "]";
    }
}
