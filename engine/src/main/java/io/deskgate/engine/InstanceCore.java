package io.deskgate.engine;

import io.deskgate.common.Status;
import io.deskgate.encode.Damage;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.encode.FrameEncoder;
import io.deskgate.wire.StreamMessage;
import io.deskgate.wire.StreamMessage.ClientClipboard;
import io.deskgate.wire.StreamMessage.CopyRect;
import io.deskgate.wire.StreamMessage.FrameAck;
import io.deskgate.wire.StreamMessage.FrameEnd;
import io.deskgate.wire.StreamMessage.Key;
import io.deskgate.wire.StreamMessage.Pointer;
import io.deskgate.wire.StreamMessage.RefreshRequest;
import io.deskgate.wire.StreamMessage.Resize;
import io.deskgate.wire.StreamMessage.ResizeRequest;
import io.deskgate.wire.StreamMessage.ServerClipboard;
import io.deskgate.wire.StreamMessage.StatusMessage;
import io.deskgate.wire.StreamMessage.ViewerLeft;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol logic of one transcoding instance: RFB events and up stream messages in, down stream
 * messages and RFB requests out. Pure and single-threaded: no socket, no thread, no clock; every event
 * carries {@code nowNs} from a monotonic clock whose values are not negative.
 *
 * <p>Frames (docs/protocol.md §1): the rectangles of one RFB FramebufferUpdate become damage on a tile
 * grid; at the update's end the dirty tiles are encoded and sent, followed by {@code FRAME_END}. A
 * CopyRect is forwarded as {@code COPY_RECT} only while no other damage is pending, because only then
 * does the browser's canvas hold exactly the source pixels; otherwise its destination is damage.
 *
 * <p>Flow control (§1.2): at most {@code maxFramesInFlight} frames are unacknowledged; the next
 * incremental update is requested from the desktop only while fewer are in flight. If acknowledgements
 * stop for {@code stallTimeoutNs} the frames in flight are presumed lost and updates resume. The echoed
 * {@code FRAME_ACK} timestamp gives the end-to-end lag.
 *
 * <p>Viewer presence (§1.2): {@code VIEWER_LEFT} from the gateway means no browser watches any more. The
 * core then asks the desktop for no more updates (one already requested is still received, and its
 * damage kept for later) and starts a grace timer of {@code viewerGraceNs}. Any later up message from a
 * browser (the {@code REFRESH_REQUEST} of a re-attach, input, {@code FRAME_ACK}) cancels the timer and
 * resumes updates. When the grace passes, {@link #viewerGone()} turns true and the owner closes the
 * instance, so the desktop loses its viewer.
 *
 * <p>Not thread-safe: the owner calls every method from one thread, or under one lock.
 */
public final class InstanceCore implements AutoCloseable {
    public static final int DEFAULT_MAX_FRAMES_IN_FLIGHT = 2;
    public static final long DEFAULT_STALL_TIMEOUT_NS = 1_000_000_000L;
    public static final long DEFAULT_VIEWER_GRACE_NS = 60_000_000_000L;
    private static final Logger log = LoggerFactory.getLogger(InstanceCore.class);
    private static final long U32 = 0xffffffffL;
    private static final int LAG_AVERAGE_SHIFT = 3; // moving average weight 1/8

    private final Desktop desktop;
    private final StreamSink sink;
    private final FrameEncoder encoder;
    private final int maxFramesInFlight;
    private final long stallTimeoutNs;
    private final long viewerGraceNs;
    private final Damage damage = new Damage(0, 0);
    /** COPY_RECT and RESIZE messages of the update being received, sent before its tiles. */
    private final List<StreamMessage> pending = new ArrayList<>();
    private boolean ready;
    private boolean updateRequested;
    private long framesSent;
    private long framesAcked;
    private long lastFrameNs;
    private long lastAckNs;
    private long lagMicros = -1;
    private long averageLagMicros = -1;
    private boolean viewerAttached = true; // the launch is made for a browser that is on its way
    private long viewerLeftNs;
    private boolean viewerGone;

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig) {
        this(desktop, sink, encoderConfig, DEFAULT_VIEWER_GRACE_NS);
    }

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, long viewerGraceNs) {
        this(desktop, sink, encoderConfig, DEFAULT_MAX_FRAMES_IN_FLIGHT, DEFAULT_STALL_TIMEOUT_NS, viewerGraceNs);
    }

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, int maxFramesInFlight, long stallTimeoutNs) {
        this(desktop, sink, encoderConfig, maxFramesInFlight, stallTimeoutNs, DEFAULT_VIEWER_GRACE_NS);
    }

    /**
     * @param viewerGraceNs how long the instance outlives its last viewer (after {@code VIEWER_LEFT}) before
     *                      {@link #viewerGone()}; positive
     */
    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, int maxFramesInFlight, long stallTimeoutNs,
                        long viewerGraceNs) {
        if (maxFramesInFlight < 1) throw new IllegalArgumentException("maxFramesInFlight must be at least 1");
        if (stallTimeoutNs <= 0) throw new IllegalArgumentException("stallTimeoutNs must be positive");
        if (viewerGraceNs <= 0) throw new IllegalArgumentException("viewerGraceNs must be positive");
        this.desktop = desktop;
        this.sink = sink;
        this.encoder = new FrameEncoder(encoderConfig);
        this.maxFramesInFlight = maxFramesInFlight;
        this.stallTimeoutNs = stallTimeoutNs;
        this.viewerGraceNs = viewerGraceNs;
    }

    // ------------------------------------------------------------ RFB events

    /** The desktop's ServerInit: announce the size and ask for the whole picture. */
    public void onServerInit(int width, int height, long nowNs) {
        ready = true;
        damage.resize(width, height);
        pending.clear();
        sink.send(new Resize(width, height), nowNs);
        lastAckNs = nowNs;
        desktop.requestUpdate(false);
        updateRequested = true;
    }

    public void onRect(int x, int y, int w, int h) {
        damage.add(x, y, w, h);
    }

    /** A CopyRect already applied to the framebuffer. */
    public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {
        boolean inside = w > 0 && h > 0 && srcX >= 0 && srcY >= 0 && x >= 0 && y >= 0
                && srcX + w <= damage.width() && x + w <= damage.width() && srcY + h <= damage.height() && y + h <= damage.height();
        if (inside && damage.isEmpty()) {
            pending.add(new CopyRect(srcX, srcY, w, h, x, y));
        } else {
            damage.add(x, y, w, h);
        }
    }

    /** The framebuffer was resized and cleared: the browser resizes too and gets every tile again. */
    public void onDesktopSize(int width, int height) {
        damage.resize(width, height);
        pending.clear(); // earlier COPY_RECTs of this update act on a canvas the resize clears anyway
        pending.add(new Resize(width, height));
        damage.addAll();
    }

    /**
     * End of one FramebufferUpdate: send it as one frame and ask for the next if flow control allows. With
     * no viewer the update is kept as damage (a re-attach's refresh or the next frame carries it).
     */
    public void onUpdateEnd(long nowNs) {
        updateRequested = false;
        if (!viewerAttached) return;
        flushFrame(nowNs);
        maybeRequestUpdate();
    }

    public void onServerCutText(String text, long nowNs) {
        sink.send(new ServerClipboard(text), nowNs);
    }

    // ------------------------------------------------------------ stream events

    /**
     * One up message from the gateway. Input before the desktop is ready is dropped. {@code VIEWER_LEFT}
     * starts the viewer grace; any other up message comes from a browser and ends it.
     */
    public void onUpMessage(StreamMessage message, long nowNs) {
        if (message instanceof ViewerLeft) {
            onViewerLeft(nowNs);
            return;
        }
        if (message.isUp() && !viewerAttached) onViewerBack();
        switch (message) {
            case Key k -> { if (ready) desktop.keyEvent(k.down(), k.keysym()); }
            case Pointer p -> {
                if (ready && desktop.width() > 0 && desktop.height() > 0) {
                    desktop.pointerEvent(clamp(p.x(), desktop.width() - 1), clamp(p.y(), desktop.height() - 1), p.buttonMask());
                }
            }
            case ClientClipboard c -> { if (ready) desktop.clientCutText(c.text()); }
            case FrameAck a -> onFrameAck(a, nowNs);
            case RefreshRequest r -> refresh(nowNs);
            case ResizeRequest r -> log.debug("ignoring resize request to {}x{}: resizing the desktop is not supported", r.w(), r.h());
            default -> log.debug("ignoring down message type {} received from the gateway", message.type());
        }
    }

    /** Sends the whole framebuffer as one frame (the browser asked, or the stream lost data past repair). */
    public void refresh(long nowNs) {
        if (!ready) return; // the first full picture is on its way
        if (!viewerAttached) return; // nobody would see it; a re-attach asks for its own
        pending.clear(); // the framebuffer already holds their effect
        damage.clear();
        sink.send(new Resize(desktop.width(), desktop.height()), nowNs);
        for (StreamMessage m : encoder.encodeAll(desktop.pixels(), desktop.width(), desktop.height())) sink.send(m, nowNs);
        endFrame(nowNs);
    }

    /**
     * Timer: ends the viewer grace when it has passed ({@link #viewerGone()}); presumes frames lost when
     * acknowledgements stalled, so the stream never stops for good.
     */
    public void tick(long nowNs) {
        if (!viewerAttached && !viewerGone && nowNs - viewerLeftNs >= viewerGraceNs) {
            viewerGone = true;
            log.debug("no viewer for {} ms: the instance should close", viewerGraceNs / 1_000_000);
        }
        if (!ready || framesInFlight() < maxFramesInFlight) return;
        if (nowNs - Math.max(lastAckNs, lastFrameNs) >= stallTimeoutNs) {
            log.debug("no frame acknowledged for {} ms; presuming {} frames lost", stallTimeoutNs / 1_000_000, framesInFlight());
            framesAcked = framesSent;
            lastAckNs = nowNs;
            maybeRequestUpdate();
        }
    }

    /** Tells the browser why the stream ends. */
    public void end(Status status, String text, long nowNs) {
        sink.send(new StatusMessage(status.protocolCode(), text), nowNs);
    }

    // ------------------------------------------------------------ state

    public boolean isReady() { return ready; }

    public int framesInFlight() { return (int) (framesSent - framesAcked); }

    public long framesSent() { return framesSent; }

    /** The lag of the last acknowledged frame, from FRAME_END to its FRAME_ACK, or -1 before the first. */
    public long lagMicros() { return lagMicros; }

    /** A moving average (weight 1/8) of {@link #lagMicros()}, or -1 before the first acknowledgement. */
    public long averageLagMicros() { return averageLagMicros; }

    /** Whether an update request to the desktop is outstanding. */
    public boolean updateRequested() { return updateRequested; }

    /** False from {@code VIEWER_LEFT} until the next up message from a browser. */
    public boolean viewerAttached() { return viewerAttached; }

    /**
     * True once the viewer grace passed with no browser back (sticky): the owner should close the instance
     * so the desktop sees no viewer.
     */
    public boolean viewerGone() { return viewerGone; }

    @Override public void close() {
        encoder.close();
    }

    // ------------------------------------------------------------ internals

    private void flushFrame(long nowNs) {
        if (pending.isEmpty() && damage.isEmpty()) return;
        for (StreamMessage m : pending) sink.send(m, nowNs);
        pending.clear();
        if (!damage.isEmpty()) {
            for (StreamMessage m : encoder.encode(desktop.pixels(), desktop.width(), desktop.height(), damage.take())) sink.send(m, nowNs);
        }
        endFrame(nowNs);
    }

    private void endFrame(long nowNs) {
        sink.send(new FrameEnd(framesSent & U32, nowNs / 1000), nowNs);
        framesSent++;
        lastFrameNs = nowNs;
    }

    private void onViewerLeft(long nowNs) {
        if (!viewerAttached || viewerGone) return; // the grace runs from the first VIEWER_LEFT
        viewerAttached = false;
        viewerLeftNs = nowNs;
        log.debug("viewer left; closing in {} ms unless one comes back", viewerGraceNs / 1_000_000);
    }

    private void onViewerBack() {
        if (viewerGone) return; // too late: the owner is closing the instance
        viewerAttached = true;
        log.debug("viewer back; streaming again");
        // The message itself (a REFRESH_REQUEST, an ack) usually asks for the next update; input does not.
        maybeRequestUpdate();
    }

    private void onFrameAck(FrameAck ack, long nowNs) {
        if (framesSent == 0) return;
        long last = framesSent - 1;
        long acked = last - (((last & U32) - ack.frameId()) & U32); // the latest frame sent with that u32 id
        if (acked < framesAcked) return; // old or duplicate
        framesAcked = acked + 1;
        lastAckNs = nowNs;
        long nowMicros = nowNs / 1000;
        long echoed = ack.serverTimeMicros();
        if (echoed >= 0 && echoed <= nowMicros) {
            lagMicros = nowMicros - echoed;
            averageLagMicros = averageLagMicros < 0 ? lagMicros : averageLagMicros + ((lagMicros - averageLagMicros) >> LAG_AVERAGE_SHIFT);
        }
        maybeRequestUpdate();
    }

    private void maybeRequestUpdate() {
        if (ready && viewerAttached && !updateRequested && framesInFlight() < maxFramesInFlight) {
            desktop.requestUpdate(true);
            updateRequested = true;
        }
    }

    private static int clamp(int v, int max) {
        return Math.max(0, Math.min(max, v));
    }
}
