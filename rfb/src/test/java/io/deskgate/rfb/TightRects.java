package io.deskgate.rfb;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * A small Tight encoder for tests (rfbproto "Tight"): writes rectangle bodies from the compression-control
 * byte on, for the client's 32 bpp true-colour format (3-byte TPIXELs red, green, blue). Keeps the four zlib
 * streams of a connection, each compressed with a sync flush after every rectangle, as a server does.
 */
final class TightRects {
    private final Deflater[] streams = new Deflater[4];
    private int pendingResets;

    /** Resets stream {@code i} here; the next rectangle's control byte tells the client to reset it too. */
    TightRects reset(int i) {
        if (streams[i] != null) streams[i].reset();
        pendingResets |= 1 << i;
        return this;
    }

    static byte[] compactLength(int n) {
        if (n < 0x80) return new byte[] {(byte) n};
        if (n < 0x4000) return new byte[] {(byte) (n | 0x80), (byte) (n >>> 7)};
        return new byte[] {(byte) (n | 0x80), (byte) ((n >>> 7) | 0x80), (byte) (n >>> 14)};
    }

    byte[] fill(int rgb) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(control(0x80));
        tpixel(b, rgb);
        return b.toByteArray();
    }

    /** Basic compression, copy filter; {@code explicitFilter} writes the filter byte, which is optional for copy. */
    byte[] copy(int stream, boolean explicitFilter, int[] px) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int p : px) tpixel(data, p);
        return basic(stream, explicitFilter ? TightDecoder.FILTER_COPY : -1, new byte[0], data.toByteArray());
    }

    /** Basic compression, palette filter: 1 bit per pixel for 2 colours (rows padded), else one byte. */
    byte[] palette(int stream, int[] palette, int[] px, int w, int h) {
        ByteArrayOutputStream pal = new ByteArrayOutputStream();
        pal.write(palette.length - 1);
        for (int p : palette) tpixel(pal, p);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int row = 0; row < h; row++) {
            int bits = 0;
            int n = 0;
            for (int col = 0; col < w; col++) {
                int index = indexOf(palette, px[row * w + col]);
                if (palette.length == 2) {
                    bits = bits << 1 | index;
                    if (++n == 8) {
                        data.write(bits);
                        bits = 0;
                        n = 0;
                    }
                } else {
                    data.write(index);
                }
            }
            if (n > 0) data.write(bits << (8 - n));
        }
        return basic(stream, TightDecoder.FILTER_PALETTE, pal.toByteArray(), data.toByteArray());
    }

    /** Basic compression, gradient filter: each component minus the clamped left + above - above-left. */
    byte[] gradient(int stream, int[] px, int w, int h) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                for (int shift = 16; shift >= 0; shift -= 8) {
                    int left = col > 0 ? px[row * w + col - 1] >>> shift & 0xFF : 0;
                    int above = row > 0 ? px[(row - 1) * w + col] >>> shift & 0xFF : 0;
                    int aboveLeft = row > 0 && col > 0 ? px[(row - 1) * w + col - 1] >>> shift & 0xFF : 0;
                    int predicted = Math.clamp(left + above - aboveLeft, 0, 255);
                    data.write(((px[row * w + col] >>> shift & 0xFF) - predicted) & 0xFF);
                }
            }
        }
        return basic(stream, TightDecoder.FILTER_GRADIENT, new byte[0], data.toByteArray());
    }

    /** Basic compression with raw filtered {@code data}: sent as is below 12 bytes, else compressed on {@code stream}. */
    byte[] basic(int stream, int filter, byte[] paletteBytes, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(control(stream << 4 | (filter >= 0 ? 0x40 : 0)));
        if (filter >= 0) b.write(filter);
        b.writeBytes(paletteBytes);
        if (data.length < TightDecoder.MIN_TO_COMPRESS) {
            b.writeBytes(data);
        } else {
            byte[] z = compress(stream, data);
            b.writeBytes(compactLength(z.length));
            b.writeBytes(z);
        }
        return b.toByteArray();
    }

    /** JPEG compression of {@code w x h} pixels at {@code quality} (0..1). */
    byte[] jpeg(int[] px, int w, int h, float quality) {
        byte[] jpeg = jpegBytes(px, w, h, quality);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(control(0x90));
        b.writeBytes(compactLength(jpeg.length));
        b.writeBytes(jpeg);
        return b.toByteArray();
    }

    /** JPEG compression as one grey component (what TigerVNC's gray subsampling sends). */
    byte[] greyJpeg(int[] px, int w, int h, float quality) {
        // The grey samples go in as they are (a server's luma), not through setRGB's sRGB-to-linear-grey conversion.
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < px.length; i++) image.getRaster().setSample(i % w, i / w, 0, px[i] & 0xFF);
        byte[] jpeg = jpegBytes(image, quality);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(control(0x90));
        b.writeBytes(compactLength(jpeg.length));
        b.writeBytes(jpeg);
        return b.toByteArray();
    }

    static byte[] jpegBytes(int[] px, int w, int h, float quality) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, w, h, px, 0, w);
        return jpegBytes(image, quality);
    }

    private static byte[] jpegBytes(BufferedImage image, float quality) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private int control(int high) {
        int c = high | pendingResets;
        pendingResets = 0;
        return c;
    }

    private byte[] compress(int stream, byte[] data) {
        if (streams[stream] == null) streams[stream] = new Deflater();
        Deflater d = streams[stream];
        d.setInput(data);
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        do {
            n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            c.write(buf, 0, n);
        } while (n == buf.length || !d.needsInput());
        return c.toByteArray();
    }

    private static void tpixel(ByteArrayOutputStream b, int rgb) {
        b.write(rgb >>> 16);
        b.write(rgb >>> 8);
        b.write(rgb);
    }

    private static int indexOf(int[] palette, int rgb) {
        for (int i = 0; i < palette.length; i++) if (palette[i] == rgb) return i;
        throw new IllegalArgumentException("colour " + Integer.toHexString(rgb) + " not in the palette");
    }
}
