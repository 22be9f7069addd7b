package io.deskgate.engine;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;

/**
 * The flow-control limit and the timers of every transcoding instance of an engine (docs/protocol.md §1.2):
 * the one place they are configured ({@link EngineConfig#limits()}). Validated when built.
 *
 * @param maxFramesInFlight unacknowledged frames at most; default {@value #DEFAULT_MAX_FRAMES_IN_FLIGHT}
 * @param stallTimeoutNs    first step of the stall safety net (it doubles each time it fires, up to
 *                          {@link FlowControl#MAX_STALL_BACKOFF_NS}); default 1 s
 * @param viewerGraceNs     how long a viewer's place is kept after it left ({@code VIEWER_LEFT}); when the
 *                          last one's passes, the instance ends; default 60 s
 * @param attachGraceNs     how long a ready instance waits for its first browser; default 30 s
 * @param peerLostNs        how long the gateway may stay timed out (after the stream's own peer timeout)
 *                          before the instance ends; default 30 s
 */
public record InstanceLimits(int maxFramesInFlight, long stallTimeoutNs, long viewerGraceNs, long attachGraceNs, long peerLostNs) {
    public static final int DEFAULT_MAX_FRAMES_IN_FLIGHT = 2;
    public static final long DEFAULT_STALL_TIMEOUT_NS = 1_000_000_000L;
    public static final long DEFAULT_VIEWER_GRACE_NS = 60_000_000_000L;
    /** A launch's browser arrives in seconds. */
    public static final long DEFAULT_ATTACH_GRACE_NS = 30_000_000_000L;
    public static final long DEFAULT_PEER_LOST_NS = 30_000_000_000L;

    public InstanceLimits {
        if (maxFramesInFlight < 1) throw new IllegalArgumentException("max-frames-in-flight must be at least 1: " + maxFramesInFlight);
        if (stallTimeoutNs <= 0) throw new IllegalArgumentException("stall-timeout must be positive: " + stallTimeoutNs + " ns");
        if (viewerGraceNs <= 0) throw new IllegalArgumentException("viewer-grace must be positive: " + viewerGraceNs + " ns");
        if (attachGraceNs <= 0) throw new IllegalArgumentException("attach-grace must be positive: " + attachGraceNs + " ns");
        if (peerLostNs <= 0) throw new IllegalArgumentException("peer-lost must be positive: " + peerLostNs + " ns");
    }

    /** Every default. */
    public static InstanceLimits defaults() {
        return builder().build();
    }

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding these limits. */
    public Builder toBuilder() { return new Builder(this); }

    /**
     * Builds {@link InstanceLimits}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of a config file's {@code engine.limits} section (docs/configuration.md); durations there, ns here.
     */
    public static final class Builder {
        private int maxFramesInFlight = DEFAULT_MAX_FRAMES_IN_FLIGHT;
        private long stallTimeoutNs = DEFAULT_STALL_TIMEOUT_NS;
        private long viewerGraceNs = DEFAULT_VIEWER_GRACE_NS;
        private long attachGraceNs = DEFAULT_ATTACH_GRACE_NS;
        private long peerLostNs = DEFAULT_PEER_LOST_NS;

        private Builder() {}

        private Builder(InstanceLimits l) {
            maxFramesInFlight = l.maxFramesInFlight;
            stallTimeoutNs = l.stallTimeoutNs;
            viewerGraceNs = l.viewerGraceNs;
            attachGraceNs = l.attachGraceNs;
            peerLostNs = l.peerLostNs;
        }

        @JsonProperty public Builder maxFramesInFlight(int frames) { maxFramesInFlight = frames; return this; }

        public Builder stallTimeoutNs(long ns) { stallTimeoutNs = ns; return this; }

        @JsonProperty public Builder stallTimeout(Duration d) { return stallTimeoutNs(d.toNanos()); }

        public Builder viewerGraceNs(long ns) { viewerGraceNs = ns; return this; }

        @JsonProperty public Builder viewerGrace(Duration d) { return viewerGraceNs(d.toNanos()); }

        public Builder attachGraceNs(long ns) { attachGraceNs = ns; return this; }

        @JsonProperty public Builder attachGrace(Duration d) { return attachGraceNs(d.toNanos()); }

        public Builder peerLostNs(long ns) { peerLostNs = ns; return this; }

        @JsonProperty public Builder peerLost(Duration d) { return peerLostNs(d.toNanos()); }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public InstanceLimits build() {
            return new InstanceLimits(maxFramesInFlight, stallTimeoutNs, viewerGraceNs, attachGraceNs, peerLostNs);
        }
    }
}
