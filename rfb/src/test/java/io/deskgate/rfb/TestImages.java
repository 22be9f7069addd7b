package io.deskgate.rfb;

import java.util.Random;

/** Deterministic test pictures (0x00RRGGBB, row-major) and a PSNR to compare lossy decodes with. */
final class TestImages {
    private TestImages() {}

    /** Smooth colour ramps with mild seeded noise: photo-like content. */
    static int[] photo(int w, int h, long seed) {
        Random random = new Random(seed);
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = Math.clamp(x * 255 / Math.max(1, w - 1) + random.nextInt(9) - 4, 0, 255);
                int g = Math.clamp(y * 255 / Math.max(1, h - 1) + random.nextInt(9) - 4, 0, 255);
                int b = Math.clamp(128 + (int) (100 * Math.sin((x + y) / 7.0)), 0, 255);
                px[y * w + x] = r << 16 | g << 8 | b;
            }
        }
        return px;
    }

    /** "Text": seeded glyph-like strokes of {@code fg} on {@code bg}, exactly two colours. */
    static int[] text(int w, int h, int fg, int bg, long seed) {
        Random random = new Random(seed);
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) px[y * w + x] = (y % 9 < 7 && x % 6 < 4 && random.nextInt(3) == 0) ? fg : bg;
        }
        return px;
    }

    /** UI-like blocks of {@code colours} colours (at most 256), seeded. */
    static int[] blocks(int w, int h, int colours, long seed) {
        Random random = new Random(seed);
        int[] palette = new int[colours];
        for (int i = 0; i < colours; i++) palette[i] = 0x10_0000 * (i % 16) + 0x1000 * (i / 16) + 7 * i;
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) px[y * w + x] = palette[((x / 3) * 31 + (y / 2) * 17 + random.nextInt(2)) % colours];
        }
        return px;
    }

    /** The rectangle ({@code x}, {@code y}, {@code w}, {@code h}) of the framebuffer, row-major. */
    static int[] region(Framebuffer fb, int x, int y, int w, int h) {
        int[] r = new int[w * h];
        for (int row = 0; row < h; row++) System.arraycopy(fb.pixels(), (y + row) * fb.width() + x, r, row * w, w);
        return r;
    }

    /** Peak signal-to-noise ratio over the three colour components, in dB (infinite when equal). */
    static double psnr(int[] expected, int[] actual) {
        double squares = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                int d = (expected[i] >>> shift & 0xFF) - (actual[i] >>> shift & 0xFF);
                squares += d * d;
            }
        }
        double mse = squares / (expected.length * 3.0);
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }
}
