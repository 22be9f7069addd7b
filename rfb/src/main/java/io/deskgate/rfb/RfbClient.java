package io.deskgate.rfb;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An RFB 3.8 client (RFC 6143) as a pure core: fed the server's bytes through {@link #receive}, it decodes
 * them into its {@link Framebuffer}, reports through an {@link RfbListener}, and queues the bytes it wants
 * sent, which the owner collects with {@link #drainOutgoing()}. It owns no socket, thread or clock.
 *
 * <p>Bytes may arrive in fragments of any size; the client buffers an incomplete message and resumes when
 * the rest arrives. It speaks 3.8 and also accepts servers offering 3.3, 3.7 and Apple's 3.889. Security:
 * None (1) and VNC Authentication (2). After ServerInit it asks for a 32-bit little-endian true-colour
 * pixel format and the encodings given as {@link RfbEncodings} (by default ZRLE, CopyRect, Raw, DesktopSize
 * and LastRect). It decodes Raw, CopyRect, Hextile, Tight and ZRLE and the pseudo-encodings DesktopSize,
 * LastRect, Cursor, ExtendedDesktopSize, ContinuousUpdates and Fence, each only if it asked for it (Raw
 * always). It answers the server's Fence requests itself, and offers SetDesktopSize and
 * EnableContinuousUpdates once the server has shown it supports them.
 *
 * <p>Not thread-safe: one thread feeds the client and calls its input methods (the owner's event loop or
 * virtual thread). After {@code receive} has thrown, the connection is dead and every later call to
 * {@code receive} throws again.
 */
public final class RfbClient {
    /** Largest ServerCutText accepted. */
    public static final int MAX_CUT_TEXT_BYTES = 1 << 20;
    /** Largest ZRLE rectangle (compressed bytes) accepted. */
    public static final int MAX_ZRLE_BYTES = 64 << 20;
    /** Largest server-supplied reason or desktop name accepted. */
    static final int MAX_STRING_BYTES = 64 << 10;
    /** Receive buffers the caller's bytes in slices of at most this size, bounding the input buffer. */
    private static final int RECEIVE_SLICE_BYTES = 1 << 20;

    static final int ENCODING_RAW = RfbEncodings.RAW;
    static final int ENCODING_COPY_RECT = RfbEncodings.COPY_RECT;
    static final int ENCODING_HEXTILE = RfbEncodings.HEXTILE;
    static final int ENCODING_TIGHT = RfbEncodings.TIGHT;
    static final int ENCODING_ZRLE = RfbEncodings.ZRLE;
    static final int ENCODING_DESKTOP_SIZE = RfbEncodings.DESKTOP_SIZE;
    static final int ENCODING_LAST_RECT = RfbEncodings.LAST_RECT;
    static final int ENCODING_CURSOR = RfbEncodings.CURSOR;
    static final int ENCODING_EXTENDED_DESKTOP_SIZE = RfbEncodings.EXTENDED_DESKTOP_SIZE;
    /** Fence flags (rfbproto): the ones this client honours in its replies, and the request bit. */
    static final int FENCE_BLOCK_BEFORE = 1;
    static final int FENCE_BLOCK_AFTER = 2;
    static final int FENCE_SYNC_NEXT = 4;
    static final int FENCE_REQUEST = 1 << 31;
    static final int MAX_FENCE_PAYLOAD = 64;

    static final int SECURITY_INVALID = 0;
    static final int SECURITY_NONE = 1;
    static final int SECURITY_VNC_AUTH = 2;

    // Server-to-client message types (RFC 6143 §7.6).
    private static final int MSG_FRAMEBUFFER_UPDATE = 0;
    private static final int MSG_SET_COLOUR_MAP_ENTRIES = 1;
    private static final int MSG_BELL = 2;
    private static final int MSG_SERVER_CUT_TEXT = 3;
    private static final int MSG_END_OF_CONTINUOUS_UPDATES = 150;
    private static final int MSG_FENCE = 248;
    private static final int FENCE_HEADER_LENGTH = 9;
    private static final int VERSION_LENGTH = 12;
    private static final int SERVER_INIT_FIXED_LENGTH = 24;
    private static final int SERVER_INIT_NAME_LENGTH_OFFSET = 20;
    private static final int RECT_HEADER_LENGTH = 12;
    private static final int RAW_BYTES_PER_PIXEL = 4;
    /** A Raw pixel (32 bpp little-endian, blue first) read as one int: its low three bytes are 0x00RRGGBB. */
    private static final VarHandle LITTLE_ENDIAN_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private enum State {
        VERSION, SECURITY_TYPES, SECURITY_TYPE_V33, VNC_CHALLENGE, SECURITY_RESULT, SERVER_INIT,
        MESSAGE, RECT_HEADER, RAW_PIXELS, HEXTILE_TILES, FAILED
    }

    private final String password;
    private final boolean shared;
    private final RfbListener listener;
    private final RfbEncodings encodings;
    private final Set<Integer> requested;
    private final ZrleDecoder zrle = new ZrleDecoder();
    private final TightDecoder tight = new TightDecoder();
    private final HextileDecoder hextile = new HextileDecoder();

    private byte[] in = new byte[8192];
    private int inStart;
    private int inEnd;
    private final ClientMessages out = new ClientMessages();

    private State state = State.VERSION;
    private int minorVersion;
    private Framebuffer framebuffer;
    private int rectsLeft;
    // Raw rectangle in progress: its bounds and how many pixels are already decoded.
    private int rawX;
    private int rawY;
    private int rawW;
    private int rawH;
    private int rawDone;
    // What the server has shown it supports, by its replies to the pseudo-encodings.
    private List<RfbScreen> screens = List.of();
    private boolean desktopResizeSupported;
    private boolean continuousUpdatesSupported;
    private boolean fenceSupported;

    /**
     * @param password the VNC password ("" when the server offers None); never logged or put in a message
     * @param shared the ClientInit shared flag: leave other viewers connected
     * @param listener called synchronously from {@link #receive}
     */
    public RfbClient(String password, boolean shared, RfbListener listener) {
        this(password, shared, listener, RfbEncodings.DEFAULT);
    }

    /**
     * @param encodings what to ask the server for in SetEncodings, and so what the client decodes
     */
    public RfbClient(String password, boolean shared, RfbListener listener, RfbEncodings encodings) {
        this.password = password;
        this.shared = shared;
        this.listener = listener;
        this.encodings = encodings;
        this.requested = Set.copyOf(encodings.codes());
    }

    /**
     * Feeds server bytes; decodes every complete message and calls the listener for each.
     *
     * @throws ProtocolException for malformed or oversized input (the connection must be closed)
     * @throws DeskgateException with {@link Status#UNAUTHORIZED} when the server rejects authentication
     */
    public void receive(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (state == State.FAILED) throw new ProtocolException("RFB connection already failed or closed");
        try {
            int done = 0;
            while (done < length) {
                int n = Math.min(length - done, RECEIVE_SLICE_BYTES);
                append(bytes, offset + done, n);
                done += n;
                parse();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The bytes queued for the server since the last call (an empty array if none). */
    public byte[] drainOutgoing() {
        return out.drain();
    }

    /**
     * Ends the connection's decoding state and frees the native zlib inflater; later calls to
     * {@link #receive} throw. Idempotent. The framebuffer stays readable.
     */
    public void close() {
        if (state != State.FAILED) {
            state = State.FAILED;
            zrle.close();
            tight.close();
        }
    }

    /** ServerInit has been received; SetPixelFormat and SetEncodings are already queued. */
    public boolean isReady() {
        return framebuffer != null;
    }

    /** Bytes received but not yet decoded (an incomplete message); for tests and diagnostics. */
    public int pendingInputBytes() {
        return inEnd - inStart;
    }

    /** @throws IllegalStateException before ServerInit */
    public Framebuffer framebuffer() {
        if (framebuffer == null) throw new IllegalStateException("RFB framebuffer does not exist before ServerInit");
        return framebuffer;
    }

    /** Queues a FramebufferUpdateRequest (RFC 6143 §7.5.3) for the whole framebuffer. */
    public void requestUpdate(boolean incremental) {
        Framebuffer fb = framebuffer();
        out.framebufferUpdateRequest(incremental, 0, 0, fb.width(), fb.height());
    }

    /** Queues a KeyEvent (RFC 6143 §7.5.4) for an X11 keysym. */
    public void keyEvent(boolean down, long keysym) {
        framebuffer();
        out.keyEvent(down, keysym);
    }

    /** Queues a PointerEvent (RFC 6143 §7.5.5); the position is clamped to the framebuffer. */
    public void pointerEvent(int x, int y, int buttonMask) {
        Framebuffer fb = framebuffer();
        out.pointerEvent(buttonMask, Math.clamp(x, 0, fb.width() - 1), Math.clamp(y, 0, fb.height() - 1));
    }

    /**
     * Queues ClientCutText (RFC 6143 §7.5.6). The text is sent as Latin-1; each code point outside it
     * becomes '?'. Text beyond {@link #MAX_CUT_TEXT_BYTES} characters is cut off.
     */
    public void clientCutText(String text) {
        framebuffer();
        byte[] latin1 = new byte[Math.min(text.length(), MAX_CUT_TEXT_BYTES)];
        int n = 0;
        for (int i = 0; i < text.length() && n < latin1.length; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            latin1[n++] = (byte) (cp <= 0xFF ? cp : '?');
        }
        out.clientCutText(latin1, n);
    }

    /** The encodings this client asked for. */
    public RfbEncodings encodings() {
        return encodings;
    }

    /** The server sent an ExtendedDesktopSize rectangle, so {@link #requestDesktopSize} may be used. */
    public boolean supportsDesktopResize() {
        return desktopResizeSupported;
    }

    /**
     * Queues SetDesktopSize (rfbproto, message 251) for the given size: the first screen the server reported
     * keeps its id and flags and covers the whole new framebuffer. The answer is an ExtendedDesktopSize
     * rectangle with reason {@link ExtendedDesktopSize#REASON_THIS_CLIENT}.
     *
     * @throws IllegalStateException unless {@link #supportsDesktopResize()}
     * @throws IllegalArgumentException for a size outside 1..{@link Framebuffer#MAX_DIMENSION}
     */
    public void requestDesktopSize(int width, int height) {
        framebuffer();
        if (!desktopResizeSupported) throw new IllegalStateException("RFB server has not offered ExtendedDesktopSize");
        if (width < 1 || height < 1 || width > Framebuffer.MAX_DIMENSION || height > Framebuffer.MAX_DIMENSION) {
            throw new IllegalArgumentException("desktop size " + width + "x" + height + " outside 1.." + Framebuffer.MAX_DIMENSION);
        }
        RfbScreen first = screens.isEmpty() ? new RfbScreen(0, 0, 0, width, height, 0) : screens.getFirst();
        out.setDesktopSize(width, height, List.of(new RfbScreen(first.id(), 0, 0, width, height, first.flags())));
    }

    /** The server sent EndOfContinuousUpdates, so {@link #enableContinuousUpdates} may be used. */
    public boolean supportsContinuousUpdates() {
        return continuousUpdatesSupported;
    }

    /**
     * Queues EnableContinuousUpdates (rfbproto, message 150) for the whole framebuffer: when enabled the server
     * sends updates without FramebufferUpdateRequests; disabling is confirmed by EndOfContinuousUpdates. The
     * area is the framebuffer as it is now: after {@link RfbListener#onDesktopSize} enable again for the new size.
     *
     * @throws IllegalStateException unless {@link #supportsContinuousUpdates()}
     */
    public void enableContinuousUpdates(boolean enable) {
        Framebuffer fb = framebuffer();
        if (!continuousUpdatesSupported) throw new IllegalStateException("RFB server has not offered ContinuousUpdates");
        out.enableContinuousUpdates(enable, 0, 0, fb.width(), fb.height());
    }

    /** The server sent a Fence message (which this client answers itself). */
    public boolean supportsFence() {
        return fenceSupported;
    }

    // ---- parsing -------------------------------------------------------------------------------------

    private void parse() {
        boolean progress = true;
        while (progress) {
            progress = switch (state) {
                case VERSION -> parseVersion();
                case SECURITY_TYPES -> parseSecurityTypes();
                case SECURITY_TYPE_V33 -> parseSecurityTypeV33();
                case VNC_CHALLENGE -> parseVncChallenge();
                case SECURITY_RESULT -> parseSecurityResult();
                case SERVER_INIT -> parseServerInit();
                case MESSAGE -> parseMessage();
                case RECT_HEADER -> parseRectHeader();
                case RAW_PIXELS -> parseRawPixels();
                case HEXTILE_TILES -> parseHextileTiles();
                case FAILED -> false;
            };
        }
        compactInput();
    }

    /** ProtocolVersion (RFC 6143 §7.1.1): "RFB xxx.yyy\n". */
    private boolean parseVersion() {
        if (available() < VERSION_LENGTH) return false;
        String version = new String(in, inStart, VERSION_LENGTH, StandardCharsets.ISO_8859_1);
        if (!version.matches("RFB \\d{3}\\.\\d{3}\n")) {
            throw new ProtocolException("RFB server sent no valid ProtocolVersion (" + printable(version) + ")");
        }
        int major = Integer.parseInt(version.substring(4, 7));
        int minor = Integer.parseInt(version.substring(8, 11));
        if (major != 3 || minor < 3) {
            throw new ProtocolException("RFB server offers unsupported protocol version " + major + "." + minor);
        }
        // 3.889 is Apple's 3.8; unknown minors between the published ones fall back as RFC 6143 §7.1.1 says.
        minorVersion = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
        inStart += VERSION_LENGTH;
        byte[] reply = ("RFB 003.00" + minorVersion + "\n").getBytes(StandardCharsets.ISO_8859_1);
        out.bytes(reply, reply.length);
        state = minorVersion >= 7 ? State.SECURITY_TYPES : State.SECURITY_TYPE_V33;
        return true;
    }

    /** Security types list of 3.7 and 3.8 (RFC 6143 §7.1.2). */
    private boolean parseSecurityTypes() {
        if (available() < 1) return false;
        int count = in[inStart] & 0xFF;
        if (count == 0) {
            String reason = peekString(inStart + 1);
            if (reason == null) return false;
            throw new ProtocolException("RFB server refused the connection: " + reason);
        }
        if (available() < 1 + count) return false;
        boolean none = false;
        boolean vncAuth = false;
        for (int i = 0; i < count; i++) {
            int type = in[inStart + 1 + i] & 0xFF;
            none |= type == SECURITY_NONE;
            vncAuth |= type == SECURITY_VNC_AUTH;
        }
        if (!none && !vncAuth) {
            throw new ProtocolException("RFB server offers no supported security type (need None or VNC Authentication)");
        }
        int chosen = none ? SECURITY_NONE : SECURITY_VNC_AUTH;
        inStart += 1 + count;
        out.u8(chosen);
        state = chosen == SECURITY_NONE ? afterNone() : State.VNC_CHALLENGE;
        return true;
    }

    /** Version 3.3: the server alone picks the security type (RFC 6143 Appendix A.1). */
    private boolean parseSecurityTypeV33() {
        if (available() < 4) return false;
        int type = u32(inStart);
        if (type == SECURITY_INVALID) {
            String reason = peekString(inStart + 4);
            if (reason == null) return false;
            throw new ProtocolException("RFB server refused the connection: " + reason);
        }
        inStart += 4;
        if (type == SECURITY_NONE) {
            state = afterNone();
        } else if (type == SECURITY_VNC_AUTH) {
            state = State.VNC_CHALLENGE;
        } else {
            throw new ProtocolException("RFB 3.3 server chose unsupported security type " + Integer.toUnsignedString(type));
        }
        return true;
    }

    /** 3.8 sends SecurityResult even for None; 3.3 and 3.7 go straight to initialisation. */
    private State afterNone() {
        if (minorVersion >= 8) return State.SECURITY_RESULT;
        queueClientInit();
        return State.SERVER_INIT;
    }

    private boolean parseVncChallenge() {
        if (available() < VncAuthentication.CHALLENGE_LENGTH) return false;
        byte[] challenge = Arrays.copyOfRange(in, inStart, inStart + VncAuthentication.CHALLENGE_LENGTH);
        inStart += VncAuthentication.CHALLENGE_LENGTH;
        byte[] response = VncAuthentication.response(password, challenge);
        out.bytes(response, response.length);
        state = State.SECURITY_RESULT;
        return true;
    }

    /** SecurityResult (RFC 6143 §7.1.3): 0 is OK; a failure carries a reason in 3.8 only. */
    private boolean parseSecurityResult() {
        if (available() < 4) return false;
        int result = u32(inStart);
        if (result != 0) {
            String reason = "no reason given";
            if (minorVersion >= 8) {
                reason = peekString(inStart + 4);
                if (reason == null) return false;
            }
            throw new DeskgateException(Status.UNAUTHORIZED, "RFB authentication failed: " + reason);
        }
        inStart += 4;
        queueClientInit();
        state = State.SERVER_INIT;
        return true;
    }

    private void queueClientInit() {
        out.u8(shared ? 1 : 0);
    }

    /** ServerInit (RFC 6143 §7.3.2); then SetPixelFormat and SetEncodings are queued. */
    private boolean parseServerInit() {
        if (available() < SERVER_INIT_FIXED_LENGTH) return false;
        String name = peekString(inStart + SERVER_INIT_NAME_LENGTH_OFFSET);
        if (name == null) return false;
        int width = u16(inStart);
        int height = u16(inStart + 2);
        checkDimensions("ServerInit", width, height);
        inStart += SERVER_INIT_FIXED_LENGTH + name.length();
        framebuffer = new Framebuffer(width, height);
        out.setPixelFormat();
        out.setEncodings(encodings.toArray());
        state = State.MESSAGE;
        listener.onServerInit(width, height, name);
        return true;
    }

    private boolean parseMessage() {
        if (available() < 1) return false;
        int type = in[inStart] & 0xFF;
        switch (type) {
            case MSG_FRAMEBUFFER_UPDATE -> {
                if (available() < 4) return false;
                rectsLeft = u16(inStart + 2);
                inStart += 4;
                state = State.RECT_HEADER;
            }
            case MSG_SET_COLOUR_MAP_ENTRIES -> {
                // Meaningless for a true-colour format; parsed for framing and ignored (RFC 6143 §7.6.2).
                if (available() < 6) return false;
                int total = 6 + 6 * u16(inStart + 4);
                if (available() < total) return false;
                inStart += total;
            }
            case MSG_BELL -> {
                inStart += 1;
                listener.onBell();
            }
            case MSG_SERVER_CUT_TEXT -> {
                if (available() < 8) return false;
                long length = u32(inStart + 4) & 0xFFFF_FFFFL;
                if (length > MAX_CUT_TEXT_BYTES) {
                    throw new ProtocolException("RFB ServerCutText of " + length + " bytes exceeds " + MAX_CUT_TEXT_BYTES);
                }
                if (available() < 8 + length) return false;
                String text = new String(in, inStart + 8, (int) length, StandardCharsets.ISO_8859_1);
                inStart += 8 + (int) length;
                listener.onServerCutText(text);
            }
            case MSG_END_OF_CONTINUOUS_UPDATES -> {
                if (!requested.contains(RfbEncodings.CONTINUOUS_UPDATES)) throw unknownMessage(type);
                inStart += 1;
                continuousUpdatesSupported = true;
                listener.onEndOfContinuousUpdates();
            }
            case MSG_FENCE -> {
                if (!requested.contains(RfbEncodings.FENCE)) throw unknownMessage(type);
                return parseFence();
            }
            default -> throw unknownMessage(type);
        }
        return true;
    }

    private static ProtocolException unknownMessage(int type) {
        return new ProtocolException("RFB server sent unknown message type " + type);
    }

    /**
     * Fence (rfbproto, message 248). A request is answered at once with the flags this client honours and the
     * same payload: messages are handled strictly in order and the reply is queued before anything a later
     * message causes, which is what BlockBefore, BlockAfter and SyncNext ask of a client.
     */
    private boolean parseFence() {
        if (available() < FENCE_HEADER_LENGTH) return false;
        int flags = u32(inStart + 4);
        int length = in[inStart + 8] & 0xFF;
        if (length > MAX_FENCE_PAYLOAD) {
            throw new ProtocolException("RFB Fence payload of " + length + " bytes exceeds " + MAX_FENCE_PAYLOAD);
        }
        if (available() < FENCE_HEADER_LENGTH + length) return false;
        fenceSupported = true;
        if ((flags & FENCE_REQUEST) != 0) {
            out.fence(flags & (FENCE_BLOCK_BEFORE | FENCE_BLOCK_AFTER | FENCE_SYNC_NEXT), in, inStart + FENCE_HEADER_LENGTH, length);
        }
        inStart += FENCE_HEADER_LENGTH + length;
        return true;
    }

    /** A rectangle header (RFC 6143 §7.6.1) and, for the small fixed-size encodings, its body. */
    private boolean parseRectHeader() {
        if (rectsLeft == 0) {
            state = State.MESSAGE;
            listener.onUpdateEnd();
            return true;
        }
        if (available() < RECT_HEADER_LENGTH) return false;
        int p = inStart;
        int x = u16(p);
        int y = u16(p + 2);
        int w = u16(p + 4);
        int h = u16(p + 6);
        int encoding = u32(p + 8);
        if (encoding != ENCODING_RAW && !requested.contains(encoding)) {
            throw new ProtocolException("RFB server sent a rectangle in unrequested encoding " + encoding);
        }
        switch (encoding) {
            case ENCODING_RAW -> {
                checkRect("Raw", x, y, w, h);
                inStart += RECT_HEADER_LENGTH;
                rawX = x;
                rawY = y;
                rawW = w;
                rawH = h;
                rawDone = 0;
                state = State.RAW_PIXELS;
                return true;
            }
            case ENCODING_COPY_RECT -> {
                if (available() < RECT_HEADER_LENGTH + 4) return false;
                int srcX = u16(p + RECT_HEADER_LENGTH);
                int srcY = u16(p + RECT_HEADER_LENGTH + 2);
                checkRect("CopyRect", x, y, w, h);
                checkRect("CopyRect source", srcX, srcY, w, h);
                inStart += RECT_HEADER_LENGTH + 4;
                framebuffer.copyRect(srcX, srcY, x, y, w, h);
                listener.onCopyRect(srcX, srcY, x, y, w, h);
            }
            case ENCODING_ZRLE -> {
                if (available() < RECT_HEADER_LENGTH + 4) return false;
                checkRect("ZRLE", x, y, w, h);
                long length = u32(p + RECT_HEADER_LENGTH) & 0xFFFF_FFFFL;
                if (length > MAX_ZRLE_BYTES) {
                    throw new ProtocolException("RFB ZRLE rectangle of " + length + " bytes exceeds " + MAX_ZRLE_BYTES);
                }
                if (available() < RECT_HEADER_LENGTH + 4 + length) return false;
                zrle.decodeRect(in, p + RECT_HEADER_LENGTH + 4, (int) length, framebuffer, x, y, w, h);
                inStart += RECT_HEADER_LENGTH + 4 + (int) length;
                listener.onRect(x, y, w, h);
            }
            case ENCODING_HEXTILE -> {
                checkRect("Hextile", x, y, w, h);
                inStart += RECT_HEADER_LENGTH;
                hextile.start(x, y, w, h);
                rawX = x;
                rawY = y;
                rawW = w;
                rawH = h;
                state = State.HEXTILE_TILES;
                return true;
            }
            case ENCODING_TIGHT -> {
                checkRect("Tight", x, y, w, h);
                int n = tight.decode(in, p + RECT_HEADER_LENGTH, available() - RECT_HEADER_LENGTH, framebuffer, x, y, w, h);
                if (n < 0) return false;
                inStart += RECT_HEADER_LENGTH + n;
                listener.onRect(x, y, w, h);
            }
            case ENCODING_CURSOR -> {
                if (!parseCursor(x, y, w, h)) return false;
            }
            case ENCODING_EXTENDED_DESKTOP_SIZE -> {
                if (!parseExtendedDesktopSize(x, y, w, h)) return false;
            }
            case ENCODING_DESKTOP_SIZE -> {
                checkDimensions("DesktopSize", w, h);
                inStart += RECT_HEADER_LENGTH;
                framebuffer.resize(w, h);
                listener.onDesktopSize(w, h);
            }
            case ENCODING_LAST_RECT -> {
                inStart += RECT_HEADER_LENGTH;
                rectsLeft = 1; // decremented to 0 below: the update ends here
            }
            default -> throw new ProtocolException("RFB server sent a rectangle in encoding " + encoding + ", which has no rectangles");
        }
        rectsLeft--;
        return true;
    }

    /** Hextile tiles (RFC 6143 §7.7.4), decoded as each whole tile arrives. */
    private boolean parseHextileTiles() {
        inStart += hextile.decode(in, inStart, available(), framebuffer);
        if (!hextile.done()) return false;
        state = State.RECT_HEADER;
        rectsLeft--;
        listener.onRect(rawX, rawY, rawW, rawH);
        return true;
    }

    /** Cursor (rfbproto pseudo-encoding -239): the rectangle's position is the hotspot; see {@link PseudoRects}. */
    private boolean parseCursor(int hotX, int hotY, int w, int h) {
        int length = PseudoRects.cursorLength(hotX, hotY, w, h);
        if (available() < RECT_HEADER_LENGTH + length) return false;
        RfbCursor cursor = PseudoRects.cursor(in, inStart + RECT_HEADER_LENGTH, hotX, hotY, w, h);
        inStart += RECT_HEADER_LENGTH + length;
        listener.onCursor(cursor);
        return true;
    }

    /**
     * ExtendedDesktopSize (rfbproto pseudo-encoding -308): x is the reason, y the status. A successful change of
     * size resizes (and clears) the framebuffer as DesktopSize does; an unchanged size keeps its pixels.
     */
    private boolean parseExtendedDesktopSize(int reason, int status, int w, int h) {
        if (status == ExtendedDesktopSize.STATUS_OK) checkDimensions("ExtendedDesktopSize", w, h);
        int length = PseudoRects.layoutLength(in, inStart + RECT_HEADER_LENGTH, available() - RECT_HEADER_LENGTH);
        if (length < 0 || available() < RECT_HEADER_LENGTH + length) return false;
        ExtendedDesktopSize update = new ExtendedDesktopSize(reason, status, w, h, PseudoRects.screens(in, inStart + RECT_HEADER_LENGTH));
        inStart += RECT_HEADER_LENGTH + length;
        desktopResizeSupported = true;
        if (update.ok()) {
            screens = update.screens();
            if (w != framebuffer.width() || h != framebuffer.height()) {
                framebuffer.resize(w, h);
                listener.onDesktopSize(w, h);
            }
        }
        listener.onExtendedDesktopSize(update);
        return true;
    }

    /** Raw pixels (RFC 6143 §7.7.1) are decoded as they arrive, so a large rectangle is never buffered whole. */
    private boolean parseRawPixels() {
        int total = rawW * rawH;
        int count = Math.min(available() / RAW_BYTES_PER_PIXEL, total - rawDone);
        int[] pixels = framebuffer.pixels();
        int stride = framebuffer.width();
        byte[] b = in;
        int p = inStart;
        int done = rawDone;
        int end = done + count;
        while (done < end) {
            int row = done / rawW;
            int col = done - row * rawW;
            int n = Math.min(rawW - col, end - done);
            int o = (rawY + row) * stride + rawX + col;
            for (int last = o + n; o < last; o++, p += RAW_BYTES_PER_PIXEL) {
                pixels[o] = (int) LITTLE_ENDIAN_INT.get(b, p) & 0xFFFFFF; // b[p] | b[p+1] << 8 | b[p+2] << 16
            }
            done += n;
        }
        inStart = p;
        rawDone = done;
        if (rawDone < total) return false;
        state = State.RECT_HEADER;
        rectsLeft--;
        listener.onRect(rawX, rawY, rawW, rawH);
        return true;
    }

    private void checkRect(String what, int x, int y, int w, int h) {
        if (x + w > framebuffer.width() || y + h > framebuffer.height()) {
            throw new ProtocolException("RFB " + what + " rectangle " + w + "x" + h + "+" + x + "+" + y
                    + " lies outside the " + framebuffer.width() + "x" + framebuffer.height() + " framebuffer");
        }
    }

    private static void checkDimensions(String what, int width, int height) {
        if (width < 1 || height < 1 || width > Framebuffer.MAX_DIMENSION || height > Framebuffer.MAX_DIMENSION) {
            throw new ProtocolException("RFB " + what + " framebuffer size " + width + "x" + height
                    + " outside 1.." + Framebuffer.MAX_DIMENSION);
        }
    }

    /**
     * A u32-length-prefixed Latin-1 string whose length field starts at {@code at}, or null if not all of it
     * has arrived. Does not consume; the caller advances past {@code 4 + result.length()} bytes.
     */
    private String peekString(int at) {
        if (inEnd - at < 4) return null;
        long length = u32(at) & 0xFFFF_FFFFL;
        if (length > MAX_STRING_BYTES) {
            throw new ProtocolException("RFB server string of " + length + " bytes exceeds " + MAX_STRING_BYTES);
        }
        if (inEnd - at - 4 < length) return null;
        return new String(in, at + 4, (int) length, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(c >= 0x20 && c < 0x7F ? c : '.');
        return b.toString();
    }

    // ---- buffers -------------------------------------------------------------------------------------

    private int available() {
        return inEnd - inStart;
    }

    private int u16(int at) {
        return (in[at] & 0xFF) << 8 | (in[at + 1] & 0xFF);
    }

    private int u32(int at) {
        return (in[at] & 0xFF) << 24 | (in[at + 1] & 0xFF) << 16 | (in[at + 2] & 0xFF) << 8 | (in[at + 3] & 0xFF);
    }

    private void append(byte[] bytes, int offset, int length) {
        if (in.length - inEnd < length) {
            compactInput();
            if (in.length - inEnd < length) {
                in = Arrays.copyOf(in, Math.max(inEnd + length, in.length * 2));
            }
        }
        System.arraycopy(bytes, offset, in, inEnd, length);
        inEnd += length;
    }

    private void compactInput() {
        if (inStart == 0) return;
        int left = inEnd - inStart;
        System.arraycopy(in, inStart, in, 0, left);
        inStart = 0;
        inEnd = left;
    }
}
