package io.deskgate.rfb;

import io.deskgate.common.ProtocolException;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes Tight rectangles (encoding 7, the community RFB extensions "rfbproto") into a {@link Framebuffer}
 * for the pixel format the {@link RfbClient} requests (32 bpp, depth 24, true colour), where a TPIXEL is three
 * bytes: red, green, blue.
 *
 * <p>A rectangle starts with a compression-control byte: its low four bits reset zlib streams 0..3, its high
 * four bits choose fill (8), JPEG (9) or basic compression (0..7: stream number in bits 4-5, bit 6 announcing
 * a filter byte: copy 0, palette 1, gradient 2). Basic data shorter than 12 bytes is sent as is, longer data
 * as a compact length (1..3 bytes, 7 + 7 + 8 bits) and that many bytes of the chosen zlib stream.
 *
 * <p>Bounds: a compact length is at most {@link #MAX_COMPACT_LENGTH} by construction; a rectangle's inflated
 * data is exactly the rectangle's row bytes and any more output is refused, so a small input cannot inflate
 * past the rectangle (no inflate bombs); a JPEG's header size must equal the rectangle's before any pixel is
 * decoded. Working buffers are fixed (one 64 KiB inflate buffer, gradient rows of one framebuffer width).
 *
 * <p>{@link #decode} is all or nothing: it returns -1 without any effect (no stream reset, no pixel written)
 * until every byte of the rectangle is available. Single-threaded; owned by its client; {@link #close()}
 * frees the native inflaters and the JPEG reader.
 */
final class TightDecoder implements AutoCloseable {
    /** The largest value a 3-byte compact length can carry. */
    static final int MAX_COMPACT_LENGTH = (1 << 22) - 1;
    static final int STREAMS = 4;
    static final int TYPE_FILL = 8;
    static final int TYPE_JPEG = 9;
    static final int FILTER_COPY = 0;
    static final int FILTER_PALETTE = 1;
    static final int FILTER_GRADIENT = 2;
    static final int MIN_TO_COMPRESS = 12;
    static final int TPIXEL_BYTES = 3;
    private static final int MAX_PALETTE = 256;
    private static final int BUFFER_BYTES = 64 * 1024;

    private final Inflater[] streams = new Inflater[STREAMS];
    private final byte[] buf = new byte[BUFFER_BYTES];
    private final int[] palette = new int[MAX_PALETTE];
    private int[] gradientAbove = new int[0];
    private int[] gradientRow = new int[0];
    private ImageReader jpeg;
    private Inflater inflater;
    private int pos;
    private int limit;

    /**
     * Decodes the rectangle whose body starts at {@code data[at]} if all of it lies in
     * {@code data[at, at + available)}; the caller has checked that the rectangle lies inside {@code fb}.
     *
     * @return the body's length, or -1 if more bytes are needed (nothing was changed)
     * @throws ProtocolException for malformed data
     */
    int decode(byte[] data, int at, int available, Framebuffer fb, int x, int y, int w, int h) {
        if (available < 1) return -1;
        int control = data[at] & 0xFF;
        int resets = control & 0x0F;
        int type = control >>> 4;
        int p = at + 1;
        if (type == TYPE_FILL) {
            if (available < 1 + TPIXEL_BYTES) return -1;
            reset(resets);
            fill(fb, x, y, w, h, tpixel(data, p));
            return 1 + TPIXEL_BYTES;
        }
        if (type == TYPE_JPEG) {
            long compact = compactLength(data, p, at + available);
            if (compact < 0) return -1;
            int length = (int) compact;
            p += (int) (compact >>> 32);
            if (at + available - p < length) return -1;
            reset(resets);
            decodeJpeg(data, p, length, fb, x, y, w, h);
            return p + length - at;
        }
        if (type > TYPE_JPEG) {
            throw new ProtocolException("RFB Tight rectangle uses unsupported compression type " + type);
        }
        int stream = type & 3;
        int filter = FILTER_COPY;
        if ((type & 4) != 0) {
            if (available < 2) return -1;
            filter = data[p++] & 0xFF;
            if (filter > FILTER_GRADIENT) throw new ProtocolException("RFB Tight rectangle uses unknown filter " + filter);
        }
        int paletteSize = 0;
        if (filter == FILTER_PALETTE) {
            if (at + available - p < 1) return -1;
            paletteSize = (data[p++] & 0xFF) + 1;
            if (at + available - p < paletteSize * TPIXEL_BYTES) return -1;
            for (int i = 0; i < paletteSize; i++) palette[i] = tpixel(data, p + i * TPIXEL_BYTES);
            p += paletteSize * TPIXEL_BYTES;
        }
        int rowBytes = filter != FILTER_PALETTE ? w * TPIXEL_BYTES : paletteSize == 2 ? (w + 7) >>> 3 : w;
        int size = rowBytes * h; // at most 8192 * 8192 * 3 < 2^31: the caller checked the rectangle
        if (size < MIN_TO_COMPRESS) {
            if (at + available - p < size) return -1;
            reset(resets);
            System.arraycopy(data, p, buf, 0, size);
            inflater = null;
            pos = 0;
            limit = size;
            decodeRows(fb, x, y, w, h, filter, paletteSize, rowBytes);
            return p + size - at;
        }
        long compact = compactLength(data, p, at + available);
        if (compact < 0) return -1;
        int length = (int) compact;
        p += (int) (compact >>> 32);
        if (at + available - p < length) return -1;
        reset(resets);
        if (streams[stream] == null) streams[stream] = new Inflater();
        inflater = streams[stream];
        inflater.setInput(data, p, length);
        pos = 0;
        limit = 0;
        decodeRows(fb, x, y, w, h, filter, paletteSize, rowBytes);
        finishStream();
        inflater = null;
        return p + length - at;
    }

    /**
     * A compact length at {@code data[p]}: the value in the low 32 bits and its byte count in the high
     * bits, or -1 if it has not all arrived before {@code end}.
     */
    static long compactLength(byte[] data, int p, int end) {
        int value = 0;
        for (int i = 0; i < 3; i++) {
            if (p + i >= end) return -1;
            int b = data[p + i] & 0xFF;
            if (i == 2) return ((long) (i + 1) << 32) | (value | b << 14);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) return ((long) (i + 1) << 32) | value;
        }
        throw new AssertionError("unreachable");
    }

    private void reset(int resets) {
        for (int i = 0; i < STREAMS; i++) {
            if ((resets & (1 << i)) != 0 && streams[i] != null) streams[i].reset();
        }
    }

    private static int tpixel(byte[] b, int p) {
        return (b[p] & 0xFF) << 16 | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF);
    }

    private static void fill(Framebuffer fb, int x, int y, int w, int h, int colour) {
        int[] pixels = fb.pixels();
        int stride = fb.width();
        for (int row = 0; row < h; row++) {
            int o = (y + row) * stride + x;
            Arrays.fill(pixels, o, o + w, colour);
        }
    }

    private void decodeRows(Framebuffer fb, int x, int y, int w, int h, int filter, int paletteSize, int rowBytes) {
        int[] pixels = fb.pixels();
        int stride = fb.width();
        if (filter == FILTER_GRADIENT) startGradient(w);
        for (int row = 0; row < h; row++) {
            require(rowBytes);
            int o = (y + row) * stride + x;
            switch (filter) {
                case FILTER_COPY -> copyRow(pixels, o, w);
                case FILTER_PALETTE -> paletteRow(pixels, o, w, paletteSize);
                default -> gradientRow(pixels, o, w);
            }
        }
    }

    private void copyRow(int[] pixels, int o, int w) {
        byte[] b = buf;
        int p = pos;
        for (int end = o + w; o < end; o++, p += TPIXEL_BYTES) pixels[o] = tpixel(b, p);
        pos = p;
    }

    private void paletteRow(int[] pixels, int o, int w, int paletteSize) {
        byte[] b = buf;
        int[] pal = palette;
        int p = pos;
        if (paletteSize == 2) {
            for (int i = 0; i < w; i++) pixels[o + i] = pal[(b[p + (i >>> 3)] >>> (7 - (i & 7))) & 1];
            pos = p + ((w + 7) >>> 3);
            return;
        }
        for (int end = o + w; o < end; o++, p++) {
            int index = b[p] & 0xFF;
            if (index >= paletteSize) {
                throw new ProtocolException("RFB Tight palette index " + index + " >= palette size " + paletteSize);
            }
            pixels[o] = pal[index];
        }
        pos = p;
    }

    private void startGradient(int w) {
        if (gradientAbove.length < w * TPIXEL_BYTES) {
            gradientAbove = new int[w * TPIXEL_BYTES];
            gradientRow = new int[w * TPIXEL_BYTES];
        }
        Arrays.fill(gradientAbove, 0, w * TPIXEL_BYTES, 0);
    }

    /** Gradient filter: each component is the stored difference plus left + above - above-left, clamped to 0..255. */
    private void gradientRow(int[] pixels, int o, int w) {
        byte[] b = buf;
        int[] above = gradientAbove;
        int[] row = gradientRow;
        int p = pos;
        for (int i = 0; i < w; i++) {
            int rgb = 0;
            for (int c = 0; c < TPIXEL_BYTES; c++) {
                int k = i * TPIXEL_BYTES + c;
                int left = i == 0 ? 0 : row[k - TPIXEL_BYTES];
                int aboveLeft = i == 0 ? 0 : above[k - TPIXEL_BYTES];
                int predicted = Math.clamp(left + above[k] - aboveLeft, 0, 255);
                int value = (predicted + (b[p++] & 0xFF)) & 0xFF;
                row[k] = value;
                rgb = rgb << 8 | value;
            }
            pixels[o + i] = rgb;
        }
        pos = p;
        gradientAbove = row;
        gradientRow = above;
    }

    /** Makes {@code n} (at most one row, within the buffer) decoded bytes available at {@code buf[pos]}. */
    private void require(int n) {
        if (limit - pos >= n) return;
        if (inflater == null) throw new ProtocolException("RFB Tight rectangle data ends early");
        int have = limit - pos;
        System.arraycopy(buf, pos, buf, 0, have);
        pos = 0;
        limit = BoundedInflate.fill(inflater, buf, have, n, "Tight", "row");
    }

    /** Every compressed byte must be consumed, and none may inflate to bytes past the rectangle's rows. */
    private void finishStream() {
        BoundedInflate.checkDrained(inflater, buf, limit - pos, "Tight", "row");
        pos = 0;
        limit = 0;
    }

    /** A JPEG the size of the rectangle; its header is read, and its size checked, before any pixel is. */
    private void decodeJpeg(byte[] data, int p, int length, Framebuffer fb, int x, int y, int w, int h) {
        if (w == 0 || h == 0) throw new ProtocolException("RFB Tight JPEG rectangle is empty (" + w + "x" + h + ")");
        ImageReader reader = jpegReader();
        BufferedImage image;
        try (ImageInputStream input = new MemoryCacheImageInputStream(new ByteArrayInputStream(data, p, length))) {
            reader.setInput(input, true, true);
            int jw = reader.getWidth(0);
            int jh = reader.getHeight(0);
            if (jw != w || jh != h) {
                throw new ProtocolException("RFB Tight JPEG of " + jw + "x" + jh + " in a " + w + "x" + h + " rectangle");
            }
            image = reader.read(0);
        } catch (ProtocolException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // The JDK's JPEG reader reports corrupt data as IIOException and, for some inputs, as unchecked exceptions.
            throw new ProtocolException("RFB Tight JPEG data is corrupt: " + e.getMessage());
        } finally {
            reader.setInput(null);
        }
        if (image.getWidth() != w || image.getHeight() != h) {
            throw new ProtocolException("RFB Tight JPEG decoded to " + image.getWidth() + "x" + image.getHeight());
        }
        int[] pixels = fb.pixels();
        int stride = fb.width();
        if (copyInterleaved(image, pixels, stride, x, y, w, h)) return;
        for (int row = 0; row < h; row++) {
            int o = (y + row) * stride + x;
            image.getRGB(0, row, w, 1, pixels, o, w);
            for (int end = o + w; o < end; o++) pixels[o] &= 0xFF_FFFF;
        }
    }

    /**
     * Copies a decoded JPEG straight from its bytes when they are laid out as the JDK's reader usually makes
     * them (3-byte BGR, or 1-byte grey, rows packed); false for any other layout, which {@code getRGB} handles.
     */
    private static boolean copyInterleaved(BufferedImage image, int[] pixels, int stride, int x, int y, int w, int h) {
        int type = image.getType();
        if (type != BufferedImage.TYPE_3BYTE_BGR && type != BufferedImage.TYPE_BYTE_GRAY) return false;
        WritableRaster raster = image.getRaster();
        if (!(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1
                || !(raster.getSampleModel() instanceof PixelInterleavedSampleModel model)
                || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0) {
            return false;
        }
        int bytesPerPixel = type == BufferedImage.TYPE_3BYTE_BGR ? 3 : 1;
        int[] offsets = model.getBandOffsets();
        boolean bgr = bytesPerPixel == 3 && offsets.length == 3 && offsets[0] == 2 && offsets[1] == 1 && offsets[2] == 0;
        boolean grey = bytesPerPixel == 1 && offsets.length == 1 && offsets[0] == 0;
        if (!(bgr || grey) || model.getPixelStride() != bytesPerPixel || model.getScanlineStride() != w * bytesPerPixel) return false;
        byte[] b = buffer.getData();
        if (b.length - buffer.getOffset() < w * h * bytesPerPixel) return false;
        int p = buffer.getOffset();
        for (int row = 0; row < h; row++) {
            int o = (y + row) * stride + x;
            if (bgr) {
                for (int end = o + w; o < end; o++, p += 3) pixels[o] = (b[p + 2] & 0xFF) << 16 | (b[p + 1] & 0xFF) << 8 | (b[p] & 0xFF);
            } else {
                for (int end = o + w; o < end; o++, p++) pixels[o] = (b[p] & 0xFF) * 0x010101;
            }
        }
        return true;
    }

    private ImageReader jpegReader() {
        if (jpeg == null) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg");
            if (!readers.hasNext()) throw new IllegalStateException("this JDK has no JPEG ImageReader");
            jpeg = readers.next();
        }
        return jpeg;
    }

    @Override
    public void close() {
        for (Inflater i : streams) {
            if (i != null) i.end();
        }
        if (jpeg != null) jpeg.dispose();
    }
}
