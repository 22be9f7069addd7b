package io.deskgate.encode;

import java.util.Arrays;
import java.util.Random;

/** Synthetic framebuffers for encoder tests and the benchmark: text that scrolls, windows that move. */
final class SyntheticDesktop {
    static final int BACKGROUND = 0xffffff;
    static final int INK = 0x000000;
    static final int LINE = 16;
    static final int CELL = 8;

    private SyntheticDesktop() {}

    /**
     * An xterm-like page: text lines of {@value #LINE} px, glyphs of {@value #CELL} px, line {@code n} of the
     * document at {@code y = n * LINE - scrollPx}; each line holds "text" of a length that varies per line.
     */
    static int[] text(int width, int height, int scrollPx) {
        int[] px = new int[width * height];
        Arrays.fill(px, BACKGROUND);
        drawText(px, width, 0, 0, width, height, scrollPx, INK, BACKGROUND);
        return px;
    }

    /** Draws document text into the rectangle, scrolled up by {@code scrollPx}. */
    static void drawText(int[] px, int stride, int x0, int y0, int w, int h, int scrollPx, int ink, int paper) {
        for (int y = 0; y < h; y++) {
            int docY = y + scrollPx;
            int line = docY / LINE, glyphRow = docY % LINE;
            int length = (int) ((line * 2654435761L >>> 7) % (w / CELL)) + 1;
            for (int x = 0; x < w; x++) {
                int cell = x / CELL;
                int colour = paper;
                if (cell < length && glyphRow >= 3 && glyphRow < 14) {
                    int ch = (int) ((line * 31L + cell) * 0x9E3779B1L >>> 11) & 0x3f;
                    int bits = (int) (((ch * 16L + glyphRow) * 0x5DEECE66DL ^ 0x2545F491L) * 0x9E3779B97F4A7C15L >>> 40);
                    if (ch != 0 && (bits >>> (x % CELL) & 1) != 0) colour = ink;
                }
                px[(y0 + y) * stride + x0 + x] = colour;
            }
        }
    }

    /** A desktop of a flat colour with a text window of {@code w x h} at {@code (x, y)} with a title bar. */
    static int[] window(int width, int height, int x, int y, int w, int h) {
        int[] px = new int[width * height];
        Arrays.fill(px, 0x3a6ea5);
        for (int r = 0; r < 20; r++) Arrays.fill(px, (y + r) * width + x, (y + r) * width + x + w, 0x1c3f94 + r);
        drawText(px, width, x, y + 20, w, h - 20, 0, 0x101010, 0xf0f0f0);
        return px;
    }

    static int[] noise(int width, int height, long seed) {
        Random random = new Random(seed);
        int[] px = new int[width * height];
        for (int i = 0; i < px.length; i++) px[i] = random.nextInt() & 0xffffff;
        return px;
    }
}
