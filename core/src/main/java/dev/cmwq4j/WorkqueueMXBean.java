package dev.cmwq4j;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The JMX view of one workqueue, registered on the platform MBean server as
 * {@code dev.cmwq4j:type=Workqueue,cmwq=<instance name>,name=<workqueue name>} while the
 * workqueue is open (values that contain JMX special characters are quoted with
 * {@link javax.management.ObjectName#quote}). Every attribute is read-only. The attributes read
 * one {@link WorkqueueStats} snapshot, reused for 20 ms, so a client that reads them all at once
 * gets numbers from one moment; see {@link WorkqueueStats} for their meaning.
 */
public interface WorkqueueMXBean {
    /** {@return the workqueue's name} */
    String getName();

    /** {@return the name of the {@link Cmwq} instance it runs on} */
    String getCmwq();

    /** {@return the number of works executed to the end} */
    long getTotal();

    /** {@return the number of works queued or running now} */
    long getInFlight();

    /** {@return the CPU time of its works, in nanoseconds} */
    long getCpuTimeNanos();

    /** {@return the number of CPU-intensive violations} */
    long getCpuIntensive();

    /** {@return the number of concurrency-management wakeups} */
    long getCmWakeups();

    /** {@return the number of maydays sent to its rescuer} */
    long getMaydays();

    /** {@return the number of works its rescuer ran} */
    long getRescued();

    /** {@return the number of blocks announced through {@link Blocking}} */
    long getBlocksAnnounced();

    /** {@return the number of blocks observed by the monitor} */
    long getBlocksDetected();

    /**
     * {@return the 50th percentile of the queue-to-start latency, in ns} An upper bound, within a
     * factor of two.
     */
    long getQueueLatencyP50Nanos();

    /**
     * {@return the 99th percentile of the queue-to-start latency, in ns} An upper bound, within a
     * factor of two.
     */
    long getQueueLatencyP99Nanos();

    /** {@return the longest queue-to-start latency, in ns} */
    long getQueueLatencyMaxNanos();

    /**
     * {@return the 50th percentile of the execution time, in ns} An upper bound, within a factor of
     * two.
     */
    long getExecTimeP50Nanos();

    /**
     * {@return the 99th percentile of the execution time, in ns} An upper bound, within a factor of
     * two.
     */
    long getExecTimeP99Nanos();

    /** {@return the longest execution time, in ns} */
    long getExecTimeMaxNanos();

    /** {@return its {@code maxActive}} */
    int getMaxActive();

    /** {@return whether it is unbound} */
    boolean isUnbound();

    /** {@return whether it is high-priority} */
    boolean isHighPriority();

    /** {@return whether it is ordered} */
    boolean isOrdered();

    /**
     * {@return the blocking-site profile, {@link WorkqueueStats#blockingSites()}: where its works
     * blocked without announcing it, longest blocked time first} A JMX client reads an array of
     * {@code CompositeData} with the items of {@link SiteInfo}: {@code site}, {@code stack},
     * {@code count}, {@code blockedNanos}.
     */
    List<SiteInfo> getBlockingSites();

    /**
     * One blocking site as JMX shows it: plain text and numbers, so that any JMX client can read
     * it (as {@code CompositeData} items of the same names) without cmwq4j's classes.
     *
     * @param site the top frame, the call that blocked, as {@link BlockingSite#site()} gives it
     *     ({@code com.example.Dao.lookup(Dao.java:42)}; {@code (other)} for the other entry)
     * @param stack the site's frames, top first, each as {@link StackTraceElement#toString()}
     * @param count sampled unannounced blocks attributed to the site
     * @param blockedNanos their blocked time, in nanoseconds
     */
    record SiteInfo(String site, String[] stack, long count, long blockedNanos) {
        /**
         * Checks for nulls and copies the stack.
         *
         * @throws NullPointerException if {@code site} or {@code stack} is null
         */
        public SiteInfo {
            Objects.requireNonNull(site, "site");
            stack = Objects.requireNonNull(stack, "stack").clone();
        }

        /** {@return a copy of the frames, top first} */
        @Override
        public String[] stack() {
            return stack.clone();
        }

        /** Equal when the site, the frames and the numbers are. */
        @Override
        public boolean equals(Object o) {
            return o instanceof SiteInfo i && i.site.equals(site) && Arrays.equals(i.stack, stack) && i.count == count
                    && i.blockedNanos == blockedNanos;
        }

        @Override
        public int hashCode() {
            return Objects.hash(site, Arrays.hashCode(stack), count, blockedNanos);
        }

        @Override
        public String toString() {
            return "SiteInfo[" + site + ", count=" + count + ", blockedNanos=" + blockedNanos + "]";
        }

        /** The JMX view of {@code s}. */
        static SiteInfo of(BlockingSite s) {
            StackTraceElement[] frames = s.stack();
            String[] text = new String[frames.length];
            for (int i = 0; i < frames.length; i++) {
                text[i] = frames[i].toString();
            }
            return new SiteInfo(s.site(), text, s.count(), s.blockedNanos());
        }
    }
}
