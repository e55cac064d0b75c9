package dev.cmwq4j.tools;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Finds JVMs and connects to their platform MBean server, with nothing configured in the target:
 * the Attach API asks the target to start its local JMX agent (or returns the one already
 * running), whose connector address is then used like any JMX service URL. Both JVMs must run as
 * the same user, and the target must not run with {@code -XX:+DisableAttachMechanism} or
 * {@code -XX:-UsePerfData} (then it is not listed by name either, as with {@code jps}).
 *
 * <p>A target is a pid, or, like {@code jcmd}, part of a main class name (or jar path) as
 * {@code jps -l} shows it.
 */
final class Attach {
    private Attach() {}

    /**
     * A running JVM that matched a name.
     *
     * @param pid       its process id
     * @param mainClass its main class or jar, as {@code jps -l} shows it
     * @param started   when the process started, or {@link Instant#MIN} when unknown
     */
    record Candidate(String pid, String mainClass, Instant started) {}

    /** True when {@code target} is a pid rather than a name. */
    static boolean isPid(String target) {
        return !target.isEmpty() && target.chars().allMatch(Character::isDigit);
    }

    /** The running JVMs (this one excluded) whose main class or jar contains {@code name}. */
    static List<Candidate> candidates(String name) {
        String self = Long.toString(ProcessHandle.current().pid());
        return VirtualMachine.list().stream()
                .filter(vm -> !vm.id().equals(self))
                .map(vm -> new Candidate(vm.id(), vm.displayName().split(" ", 2)[0],
                        started(vm.id())))
                .filter(c -> c.mainClass().contains(name))
                .toList();
    }

    /** The most recently started candidate whose pid is not in {@code skip}. */
    static Optional<Candidate> newest(List<Candidate> candidates, Set<String> skip) {
        return candidates.stream()
                .filter(c -> !skip.contains(c.pid()))
                .max(Comparator.comparing(Candidate::started)
                        .thenComparing(c -> Long.parseLong(c.pid())));
    }

    /**
     * The pid of {@code target}: the target itself when it is a pid, else the one JVM whose main
     * class contains it.
     *
     * @throws IOException when no JVM or more than one matches, listing them
     */
    static String pidOf(String target) throws IOException {
        if (isPid(target)) {
            return target;
        }
        List<Candidate> matches = candidates(target);
        if (matches.size() == 1) {
            return matches.get(0).pid();
        }
        if (matches.isEmpty()) {
            throw new IOException("no JVM whose main class contains '" + target
                    + "' (see jps -l)");
        }
        throw new IOException(matches.size() + " JVMs match '" + target + "': "
                + matches.stream().map(c -> c.pid() + " " + c.mainClass())
                        .collect(Collectors.joining(", ")) + "; give a pid");
    }

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
            throw new IOException("cannot attach (not a JVM, gone, or another user's): "
                    + e.getMessage(), e);
        }
        try {
            String address = vm.startLocalManagementAgent();
            return JMXConnectorFactory.connect(new JMXServiceURL(address));
        } finally {
            vm.detach();
        }
    }

    private static Instant started(String pid) {
        try {
            return ProcessHandle.of(Long.parseLong(pid))
                    .flatMap(h -> h.info().startInstant())
                    .orElse(Instant.MIN);
        } catch (NumberFormatException e) {
            return Instant.MIN;
        }
    }
}
