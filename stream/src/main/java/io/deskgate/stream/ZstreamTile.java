package io.deskgate.stream;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The ZSTREAM tile format (docs/protocol.md §1.1, format {@value Tile#FORMAT_ZSTREAM}): a rectangle's RGB or
 * indexed pixels as the next chunk of one of the session's persistent raw deflate streams (RFC 1951), so that
 * deflate finds what earlier tiles of the stream carried (the same glyphs, digits, rows) in its 32 KiB window.
 *
 * <pre>
 * offset 0   flags u8     bit 7 RESET: this lane's stream starts anew with this tile (the decoder drops its window
 *                         first); bits 0-3 the lane 0..15 (an encoder encoding in parallel keeps one stream per lane);
 *                         bits 4-6 zero
 * offset 1   mode u8      0: the payload is w*h*3 bytes R G B, rows top to bottom; 1..255: a palette of count =
 *                         mode+1 colours, the payload is count x (R G B), then h rows of {@link PaletteTile#rowBytes}
 *                         bytes of indexes of {@link PaletteTile#bitsPerIndex} bits, most significant first
 * offset 2   deflate      the chunk: whole deflate blocks, none final, ending with the empty stored block of a sync
 *                         flush (00 00 ff ff); it inflates, after everything the lane carried since its last RESET,
 *                         to exactly the payload
 * </pre>
 *
 * A decoder whose lane has no valid stream (it joined late, missed a message or failed on one) refuses every tile of
 * that lane without RESET and asks for a refresh, whose tiles carry RESET. The Java {@link Decoder} is for tests and
 * Java clients; the browser's is in {@code web/js/zstream.js}.
 */
public final class ZstreamTile {
    public static final int FLAGS_OFFSET = 0;
    public static final int MODE_OFFSET = 1;
    public static final int DEFLATE_OFFSET = 2;
    public static final int RESET = 0x80;
    public static final int LANES = 16;
    public static final int MODE_RGB = 0;
    /** The largest payload a tile may claim (a decoder refuses a larger one before allocating anything): 16 MiB. */
    public static final int MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
    /** The last four bytes of every chunk: the empty stored block a sync flush ends with. */
    static final byte[] SYNC_MARKER = {0, 0, (byte) 0xff, (byte) 0xff};

    private ZstreamTile() {}

    /** The flags byte of a tile of {@code lane}, with RESET if {@code reset}. */
    public static int flags(int lane, boolean reset) {
        if (lane < 0 || lane >= LANES) throw new IllegalArgumentException("lane must be 0.." + (LANES - 1) + ": " + lane);
        return (reset ? RESET : 0) | lane;
    }

    /** The payload length of a {@code w x h} tile of {@code mode}. */
    public static long payloadBytes(int w, int h, int mode) {
        if (mode == MODE_RGB) return (long) w * h * 3;
        int count = mode + 1;
        return 3L * count + (long) PaletteTile.rowBytes(w, PaletteTile.bitsPerIndex(count)) * h;
    }

    /** The data of a ZSTREAM tile: flags, mode and the chunk {@code chunk[0, length)}. */
    public static byte[] data(int flags, int mode, byte[] chunk, int length) {
        if (mode < 0 || mode > 255) throw new IllegalArgumentException("mode must be 0..255: " + mode);
        byte[] data = new byte[DEFLATE_OFFSET + length];
        data[FLAGS_OFFSET] = (byte) flags;
        data[MODE_OFFSET] = (byte) mode;
        System.arraycopy(chunk, 0, data, DEFLATE_OFFSET, length);
        return data;
    }

    /**
     * The receiving end of a session's ZSTREAM lanes: one inflater per lane, kept across tiles. Not thread-safe;
     * {@link #close()} frees the inflaters.
     */
    public static final class Decoder implements AutoCloseable {
        private final Inflater[] lanes = new Inflater[LANES];
        private final boolean[] valid = new boolean[LANES];
        /** Per lane, its glyph cache (GLYPHS tiles), or null while empty. */
        private final GlyphCache[] glyphs = new GlyphCache[LANES];

        /** Whether {@code lane} holds a stream a tile without RESET can continue. */
        public boolean valid(int lane) { return valid[lane]; }

        /** Forgets every lane's stream (the connection was lost): until a RESET tile, each lane refuses tiles. */
        public void invalidate() { java.util.Arrays.fill(valid, false); }

        /**
         * Decodes a ZSTREAM tile (or a GLYPHS tile, {@link GlyphTile}, which continues the same lanes) of a
         * {@code frameWidth x frameHeight} desktop into {@code 0x00RRGGBB} pixels,
         * row-major. The rectangle is checked against the desktop before any buffer is sized. On any refusal the
         * tile's lane is invalid until its next RESET tile.
         *
         * @throws ProtocolException for a tile outside the desktop or claiming more than {@link #MAX_PAYLOAD_BYTES}, data shorter than its header or without the sync
         *     flush ending, reserved flag bits set, a lane with no valid stream and no RESET, a chunk that is not
         *     deflate, ends the stream, or inflates to fewer or more bytes than the payload, or an index beyond the
         *     palette
         */
        public int[] decode(Tile t, int frameWidth, int frameHeight) {
            if (t.format() == Tile.FORMAT_GLYPHS) return decodeGlyphs(t, frameWidth, frameHeight);
            if (t.format() != Tile.FORMAT_ZSTREAM) throw new IllegalArgumentException("not a ZSTREAM tile: " + t);
            if (t.w() == 0 || t.h() == 0 || (long) t.x() + t.w() > frameWidth || (long) t.y() + t.h() > frameHeight) {
                if (t.data().length > 0) valid[t.data()[FLAGS_OFFSET] & 0x0f] = false; // the encoder deflated it all the same
                throw new ProtocolException("ZSTREAM tile " + t.w() + "x" + t.h() + " at " + t.x() + "," + t.y()
                        + " is empty or outside the " + frameWidth + "x" + frameHeight + " desktop");
            }
            byte[] d = t.data();
            if (d.length < DEFLATE_OFFSET) throw new ProtocolException("ZSTREAM tile of " + d.length + " bytes has no header");
            int flags = d[FLAGS_OFFSET] & 0xff;
            int lane = flags & 0x0f;
            if ((flags & 0x70) != 0) {
                valid[lane] = false;
                throw new ProtocolException("ZSTREAM tile with reserved flag bits " + Integer.toHexString(flags));
            }
            boolean reset = (flags & RESET) != 0;
            if (!reset && !valid[lane]) throw new ProtocolException("ZSTREAM tile of lane " + lane + " without RESET, but the lane has no stream");
            valid[lane] = false; // until this tile decodes
            int mode = d[MODE_OFFSET] & 0xff;
            long claimed = payloadBytes(t.w(), t.h(), mode);
            if (claimed > MAX_PAYLOAD_BYTES) {
                throw new ProtocolException("ZSTREAM tile " + t.w() + "x" + t.h() + " claims " + claimed + " bytes, more than " + MAX_PAYLOAD_BYTES);
            }
            int payload = (int) claimed;
            if (d.length < DEFLATE_OFFSET + SYNC_MARKER.length || !endsWithSyncMarker(d)) {
                throw new ProtocolException("ZSTREAM tile's chunk does not end with a sync flush (00 00 ff ff)");
            }
            if (lanes[lane] == null) lanes[lane] = new Inflater(true);
            Inflater inflater = lanes[lane];
            if (reset) {
                inflater.reset();
                glyphs[lane] = null; // the lane's glyph cache starts anew with its stream
            }
            byte[] raw = new byte[payload];
            inflate(inflater, d, DEFLATE_OFFSET, raw, "ZSTREAM");
            int[] out = pixels(t.w(), t.h(), mode, raw);
            valid[lane] = true;
            return out;
        }

        /**
         * Decodes a GLYPHS tile ({@link GlyphTile}) of lane L: its new glyphs go into the lane's cache, its cells are
         * drawn from it. Refused like a ZSTREAM tile (the lane is invalid until its next RESET), and also for a cell size
         * out of range or not dividing the rectangle, a refBytes other than 1 or 2, more new glyphs than cells, and a
         * reference to a slot that holds no glyph of the tile's cell size.
         */
        private int[] decodeGlyphs(Tile t, int frameWidth, int frameHeight) {
            byte[] d = t.data();
            if (t.w() == 0 || t.h() == 0 || (long) t.x() + t.w() > frameWidth || (long) t.y() + t.h() > frameHeight) {
                if (d.length > 0) valid[d[FLAGS_OFFSET] & 0x0f] = false;
                throw new ProtocolException("GLYPHS tile " + t.w() + "x" + t.h() + " at " + t.x() + "," + t.y()
                        + " is empty or outside the " + frameWidth + "x" + frameHeight + " desktop");
            }
            if (d.length < GlyphTile.DEFLATE_OFFSET) {
                if (d.length > 0) valid[d[FLAGS_OFFSET] & 0x0f] = false;
                throw new ProtocolException("GLYPHS tile of " + d.length + " bytes has no header");
            }
            int flags = d[FLAGS_OFFSET] & 0xff;
            int lane = flags & 0x0f;
            if ((flags & 0x70) != 0) {
                valid[lane] = false;
                throw new ProtocolException("GLYPHS tile with reserved flag bits " + Integer.toHexString(flags));
            }
            boolean reset = (flags & RESET) != 0;
            if (!reset && !valid[lane]) throw new ProtocolException("GLYPHS tile of lane " + lane + " without RESET, but the lane has no stream");
            valid[lane] = false; // until this tile decodes
            int cw = d[GlyphTile.CELL_WIDTH_OFFSET] & 0xff, ch = d[GlyphTile.CELL_HEIGHT_OFFSET] & 0xff;
            int refBytes = d[GlyphTile.REF_BYTES_OFFSET] & 0xff;
            int newCount = (d[GlyphTile.NEW_COUNT_OFFSET] & 0xff) << 8 | d[GlyphTile.NEW_COUNT_OFFSET + 1] & 0xff;
            if (cw < 1 || cw > GlyphTile.MAX_CELL_WIDTH || ch < 1 || ch > GlyphTile.MAX_CELL_HEIGHT || t.w() % cw != 0 || t.h() % ch != 0) {
                throw new ProtocolException("GLYPHS tile " + t.w() + "x" + t.h() + " with cells of " + cw + "x" + ch);
            }
            if (refBytes != 1 && refBytes != 2) throw new ProtocolException("GLYPHS tile with references of " + refBytes + " bytes");
            int columns = t.w() / cw, rows = t.h() / ch;
            if (newCount > (long) columns * rows) throw new ProtocolException("GLYPHS tile of " + columns * rows + " cells adds " + newCount + " glyphs");
            long claimed = GlyphTile.payloadBytes(t.w(), t.h(), cw, ch, refBytes, newCount);
            if (claimed > MAX_PAYLOAD_BYTES) {
                throw new ProtocolException("GLYPHS tile " + t.w() + "x" + t.h() + " claims " + claimed + " bytes, more than " + MAX_PAYLOAD_BYTES);
            }
            if (d.length < GlyphTile.DEFLATE_OFFSET + SYNC_MARKER.length || !endsWithSyncMarker(d)) {
                throw new ProtocolException("GLYPHS tile's chunk does not end with a sync flush (00 00 ff ff)");
            }
            if (lanes[lane] == null) lanes[lane] = new Inflater(true);
            Inflater inflater = lanes[lane];
            if (reset) {
                inflater.reset();
                glyphs[lane] = null;
            }
            byte[] raw = new byte[(int) claimed];
            inflate(inflater, d, GlyphTile.DEFLATE_OFFSET, raw, "GLYPHS");
            if (glyphs[lane] == null) glyphs[lane] = new GlyphCache();
            GlyphCache cache = glyphs[lane];
            int maskBytes = GlyphTile.maskBytes(cw, ch);
            int shape = cw << 8 | ch;
            int at = GlyphTile.COLOURS_BYTES;
            for (int i = 0; i < newCount; i++, at += maskBytes) {
                int slot = cache.next;
                cache.next = (cache.next + 1) % GlyphTile.SLOTS;
                cache.shapes[slot] = shape;
                cache.masks[slot] = java.util.Arrays.copyOfRange(raw, at, at + maskBytes);
            }
            int bg = (raw[0] & 0xff) << 16 | (raw[1] & 0xff) << 8 | raw[2] & 0xff;
            int fg = (raw[3] & 0xff) << 16 | (raw[4] & 0xff) << 8 | raw[5] & 0xff;
            int rowBytes = (cw + 7) / 8;
            int[] out = new int[t.w() * t.h()];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < columns; c++, at += refBytes) {
                    int slot = refBytes == 1 ? raw[at] & 0xff : (raw[at] & 0xff) << 8 | raw[at + 1] & 0xff;
                    if (slot >= GlyphTile.SLOTS || cache.shapes[slot] != shape) {
                        throw new ProtocolException("GLYPHS tile's cell " + c + "," + r + " names slot " + slot + ", which holds no " + cw + "x" + ch + " glyph");
                    }
                    byte[] mask = cache.masks[slot];
                    for (int y = 0; y < ch; y++) {
                        int o = (r * ch + y) * t.w() + c * cw;
                        for (int x = 0; x < cw; x++) out[o + x] = (mask[y * rowBytes + (x >> 3)] >> (7 - (x & 7)) & 1) != 0 ? fg : bg;
                    }
                }
            }
            valid[lane] = true;
            return out;
        }

        /** One lane's glyph slots (GLYPHS tiles): each slot's cell size (cw << 8 | ch, 0 when empty) and mask. */
        private static final class GlyphCache {
            final int[] shapes = new int[GlyphTile.SLOTS];
            final byte[][] masks = new byte[GlyphTile.SLOTS][];
            int next;
        }

        /** Inflates the chunk {@code d[offset..]} to exactly {@code raw.length} bytes, or throws naming the {@code format}. */
        private static void inflate(Inflater inflater, byte[] d, int offset, byte[] raw, String format) {
            int payload = raw.length;
            try {
                inflater.setInput(d, offset, d.length - offset);
                int got = 0;
                while (got < payload) {
                    int n = inflater.inflate(raw, got, payload - got);
                    if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) break;
                    got += n;
                }
                if (got < payload) throw new ProtocolException(format + " tile's chunk inflates to " + got + " bytes, want " + payload);
                if (!inflater.finished() && inflater.inflate(new byte[1]) > 0) {
                    throw new ProtocolException(format + " tile's chunk inflates to more than " + payload + " bytes");
                }
                if (inflater.finished()) throw new ProtocolException(format + " tile's chunk ends the deflate stream (a final block)");
                if (inflater.getRemaining() > 0) {
                    throw new ProtocolException(format + " tile's chunk has " + inflater.getRemaining() + " bytes after its payload");
                }
            } catch (DataFormatException e) {
                throw new ProtocolException(format + " tile's chunk is not deflate: " + e.getMessage());
            }
        }

        private static boolean endsWithSyncMarker(byte[] d) {
            for (int i = 0; i < SYNC_MARKER.length; i++) if (d[d.length - SYNC_MARKER.length + i] != SYNC_MARKER[i]) return false;
            return true;
        }

        private static int[] pixels(int w, int h, int mode, byte[] raw) {
            int[] out = new int[w * h];
            if (mode == MODE_RGB) {
                for (int i = 0; i < out.length; i++) out[i] = (raw[3 * i] & 0xff) << 16 | (raw[3 * i + 1] & 0xff) << 8 | raw[3 * i + 2] & 0xff;
                return out;
            }
            int count = mode + 1;
            int bits = PaletteTile.bitsPerIndex(count);
            int rowBytes = PaletteTile.rowBytes(w, bits);
            int mask = (1 << bits) - 1, perByte = 8 / bits, base0 = 3 * count;
            for (int row = 0, o = 0; row < h; row++) {
                int base = base0 + row * rowBytes;
                for (int col = 0; col < w; col++, o++) {
                    int index = ((raw[base + col / perByte] & 0xff) >> (8 - bits * (col % perByte + 1))) & mask;
                    if (index >= count) {
                        throw new ProtocolException("ZSTREAM tile's pixel " + col + "," + row + " has index " + index + " beyond its " + count + " colours");
                    }
                    out[o] = (raw[3 * index] & 0xff) << 16 | (raw[3 * index + 1] & 0xff) << 8 | raw[3 * index + 2] & 0xff;
                }
            }
            return out;
        }

        @Override public void close() {
            for (Inflater i : lanes) if (i != null) i.end();
        }
    }
}
