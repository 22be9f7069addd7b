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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
 * incremental update is requested from the desktop only while fewer are in flight. Every real loss path
 * (the gateway's resync, the UDP leg's {@code refreshNeeded}, a re-attach) ends in {@link #refresh},
 * which forgets the frames in flight. As a safety net only, when acknowledgements stop with the limit
 * reached, one more frame is let through after {@code stallTimeoutNs}, then after twice that, and so on
 * up to {@link #MAX_STALL_BACKOFF_NS}; any acknowledgement resets the backoff. A slow browser therefore
 * gets fewer, larger frames, never an unbounded queue. The echoed {@code FRAME_ACK} timestamp gives the
 * end-to-end lag.
 *
 * <p>Viewer presence (§1.2): an instance starts with no viewer; the first up message from a browser (the
 * gateway sends a {@code REFRESH_REQUEST} when one attaches) marks it attached. From {@code ServerInit}
 * until then an <em>attach grace</em> of {@code attachGraceNs} runs, so an instance nobody attaches to
 * ends. {@code VIEWER_LEFT} from the gateway means no browser watches any more: the core asks the desktop
 * for no more updates (one already requested is still received, and its damage kept for later) and starts
 * a grace timer of {@code viewerGraceNs}. Any later up message from a browser cancels either timer and
 * resumes updates. When a grace passes, {@link #viewerGone()} turns true and the owner closes the
 * instance, so the desktop loses its viewer. Likewise, when the owner reports the gateway timed out
 * ({@link #onPeerTimeout}) for {@code peerLostNs} without a break, {@link #peerLost()} turns true.
 *
 * <p>Held input: the core remembers the keys and pointer buttons the browser holds down. When the viewer
 * leaves, a grace ends, the gateway is lost or a browser (re-)attaches, it releases them on the desktop
 * (a key-up for each key, a pointer event with no button at the last position), so nothing stays pressed
 * on the desktop after the browser that pressed it went away.
 *
 * <p>Not thread-safe: the owner calls every method from one thread, or under one lock.
 */
public final class InstanceCore implements AutoCloseable {
    public static final int DEFAULT_MAX_FRAMES_IN_FLIGHT = 2;
    public static final long DEFAULT_STALL_TIMEOUT_NS = 1_000_000_000L;
    public static final long DEFAULT_VIEWER_GRACE_NS = 60_000_000_000L;
    /** How long a ready instance waits for its first browser (a launch's browser arrives in seconds). */
    public static final long DEFAULT_ATTACH_GRACE_NS = 30_000_000_000L;
    /** How long the gateway may stay timed out (after the stream's own peer timeout) before the instance ends. */
    public static final long DEFAULT_PEER_LOST_NS = 30_000_000_000L;
    /** The stall safety net's backoff stops doubling here (or at {@code stallTimeoutNs}, if that is longer). */
    public static final long MAX_STALL_BACKOFF_NS = 30_000_000_000L;
    /** Keys remembered as held down at most; a real keyboard holds far fewer, a hostile browser more. */
    static final int MAX_KEYS_HELD = 128;
    private static final Logger log = LoggerFactory.getLogger(InstanceCore.class);
    private static final long U32 = 0xffffffffL;
    private static final int LAG_AVERAGE_SHIFT = 3; // moving average weight 1/8

    /**
     * The core's flow-control limit and timers. Validated when built.
     *
     * @param maxFramesInFlight unacknowledged frames at most; default {@value #DEFAULT_MAX_FRAMES_IN_FLIGHT}
     * @param stallTimeoutNs    first step of the stall safety net (it doubles each time it fires, up to
     *                          {@link #MAX_STALL_BACKOFF_NS}); default 1 s
     * @param viewerGraceNs     how long the instance outlives its last viewer after {@code VIEWER_LEFT}; default 60 s
     * @param attachGraceNs     how long a ready instance waits for its first browser; default 30 s
     * @param peerLostNs        how long the gateway may stay timed out before the instance ends; default 30 s
     */
    public record Limits(int maxFramesInFlight, long stallTimeoutNs, long viewerGraceNs, long attachGraceNs, long peerLostNs) {
        public Limits {
            if (maxFramesInFlight < 1) throw new IllegalArgumentException("maxFramesInFlight must be at least 1");
            if (stallTimeoutNs <= 0) throw new IllegalArgumentException("stallTimeoutNs must be positive");
            if (viewerGraceNs <= 0) throw new IllegalArgumentException("viewerGraceNs must be positive");
            if (attachGraceNs <= 0) throw new IllegalArgumentException("attachGraceNs must be positive");
            if (peerLostNs <= 0) throw new IllegalArgumentException("peerLostNs must be positive");
        }

        public static Limits defaults() {
            return new Limits(DEFAULT_MAX_FRAMES_IN_FLIGHT, DEFAULT_STALL_TIMEOUT_NS, DEFAULT_VIEWER_GRACE_NS,
                    DEFAULT_ATTACH_GRACE_NS, DEFAULT_PEER_LOST_NS);
        }

        public Limits withFlowControl(int frames, long stallNs) {
            return new Limits(frames, stallNs, viewerGraceNs, attachGraceNs, peerLostNs);
        }

        public Limits withViewerGraceNs(long graceNs) {
            return new Limits(maxFramesInFlight, stallTimeoutNs, graceNs, attachGraceNs, peerLostNs);
        }

        public Limits withAttachGraceNs(long graceNs) {
            return new Limits(maxFramesInFlight, stallTimeoutNs, viewerGraceNs, graceNs, peerLostNs);
        }

        public Limits withPeerLostNs(long lostNs) {
            return new Limits(maxFramesInFlight, stallTimeoutNs, viewerGraceNs, attachGraceNs, lostNs);
        }
    }

    private final Desktop desktop;
    private final StreamSink sink;
    private final FrameEncoder encoder;
    private final int maxFramesInFlight;
    private final long stallTimeoutNs;
    private final long maxStallBackoffNs;
    private final long viewerGraceNs;
    private final long attachGraceNs;
    private final long peerLostNs;
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
    private long stallBackoffNs;
    private boolean viewerAttached; // no browser until its first up message
    private boolean everAttached;
    private boolean graceRunning;
    private long graceStartNs;
    private boolean viewerGone;
    private boolean peerSilent;
    private long peerSilentSinceNs;
    private boolean peerLost;
    /** Keysyms the browser holds down, in press order. */
    private final Set<Long> keysHeld = new LinkedHashSet<>();
    private int buttonsHeld;
    private int pointerX;
    private int pointerY;

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig) {
        this(desktop, sink, encoderConfig, Limits.defaults());
    }

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, long viewerGraceNs) {
        this(desktop, sink, encoderConfig, Limits.defaults().withViewerGraceNs(viewerGraceNs));
    }

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, int maxFramesInFlight, long stallTimeoutNs) {
        this(desktop, sink, encoderConfig, Limits.defaults().withFlowControl(maxFramesInFlight, stallTimeoutNs));
    }

    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, Limits limits) {
        this.desktop = desktop;
        this.sink = sink;
        this.encoder = new FrameEncoder(encoderConfig);
        this.maxFramesInFlight = limits.maxFramesInFlight();
        this.stallTimeoutNs = limits.stallTimeoutNs();
        this.maxStallBackoffNs = Math.max(limits.stallTimeoutNs(), MAX_STALL_BACKOFF_NS);
        this.stallBackoffNs = limits.stallTimeoutNs();
        this.viewerGraceNs = limits.viewerGraceNs();
        this.attachGraceNs = limits.attachGraceNs();
        this.peerLostNs = limits.peerLostNs();
    }

    // ------------------------------------------------------------ RFB events

    /**
     * The desktop's ServerInit: announce the size and ask for the whole picture, which is kept as damage
     * until a browser attaches. Starts the attach grace unless a browser is attached already.
     */
    public void onServerInit(int width, int height, long nowNs) {
        if (!ready && !viewerAttached && !viewerGone) {
            graceRunning = true;
            graceStartNs = nowNs;
        }
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
     * starts the viewer grace; any other up message comes from a browser and attaches it (ending a grace).
     */
    public void onUpMessage(StreamMessage message, long nowNs) {
        if (message instanceof ViewerLeft) {
            onViewerLeft(nowNs);
            return;
        }
        if (message.isUp() && !viewerAttached) onViewerBack();
        switch (message) {
            case Key k -> { if (ready) onKey(k); }
            case Pointer p -> {
                if (ready && desktop.width() > 0 && desktop.height() > 0) {
                    pointerX = clamp(p.x(), desktop.width() - 1);
                    pointerY = clamp(p.y(), desktop.height() - 1);
                    buttonsHeld = p.buttonMask();
                    desktop.pointerEvent(pointerX, pointerY, p.buttonMask());
                }
            }
            case ClientClipboard c -> { if (ready) desktop.clientCutText(c.text()); }
            case FrameAck a -> onFrameAck(a, nowNs);
            case RefreshRequest r -> refresh(nowNs);
            case ResizeRequest r -> log.debug("ignoring resize request to {}x{}: resizing the desktop is not supported", r.w(), r.h());
            default -> log.debug("ignoring down message type {} received from the gateway", message.type());
        }
    }

    /**
     * Sends the whole framebuffer as one frame (the browser asked, or the stream lost data past repair).
     * Every such request means the frames in flight are lost or superseded, so none counts as in flight
     * any more (late acknowledgements of them are ignored).
     */
    public void refresh(long nowNs) {
        if (!ready) return; // the first full picture is on its way
        framesAcked = framesSent;
        if (!viewerAttached) return; // nobody would see it; a re-attach asks for its own
        pending.clear(); // the framebuffer already holds their effect
        damage.clear();
        sink.send(new Resize(desktop.width(), desktop.height()), nowNs);
        for (StreamMessage m : encoder.encodeAll(desktop.pixels(), desktop.width(), desktop.height())) sink.send(m, nowNs);
        endFrame(nowNs);
        maybeRequestUpdate();
    }

    /**
     * Timer: ends the attach or viewer grace when it has passed ({@link #viewerGone()}); when
     * acknowledgements stalled with the in-flight limit reached, lets one more frame through, backing off
     * exponentially, so the stream never stops for good and a slow browser is not flooded.
     */
    public void tick(long nowNs) {
        if (graceRunning && !viewerGone && nowNs - graceStartNs >= graceNs()) {
            viewerGone = true;
            graceRunning = false;
            releaseHeldInput();
            if (everAttached) {
                log.debug("no viewer for {} ms: the instance should close", viewerGraceNs / 1_000_000);
            } else {
                log.debug("no browser attached within {} ms: the instance should close", attachGraceNs / 1_000_000);
            }
        }
        if (!ready || !viewerAttached || framesInFlight() < maxFramesInFlight) return;
        if (nowNs - Math.max(lastAckNs, lastFrameNs) >= stallBackoffNs) {
            log.debug("no frame acknowledged for {} ms with {} in flight; letting one more through", stallBackoffNs / 1_000_000,
                    framesInFlight());
            framesAcked = framesSent - (maxFramesInFlight - 1);
            lastAckNs = nowNs;
            stallBackoffNs = Math.min(2 * stallBackoffNs, maxStallBackoffNs);
            maybeRequestUpdate();
        }
    }

    /**
     * Timer input from the owner: whether the stream session reports the gateway timed out now. When it
     * stays so for {@code peerLostNs}, {@link #peerLost()} turns true (sticky) and held input is released.
     */
    public void onPeerTimeout(boolean timedOut, long nowNs) {
        if (!timedOut) {
            peerSilent = false;
            return;
        }
        if (!peerSilent) {
            peerSilent = true;
            peerSilentSinceNs = nowNs;
        }
        if (!peerLost && nowNs - peerSilentSinceNs >= peerLostNs) {
            peerLost = true;
            releaseHeldInput();
            log.debug("gateway silent for {} ms past its timeout: the instance should close", peerLostNs / 1_000_000);
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

    /** False until the first up message from a browser, and from {@code VIEWER_LEFT} until the next. */
    public boolean viewerAttached() { return viewerAttached; }

    /** Whether a browser has attached at least once (so a running grace is the viewer grace, not the attach grace). */
    public boolean everAttached() { return everAttached; }

    /**
     * True once the attach grace passed with no browser, or the viewer grace with no browser back
     * (sticky): the owner should close the instance so the desktop sees no viewer.
     */
    public boolean viewerGone() { return viewerGone; }

    /** True once the gateway stayed timed out for {@code peerLostNs} (sticky): the owner should close the instance. */
    public boolean peerLost() { return peerLost; }

    /** How long the current grace lasts: the attach grace before the first browser, the viewer grace after. */
    public long graceNs() { return everAttached ? viewerGraceNs : attachGraceNs; }

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
        if (!viewerAttached || viewerGone) return; // the grace runs from the first VIEWER_LEFT (or from ServerInit)
        viewerAttached = false;
        graceRunning = true;
        graceStartNs = nowNs;
        releaseHeldInput();
        log.debug("viewer left; closing in {} ms unless one comes back", viewerGraceNs / 1_000_000);
    }

    private void onViewerBack() {
        if (viewerGone) return; // too late: the owner is closing the instance
        log.debug(everAttached ? "viewer back; streaming again" : "viewer attached; streaming");
        viewerAttached = true;
        everAttached = true;
        graceRunning = false;
        releaseHeldInput(); // whatever an earlier browser held (normally released at VIEWER_LEFT already)
        // The message itself (a REFRESH_REQUEST, an ack) usually asks for the next update; input does not.
        maybeRequestUpdate();
    }

    private void onKey(Key k) {
        if (k.down()) {
            if (keysHeld.size() < MAX_KEYS_HELD) keysHeld.add(k.keysym());
        } else {
            keysHeld.remove(k.keysym());
        }
        desktop.keyEvent(k.down(), k.keysym());
    }

    /** Key-up for every key held, then the buttons up where the pointer is; a no-op when nothing is held. */
    private void releaseHeldInput() {
        if (!ready) return; // input before ServerInit is dropped, so nothing is held
        if (!keysHeld.isEmpty()) log.debug("releasing {} keys held by a browser that went away", keysHeld.size());
        for (long keysym : keysHeld) desktop.keyEvent(false, keysym);
        keysHeld.clear();
        if (buttonsHeld != 0 && desktop.width() > 0 && desktop.height() > 0) {
            desktop.pointerEvent(clamp(pointerX, desktop.width() - 1), clamp(pointerY, desktop.height() - 1), 0);
        }
        buttonsHeld = 0;
    }

    private void onFrameAck(FrameAck ack, long nowNs) {
        if (framesSent == 0) return;
        long last = framesSent - 1;
        long acked = last - (((last & U32) - ack.frameId()) & U32); // the latest frame sent with that u32 id
        if (acked < framesAcked) return; // old or duplicate
        framesAcked = acked + 1;
        lastAckNs = nowNs;
        stallBackoffNs = stallTimeoutNs;
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
