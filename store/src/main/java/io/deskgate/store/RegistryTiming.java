package io.deskgate.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.Objects;

/**
 * How often an instance heartbeats and how long a silent one still counts as live. Immutable; validated
 * when built. Every role of a fleet should use the same timing: readers judge rows by their own timeout.
 * The config file's {@code registry} section sets it through {@link Builder}.
 *
 * @param interval between two heartbeats of one instance; default 2 s
 * @param timeout  an instance whose last heartbeat is older is gone; at least twice the interval, so one
 *                 lost heartbeat is not a death; default 6 s
 */
public record RegistryTiming(Duration interval, Duration timeout) {
    public static final RegistryTiming DEFAULT = new RegistryTiming(Duration.ofSeconds(2), Duration.ofSeconds(6));

    public RegistryTiming {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("heartbeat-interval must be positive");
        }
        if (timeout == null || timeout.compareTo(interval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("timeout must be at least twice the interval between heartbeats ("
                    + interval.toMillis() + " ms): " + (timeout == null ? "none" : timeout.toMillis() + " ms"));
        }
    }

    /** A builder holding the defaults. */
    public static Builder builder() { return new Builder(); }

    /** Builds a {@link RegistryTiming}; the methods marked {@code @JsonProperty} are the keys of the {@code registry} section. */
    public static final class Builder {
        private Duration interval = DEFAULT.interval();
        private Duration timeout = DEFAULT.timeout();

        private Builder() {}

        @JsonProperty public Builder heartbeatInterval(Duration every) { interval = Objects.requireNonNull(every); return this; }

        @JsonProperty public Builder timeout(Duration silentFor) { timeout = Objects.requireNonNull(silentFor); return this; }

        /** @throws IllegalArgumentException when the interval is not positive or the timeout under twice it */
        public RegistryTiming build() {
            return new RegistryTiming(interval, timeout);
        }
    }
}
