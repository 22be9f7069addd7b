package io.deskgate.rfb;

import java.util.Arrays;

/**
 * The desktop's cursor from the Cursor pseudo-encoding (-239, rfbproto "Cursor"): an image and its hotspot,
 * the mask folded into the alpha byte. An empty (0x0) cursor means the desktop shows no cursor.
 * Immutable: {@link #argb()} returns a copy.
 *
 * @param width 0..{@link #MAX_DIMENSION}
 * @param height 0..{@link #MAX_DIMENSION}, 0 exactly when {@code width} is 0
 * @param hotspotX inside the image (0 for an empty cursor)
 * @param hotspotY inside the image (0 for an empty cursor)
 * @param argb {@code width * height} pixels {@code 0xAARRGGBB}, row-major, alpha 0xFF where the mask shows
 *     the pixel and 0 elsewhere
 */
public record RfbCursor(int width, int height, int hotspotX, int hotspotY, int[] argb) {
    /** Largest cursor width or height accepted from a server. */
    public static final int MAX_DIMENSION = 256;

    public RfbCursor {
        if (width < 0 || height < 0 || width > MAX_DIMENSION || height > MAX_DIMENSION || (width == 0) != (height == 0)) {
            throw new IllegalArgumentException("cursor size " + width + "x" + height);
        }
        boolean empty = width == 0;
        if (empty ? hotspotX != 0 || hotspotY != 0 : hotspotX < 0 || hotspotY < 0 || hotspotX >= width || hotspotY >= height) {
            throw new IllegalArgumentException("cursor hotspot " + hotspotX + "," + hotspotY + " outside " + width + "x" + height);
        }
        if (argb.length != width * height) throw new IllegalArgumentException("cursor of " + argb.length + " pixels, not " + width * height);
        argb = argb.clone();
    }

    @Override
    public int[] argb() {
        return argb.clone();
    }

    /** The pixel at ({@code x}, {@code y}) as {@code 0xAARRGGBB}. */
    public int pixel(int x, int y) {
        if (x < 0 || y < 0 || x >= width || y >= height) throw new IndexOutOfBoundsException("cursor pixel (" + x + "," + y + ")");
        return argb[y * width + x];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RfbCursor c && c.width == width && c.height == height && c.hotspotX == hotspotX
                && c.hotspotY == hotspotY && Arrays.equals(c.argb, argb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * (31 * width + height) + hotspotX) + hotspotY) + Arrays.hashCode(argb);
    }

    @Override
    public String toString() {
        return "RfbCursor[" + width + "x" + height + " hotspot " + hotspotX + "," + hotspotY + "]";
    }
}
