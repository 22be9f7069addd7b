package io.deskgate.stream;

import io.deskgate.stream.StreamMessage.Tile;

/**
 * The GLYPHS tile format (docs/protocol.md §1.1, format {@value Tile#FORMAT_GLYPHS}): a rectangle of two colours cut
 * into a grid of cells of {@code cw x ch} pixels (a terminal's character cells), each cell a reference to a glyph
 * (a {@code cw x ch} one-bit mask: 1 the foreground colour, 0 the background) in its ZSTREAM lane's glyph cache. The
 * tile carries only the glyphs the cache does not hold yet; all of it is the next chunk of the lane's persistent deflate
 * stream, shared with the lane's ZSTREAM tiles, so a repeated glyph costs its reference, and the references deflate
 * like text.
 *
 * <pre>
 * offset 0   flags u8       as ZSTREAM's: bit 7 RESET (the lane's stream and its glyph cache start anew with this
 *                           tile), bits 0-3 the lane, bits 4-6 zero
 * offset 1   cw u8          cell width 1..{@value #MAX_CELL_WIDTH}; the tile's w is a multiple of it
 * offset 2   ch u8          cell height 1..{@value #MAX_CELL_HEIGHT}; the tile's h is a multiple of it
 * offset 3   refBytes u8    1 or 2: the size of each cell's reference (1 only while every reference is below 256)
 * offset 4   newCount u16   how many glyphs the payload adds to the cache (at most the cell count)
 * offset 6   deflate        the chunk (as ZSTREAM's: whole non-final blocks ending with a sync flush) that inflates to
 *                           the payload: background R G B, foreground R G B, newCount masks of ch rows of
 *                           ceil(cw/8) bytes (most significant bit first, padding ignored), then (w/cw)*(h/ch) cell
 *                           references of refBytes bytes, big-endian, cells row by row
 * </pre>
 *
 * The cache of a lane has {@value #SLOTS} slots; after a RESET the lane's k-th new glyph (counting across its tiles)
 * goes into slot k mod {@value #SLOTS}, replacing what it held. A reference names a slot, which must hold a glyph of the
 * tile's cell size. The Java decoder is {@link ZstreamTile.Decoder} (lanes are shared); the browser's is in
 * {@code web/js/zstream.js}.
 */
public final class GlyphTile {
    public static final int CELL_WIDTH_OFFSET = 1;
    public static final int CELL_HEIGHT_OFFSET = 2;
    public static final int REF_BYTES_OFFSET = 3;
    public static final int NEW_COUNT_OFFSET = 4;
    public static final int DEFLATE_OFFSET = 6;
    public static final int SLOTS = 4096;
    public static final int MAX_CELL_WIDTH = 32;
    public static final int MAX_CELL_HEIGHT = 64;
    /** Background and foreground, R G B each. */
    public static final int COLOURS_BYTES = 6;

    private GlyphTile() {}

    /** The bytes of one glyph's mask of {@code cw x ch}. */
    public static int maskBytes(int cw, int ch) { return ch * ((cw + 7) / 8); }

    /** The payload length of a {@code w x h} tile of cells {@code cw x ch} adding {@code newCount} glyphs. */
    public static long payloadBytes(int w, int h, int cw, int ch, int refBytes, int newCount) {
        long cells = (long) (w / cw) * (h / ch);
        return COLOURS_BYTES + (long) newCount * maskBytes(cw, ch) + cells * refBytes;
    }

    /** The data of a GLYPHS tile: its header and the chunk {@code chunk[0, length)}. */
    public static byte[] data(int flags, int cw, int ch, int refBytes, int newCount, byte[] chunk, int length) {
        if (cw < 1 || cw > MAX_CELL_WIDTH || ch < 1 || ch > MAX_CELL_HEIGHT) throw new IllegalArgumentException("cell " + cw + "x" + ch);
        if (refBytes != 1 && refBytes != 2) throw new IllegalArgumentException("refBytes must be 1 or 2: " + refBytes);
        if (newCount < 0 || newCount > 0xffff) throw new IllegalArgumentException("newCount " + newCount);
        byte[] data = new byte[DEFLATE_OFFSET + length];
        data[ZstreamTile.FLAGS_OFFSET] = (byte) flags;
        data[CELL_WIDTH_OFFSET] = (byte) cw;
        data[CELL_HEIGHT_OFFSET] = (byte) ch;
        data[REF_BYTES_OFFSET] = (byte) refBytes;
        data[NEW_COUNT_OFFSET] = (byte) (newCount >> 8);
        data[NEW_COUNT_OFFSET + 1] = (byte) newCount;
        System.arraycopy(chunk, 0, data, DEFLATE_OFFSET, length);
        return data;
    }
}
