package io.deskgate.rfb;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * An RFB 3.8 client (RFC 6143) as a pure core: fed the server's bytes through {@link #receive}, it decodes
 * them into its {@link Framebuffer}, reports through an {@link RfbListener}, and queues the bytes it wants
 * sent, which the owner collects with {@link #drainOutgoing()}. It owns no socket, thread or clock.
 *
 * <p>Bytes may arrive in fragments of any size; the client buffers an incomplete message and resumes when
 * the rest arrives. It speaks 3.8 and also accepts servers offering 3.3, 3.7 and Apple's 3.889. Security:
 * None (1) and VNC Authentication (2). After ServerInit it asks for a 32-bit little-endian true-colour
 * pixel format and the encodings ZRLE, CopyRect, Raw, DesktopSize and LastRect.
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

    static final int ENCODING_RAW = 0;
    static final int ENCODING_COPY_RECT = 1;
    static final int ENCODING_ZRLE = 16;
    static final int ENCODING_DESKTOP_SIZE = -223;
    static final int ENCODING_LAST_RECT = -224;
    private static final int[] ENCODINGS = {ENCODING_ZRLE, ENCODING_COPY_RECT, ENCODING_RAW, ENCODING_DESKTOP_SIZE, ENCODING_LAST_RECT};

    static final int SECURITY_INVALID = 0;
    static final int SECURITY_NONE = 1;
    static final int SECURITY_VNC_AUTH = 2;

    // Server-to-client message types (RFC 6143 §7.6).
    private static final int MSG_FRAMEBUFFER_UPDATE = 0;
    private static final int MSG_SET_COLOUR_MAP_ENTRIES = 1;
    private static final int MSG_BELL = 2;
    private static final int MSG_SERVER_CUT_TEXT = 3;
    private static final int VERSION_LENGTH = 12;
    private static final int SERVER_INIT_FIXED_LENGTH = 24;
    private static final int SERVER_INIT_NAME_LENGTH_OFFSET = 20;
    private static final int RECT_HEADER_LENGTH = 12;
    private static final int RAW_BYTES_PER_PIXEL = 4;

    private enum State {
        VERSION, SECURITY_TYPES, SECURITY_TYPE_V33, VNC_CHALLENGE, SECURITY_RESULT, SERVER_INIT,
        MESSAGE, RECT_HEADER, RAW_PIXELS, FAILED
    }

    private final String password;
    private final boolean shared;
    private final RfbListener listener;
    private final ZrleDecoder zrle = new ZrleDecoder();

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

    /**
     * @param password the VNC password ("" when the server offers None); never logged or put in a message
     * @param shared the ClientInit shared flag: leave other viewers connected
     * @param listener called synchronously from {@link #receive}
     */
    public RfbClient(String password, boolean shared, RfbListener listener) {
        this.password = password;
        this.shared = shared;
        this.listener = listener;
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
        }
    }

    /** ServerInit has been received; SetPixelFormat and SetEncodings are already queued. */
    public boolean isReady() {
        return framebuffer != null;
    }

    /** Bytes received but not yet decoded (an incomplete message); for tests and diagnostics. */
    int pendingInputBytes() {
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
        out.setEncodings(ENCODINGS);
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
            default -> throw new ProtocolException("RFB server sent unknown message type " + type);
        }
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
            default -> throw new ProtocolException("RFB server sent a rectangle in unrequested encoding " + encoding);
        }
        rectsLeft--;
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
                pixels[o] = (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16;
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
