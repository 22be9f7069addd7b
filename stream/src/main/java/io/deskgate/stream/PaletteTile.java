package io.deskgate.stream;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The PALETTE tile format (docs/protocol.md §1.1, format {@value Tile#FORMAT_PALETTE}): a tile of 2 to
 * {@value #MAX_COLOURS} distinct colours as a palette and indexed pixels.
 *
 * <pre>
 * offset 0            count-1 u8          number of colours minus one; count 2..256
 * offset 1            count x (R G B)     the palette
 * offset 1+3*count    zlib stream (RFC 1950) of h rows of {@link #rowBytes(int, int)} bytes each:
 *                     indexes of {@link #bitsPerIndex(int)} bits, most significant bits first, every row
 *                     starting on a byte; the padding bits of a row's last byte are zero (decoders ignore them)
 * </pre>
 *
 * Stateless and thread-safe. The Java decoder is for tests and Java clients; the browser's is in
 * {@code web/js/display.js}.
 */
public final class PaletteTile {
    public static final int MAX_COLOURS = 256;
    public static final int COUNT_OFFSET = 0;
    public static final int PALETTE_OFFSET = 1;

    private PaletteTile() {}

    /** Bits per index for a palette of {@code count} colours: 1, 2, 4 or 8. */
    public static int bitsPerIndex(int count) {
        if (count <= 2) return 1;
        if (count <= 4) return 2;
        if (count <= 16) return 4;
        return 8;
    }

    /** The bytes of one packed row of {@code w} indexes of {@code bits} bits. */
    public static int rowBytes(int w, int bits) {
        return (w * bits + 7) / 8;
    }

    /** The byte offset of the zlib stream in a tile of {@code count} colours. */
    public static int indexOffset(int count) {
        return PALETTE_OFFSET + 3 * count;
    }

    /**
     * The data of a PALETTE tile: {@code count} {@code 0x00RRGGBB} colours of {@code palette} and an
     * already deflated index stream, {@code deflated[0, deflatedLength)}.
     */
    public static byte[] data(int[] palette, int count, byte[] deflated, int deflatedLength) {
        if (count < 2 || count > MAX_COLOURS) throw new IllegalArgumentException("palette of " + count + " colours, want 2.." + MAX_COLOURS);
        byte[] data = new byte[indexOffset(count) + deflatedLength];
        data[COUNT_OFFSET] = (byte) (count - 1);
        for (int i = 0, o = PALETTE_OFFSET; i < count; i++, o += 3) {
            int c = palette[i];
            data[o] = (byte) (c >> 16);
            data[o + 1] = (byte) (c >> 8);
            data[o + 2] = (byte) c;
        }
        System.arraycopy(deflated, 0, data, indexOffset(count), deflatedLength);
        return data;
    }

    /**
     * Decodes a PALETTE tile of a {@code frameWidth x frameHeight} desktop into {@code 0x00RRGGBB} pixels,
     * row-major. The rectangle is checked against the desktop before any buffer is sized.
     *
     * @throws ProtocolException for a tile outside the desktop, a palette size out of range or longer than
     *     the data, an index stream that is not zlib or inflates to fewer or more bytes than the rectangle
     *     needs, or an index beyond the palette
     */
    public static int[] decode(Tile t, int frameWidth, int frameHeight) {
        if (t.format() != Tile.FORMAT_PALETTE) throw new IllegalArgumentException("not a PALETTE tile: " + t);
        if (t.w() == 0 || t.h() == 0 || (long) t.x() + t.w() > frameWidth || (long) t.y() + t.h() > frameHeight) {
            throw new ProtocolException("PALETTE tile " + t.w() + "x" + t.h() + " at " + t.x() + "," + t.y()
                    + " is empty or outside the " + frameWidth + "x" + frameHeight + " desktop");
        }
        byte[] d = t.data();
        if (d.length < 1) throw new ProtocolException("PALETTE tile without a palette size");
        int count = (d[COUNT_OFFSET] & 0xff) + 1;
        if (count < 2) throw new ProtocolException("PALETTE tile of 1 colour (a FILL tile is that)");
        if (d.length < indexOffset(count)) {
            throw new ProtocolException("PALETTE tile of " + count + " colours carries only " + d.length + " bytes");
        }
        int[] palette = new int[count];
        for (int i = 0, o = PALETTE_OFFSET; i < count; i++, o += 3) {
            palette[i] = (d[o] & 0xff) << 16 | (d[o + 1] & 0xff) << 8 | d[o + 2] & 0xff;
        }
        int bits = bitsPerIndex(count);
        int rowBytes = rowBytes(t.w(), bits);
        byte[] packed = new byte[rowBytes * t.h()];
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(d, indexOffset(count), d.length - indexOffset(count));
            int got = 0;
            while (got < packed.length) {
                int n = inflater.inflate(packed, got, packed.length - got);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) break;
                got += n;
            }
            if (got < packed.length && !inflater.finished()) {
                throw new ProtocolException("PALETTE tile's indexes are not a zlib stream: it is truncated");
            }
            if (got < packed.length) {
                throw new ProtocolException("PALETTE tile's indexes inflate to " + got + " bytes, want " + packed.length);
            }
            if (!inflater.finished() && inflater.inflate(new byte[1]) > 0) {
                throw new ProtocolException("PALETTE tile's indexes inflate to more than " + packed.length + " bytes");
            }
            if (!inflater.finished()) throw new ProtocolException("PALETTE tile's indexes are not a zlib stream: it is truncated");
            if (inflater.getRemaining() > 0) {
                throw new ProtocolException("PALETTE tile's indexes are not a zlib stream: " + inflater.getRemaining() + " trailing bytes");
            }
        } catch (DataFormatException e) {
            throw new ProtocolException("PALETTE tile's indexes are not a zlib stream: " + e.getMessage());
        } finally {
            inflater.end();
        }
        int w = t.w();
        int[] out = new int[w * t.h()];
        int mask = (1 << bits) - 1;
        int perByte = 8 / bits;
        for (int row = 0, o = 0; row < t.h(); row++) {
            int base = row * rowBytes;
            for (int col = 0; col < w; col++, o++) {
                int b = packed[base + col / perByte] & 0xff;
                int shift = 8 - bits * (col % perByte + 1);
                int index = (b >> shift) & mask;
                if (index >= count) {
                    throw new ProtocolException("PALETTE tile's pixel " + col + "," + row + " has index " + index
                            + " beyond its " + count + " colours");
                }
                out[o] = palette[index];
            }
        }
        return out;
    }
}
