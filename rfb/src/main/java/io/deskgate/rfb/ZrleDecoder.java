package io.deskgate.rfb;

import io.deskgate.common.ProtocolException;
import java.util.Arrays;
import java.util.zip.Inflater;

/**
 * Decodes ZRLE rectangles (RFC 6143 §7.7.6) into a {@link Framebuffer}, for the pixel format the
 * {@link RfbClient} requests (32 bpp, depth 24, little-endian, true colour), where a CPIXEL is three bytes
 * (blue, green, red).
 *
 * <p>One zlib stream spans every ZRLE rectangle of a connection, so one instance (and its {@link Inflater})
 * lives as long as the connection. Single-threaded; owned by its client. {@link #close()} frees the native
 * inflater.
 */
final class ZrleDecoder implements AutoCloseable {
    static final int TILE_SIZE = 64;
    private static final int CPIXEL_BYTES = 3;
    private static final int SUBENC_RAW = 0;
    private static final int SUBENC_SOLID = 1;
    private static final int SUBENC_MAX_PACKED_PALETTE = 16;
    private static final int SUBENC_PLAIN_RLE = 128;
    private static final int SUBENC_PALETTE_RLE_BASE = 128;
    private static final int MIN_PALETTE_RLE_SIZE = 2;
    /** Large enough for the biggest tile (64 * 64 CPIXELs) plus a palette and a subencoding byte. */
    private static final int BUFFER_BYTES = 64 * 1024;

    private final Inflater inflater = new Inflater();
    private final byte[] buf = new byte[BUFFER_BYTES];
    private final int[] palette = new int[128];
    private int pos;
    private int limit;

    /**
     * Decodes one rectangle whose {@code length} compressed bytes start at {@code data[offset]}. The caller
     * has checked that the rectangle lies inside {@code fb}.
     */
    void decodeRect(byte[] data, int offset, int length, Framebuffer fb, int x, int y, int w, int h) {
        inflater.setInput(data, offset, length);
        pos = 0;
        limit = 0;
        int[] pixels = fb.pixels();
        int stride = fb.width();
        for (int ty = y; ty < y + h; ty += TILE_SIZE) {
            int th = Math.min(TILE_SIZE, y + h - ty);
            for (int tx = x; tx < x + w; tx += TILE_SIZE) {
                int tw = Math.min(TILE_SIZE, x + w - tx);
                decodeTile(pixels, stride, tx, ty, tw, th);
            }
        }
        finishRect();
    }

    private void decodeTile(int[] pixels, int stride, int tx, int ty, int tw, int th) {
        require(1);
        int subencoding = buf[pos++] & 0xFF;
        int base = ty * stride + tx;
        if (subencoding == SUBENC_RAW) {
            require(tw * th * CPIXEL_BYTES);
            byte[] b = buf;
            int p = pos;
            for (int row = 0; row < th; row++) {
                int o = base + row * stride;
                for (int end = o + tw; o < end; o++, p += CPIXEL_BYTES) {
                    pixels[o] = (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16;
                }
            }
            pos = p;
        } else if (subencoding == SUBENC_SOLID) {
            int colour = readCpixel();
            for (int row = 0; row < th; row++) {
                int o = base + row * stride;
                Arrays.fill(pixels, o, o + tw, colour);
            }
        } else if (subencoding <= SUBENC_MAX_PACKED_PALETTE) {
            decodePackedPalette(pixels, stride, base, tw, th, subencoding);
        } else if (subencoding == SUBENC_PLAIN_RLE) {
            decodePlainRle(pixels, stride, base, tw, th);
        } else if (subencoding >= SUBENC_PALETTE_RLE_BASE + MIN_PALETTE_RLE_SIZE) {
            decodePaletteRle(pixels, stride, base, tw, th, subencoding - SUBENC_PALETTE_RLE_BASE);
        } else {
            throw new ProtocolException("RFB ZRLE tile uses undefined subencoding " + subencoding);
        }
    }

    private void readPalette(int size) {
        require(size * CPIXEL_BYTES);
        byte[] b = buf;
        int p = pos;
        for (int i = 0; i < size; i++, p += CPIXEL_BYTES) {
            palette[i] = (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16;
        }
        pos = p;
    }

    private void decodePackedPalette(int[] pixels, int stride, int base, int tw, int th, int paletteSize) {
        readPalette(paletteSize);
        int bits = paletteSize == 2 ? 1 : paletteSize <= 4 ? 2 : 4;
        int mask = (1 << bits) - 1;
        int rowBytes = (tw * bits + 7) >>> 3;
        require(rowBytes * th);
        byte[] b = buf;
        int[] pal = palette;
        int p = pos;
        for (int row = 0; row < th; row++) {
            int o = base + row * stride;
            int shift = -1;
            int current = 0;
            for (int end = o + tw; o < end; o++) {
                if (shift < 0) {
                    current = b[p++] & 0xFF;
                    shift = 8 - bits;
                }
                int index = (current >>> shift) & mask;
                shift -= bits;
                if (index >= paletteSize) {
                    throw new ProtocolException("RFB ZRLE packed palette index " + index + " >= palette size " + paletteSize);
                }
                pixels[o] = pal[index];
            }
        }
        pos = p;
    }

    private void decodePlainRle(int[] pixels, int stride, int base, int tw, int th) {
        int total = tw * th;
        int done = 0;
        while (done < total) {
            int colour = readCpixel();
            int run = readRunLength(total - done);
            done = fillRun(pixels, stride, base, tw, done, run, colour);
        }
    }

    private void decodePaletteRle(int[] pixels, int stride, int base, int tw, int th, int paletteSize) {
        readPalette(paletteSize);
        int total = tw * th;
        int done = 0;
        while (done < total) {
            require(1);
            int code = buf[pos++] & 0xFF;
            int index = code & 0x7F;
            if (index >= paletteSize) {
                throw new ProtocolException("RFB ZRLE RLE palette index " + index + " >= palette size " + paletteSize);
            }
            if (code < 0x80) {
                int o = base + (done / tw) * stride + done % tw;
                pixels[o] = palette[index];
                done++;
            } else {
                int run = readRunLength(total - done);
                done = fillRun(pixels, stride, base, tw, done, run, palette[index]);
            }
        }
    }

    /** Reads an RLE run length (sum of bytes, 255 meaning "more follows", plus one), at most {@code max}. */
    private int readRunLength(int max) {
        int run = 1;
        int b;
        do {
            require(1);
            b = buf[pos++] & 0xFF;
            run += b;
            if (run > max) {
                throw new ProtocolException("RFB ZRLE run of " + run + "+ pixels overflows the tile (" + max + " left)");
            }
        } while (b == 255);
        return run;
    }

    /** Fills {@code run} pixels of the tile starting at tile pixel index {@code start}; returns the new index. */
    private static int fillRun(int[] pixels, int stride, int base, int tw, int start, int run, int colour) {
        int row = start / tw;
        int col = start - row * tw;
        int left = run;
        while (left > 0) {
            int n = Math.min(left, tw - col);
            int o = base + row * stride + col;
            if (n == 1) {
                pixels[o] = colour;
            } else {
                Arrays.fill(pixels, o, o + n, colour);
            }
            left -= n;
            col = 0;
            row++;
        }
        return start + run;
    }

    private int readCpixel() {
        require(CPIXEL_BYTES);
        byte[] b = buf;
        int p = pos;
        pos = p + CPIXEL_BYTES;
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16;
    }

    /** Makes at least {@code n} (at most a tile's worth) inflated bytes available at {@code buf[pos]}. */
    private void require(int n) {
        if (limit - pos >= n) return;
        int have = limit - pos;
        System.arraycopy(buf, pos, buf, 0, have);
        pos = 0;
        limit = BoundedInflate.fill(inflater, buf, have, n, "ZRLE", "tile");
    }

    /** All compressed input of the rectangle must be consumed, and none of it may inflate to extra bytes. */
    private void finishRect() {
        BoundedInflate.checkDrained(inflater, buf, limit - pos, "ZRLE", "tile");
        pos = 0;
        limit = 0;
    }

    @Override
    public void close() {
        inflater.end();
    }
}
