package io.deskgate.common;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One short line per expected failure, at most {@code linesPerWindow} lines per {@code window} for each
 * reason; the lines held back are counted and the next line of that reason says how many. A
 * {@link Throwable} argument is logged as its {@code toString()}, never as a stack trace: the failures
 * logged here are expected (a bad token, a client that hung up, a garbage frame), so a flood of them
 * costs a few lines and no stack. Reasons are fixed texts chosen by the caller (never user input);
 * past {@link #MAX_REASONS} distinct reasons the rest share one budget. Time is an input (a
 * nanosecond clock). Thread-safe.
 */
public final class RateLimitedLog {
    public static final int DEFAULT_LINES_PER_WINDOW = 5;
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
    static final int MAX_REASONS = 64;
    private static final String OTHER = "(other reasons)";

    private static final class Budget {
        long windowStartNs;
        int lines;
        long suppressed;
    }

    private final Logger log;
    private final int linesPerWindow;
    private final long windowNs;
    private final LongSupplier nanoTime;
    private final Map<String, Budget> budgets = new HashMap<>();
    private long suppressedTotal;

    /** {@value #DEFAULT_LINES_PER_WINDOW} lines per 10 s per reason, on {@link System#nanoTime()}. */
    public RateLimitedLog(Logger log) {
        this(log, DEFAULT_LINES_PER_WINDOW, DEFAULT_WINDOW, System::nanoTime);
    }

    public RateLimitedLog(Logger log, int linesPerWindow, Duration window, LongSupplier nanoTime) {
        if (linesPerWindow < 1) throw new IllegalArgumentException("linesPerWindow must be at least 1");
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive");
        this.log = java.util.Objects.requireNonNull(log, "log");
        this.linesPerWindow = linesPerWindow;
        this.windowNs = window.toNanos();
        this.nanoTime = java.util.Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /** Logs a WARN line for {@code reason} unless its budget is spent; returns whether it logged. */
    public boolean warn(String reason, String format, Object... args) {
        Object[] a = admit(reason, args);
        if (a == null) return false;
        log.warn(format + suffix(a), trimmed(a));
        return true;
    }

    /** Logs an INFO line for {@code reason} unless its budget is spent; returns whether it logged. */
    public boolean info(String reason, String format, Object... args) {
        Object[] a = admit(reason, args);
        if (a == null) return false;
        log.info(format + suffix(a), trimmed(a));
        return true;
    }

    /** Lines held back since this log was made, over every reason. */
    public synchronized long suppressed() {
        return suppressedTotal;
    }

    /**
     * The arguments to log, with the count of lines held back appended (a Long, possibly 0), or null when
     * the reason's budget for this window is spent.
     */
    private synchronized Object[] admit(String reason, Object[] args) {
        long now = nanoTime.getAsLong();
        String key = budgets.containsKey(reason) || budgets.size() < MAX_REASONS ? reason : OTHER;
        Budget b = budgets.get(key);
        if (b == null) {
            b = new Budget();
            b.windowStartNs = now;
            budgets.put(key, b);
        } else if (now - b.windowStartNs >= windowNs) {
            b.windowStartNs = now;
            b.lines = 0;
        }
        if (b.lines >= linesPerWindow) {
            b.suppressed++;
            suppressedTotal++;
            return null;
        }
        b.lines++;
        long held = b.suppressed;
        b.suppressed = 0;
        Object[] out = Arrays.copyOf(args, args.length + 1);
        for (int i = 0; i < args.length; i++) {
            if (out[i] instanceof Throwable t) out[i] = t.toString();
        }
        out[args.length] = held;
        return out;
    }

    private static String suffix(Object[] admitted) {
        return (Long) admitted[admitted.length - 1] > 0 ? " ({} similar lines suppressed)" : "";
    }

    private static Object[] trimmed(Object[] admitted) {
        return (Long) admitted[admitted.length - 1] > 0 ? admitted : Arrays.copyOf(admitted, admitted.length - 1);
    }
}
