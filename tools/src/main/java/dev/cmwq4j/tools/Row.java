package dev.cmwq4j.tools;

import java.util.Map;

/**
 * One cmwq4j MBean as read at one moment: a workqueue or a worker pool.
 *
 * @param cmwq       the engine the MBean belongs to (the {@code cmwq} key of its object name,
 *                   unquoted), or {@code "-"} when the name has no such key
 * @param name       the workqueue or pool name (the {@code name} key, unquoted)
 * @param attributes the attributes that could be read, by attribute name; an attribute the MBean
 *                   does not have (an older or newer cmwq4j) is simply absent
 */
record Row(String cmwq, String name, Map<String, Object> attributes) {
    Row {
        attributes = Map.copyOf(attributes);
    }

    /** The attribute's value, or null when the MBean did not publish it. */
    Object get(String attribute) {
        return attributes.get(attribute);
    }

    /** Identifies the same MBean across snapshots (for rates). */
    String key() {
        return cmwq + '\u0000' + name;
    }
}
