package io.deskgate.frontdoor;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * One short log line per kind of expected failure (a client hanging up, an unusable user name) per
 * {@code interval}: the rest are counted and the count is added to the next line. Never a stack trace.
 * Kinds are a small fixed set chosen by the caller, never request data. Thread-safe.
 */
final class RateLimitedLog {
    private final Logger log;
    private final Duration interval;
    private final Clock clock;
    private final ConcurrentHashMap<String, Instant> lastLine = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicLong> suppressed = new ConcurrentHashMap<>();

    RateLimitedLog(Logger log, Duration interval, Clock clock) {
        this.log = log;
        this.interval = interval;
        this.clock = clock;
    }

    /** Logs {@code message} (already free of secrets) at INFO unless a line of {@code kind} was logged within the interval. */
    void info(String kind, String message) {
        if (admit(kind)) {
            long more = suppressed.computeIfAbsent(kind, k -> new AtomicLong()).getAndSet(0);
            log.info(more > 0 ? message + " (" + more + " similar since the last line)" : message);
        }
    }

    /** Whether a line of {@code kind} may be logged now; counts it as suppressed otherwise. */
    boolean admit(String kind) {
        Instant now = clock.instant();
        boolean[] admitted = {false};
        lastLine.compute(kind, (k, last) -> {
            if (last == null || !now.isBefore(last.plus(interval))) {
                admitted[0] = true;
                return now;
            }
            return last;
        });
        if (!admitted[0]) suppressed.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        return admitted[0];
    }
}
