package dev.cmwq4j.tools;

/** The worker-pool MXBean contract as the tests publish it. */
public interface FakePoolMXBean {
    String getName();
    String getCmwq();
    int getCpu();
    boolean isHighPriority();
    int getWorkers();
    int getIdle();
    int getRunning();
    int getBlocked();
    int getDetected();
    int getCpuIntensive();
    int getNrRunning();
    int getTarget();
    int getPending();
    java.util.List<String> getRunningWorks();
}
