package dev.cmwq4j.internal;

import java.util.ResourceBundle;

/**
 * A {@link System.Logger} that asks {@link System#getLogger} for the real one only when something
 * is first logged or asked of it. The first {@code System.getLogger} call of a JVM finds and starts
 * the logging back end (the {@code LoggerFinder} service lookup, {@code java.util.logging}'s
 * configuration): about 25 ms of CPU in a fresh JVM, which the engine's static loggers would
 * otherwise charge to the first use of cmwq4j, although most programs never log from it.
 *
 * <p>The methods the interface leaves abstract are forwarded; its default methods reach them, as
 * they would on the real logger. Logging back ends find the caller by skipping
 * {@code System.Logger} implementations on the stack, so records name the same caller as before.
 */
final class LazyLogger implements System.Logger {
    private final String name;
    /**
     * The real logger, or null until first needed. Racy: any thread that finds it null asks
     * {@code System.getLogger} (which answers every caller alike) and writes it.
     */
    private volatile System.Logger logger;

    LazyLogger(String name) {
        this.name = name;
    }

    /**
     * Replaces the logger messages go to (tests capture the log this way: the tests' module does
     * not read {@code java.logging}); null goes back to {@code System.getLogger} on the next
     * message. Returns the one it replaced, which may be null.
     */
    System.Logger replace(System.Logger l) {
        System.Logger old = logger;
        logger = l;
        return old;
    }

    private System.Logger logger() {
        System.Logger l = logger;
        if (l == null) {
            l = System.getLogger(name);
            logger = l;
        }
        return l;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean isLoggable(Level level) {
        return logger().isLoggable(level);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        logger().log(level, bundle, msg, thrown);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        logger().log(level, bundle, format, params);
    }
}
