package dev.cmwq4j.tools;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Connects to a running JVM's platform MBean server by pid, with nothing configured in the
 * target: the Attach API asks the target to start its local JMX agent (or returns the one already
 * running), whose connector address is then used like any JMX service URL. Both JVMs must run as
 * the same user, and the target must not run with {@code -XX:+DisableAttachMechanism}.
 */
final class Attach {
    private Attach() {}

    /**
     * Attaches to {@code pid} and opens a JMX connection to it; close the connector when done.
     *
     * @throws IOException when the JVM cannot be attached to or its agent not reached; the message
     *                     says which
     */
    static JMXConnector connect(String pid) throws IOException {
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException e) {
            throw new IOException("cannot attach to pid " + pid + " (not a JVM, gone, or another"
                    + " user's): " + e.getMessage(), e);
        }
        try {
            String address = vm.startLocalManagementAgent();
            return JMXConnectorFactory.connect(new JMXServiceURL(address));
        } finally {
            vm.detach();
        }
    }
}
