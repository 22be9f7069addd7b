package io.deskgate.rfb;

import java.util.Arrays;

/**
 * The client's copy of the remote framebuffer: {@code 0x00RRGGBB} ints, row-major, {@code width * height}
 * of them.
 *
 * <p>Owned by the {@link RfbClient} that created it; read it only on the thread that feeds that client
 * (typically from inside an {@link RfbListener} callback or between two {@link RfbClient#receive} calls).
 * The array returned by {@link #pixels()} is live: the client writes into it as updates arrive, and a
 * desktop resize replaces it, so fetch it again after {@link RfbListener#onDesktopSize}.
 */
public final class Framebuffer {
    /** Largest width or height accepted from a server (RFB allows 65535; this bounds memory). */
    public static final int MAX_DIMENSION = 8192;

    private int width;
    private int height;
    private int[] pixels;

    Framebuffer(int width, int height) {
        resize(width, height);
    }

    public int width() { return width; }

    public int height() { return height; }

    /** The live pixel array, length {@code width() * height()}, index {@code y * width() + x}. */
    public int[] pixels() { return pixels; }

    /** The pixel at ({@code x}, {@code y}) as {@code 0x00RRGGBB}. */
    public int pixel(int x, int y) {
        if (x < 0 || y < 0 || x >= width || y >= height) {
            throw new IndexOutOfBoundsException("pixel (" + x + "," + y + ") outside " + width + "x" + height);
        }
        return pixels[y * width + x];
    }

    /** Replaces the contents with a black framebuffer of the new size; the caller has validated it. */
    void resize(int newWidth, int newHeight) {
        if (newWidth < 1 || newHeight < 1 || newWidth > MAX_DIMENSION || newHeight > MAX_DIMENSION) {
            throw new IllegalArgumentException("framebuffer size " + newWidth + "x" + newHeight);
        }
        if (pixels != null && pixels.length == newWidth * newHeight) {
            Arrays.fill(pixels, 0);
        } else {
            pixels = new int[newWidth * newHeight];
        }
        width = newWidth;
        height = newHeight;
    }

    /** Copies a w x h block from (srcX, srcY) to (x, y); both rectangles lie inside the framebuffer. */
    void copyRect(int srcX, int srcY, int x, int y, int w, int h) {
        if (srcY < y) {
            // Destination below source: copy bottom-up so overlapping rows are read before they are written.
            for (int row = h - 1; row >= 0; row--) {
                System.arraycopy(pixels, (srcY + row) * width + srcX, pixels, (y + row) * width + x, w);
            }
        } else {
            for (int row = 0; row < h; row++) {
                System.arraycopy(pixels, (srcY + row) * width + srcX, pixels, (y + row) * width + x, w);
            }
        }
    }
}
