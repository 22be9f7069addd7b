package io.deskgate.rfb;

import io.deskgate.common.ProtocolException;
import java.util.ArrayList;
import java.util.List;

/**
 * The bodies of the Cursor (-239) and ExtendedDesktopSize (-308) pseudo-rectangles (rfbproto), read from the
 * client's input buffer once the whole body has arrived. Sizes are checked from the rectangle header alone,
 * before anything is buffered or allocated. Stateless.
 */
final class PseudoRects {
    static final int SCREEN_LENGTH = 16;
    /** ExtendedDesktopSize: u8 number-of-screens and 3 bytes of padding before the screens. */
    static final int LAYOUT_HEADER_LENGTH = 4;
    private static final int PIXEL_BYTES = 4;

    private PseudoRects() {}

    /**
     * The body length of a Cursor rectangle: the image in the client's pixel format, then a 1-bit mask with
     * rows padded to a byte.
     *
     * A cursor with no pixels (0 wide or 0 high: TigerVNC sends 1x0 for an invisible pointer) has an empty body
     * whatever its hotspot.
     *
     * @throws ProtocolException for a cursor over {@link RfbCursor#MAX_DIMENSION} or a hotspot outside the image
     */
    static int cursorLength(int hotX, int hotY, int w, int h) {
        if (w > RfbCursor.MAX_DIMENSION || h > RfbCursor.MAX_DIMENSION) {
            throw new ProtocolException("RFB Cursor of " + w + "x" + h + " outside 1.." + RfbCursor.MAX_DIMENSION + " (or empty)");
        }
        if (w > 0 && h > 0 && (hotX >= w || hotY >= h)) {
            throw new ProtocolException("RFB Cursor hotspot " + hotX + "," + hotY + " outside its " + w + "x" + h + " image");
        }
        return w * h * PIXEL_BYTES + ((w + 7) >>> 3) * h;
    }

    /**
     * The cursor whose body (checked by {@link #cursorLength}) starts at {@code in[p]}; the mask becomes alpha. One
     * with no pixels is the empty (0x0) cursor.
     */
    static RfbCursor cursor(byte[] in, int p, int hotX, int hotY, int w, int h) {
        if (w == 0 || h == 0) return new RfbCursor(0, 0, 0, 0, new int[0]);
        int maskRow = (w + 7) >>> 3;
        int m = p + w * h * PIXEL_BYTES;
        int[] argb = new int[w * h];
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++, p += PIXEL_BYTES) {
                boolean shown = (in[m + row * maskRow + (col >>> 3)] & (0x80 >>> (col & 7))) != 0;
                int rgb = (in[p] & 0xFF) | (in[p + 1] & 0xFF) << 8 | (in[p + 2] & 0xFF) << 16;
                argb[row * w + col] = shown ? 0xFF00_0000 | rgb : rgb;
            }
        }
        return new RfbCursor(w, h, hotX, hotY, argb);
    }

    /** The body length of the ExtendedDesktopSize rectangle at {@code in[p]}, or -1 if its screen count has not arrived. */
    static int layoutLength(byte[] in, int p, int available) {
        if (available < LAYOUT_HEADER_LENGTH) return -1;
        return LAYOUT_HEADER_LENGTH + (in[p] & 0xFF) * SCREEN_LENGTH;
    }

    /** The screens of the ExtendedDesktopSize body at {@code in[p]}, all of which has arrived. */
    static List<RfbScreen> screens(byte[] in, int p) {
        int count = in[p] & 0xFF;
        List<RfbScreen> screens = new ArrayList<>(count);
        for (int i = 0, s = p + LAYOUT_HEADER_LENGTH; i < count; i++, s += SCREEN_LENGTH) {
            screens.add(new RfbScreen(u32(in, s), u16(in, s + 4), u16(in, s + 6), u16(in, s + 8), u16(in, s + 10), u32(in, s + 12)));
        }
        return screens;
    }

    private static int u16(byte[] in, int at) {
        return (in[at] & 0xFF) << 8 | (in[at + 1] & 0xFF);
    }

    private static long u32(byte[] in, int at) {
        return ((long) u16(in, at) << 16 | u16(in, at + 2)) & 0xFFFF_FFFFL;
    }
}
