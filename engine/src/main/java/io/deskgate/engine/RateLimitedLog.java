package io.deskgate.engine;

import org.slf4j.Logger;

/**
 * Logs one line per interval at most, counting what it held back, so that a flood of bad datagrams
 * cannot flood the log. Thread-safe.
 */
final class RateLimitedLog {
    private final Logger log;
    private final long intervalNs;
    private long nextNs = Long.MIN_VALUE;
    private long suppressed;

    RateLimitedLog(Logger log, long intervalNs) {
        this.log = log;
        this.intervalNs = intervalNs;
    }

    synchronized void warn(long nowNs, String format, Object... args) {
        if (nextNs != Long.MIN_VALUE && nowNs - nextNs < 0) {
            suppressed++;
            return;
        }
        nextNs = nowNs + intervalNs;
        if (suppressed > 0) {
            log.warn(format + " ({} similar lines suppressed)", append(args, suppressed));
            suppressed = 0;
        } else {
            log.warn(format, args);
        }
    }

    private static Object[] append(Object[] args, Object last) {
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = last;
        return all;
    }
}
