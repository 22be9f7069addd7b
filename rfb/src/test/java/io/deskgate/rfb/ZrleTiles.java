package io.deskgate.rfb;

import java.io.ByteArrayOutputStream;

/** Writes uncompressed ZRLE tile data (RFC 6143 §7.7.6) for tests; colours are 0x00RRGGBB. */
final class ZrleTiles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] toByteArray() {
        return out.toByteArray();
    }

    ZrleTiles u8(int v) {
        out.write(v);
        return this;
    }

    /** A CPIXEL: three bytes, least significant first, for the client's little-endian 24-bit depth. */
    ZrleTiles cpixel(int rgb) {
        return u8(rgb).u8(rgb >>> 8).u8(rgb >>> 16);
    }

    ZrleTiles raw(int... pixels) {
        u8(0);
        for (int p : pixels) cpixel(p);
        return this;
    }

    ZrleTiles solid(int rgb) {
        return u8(1).cpixel(rgb);
    }

    /** Packed palette: subencoding = palette size; {@code packedRows} already hold the packed indices. */
    ZrleTiles packedPalette(int[] palette, int... packedRows) {
        u8(palette.length);
        for (int p : palette) cpixel(p);
        for (int b : packedRows) u8(b);
        return this;
    }

    ZrleTiles plainRle() {
        return u8(128);
    }

    /** A run length field for a run of {@code run} pixels (RFC: sum of bytes + 1, 255 meaning more). */
    ZrleTiles runLength(int run) {
        int left = run - 1;
        while (left >= 255) {
            u8(255);
            left -= 255;
        }
        return u8(left);
    }

    ZrleTiles paletteRle(int... palette) {
        u8(128 + palette.length);
        for (int p : palette) cpixel(p);
        return this;
    }
}
