package io.deskgate.engine;

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
        if (maxFramesInFlight < 1) throw new IllegalArgumentException("maxFramesInFlight must be at least 1: " + maxFramesInFlight);
        if (stallTimeoutNs <= 0) throw new IllegalArgumentException("stallTimeoutNs must be positive: " + stallTimeoutNs);
        if (viewerGraceNs <= 0) throw new IllegalArgumentException("viewerGraceNs must be positive: " + viewerGraceNs);
        if (attachGraceNs <= 0) throw new IllegalArgumentException("attachGraceNs must be positive: " + attachGraceNs);
        if (peerLostNs <= 0) throw new IllegalArgumentException("peerLostNs must be positive: " + peerLostNs);
    }

    public static InstanceLimits defaults() {
        return new InstanceLimits(DEFAULT_MAX_FRAMES_IN_FLIGHT, DEFAULT_STALL_TIMEOUT_NS, DEFAULT_VIEWER_GRACE_NS,
                DEFAULT_ATTACH_GRACE_NS, DEFAULT_PEER_LOST_NS);
    }

    public InstanceLimits withFlowControl(int frames, long stallNs) {
        return new InstanceLimits(frames, stallNs, viewerGraceNs, attachGraceNs, peerLostNs);
    }

    public InstanceLimits withViewerGraceNs(long graceNs) {
        return new InstanceLimits(maxFramesInFlight, stallTimeoutNs, graceNs, attachGraceNs, peerLostNs);
    }

    public InstanceLimits withAttachGraceNs(long graceNs) {
        return new InstanceLimits(maxFramesInFlight, stallTimeoutNs, viewerGraceNs, graceNs, peerLostNs);
    }

    public InstanceLimits withPeerLostNs(long lostNs) {
        return new InstanceLimits(maxFramesInFlight, stallTimeoutNs, viewerGraceNs, attachGraceNs, lostNs);
    }
}
