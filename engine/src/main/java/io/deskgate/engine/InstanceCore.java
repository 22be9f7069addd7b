package io.deskgate.engine;

import io.deskgate.encode.Damage;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.encode.FrameEncoder;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.ClientCapabilities;
import io.deskgate.stream.StreamMessage.ClientClipboard;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Cursor;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import io.deskgate.stream.StreamMessage.ServerClipboard;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol logic of one transcoding instance: RFB events and up stream messages in, down stream
 * messages and RFB requests out. Pure and single-threaded: no socket, no thread, no clock; every event
 * carries {@code nowNs} from a monotonic clock whose values are not negative.
 *
 * <p>This class assembles frames (docs/protocol.md §1): the rectangles of one RFB FramebufferUpdate become
 * damage on a tile grid; at the update's end the dirty tiles are encoded and sent, followed by
 * {@code FRAME_END}. A CopyRect is forwarded as {@code COPY_RECT} only while no other damage is pending,
 * because only then does the browser's canvas hold exactly the source pixels; otherwise its destination is
 * damage. It asks the desktop for the next update only while {@link FlowControl} allows and some viewer of
 * {@link Viewers} is attached; with none, an update already requested is still received and its damage kept
 * for later. Every real loss path (the gateway's resync, the UDP leg's {@code refreshNeeded}, a re-attach)
 * ends in {@link #refresh}.
 *
 * <p>Up messages come from the one viewer the stream carries ({@link Viewers#GATEWAY}): {@code VIEWER_LEFT}
 * means it left; any other up message attaches it (a re-attach gets the whole picture from its own
 * {@code REFRESH_REQUEST}). When {@link Viewers} decides the instance should end, {@link #endReason()} says
 * why and the owner closes the instance, so the desktop loses its viewer.
 *
 * <p>Not thread-safe: the owner calls every method from one thread, or under one lock.
 */
public final class InstanceCore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InstanceCore.class);
    private static final long U32 = 0xffffffffL;

    private final Desktop desktop;
    private final StreamSink sink;
    private final FrameEncoder encoder;
    private final FlowControl flow;
    private final LagQuality quality;
    private final int maxFramesInFlight;
    private final Viewers viewers;
    private final Damage damage = new Damage(0, 0);
    /** COPY_RECT and RESIZE messages of the update being received, sent before its tiles. */
    private final List<StreamMessage> pending = new ArrayList<>();
    /**
     * Messages already sent that changed the browser's canvas outside a frame's tiles (ServerInit's RESIZE); the
     * encoder is told of them with the next frame, so its model of the canvas, which its scroll and move detection
     * copies from, stays the browser's.
     */
    private final List<StreamMessage> sentOutsideFrames = new ArrayList<>();
    private final DesktopResizer resizer = new DesktopResizer();
    /** The desktop's last cursor shape, sent again with every refresh (a re-attached browser has none). */
    private Cursor cursor;
    private boolean ready;
    private boolean updateRequested;

    /** @param lagObserver handed every lag {@link FlowControl} measures, after the core's own {@link LagQuality} */
    public InstanceCore(Desktop desktop, StreamSink sink, EncoderConfig encoderConfig, InstanceLimits limits, LagObserver lagObserver) {
        this.desktop = desktop;
        this.sink = sink;
        this.encoder = new FrameEncoder(encoderConfig);
        this.quality = new LagQuality(encoderConfig);
        this.maxFramesInFlight = limits.maxFramesInFlight();
        java.util.Objects.requireNonNull(lagObserver, "lagObserver");
        this.flow = new FlowControl(limits, (lag, average) -> {
            quality.onLag(lag, average);
            lagObserver.onLag(lag, average);
        });
        this.viewers = new Viewers(desktop, limits);
    }

    // ------------------------------------------------------------ RFB events

    /**
     * The desktop's ServerInit: announce the size and ask for the whole picture, which is kept as damage
     * until a browser attaches. Starts the attach grace unless a browser is attached already.
     */
    public void onServerInit(int width, int height, long nowNs) {
        viewers.onReady(nowNs);
        ready = true;
        damage.resize(width, height);
        pending.clear();
        Resize resize = new Resize(width, height);
        sink.send(resize, nowNs);
        sentOutsideFrames.add(resize);
        flow.start(nowNs);
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
        if (!viewers.anyAttached()) return;
        flushFrame(nowNs);
        maybeRequestUpdate();
    }

    public void onServerCutText(String text, long nowNs) {
        sink.send(new ServerClipboard(text), nowNs);
    }

    /**
     * The desktop's cursor changed (Cursor pseudo-encoding; the desktop no longer draws it into the framebuffer):
     * forwarded as {@code CURSOR} at once, outside frames, since it does not touch the canvas.
     *
     * @param argb {@code w * h} pixels {@code 0xAARRGGBB}; an empty (0x0) cursor hides the pointer
     */
    public void onCursor(int w, int h, int hotX, int hotY, int[] argb, long nowNs) {
        byte[] rgba = new byte[w * h * 4];
        for (int i = 0, j = 0; i < w * h; i++, j += 4) {
            int p = argb[i];
            rgba[j] = (byte) (p >>> 16);
            rgba[j + 1] = (byte) (p >>> 8);
            rgba[j + 2] = (byte) p;
            rgba[j + 3] = (byte) (p >>> 24);
        }
        cursor = new Cursor(hotX, hotY, w, h, rgba);
        if (viewers.anyAttached()) sink.send(cursor, nowNs);
    }

    /**
     * An ExtendedDesktopSize rectangle: the desktop takes SetDesktopSize from now on (a wish that came before is asked
     * for now). When it answers this client's
     * request ({@code forThisClient}) the wait ends; a refusal is one log line (the size the browser asked for stays;
     * a new window size asks again). A size change itself arrives as {@link #onDesktopSize} first.
     */
    public void onExtendedDesktopSize(boolean forThisClient, int status, int width, int height, long nowNs) {
        resizer.offered();
        if (forThisClient) {
            resizer.answered();
            if (status != 0) {
                log.info("the desktop refused to resize to the browser's window (status {}); it stays {}x{}", status,
                        desktop.width(), desktop.height());
            }
        }
        maybeResize(nowNs);
    }

    // ------------------------------------------------------------ stream events

    /**
     * One up message from the gateway. Input before the desktop is ready is dropped. {@code VIEWER_LEFT}
     * starts the viewer grace; any other up message comes from a browser and attaches it (ending a grace).
     */
    public void onUpMessage(StreamMessage message, long nowNs) {
        int viewer = Viewers.GATEWAY;
        if (message instanceof ViewerLeft) {
            viewers.leave(viewer, nowNs);
            encoder.webp(false); // the next browser says what it decodes
            return;
        }
        if (message.isUp() && viewers.attach(viewer, nowNs)) {
            // The message itself (a REFRESH_REQUEST, an ack) usually asks for the next update; input does not.
            maybeRequestUpdate();
        }
        switch (message) {
            case Key k -> {
                if (ready) {
                    viewers.onKey(viewer, k.down(), k.keysym());
                    desktop.keyEvent(k.down(), k.keysym());
                }
            }
            case Pointer p -> {
                if (ready && desktop.width() > 0 && desktop.height() > 0) {
                    int x = Viewers.clamp(p.x(), desktop.width() - 1);
                    int y = Viewers.clamp(p.y(), desktop.height() - 1);
                    viewers.onPointer(viewer, x, y, p.buttonMask());
                    desktop.pointerEvent(x, y, p.buttonMask());
                }
            }
            case ClientClipboard c -> { if (ready) desktop.clientCutText(c.text()); }
            case FrameAck a -> {
                flow.onAck(a.frameId(), a.serverTimeMicros(), nowNs);
                flow.window(quality.congested() ? 1 : maxFramesInFlight); // high lag: fewer, larger frames
                maybeRequestUpdate();
            }
            case RefreshRequest r -> refresh(nowNs);
            case ClientCapabilities c -> {
                boolean had = encoder.webp();
                encoder.webp(c.webp());
                // A browser that took over from one that decodes WebP may hold WEBP tiles it could not draw.
                if (had && !encoder.webp()) refresh(nowNs);
            }
            case ResizeRequest r -> {
                // Kept until the desktop offers ExtendedDesktopSize (its first update may still be on its way).
                resizer.request(r.w(), r.h());
                if (ready) maybeResize(nowNs);
            }
            default -> log.debug("ignoring down message type {} received from the gateway", message.type());
        }
    }

    /**
     * libwebp's method (0 fastest .. 6 most compact) of this instance's WEBP tiles (docs/architecture.md): for the bench,
     * which compares them; the encoder's default otherwise.
     *
     * @throws IllegalArgumentException outside 0..6
     */
    public void webpMethod(int method) { encoder.webpMethod(method); }

    /** libwebp's tuning of this instance's WEBP tiles: for the bench, which compares them. */
    public void webpTuning(io.deskgate.encode.WebpEncoder.Tuning tuning) { encoder.webpTuning(tuning); }

    /**
     * Sends the whole framebuffer as one frame (the browser asked, or the stream lost data past repair).
     * Every such request means the frames in flight are lost or superseded, so none counts as in flight
     * any more (late acknowledgements of them are ignored).
     */
    public void refresh(long nowNs) {
        if (!ready) return; // the first full picture is on its way
        flow.forgetInFlight();
        if (!viewers.anyAttached()) return; // nobody would see it; a re-attach asks for its own
        pending.clear(); // the framebuffer already holds their effect
        sentOutsideFrames.clear(); // encodeAll redraws the encoder's model whole
        damage.clear();
        sink.send(new Resize(desktop.width(), desktop.height()), nowNs);
        encoder.jpegQuality(quality.jpegQuality());
        encoder.lossyAtOnce(quality.congested());
        if (cursor != null) sink.send(cursor, nowNs);
        for (StreamMessage m : encoder.encodeAll(desktop.pixels(), desktop.width(), desktop.height(), nowNs)) sink.send(m, nowNs);
        endFrame(nowNs);
        maybeRequestUpdate();
    }

    /**
     * Timer: the viewers' graces ({@link #endReason()}) and, while a viewer is attached, the flow-control
     * safety net, so the stream never stops for good and a slow browser is not flooded; and the refinement of
     * lossy tiles ({@link #nextRefinementNs()}): once one is due, a frame of pixel-exact tiles is sent even though
     * the desktop sent no damage, if flow control allows a frame and no update is half received.
     */
    public void tick(long nowNs) {
        viewers.tick(nowNs);
        if (ready) maybeResize(nowNs);
        if (ready && viewers.anyAttached() && flow.tick(nowNs)) {
            log.debug("no frame acknowledged lately with {} in flight; letting one more through", flow.framesInFlight());
            maybeRequestUpdate();
        }
        OptionalLong due = encoder.nextRefinementNs();
        if (due.isPresent() && due.getAsLong() <= nowNs && ready && viewers.anyAttached() && flow.mayRequest()
                && pending.isEmpty() && damage.isEmpty()) {
            refineFrame(nowNs);
        }
    }

    /**
     * When the earliest tile the browser holds lossy is due to be re-sent pixel-exact (the timer sends it then, or the
     * next frame does), or empty while none is lossy.
     */
    public OptionalLong nextRefinementNs() { return encoder.nextRefinementNs(); }

    /** Timer input from the owner: whether the stream session reports the gateway timed out now. */
    public void onPeerTimeout(boolean timedOut, long nowNs) {
        viewers.onPeerTimeout(timedOut, nowNs);
    }

    /** Tells the browser why the stream ends. */
    public void end(EndReason reason, long nowNs) {
        sink.send(new StatusMessage(reason.status().protocolCode(), reason.statusText()), nowNs);
    }

    // ------------------------------------------------------------ state

    public boolean isReady() { return ready; }

    public FlowControl flow() { return flow; }

    public Viewers viewers() { return viewers; }

    public int framesInFlight() { return flow.framesInFlight(); }

    public long framesSent() { return flow.framesSent(); }

    /** Whether an update request to the desktop is outstanding. */
    public boolean updateRequested() { return updateRequested; }

    /** Whether a viewer is attached: false until the first up message from a browser, and from {@code VIEWER_LEFT} until the next. */
    public boolean viewerAttached() { return viewers.anyAttached(); }

    /** Why the owner should close the instance (sticky), empty while it should not. */
    public Optional<EndReason> endReason() { return viewers.endReason(); }

    @Override public void close() {
        encoder.close();
    }

    // ------------------------------------------------------------ internals

    private void flushFrame(long nowNs) {
        if (pending.isEmpty() && damage.isEmpty()) return;
        List<StreamMessage> sentBefore = new ArrayList<>(sentOutsideFrames);
        sentOutsideFrames.clear();
        for (StreamMessage m : pending) {
            sink.send(m, nowNs);
            sentBefore.add(m);
        }
        pending.clear();
        // Told even without damage: the encoder applies the forwarded COPY_RECTs and RESIZEs to its model of the canvas.
        BitSet dirty = damage.isEmpty() ? new BitSet() : damage.take();
        encoder.jpegQuality(quality.jpegQuality());
        encoder.lossyAtOnce(quality.congested());
        for (StreamMessage m : encoder.encode(desktop.pixels(), desktop.width(), desktop.height(), dirty, sentBefore, nowNs)) {
            sink.send(m, nowNs);
        }
        endFrame(nowNs);
    }

    /** A frame of refinement only (no damage): sent if the encoder has a due tile within its budget. */
    private void refineFrame(long nowNs) {
        List<StreamMessage> sentBefore = new ArrayList<>(sentOutsideFrames);
        sentOutsideFrames.clear();
        List<StreamMessage> tiles = encoder.encode(desktop.pixels(), desktop.width(), desktop.height(), new BitSet(), sentBefore, nowNs);
        if (tiles.isEmpty()) return;
        for (StreamMessage m : tiles) sink.send(m, nowNs);
        endFrame(nowNs);
    }

    private void endFrame(long nowNs) {
        long id = flow.frameSent(nowNs);
        sink.send(new FrameEnd(id & U32, nowNs / 1000), nowNs);
    }

    /** Sends SetDesktopSize for the browser's latest wish when {@link DesktopResizer} allows it now. */
    private void maybeResize(long nowNs) {
        resizer.poll(desktop.width(), desktop.height(), nowNs).ifPresent(s -> desktop.setDesktopSize(s.width(), s.height()));
    }

    private void maybeRequestUpdate() {
        if (ready && viewers.anyAttached() && !updateRequested && flow.mayRequest()) {
            desktop.requestUpdate(true);
            updateRequested = true;
        }
    }
}
