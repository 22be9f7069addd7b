package io.deskgate.engine;

/**
 * Flow control of one instance's frames (docs/protocol.md §1.2): at most {@code maxFramesInFlight} frames
 * are unacknowledged, and the next update may be asked of the desktop only while fewer are in flight.
 * Every real loss path (the gateway's resync, the UDP leg's {@code refreshNeeded}, a re-attach) ends in
 * {@link #forgetInFlight}. As a safety net only, when acknowledgements stop with the limit reached, one
 * more frame is let through after {@code stallTimeoutNs}, then after twice that, and so on up to
 * {@link #MAX_STALL_BACKOFF_NS}; any acknowledgement resets the backoff. A slow browser therefore gets
 * fewer, larger frames, never an unbounded queue. The echoed {@code FRAME_ACK} timestamp gives the
 * end-to-end lag, which is handed to the {@link LagObserver} (whoever chooses quality).
 *
 * <p>Pure and single-threaded: time is an input. Not thread-safe.
 */
public final class FlowControl {
    /** The stall safety net's backoff stops doubling here (or at {@code stallTimeoutNs}, if that is longer). */
    public static final long MAX_STALL_BACKOFF_NS = 30_000_000_000L;
    private static final long U32 = 0xffffffffL;
    private static final int LAG_AVERAGE_SHIFT = 3; // moving average weight 1/8

    private final int maxFramesInFlight;
    private final long stallTimeoutNs;
    private final long maxStallBackoffNs;
    private final LagObserver lagObserver;
    private long framesSent;
    private long framesAcked;
    private long lastFrameNs;
    private long lastAckNs;
    private long lagMicros = -1;
    private long averageLagMicros = -1;
    private long stallBackoffNs;
    /** Frames allowed in flight now: {@code maxFramesInFlight}, or fewer while the lag is high ({@link #window(int)}). */
    private int window;

    public FlowControl(InstanceLimits limits, LagObserver lagObserver) {
        this.maxFramesInFlight = limits.maxFramesInFlight();
        this.stallTimeoutNs = limits.stallTimeoutNs();
        this.maxStallBackoffNs = Math.max(limits.stallTimeoutNs(), MAX_STALL_BACKOFF_NS);
        this.stallBackoffNs = limits.stallTimeoutNs();
        this.window = maxFramesInFlight;
        this.lagObserver = java.util.Objects.requireNonNull(lagObserver, "lagObserver");
    }

    /** The desktop is (again) ready: the stall clock starts now. */
    public void start(long nowNs) {
        lastAckNs = nowNs;
    }

    /** Counts one frame sent now; returns its id (the u32 on the wire is its low 32 bits). */
    public long frameSent(long nowNs) {
        lastFrameNs = nowNs;
        return framesSent++;
    }

    /**
     * A {@code FRAME_ACK}: acknowledges the latest frame sent with that u32 id and every earlier one.
     * Old, duplicate or never-sent ids change nothing. Returns whether it acknowledged anything.
     */
    public boolean onAck(long frameIdU32, long serverTimeMicros, long nowNs) {
        if (framesSent == 0) return false;
        long last = framesSent - 1;
        long acked = last - (((last & U32) - frameIdU32) & U32);
        if (acked < framesAcked) return false;
        framesAcked = acked + 1;
        lastAckNs = nowNs;
        stallBackoffNs = stallTimeoutNs;
        long nowMicros = nowNs / 1000;
        if (serverTimeMicros >= 0 && serverTimeMicros <= nowMicros) {
            lagMicros = nowMicros - serverTimeMicros;
            averageLagMicros = averageLagMicros < 0 ? lagMicros : averageLagMicros + ((lagMicros - averageLagMicros) >> LAG_AVERAGE_SHIFT);
            lagObserver.onLag(lagMicros, averageLagMicros);
        }
        return true;
    }

    /** The frames in flight are lost or superseded: none counts any more (late acknowledgements are ignored). */
    public void forgetInFlight() {
        framesAcked = framesSent;
    }

    /** Whether the next update may be asked of the desktop. */
    public boolean mayRequest() {
        return framesInFlight() < window;
    }

    /**
     * Sets how many frames may be in flight from now on: 1 to the limit's {@code maxFramesInFlight} (a value outside
     * is clamped); fewer, larger frames while the lag is high ({@link LagQuality}).
     */
    public void window(int frames) {
        window = Math.clamp(frames, 1, maxFramesInFlight);
    }

    /** How many frames may be in flight now. */
    public int window() { return window; }

    /**
     * Timer: when acknowledgements stalled with the limit reached for the current backoff, lets one more
     * frame through (returns true: the caller asks for the next update) and doubles the backoff.
     */
    public boolean tick(long nowNs) {
        if (mayRequest()) return false;
        if (nowNs - Math.max(lastAckNs, lastFrameNs) < stallBackoffNs) return false;
        framesAcked = framesSent - (window - 1);
        lastAckNs = nowNs;
        stallBackoffNs = Math.min(2 * stallBackoffNs, maxStallBackoffNs);
        return true;
    }

    public int framesInFlight() { return (int) (framesSent - framesAcked); }

    public long framesSent() { return framesSent; }

    /** The current step of the stall safety net. */
    public long stallBackoffNs() { return stallBackoffNs; }

    /** The lag of the last acknowledged frame, from FRAME_END to its FRAME_ACK, or -1 before the first. */
    public long lagMicros() { return lagMicros; }

    /** A moving average (weight 1/8) of {@link #lagMicros()}, or -1 before the first acknowledgement. */
    public long averageLagMicros() { return averageLagMicros; }
}
