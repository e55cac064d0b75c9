package dev.cmwq4j.internal;

/** Test-only views of a work node's state word, for tests outside this package. */
public final class NodeProbe {
    private NodeProbe() {}

    /** The pending instance was handed to the worker that runs the previous one. */
    public static boolean handedOff(WorkNode n) {
        return (n.state & WorkNode.HANDOFF) != 0;
    }
}
