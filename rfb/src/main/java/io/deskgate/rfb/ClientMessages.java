package io.deskgate.rfb;

import java.util.Arrays;

/**
 * The client-to-server bytes an {@link RfbClient} has queued (RFC 6143 §7.5), written big-endian as RFB
 * requires. Single-threaded; owned by its client.
 */
final class ClientMessages {
    static final int SET_PIXEL_FORMAT = 0;
    static final int SET_ENCODINGS = 2;
    static final int FRAMEBUFFER_UPDATE_REQUEST = 3;
    static final int KEY_EVENT = 4;
    static final int POINTER_EVENT = 5;
    static final int CLIENT_CUT_TEXT = 6;
    static final int ENABLE_CONTINUOUS_UPDATES = 150;
    static final int FENCE = 248;
    static final int SET_DESKTOP_SIZE = 251;

    private byte[] out = new byte[256];
    private int length;

    /** Everything queued since the last call (an empty array if nothing was). */
    byte[] drain() {
        byte[] result = Arrays.copyOf(out, length);
        length = 0;
        return result;
    }

    void bytes(byte[] bytes, int count) {
        ensure(count);
        System.arraycopy(bytes, 0, out, length, count);
        length += count;
    }

    /** SetPixelFormat (§7.5.1): 32 bpp, depth 24, little-endian true colour, red 16, green 8, blue 0. */
    void setPixelFormat() {
        ensure(20);
        u8(SET_PIXEL_FORMAT);
        u8(0);
        u16(0);
        u8(32); // bits-per-pixel
        u8(24); // depth
        u8(0); // big-endian-flag
        u8(1); // true-colour-flag
        u16(255); // red-max
        u16(255); // green-max
        u16(255); // blue-max
        u8(16); // red-shift
        u8(8); // green-shift
        u8(0); // blue-shift
        u8(0);
        u16(0);
    }

    /** SetEncodings (§7.5.2), most preferred first. */
    void setEncodings(int[] encodings) {
        ensure(4 + 4 * encodings.length);
        u8(SET_ENCODINGS);
        u8(0);
        u16(encodings.length);
        for (int encoding : encodings) u32(encoding);
    }

    /** FramebufferUpdateRequest (§7.5.3). */
    void framebufferUpdateRequest(boolean incremental, int x, int y, int w, int h) {
        ensure(10);
        u8(FRAMEBUFFER_UPDATE_REQUEST);
        u8(incremental ? 1 : 0);
        u16(x);
        u16(y);
        u16(w);
        u16(h);
    }

    /** KeyEvent (§7.5.4). */
    void keyEvent(boolean down, long keysym) {
        ensure(8);
        u8(KEY_EVENT);
        u8(down ? 1 : 0);
        u16(0);
        u32((int) keysym);
    }

    /** PointerEvent (§7.5.5). */
    void pointerEvent(int buttonMask, int x, int y) {
        ensure(6);
        u8(POINTER_EVENT);
        u8(buttonMask & 0xFF);
        u16(x);
        u16(y);
    }

    /** ClientCutText (§7.5.6) of {@code count} Latin-1 bytes. */
    void clientCutText(byte[] latin1, int count) {
        ensure(8 + count);
        u8(CLIENT_CUT_TEXT);
        u8(0);
        u16(0);
        u32(count);
        System.arraycopy(latin1, 0, out, length, count);
        length += count;
    }

    /** EnableContinuousUpdates (rfbproto, message 150). */
    void enableContinuousUpdates(boolean enable, int x, int y, int w, int h) {
        ensure(10);
        u8(ENABLE_CONTINUOUS_UPDATES);
        u8(enable ? 1 : 0);
        u16(x);
        u16(y);
        u16(w);
        u16(h);
    }

    /** Fence (rfbproto, message 248) with {@code length} payload bytes (at most 64). */
    void fence(int flags, byte[] payload, int offset, int length) {
        ensure(9 + length);
        u8(FENCE);
        u8(0);
        u16(0);
        u32(flags);
        u8(length);
        System.arraycopy(payload, offset, out, this.length, length);
        this.length += length;
    }

    /** SetDesktopSize (rfbproto, message 251). */
    void setDesktopSize(int width, int height, java.util.List<RfbScreen> screens) {
        ensure(8 + 16 * screens.size());
        u8(SET_DESKTOP_SIZE);
        u8(0);
        u16(width);
        u16(height);
        u8(screens.size());
        u8(0);
        for (RfbScreen s : screens) {
            u32((int) s.id());
            u16(s.x());
            u16(s.y());
            u16(s.width());
            u16(s.height());
            u32((int) s.flags());
        }
    }

    void u8(int v) {
        ensure(1);
        out[length++] = (byte) v;
    }

    private void ensure(int n) {
        if (out.length - length < n) out = Arrays.copyOf(out, Math.max(length + n, out.length * 2));
    }

    private void u16(int v) {
        out[length++] = (byte) (v >>> 8);
        out[length++] = (byte) v;
    }

    private void u32(int v) {
        out[length++] = (byte) (v >>> 24);
        out[length++] = (byte) (v >>> 16);
        out[length++] = (byte) (v >>> 8);
        out[length++] = (byte) v;
    }
}
