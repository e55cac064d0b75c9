package dev.cmwq4j;

import dev.cmwq4j.internal.EngineProbe;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Captures what the library logs while open (it replaces the library's logger; the messages do
 * not reach the real one meanwhile). Close it to restore the previous logger.
 */
final class CapturedLog implements System.Logger, AutoCloseable {
    /** One logged message: its level, text (the unformatted pattern for a parameterized one) and throwable. */
    record Entry(System.Logger.Level level, String message, Throwable thrown) {}

    final List<Entry> entries = new CopyOnWriteArrayList<>();
    private final System.Logger previous;

    CapturedLog() {
        previous = EngineProbe.replaceLog(this);
    }

    List<String> messages() {
        return entries.stream().map(Entry::message).toList();
    }

    @Override
    public String getName() {
        return "dev.cmwq4j";
    }

    @Override
    public boolean isLoggable(Level level) {
        return true;
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        entries.add(new Entry(level, msg, thrown));
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        entries.add(new Entry(level, format, null));
    }

    @Override
    public void close() {
        EngineProbe.replaceLog(previous);
    }
}
