package io.deskgate.engine;

import io.deskgate.wire.StreamMessage.CopyRect;
import io.deskgate.wire.StreamMessage.Tile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;

/** Test stand-in for the browser canvas: applies TILE and COPY_RECT messages (docs/protocol.md §1.1). */
final class TestCanvas {
    final int width;
    final int height;
    final int[] pixels;

    TestCanvas(int width, int height) {
        this.width = width;
        this.height = height;
        this.pixels = new int[width * height];
    }

    void paint(Tile t) {
        if (t.x() + t.w() > width || t.y() + t.h() > height) throw new AssertionError("tile outside the canvas: " + t);
        int[] rgb = decode(t);
        for (int r = 0; r < t.h(); r++) System.arraycopy(rgb, r * t.w(), pixels, (t.y() + r) * width + t.x(), t.w());
    }

    void copy(CopyRect c) {
        int[] block = new int[c.w() * c.h()];
        for (int r = 0; r < c.h(); r++) System.arraycopy(pixels, (c.srcY() + r) * width + c.srcX(), block, r * c.w(), c.w());
        for (int r = 0; r < c.h(); r++) System.arraycopy(block, r * c.w(), pixels, (c.dstY() + r) * width + c.dstX(), c.w());
    }

    /** Pixels in the rectangle that differ from black. */
    int nonBlack(int x, int y, int w, int h) {
        int n = 0;
        for (int r = y; r < y + h; r++) for (int c = x; c < x + w; c++) if ((pixels[r * width + c] & 0xffffff) != 0) n++;
        return n;
    }

    int[] region(int x, int y, int w, int h) {
        int[] out = new int[w * h];
        for (int r = 0; r < h; r++) System.arraycopy(pixels, (y + r) * width + x, out, r * w, w);
        return out;
    }

    static int[] decode(Tile t) {
        int n = t.w() * t.h();
        int[] out = new int[n];
        switch (t.format()) {
            case Tile.FORMAT_FILL -> Arrays.fill(out, (t.data()[0] & 0xff) << 16 | (t.data()[1] & 0xff) << 8 | t.data()[2] & 0xff);
            case Tile.FORMAT_ZLIB_RGB -> {
                byte[] raw = new byte[n * 3];
                Inflater inflater = new Inflater();
                try {
                    inflater.setInput(t.data());
                    if (inflater.inflate(raw) != raw.length || !inflater.finished()) throw new AssertionError("short zlib tile " + t);
                } catch (DataFormatException e) {
                    throw new AssertionError("bad zlib stream in " + t, e);
                } finally {
                    inflater.end();
                }
                for (int i = 0; i < n; i++) out[i] = (raw[3 * i] & 0xff) << 16 | (raw[3 * i + 1] & 0xff) << 8 | raw[3 * i + 2] & 0xff;
            }
            case Tile.FORMAT_JPEG -> {
                try {
                    BufferedImage img = ImageIO.read(new ByteArrayInputStream(t.data()));
                    img.getRGB(0, 0, t.w(), t.h(), out, 0, t.w());
                    for (int i = 0; i < n; i++) out[i] &= 0xffffff;
                } catch (IOException e) {
                    throw new AssertionError("bad JPEG in " + t, e);
                }
            }
            default -> throw new AssertionError("unexpected format " + t.format());
        }
        return out;
    }
}
