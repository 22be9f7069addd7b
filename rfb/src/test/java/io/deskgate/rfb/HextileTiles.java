package io.deskgate.rfb;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes Hextile tile data (RFC 6143 §7.7.4) for tests: single fields for hand-made tiles, and a small
 * encoder ({@link #encode}) that picks a subencoding per tile the way a server would. Pixels are 0x00RRGGBB,
 * written in the client's little-endian 32 bpp format.
 */
final class HextileTiles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] toByteArray() {
        return out.toByteArray();
    }

    HextileTiles u8(int v) {
        out.write(v);
        return this;
    }

    HextileTiles pixel(int rgb) {
        return u8(rgb).u8(rgb >>> 8).u8(rgb >>> 16).u8(0);
    }

    HextileTiles raw(int... pixels) {
        u8(HextileDecoder.RAW);
        for (int p : pixels) pixel(p);
        return this;
    }

    /** A subrectangle's position and size bytes (x, y within the tile; w, h from 1). */
    HextileTiles subrect(int x, int y, int w, int h) {
        return u8(x << 4 | y).u8((w - 1) << 4 | (h - 1));
    }

    /**
     * Encodes a {@code w x h} image: a one-colour tile is background only, a two-colour tile background plus
     * foreground subrectangles, a tile of a few colours coloured subrectangles, anything else raw; background
     * and foreground are left out when the previous tile already set them.
     */
    static byte[] encode(int[] px, int w, int h) {
        HextileTiles t = new HextileTiles();
        Integer lastBg = null;
        Integer lastFg = null;
        for (int ty = 0; ty < h; ty += 16) {
            for (int tx = 0; tx < w; tx += 16) {
                int tw = Math.min(16, w - tx);
                int th = Math.min(16, h - ty);
                int[] tile = new int[tw * th];
                Set<Integer> colours = new LinkedHashSet<>();
                for (int row = 0; row < th; row++) {
                    for (int col = 0; col < tw; col++) {
                        tile[row * tw + col] = px[(ty + row) * w + tx + col];
                        colours.add(tile[row * tw + col]);
                    }
                }
                int bg = colours.iterator().next();
                List<int[]> runs = runs(tile, tw, th, bg);
                boolean mono = colours.size() == 2;
                int subrectBytes = runs.size() * (mono ? 2 : 6);
                if (runs.size() > 255 || subrectBytes + 10 >= tw * th * 4) {
                    t.raw(tile);
                    lastBg = null;
                    lastFg = null;
                    continue;
                }
                int mask = 0;
                if (!Integer.valueOf(bg).equals(lastBg)) mask |= HextileDecoder.BACKGROUND_SPECIFIED;
                int fg = mono ? colours.stream().filter(c -> c != bg).findFirst().orElseThrow() : 0;
                if (!runs.isEmpty()) mask |= HextileDecoder.ANY_SUBRECTS;
                if (!runs.isEmpty() && !mono) mask |= HextileDecoder.SUBRECTS_COLOURED;
                if (mono && !Integer.valueOf(fg).equals(lastFg)) mask |= HextileDecoder.FOREGROUND_SPECIFIED;
                t.u8(mask);
                if ((mask & HextileDecoder.BACKGROUND_SPECIFIED) != 0) t.pixel(bg);
                if ((mask & HextileDecoder.FOREGROUND_SPECIFIED) != 0) t.pixel(fg);
                lastBg = bg;
                if (mono) lastFg = fg;
                if (runs.isEmpty()) continue;
                t.u8(runs.size());
                for (int[] r : runs) {
                    if (!mono) t.pixel(r[4]);
                    t.subrect(r[0], r[1], r[2], r[3]);
                }
            }
        }
        return t.toByteArray();
    }

    /** Horizontal runs of one colour other than {@code bg}: {x, y, w, 1, colour}. */
    private static List<int[]> runs(int[] tile, int tw, int th, int bg) {
        List<int[]> runs = new ArrayList<>();
        for (int row = 0; row < th; row++) {
            for (int col = 0; col < tw; ) {
                int c = tile[row * tw + col];
                int end = col + 1;
                while (end < tw && tile[row * tw + end] == c) end++;
                if (c != bg) runs.add(new int[] {col, row, end - col, 1, c});
                col = end;
            }
        }
        return runs;
    }
}
