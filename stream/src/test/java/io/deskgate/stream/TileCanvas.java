package io.deskgate.stream;

import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Tile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;

/**
 * Test stand-in for the browser canvas: applies TILE and COPY_RECT messages the way the web client does
 * (docs/protocol.md §1.1), and counts how often each pixel was painted. Not thread-safe.
 *
 * <p>It lives with the codec, in the stream module's test jar (the only class in it), not in testkit:
 * testkit depends on no Deskgate module but common and recordings, so that the stream module's own
 * tests can use testkit's {@code ScenarioScript} without a cycle.
 */
public final class TileCanvas {
    public final int width;
    public final int height;
    /** 0x00RRGGBB, row-major. */
    public final int[] pixels;
    /** How many tiles painted each pixel. */
    public final int[] coverage;
    /** The ZSTREAM lanes' inflaters, kept across tiles as the browser keeps them. */
    private final ZstreamTile.Decoder zstream = new ZstreamTile.Decoder();

    public TileCanvas(int width, int height) {
        this.width = width;
        this.height = height;
        this.pixels = new int[width * height];
        this.coverage = new int[width * height];
    }

    public void paint(Tile t) {
        if (t.x() + t.w() > width || t.y() + t.h() > height) throw new AssertionError("tile outside the canvas: " + t);
        int[] rgb;
        if (t.format() == Tile.FORMAT_ZSTREAM || t.format() == Tile.FORMAT_GLYPHS) {
            try {
                rgb = zstream.decode(t, width, height);
            } catch (io.deskgate.common.ProtocolException e) {
                throw new AssertionError("bad ZSTREAM or GLYPHS tile " + t + ": " + e.getMessage(), e);
            }
        } else {
            rgb = decode(t);
        }
        for (int r = 0; r < t.h(); r++) {
            int row = (t.y() + r) * width + t.x();
            System.arraycopy(rgb, r * t.w(), pixels, row, t.w());
            for (int c = 0; c < t.w(); c++) coverage[row + c]++;
        }
    }

    public void copy(CopyRect c) {
        int[] block = region(c.srcX(), c.srcY(), c.w(), c.h());
        for (int r = 0; r < c.h(); r++) System.arraycopy(block, r * c.w(), pixels, (c.dstY() + r) * width + c.dstX(), c.w());
    }

    /** Pixels in the rectangle that differ from black. */
    public int nonBlack(int x, int y, int w, int h) {
        int n = 0;
        for (int r = y; r < y + h; r++) for (int c = x; c < x + w; c++) if ((pixels[r * width + c] & 0xffffff) != 0) n++;
        return n;
    }

    public int[] region(int x, int y, int w, int h) {
        int[] out = new int[w * h];
        for (int r = 0; r < h; r++) System.arraycopy(pixels, (y + r) * width + x, out, r * w, w);
        return out;
    }

    /**
     * The tile's pixels as 0x00RRGGBB, row-major; an AssertionError for a tile a browser could not draw. Not for ZSTREAM
     * tiles, which only a canvas's {@link #paint} can decode (they continue the lane's stream).
     */
    public static int[] decode(Tile t) {
        int n = t.w() * t.h();
        int[] out = new int[n];
        switch (t.format()) {
            case Tile.FORMAT_FILL -> Arrays.fill(out, (t.data()[0] & 0xff) << 16 | (t.data()[1] & 0xff) << 8 | t.data()[2] & 0xff);
            case Tile.FORMAT_ZLIB_RGB -> {
                byte[] raw = new byte[n * 3];
                Inflater inflater = new Inflater();
                try {
                    inflater.setInput(t.data());
                    int got = inflater.inflate(raw);
                    if (got != raw.length || !inflater.finished()) {
                        throw new AssertionError("zlib tile inflated to " + got + " bytes, want " + raw.length);
                    }
                } catch (DataFormatException e) {
                    throw new AssertionError("bad zlib stream in " + t, e);
                } finally {
                    inflater.end();
                }
                for (int i = 0; i < n; i++) out[i] = (raw[3 * i] & 0xff) << 16 | (raw[3 * i + 1] & 0xff) << 8 | raw[3 * i + 2] & 0xff;
            }
            case Tile.FORMAT_JPEG, Tile.FORMAT_PNG -> {
                try {
                    BufferedImage img = ImageIO.read(new ByteArrayInputStream(t.data()));
                    if (img == null || img.getWidth() != t.w() || img.getHeight() != t.h()) {
                        throw new AssertionError("image of the wrong size or unreadable in " + t);
                    }
                    img.getRGB(0, 0, t.w(), t.h(), out, 0, t.w());
                    for (int i = 0; i < n; i++) out[i] &= 0xffffff;
                } catch (IOException e) {
                    throw new AssertionError("bad image in " + t, e);
                }
            }
            case Tile.FORMAT_WEBP -> {
                try {
                    return WebpTile.Decoder.shared().decode(t, t.x() + t.w(), t.y() + t.h());
                } catch (io.deskgate.common.ProtocolException e) {
                    throw new AssertionError("bad WEBP tile " + t + ": " + e.getMessage(), e);
                }
            }
            case Tile.FORMAT_PALETTE -> {
                try {
                    return PaletteTile.decode(t, t.x() + t.w(), t.y() + t.h());
                } catch (io.deskgate.common.ProtocolException e) {
                    throw new AssertionError("bad PALETTE tile " + t + ": " + e.getMessage(), e);
                }
            }
            default -> throw new AssertionError("unexpected format " + t.format());
        }
        return out;
    }
}
