package io.deskgate.store;

import java.time.Duration;

/**
 * How often an instance heartbeats and how long a silent one still counts as live. Immutable; validated
 * when built. Every role of a fleet should use the same timing: readers judge rows by their own timeout.
 *
 * @param interval between two heartbeats of one instance; default 2 s
 * @param timeout  an instance whose last heartbeat is older is gone; at least twice the interval, so one
 *                 lost heartbeat is not a death; default 6 s
 */
public record RegistryTiming(Duration interval, Duration timeout) {
    public static final RegistryTiming DEFAULT = new RegistryTiming(Duration.ofSeconds(2), Duration.ofSeconds(6));

    public RegistryTiming {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("registry heartbeat interval must be positive");
        }
        if (timeout == null || timeout.compareTo(interval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("registry timeout must be at least twice the heartbeat interval ("
                    + interval.toMillis() + " ms): " + (timeout == null ? "none" : timeout.toMillis() + " ms"));
        }
    }
}
