package io.deskgate.rfb;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;

/**
 * Writes server-to-client RFB messages (RFC 6143) for tests. ZRLE rectangles share one zlib stream, as on
 * a real connection, compressed with a sync flush after each rectangle.
 */
final class RfbServerBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Deflater deflater = new Deflater();

    /** The standard 3.8 handshake with security None and a ServerInit of the given size. */
    static RfbServerBytes handshake(int width, int height) {
        return new RfbServerBytes().version("RFB 003.008\n").securityTypes(1).securityResult(0).serverInit(width, height, "test");
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    RfbServerBytes version(String version) {
        return bytes(version.getBytes(StandardCharsets.ISO_8859_1));
    }

    RfbServerBytes securityTypes(int... types) {
        u8(types.length);
        for (int t : types) u8(t);
        return this;
    }

    RfbServerBytes securityResult(int result) {
        return u32(result);
    }

    RfbServerBytes string(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        u32(b.length);
        return bytes(b);
    }

    /** ServerInit with the server's native pixel format (32 bpp big-endian, which the client replaces). */
    RfbServerBytes serverInit(int width, int height, String name) {
        u16(width).u16(height);
        u8(32).u8(24).u8(1).u8(1).u16(255).u16(255).u16(255).u8(16).u8(8).u8(0).u8(0).u8(0).u8(0);
        return string(name);
    }

    RfbServerBytes framebufferUpdate(int rects) {
        return u8(0).u8(0).u16(rects);
    }

    RfbServerBytes rectHeader(int x, int y, int w, int h, int encoding) {
        return u16(x).u16(y).u16(w).u16(h).u32(encoding);
    }

    /** A Raw rectangle of 0x00RRGGBB pixels in the client's little-endian 32-bit format. */
    RfbServerBytes raw(int x, int y, int w, int h, int... pixels) {
        rectHeader(x, y, w, h, RfbClient.ENCODING_RAW);
        for (int p : pixels) u8(p).u8(p >>> 8).u8(p >>> 16).u8(0);
        return this;
    }

    RfbServerBytes copyRect(int srcX, int srcY, int x, int y, int w, int h) {
        return rectHeader(x, y, w, h, RfbClient.ENCODING_COPY_RECT).u16(srcX).u16(srcY);
    }

    /** A ZRLE rectangle whose uncompressed tile data is {@code tiles} (see {@link ZrleTiles}). */
    RfbServerBytes zrle(int x, int y, int w, int h, byte[] tiles) {
        rectHeader(x, y, w, h, RfbClient.ENCODING_ZRLE);
        return zrleData(compress(tiles));
    }

    /** The length-prefixed compressed data of a ZRLE rectangle, whose header was already written. */
    RfbServerBytes zrleData(byte[] compressed) {
        u32(compressed.length);
        return bytes(compressed);
    }

    /** Compresses tile data on this connection's zlib stream, ending with a sync flush. */
    byte[] compress(byte[] tiles) {
        deflater.setInput(tiles);
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        do {
            n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            c.write(buf, 0, n);
        } while (n == buf.length || !deflater.needsInput());
        return c.toByteArray();
    }

    /** A Tight rectangle whose body (compression control onwards) was built by {@link TightRects}. */
    RfbServerBytes tight(int x, int y, int w, int h, byte[] body) {
        return rectHeader(x, y, w, h, RfbClient.ENCODING_TIGHT).bytes(body);
    }

    /** A Hextile rectangle whose tiles were built by {@link HextileTiles}. */
    RfbServerBytes hextile(int x, int y, int w, int h, byte[] tiles) {
        return rectHeader(x, y, w, h, RfbClient.ENCODING_HEXTILE).bytes(tiles);
    }

    /** A Cursor pseudo-rectangle: 0x00RRGGBB pixels (client format) and a mask, {@code mask[i]} for pixel i. */
    RfbServerBytes cursor(int hotX, int hotY, int w, int h, int[] pixels, boolean[] mask) {
        rectHeader(hotX, hotY, w, h, RfbClient.ENCODING_CURSOR);
        for (int p : pixels) u8(p).u8(p >>> 8).u8(p >>> 16).u8(0);
        int rowBytes = (w + 7) / 8;
        for (int row = 0; row < h; row++) {
            for (int b = 0; b < rowBytes; b++) {
                int v = 0;
                for (int bit = 0; bit < 8; bit++) {
                    int col = b * 8 + bit;
                    if (col < w && mask[row * w + col]) v |= 0x80 >>> bit;
                }
                u8(v);
            }
        }
        return this;
    }

    /** An ExtendedDesktopSize pseudo-rectangle; each screen is {id, x, y, w, h, flags}. */
    RfbServerBytes extendedDesktopSize(int reason, int status, int width, int height, int[]... screens) {
        rectHeader(reason, status, width, height, RfbClient.ENCODING_EXTENDED_DESKTOP_SIZE);
        u8(screens.length).u8(0).u16(0);
        for (int[] s : screens) u32(s[0]).u16(s[1]).u16(s[2]).u16(s[3]).u16(s[4]).u32(s[5]);
        return this;
    }

    /** EndOfContinuousUpdates (message 150). */
    RfbServerBytes endOfContinuousUpdates() {
        return u8(150);
    }

    /** Fence (message 248). */
    RfbServerBytes fence(int flags, byte[] payload) {
        u8(248).u8(0).u16(0).u32(flags).u8(payload.length);
        return bytes(payload);
    }

    RfbServerBytes desktopSize(int width, int height) {
        return rectHeader(0, 0, width, height, RfbClient.ENCODING_DESKTOP_SIZE);
    }

    RfbServerBytes lastRect() {
        return rectHeader(0, 0, 0, 0, RfbClient.ENCODING_LAST_RECT);
    }

    RfbServerBytes bell() {
        return u8(2);
    }

    RfbServerBytes serverCutText(byte[] latin1) {
        u8(3).u8(0).u8(0).u8(0).u32(latin1.length);
        return bytes(latin1);
    }

    RfbServerBytes setColourMapEntries(int first, int count) {
        u8(1).u8(0).u16(first).u16(count);
        for (int i = 0; i < count; i++) u16(i).u16(i).u16(i);
        return this;
    }

    RfbServerBytes u8(int v) {
        out.write(v);
        return this;
    }

    RfbServerBytes u16(int v) {
        return u8(v >>> 8).u8(v);
    }

    RfbServerBytes u32(int v) {
        return u16(v >>> 16).u16(v);
    }

    RfbServerBytes bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }
}
