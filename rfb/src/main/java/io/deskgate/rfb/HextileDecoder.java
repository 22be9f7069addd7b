package io.deskgate.rfb;

import io.deskgate.common.ProtocolException;
import java.util.Arrays;

/**
 * Decodes one Hextile rectangle (RFC 6143 §7.7.4) tile by tile as its bytes arrive, so a large rectangle is
 * never buffered whole. Tiles are 16x16 (smaller at the right and bottom edges), left to right, top to
 * bottom; each starts with a subencoding mask: Raw 1, BackgroundSpecified 2, ForegroundSpecified 4,
 * AnySubrects 8, SubrectsColoured 16. Pixels are 4 bytes in the client's little-endian 32 bpp format.
 * Background and foreground carry over from tile to tile within the rectangle.
 *
 * <p>Single-threaded; owned by its client. {@link #start} begins a rectangle, {@link #decode} consumes
 * whole tiles.
 */
final class HextileDecoder {
    static final int TILE_SIZE = 16;
    static final int RAW = 1;
    static final int BACKGROUND_SPECIFIED = 2;
    static final int FOREGROUND_SPECIFIED = 4;
    static final int ANY_SUBRECTS = 8;
    static final int SUBRECTS_COLOURED = 16;
    private static final int PIXEL_BYTES = 4;

    private int x;
    private int y;
    private int w;
    private int h;
    private int tilesX;
    private int tiles;
    private int next;
    private int background;
    private int foreground;
    private boolean backgroundSet;
    private boolean foregroundSet;

    /** Begins a rectangle the caller has checked lies inside the framebuffer. */
    void start(int x, int y, int w, int h) {
        this.x = x;
        this.y = y;
        this.w = w;
        this.h = h;
        tilesX = (w + TILE_SIZE - 1) / TILE_SIZE;
        tiles = tilesX * ((h + TILE_SIZE - 1) / TILE_SIZE);
        next = 0;
        backgroundSet = false;
        foregroundSet = false;
    }

    boolean done() {
        return next == tiles;
    }

    /**
     * Decodes as many whole tiles as lie in {@code data[at, at + available)}.
     *
     * @return the bytes consumed
     */
    int decode(byte[] data, int at, int available, Framebuffer fb) {
        int p = at;
        int end = at + available;
        while (next < tiles) {
            int tx = x + (next % tilesX) * TILE_SIZE;
            int ty = y + (next / tilesX) * TILE_SIZE;
            int tw = Math.min(TILE_SIZE, x + w - tx);
            int th = Math.min(TILE_SIZE, y + h - ty);
            int n = tileLength(data, p, end - p, tw, th);
            if (n < 0) break;
            decodeTile(data, p, fb, tx, ty, tw, th);
            p += n;
            next++;
        }
        return p - at;
    }

    /** The byte length of the tile at {@code data[p]}, or -1 if it has not all arrived. */
    private static int tileLength(byte[] data, int p, int available, int tw, int th) {
        if (available < 1) return -1;
        int mask = data[p] & 0xFF;
        if (mask > 0x1F) throw new ProtocolException("RFB Hextile tile has undefined subencoding bits " + Integer.toHexString(mask));
        if ((mask & RAW) != 0) {
            int n = 1 + tw * th * PIXEL_BYTES;
            return available < n ? -1 : n;
        }
        if ((mask & FOREGROUND_SPECIFIED) != 0 && (mask & SUBRECTS_COLOURED) != 0) {
            throw new ProtocolException("RFB Hextile tile sets both ForegroundSpecified and SubrectsColoured");
        }
        int n = 1;
        if ((mask & BACKGROUND_SPECIFIED) != 0) n += PIXEL_BYTES;
        if ((mask & FOREGROUND_SPECIFIED) != 0) n += PIXEL_BYTES;
        if ((mask & ANY_SUBRECTS) != 0) {
            if (available < n + 1) return -1;
            int count = data[p + n] & 0xFF;
            n += 1 + count * ((mask & SUBRECTS_COLOURED) != 0 ? PIXEL_BYTES + 2 : 2);
        }
        return available < n ? -1 : n;
    }

    private void decodeTile(byte[] b, int p, Framebuffer fb, int tx, int ty, int tw, int th) {
        int[] pixels = fb.pixels();
        int stride = fb.width();
        int mask = b[p++] & 0xFF;
        if ((mask & RAW) != 0) {
            for (int row = 0; row < th; row++) {
                int o = (ty + row) * stride + tx;
                for (int end = o + tw; o < end; o++, p += PIXEL_BYTES) pixels[o] = pixel(b, p);
            }
            return;
        }
        if ((mask & BACKGROUND_SPECIFIED) != 0) {
            background = pixel(b, p);
            backgroundSet = true;
            p += PIXEL_BYTES;
        } else if (!backgroundSet) {
            throw new ProtocolException("RFB Hextile rectangle's first non-raw tile specifies no background");
        }
        if ((mask & FOREGROUND_SPECIFIED) != 0) {
            foreground = pixel(b, p);
            foregroundSet = true;
            p += PIXEL_BYTES;
        }
        for (int row = 0; row < th; row++) {
            int o = (ty + row) * stride + tx;
            Arrays.fill(pixels, o, o + tw, background);
        }
        if ((mask & ANY_SUBRECTS) == 0) return;
        int count = b[p++] & 0xFF;
        boolean coloured = (mask & SUBRECTS_COLOURED) != 0;
        if (!coloured && count > 0 && !foregroundSet) {
            throw new ProtocolException("RFB Hextile subrectangles have no foreground colour");
        }
        for (int i = 0; i < count; i++) {
            int colour = foreground;
            if (coloured) {
                colour = pixel(b, p);
                p += PIXEL_BYTES;
            }
            int xy = b[p++] & 0xFF;
            int wh = b[p++] & 0xFF;
            int sx = xy >>> 4;
            int sy = xy & 0xF;
            int sw = (wh >>> 4) + 1;
            int sh = (wh & 0xF) + 1;
            if (sx + sw > tw || sy + sh > th) {
                throw new ProtocolException("RFB Hextile subrectangle " + sw + "x" + sh + "+" + sx + "+" + sy
                        + " lies outside its " + tw + "x" + th + " tile");
            }
            for (int row = 0; row < sh; row++) {
                int o = (ty + sy + row) * stride + tx + sx;
                Arrays.fill(pixels, o, o + sw, colour);
            }
        }
    }

    private static int pixel(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16;
    }
}
