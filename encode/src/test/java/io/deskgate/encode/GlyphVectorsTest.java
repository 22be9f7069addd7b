package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.GlyphTile;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.ZstreamTile;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * The golden vectors of the GLYPHS tile format (docs/protocol.md §1.1), {@code stream/src/test/vectors/glyph-tiles.txt}:
 * one session of lane 0 as the encoder sends it (GLYPHS tiles with a ZSTREAM tile between them, one lane, one stream,
 * one glyph cache; decode the good ones in order), and malformed tiles each decoded by a fresh decoder. The stream
 * module's {@code GlyphTileTest} and the browser's {@code glyphs.test.mjs} decode the same file. Run with
 * {@code -Ddeskgate.rewriteVectors=true} to write it again after a reviewed change of the encoder.
 *
 * <p>Format as {@code zstream-tiles.txt}: {@code good <name> <desktopW> <desktopH> <TILE hex> <RGB hex>} or
 * {@code bad <name> <desktopW> <desktopH> <TILE hex> <text the refusal contains>}.
 */
class GlyphVectorsTest {
    static final Path FILE = Path.of("../stream/src/test/vectors/glyph-tiles.txt");
    static final HexFormat HEX = HexFormat.of();
    static final int BLACK = 0x000000, WHITE = 0xffffff, BLUE = 0x2040a0;

    @Test
    void shouldEncodeTheGoldenPicturesToTheGoldenBytes() throws Exception {
        String want = vectors();
        if (Boolean.getBoolean("deskgate.rewriteVectors")) Files.writeString(FILE, want);
        assertThat(Files.readString(FILE)).as("%s (rewrite with -Ddeskgate.rewriteVectors=true after a reviewed change)", FILE)
                .isEqualTo(want);
    }

    @Test
    void shouldSendARepeatedGlyphAsAReferenceOnly() {
        try (TileEncoder lane0 = new TileEncoder(EncoderConfig.defaults(), 0)) {
            int[] px = cells(4, 2, 3, 5, new int[] {0, 1, 2, 1, 0, 2, 2, 1}, BLACK, WHITE);
            Tile first = lane0.glyphs(px, 12, 0, 0, 12, 10, 3, 5, WHITE, BLACK, 1.0).orElseThrow();
            Tile again = lane0.glyphs(px, 12, 0, 0, 12, 10, 3, 5, WHITE, BLACK, 1.0).orElseThrow();
            assertThat(newCount(first)).as("three distinct glyphs").isEqualTo(3);
            assertThat(newCount(again)).as("all cached").isZero();
            assertThat(first.data()[0] & 0xff).isEqualTo(ZstreamTile.RESET);
            assertThat(again.data()[0] & 0xff).isZero();
            // Not text: every cell a glyph of its own is refused at half of them new.
            int[] noise = cells(8, 1, 3, 5, new int[] {3, 4, 5, 6, 7, 8, 9, 10}, BLACK, WHITE);
            assertThat(lane0.glyphs(noise, 24, 0, 0, 24, 5, 3, 5, WHITE, BLACK, 0.5)).isEmpty();
            assertThat(lane0.glyphs(noise, 24, 0, 0, 24, 5, 3, 5, WHITE, 0x123456, 1.0)).as("a third colour").isEmpty();
        }
    }

    /** A picture of {@code columns x rows} cells of {@code cw x ch}, cell k showing glyph {@code glyph[k]} (its bits from the number). */
    static int[] cells(int columns, int rows, int cw, int ch, int[] glyph, int fg, int bg) {
        int w = columns * cw, h = rows * ch;
        int[] px = new int[w * h];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                int g = glyph[r * columns + c];
                for (int y = 0; y < ch; y++) {
                    for (int x = 0; x < cw; x++) {
                        int bit = (int) ((g * 2654435761L) >>> ((y * cw + x) % 29)) & 1;
                        px[(r * ch + y) * w + c * cw + x] = g == 0 ? bg : bit != 0 ? fg : bg;
                    }
                }
            }
        }
        return px;
    }

    static int newCount(Tile t) { return (t.data()[GlyphTile.NEW_COUNT_OFFSET] & 0xff) << 8 | t.data()[GlyphTile.NEW_COUNT_OFFSET + 1] & 0xff; }

    static String vectors() {
        StringBuilder out = new StringBuilder("# GLYPHS tile vectors, written by encode's GlyphVectorsTest; read by stream's GlyphTileTest\n"
                + "# and frontdoor's glyphs.test.mjs. The good ones are one session of lane 0: decode them in order with one set of lanes.\n"
                + "# good <name> <desktopW> <desktopH> <TILE hex> <RGB hex>\n"
                + "# bad <name> <desktopW> <desktopH> <TILE hex> <text the refusal contains> (each with fresh lanes)\n");
        Tile continuation;
        try (TileEncoder lane0 = new TileEncoder(EncoderConfig.defaults(), 0)) {
            int[] text = cells(4, 2, 3, 5, new int[] {0, 1, 2, 1, 0, 2, 2, 1}, BLACK, WHITE);
            good(out, "reset-three-glyphs", 64, 64, lane0, text, 12, 10, 3, 5, WHITE, BLACK);
            continuation = good(out, "the-same-cells-cached", 64, 64, lane0, text, 12, 10, 3, 5, WHITE, BLACK);
            good(out, "other-colours-one-new-glyph", 64, 64, lane0, cells(3, 1, 3, 5, new int[] {2, 4, 1}, WHITE, BLUE), 9, 5, 3, 5, BLUE, WHITE);
            int[] rgb = ZstreamVectorsTest.colours(5, 4, 30);
            Tile between = ZstreamVectorsTest.exact(lane0, rgb, 5, 4);
            goodTile(out, "a-zstream-tile-of-the-lane-between", 64, 64, new Tile(3, 2, 5, 4, between.format(), between.data()), rgb);
            good(out, "wide-cells-two-bytes-a-row", 64, 64, lane0, cells(2, 1, 10, 7, new int[] {5, 6}, BLACK, WHITE), 20, 7, 10, 7, WHITE, BLACK);
            int[] many = new int[300];
            for (int i = 0; i < many.length; i++) many[i] = 100 + i;
            good(out, "three-hundred-new-glyphs", 128, 64, lane0, cells(20, 15, 4, 4, many, BLACK, WHITE), 80, 60, 4, 4, WHITE, BLACK);
            good(out, "references-of-two-bytes", 128, 64, lane0, cells(3, 1, 4, 4, new int[] {399, 100, 350}, BLACK, WHITE), 12, 4, 4, 4, WHITE, BLACK);
            good(out, "the-first-glyphs-still-cached", 64, 64, lane0, text, 12, 10, 3, 5, WHITE, BLACK);
        }
        // A hand-made lane-0 RESET tile of 2x1 cells of 3x5, one new glyph, both cells naming slot 0.
        byte[] payload = new byte[6 + 5 + 2];
        payload[0] = payload[1] = payload[2] = (byte) 0xff;
        payload[6] = (byte) 0xe0;
        payload[10] = (byte) 0xa0;
        Tile ok = tile(6, 5, 0x80, 3, 5, 1, 1, payload);
        bad(out, "outside-the-desktop", 64, 64, new Tile(60, 0, 6, 5, Tile.FORMAT_GLYPHS, ok.data()), "outside");
        byte[] reserved = ok.data().clone();
        reserved[0] |= 0x20;
        bad(out, "reserved-flag-bits", 64, 64, new Tile(0, 0, 6, 5, Tile.FORMAT_GLYPHS, reserved), "reserved flag bits");
        bad(out, "continuation-without-reset", 64, 64, new Tile(0, 0, 12, 10, Tile.FORMAT_GLYPHS, continuation.data()), "without RESET");
        bad(out, "cells-not-dividing-the-tile", 64, 64, new Tile(0, 0, 7, 5, Tile.FORMAT_GLYPHS, ok.data()), "with cells of");
        bad(out, "a-cell-width-of-zero", 64, 64, tile(6, 5, 0x80, 0, 5, 1, 1, payload), "with cells of");
        bad(out, "a-cell-height-above-64", 130, 130, tile(6, 130, 0x80, 3, 65, 1, 1, payload), "with cells of");
        bad(out, "references-of-three-bytes", 64, 64, tile(6, 5, 0x80, 3, 5, 3, 1, payload), "references of 3 bytes");
        bad(out, "more-new-glyphs-than-cells", 64, 64, tile(6, 5, 0x80, 3, 5, 1, 3, payload), "adds 3 glyphs");
        bad(out, "no-sync-flush-at-the-end", 64, 64, new Tile(0, 0, 6, 5, Tile.FORMAT_GLYPHS, Arrays.copyOf(ok.data(), ok.data().length - 1)), "sync flush");
        bad(out, "inflates-too-short", 64, 64, tile(6, 5, 0x80, 3, 5, 1, 1, Arrays.copyOf(payload, payload.length - 1)), "inflates to");
        bad(out, "inflates-too-long", 64, 64, tile(6, 5, 0x80, 3, 5, 1, 1, Arrays.copyOf(payload, payload.length + 1)), "inflates to more than");
        byte[] empty = payload.clone();
        empty[12] = 1;
        bad(out, "a-reference-to-an-empty-slot", 64, 64, tile(6, 5, 0x80, 3, 5, 1, 1, empty), "holds no 3x5 glyph");
        bad(out, "not-deflate", 64, 64, new Tile(0, 0, 6, 5, Tile.FORMAT_GLYPHS, new byte[] {(byte) 0x80, 3, 5, 1, 0, 1, 0x06, 0, 0, (byte) 0xff, (byte) 0xff}),
                "not deflate");
        bad(out, "a-huge-claim", 65535, 65535, new Tile(0, 0, 65535, 65535, Tile.FORMAT_GLYPHS, tile(1, 1, 0x80, 1, 1, 2, 0, new byte[6]).data()), "claims");
        return out.toString();
    }

    static Tile good(StringBuilder out, String name, int desktopW, int desktopH, TileEncoder encoder, int[] px, int w, int h, int cw, int ch, int bg, int fg) {
        Tile t = encoder.glyphs(px, w, 0, 0, w, h, cw, ch, bg, fg, 1.0).orElseThrow();
        assertThat(t.format()).as(name).isEqualTo(Tile.FORMAT_GLYPHS);
        return goodTile(out, name, desktopW, desktopH, new Tile(3, 2, w, h, t.format(), t.data()), px);
    }

    static Tile goodTile(StringBuilder out, String name, int desktopW, int desktopH, Tile at, int[] px) {
        ByteArrayOutputStream rgb = new ByteArrayOutputStream();
        for (int p : px) {
            rgb.write(p >> 16);
            rgb.write(p >> 8);
            rgb.write(p);
        }
        out.append("good ").append(name).append(' ').append(desktopW).append(' ').append(desktopH).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(at))).append(' ').append(HEX.formatHex(rgb.toByteArray())).append('\n');
        return at;
    }

    static void bad(StringBuilder out, String name, int desktopW, int desktopH, Tile t, String refusal) {
        out.append("bad ").append(name).append(' ').append(desktopW).append(' ').append(desktopH).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(t))).append(' ').append(refusal).append('\n');
    }

    /** A GLYPHS tile at 0,0 of any header and payload, deflated here (sync-flushed). */
    static Tile tile(int w, int h, int flags, int cw, int ch, int refBytes, int newCount, byte[] payload) {
        Deflater d = new Deflater(3, true);
        d.setInput(payload);
        byte[] buf = new byte[payload.length + 64];
        int n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        d.end();
        byte[] data = new byte[GlyphTile.DEFLATE_OFFSET + n];
        data[0] = (byte) flags;
        data[1] = (byte) cw;
        data[2] = (byte) ch;
        data[3] = (byte) refBytes;
        data[4] = (byte) (newCount >> 8);
        data[5] = (byte) newCount;
        System.arraycopy(buf, 0, data, GlyphTile.DEFLATE_OFFSET, n);
        return new Tile(0, 0, w, h, Tile.FORMAT_GLYPHS, data);
    }
}
