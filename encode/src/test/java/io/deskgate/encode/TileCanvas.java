package io.deskgate.encode;

import io.deskgate.wire.StreamMessage.Tile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;

/** Test decoder: paints TILE messages onto a pixel canvas the way the browser does (docs/protocol.md §1.1). */
final class TileCanvas {
    final int width;
    final int height;
    final int[] pixels;
    final int[] coverage;

    TileCanvas(int width, int height) {
        this.width = width;
        this.height = height;
        this.pixels = new int[width * height];
        this.coverage = new int[width * height];
    }

    void paint(Tile t) {
        if (t.x() + t.w() > width || t.y() + t.h() > height) throw new AssertionError("tile outside the canvas: " + t);
        int[] rgb = decode(t);
        for (int r = 0; r < t.h(); r++) {
            for (int c = 0; c < t.w(); c++) {
                int i = (t.y() + r) * width + t.x() + c;
                pixels[i] = rgb[r * t.w() + c];
                coverage[i]++;
            }
        }
    }

    static int[] decode(Tile t) {
        int n = t.w() * t.h();
        int[] out = new int[n];
        switch (t.format()) {
            case Tile.FORMAT_FILL -> {
                int c = (t.data()[0] & 0xff) << 16 | (t.data()[1] & 0xff) << 8 | t.data()[2] & 0xff;
                java.util.Arrays.fill(out, c);
            }
            case Tile.FORMAT_ZLIB_RGB -> {
                byte[] raw = new byte[n * 3];
                Inflater inflater = new Inflater();
                try {
                    inflater.setInput(t.data());
                    int got = inflater.inflate(raw);
                    if (got != raw.length || !inflater.finished()) throw new AssertionError("zlib tile inflated to " + got + " bytes, want " + raw.length);
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
                    if (img.getWidth() != t.w() || img.getHeight() != t.h()) throw new AssertionError("JPEG of " + img.getWidth() + "x" + img.getHeight() + " in " + t);
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
