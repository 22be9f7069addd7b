package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.PaletteTile;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage.Tile;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * The golden vectors of the PALETTE tile format (docs/protocol.md §1.1), {@code stream/src/test/vectors/palette-tiles.txt}:
 * the encoder's own output for a few small pictures, and malformed tiles built from them. The stream module's
 * {@code PaletteTileTest} and the browser's {@code display.test.mjs} decode the same file. Run with
 * {@code -Ddeskgate.rewriteVectors=true} to write the file again after a reviewed change of the encoder.
 *
 * <p>Format, one vector a line: {@code good <name> <desktopW> <desktopH> <TILE message hex> <RGB hex of the pixels>}
 * or {@code bad <name> <desktopW> <desktopH> <TILE message hex> <text the refusal contains>}.
 */
class PaletteVectorsTest {
    static final Path FILE = Path.of("../stream/src/test/vectors/palette-tiles.txt");
    static final HexFormat HEX = HexFormat.of();

    @Test
    void shouldEncodeTheGoldenPicturesToTheGoldenBytes() throws Exception {
        String want = vectors();
        if (Boolean.getBoolean("deskgate.rewriteVectors")) Files.writeString(FILE, want);
        assertThat(Files.readString(FILE)).as("%s (rewrite with -Ddeskgate.rewriteVectors=true after a reviewed change)", FILE)
                .isEqualTo(want);
    }

    static String vectors() {
        StringBuilder out = new StringBuilder("# PALETTE tile vectors, written by encode's PaletteVectorsTest; read by stream's PaletteTileTest\n"
                + "# and frontdoor's display.test.mjs. good <name> <desktopW> <desktopH> <TILE hex> <RGB hex>\n"
                + "# bad <name> <desktopW> <desktopH> <TILE hex> <text the refusal contains>\n");
        List<Tile> good = new ArrayList<>();
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            good.add(good(out, encoder, "two-colours-1bit", 13, 3, 2, 0xffffff, 0x000000));
            good.add(good(out, encoder, "four-colours-2bit", 7, 5, 4, 0x102030, 0xff0000, 0x00ff00, 0x0000ff));
            good.add(good(out, encoder, "sixteen-colours-4bit", 9, 9, 16, colours(16)));
            good.add(good(out, encoder, "forty-colours-8bit", 40, 4, 40, colours(40)));
        }
        Tile two = good.get(0), four = good.get(1);
        bad(out, "outside-the-desktop", 64, 64, new Tile(10, 10, 60000, 60000, Tile.FORMAT_PALETTE, two.data()), "outside");
        bad(out, "one-colour", 64, 64, with(two, 0, (byte) 0), "1 colour");
        bad(out, "palette-longer-than-the-data", 64, 64, new Tile(0, 0, 13, 3, Tile.FORMAT_PALETTE, new byte[] {3, 1, 2, 3, 4, 5, 6}), "carries only");
        int rowBytes = PaletteTile.rowBytes(7, 2);
        byte[] beyond = new byte[rowBytes * 5]; // 4 colours, 2 bits, but index 3 of a 3-colour palette
        beyond[0] = (byte) 0xc0;
        bad(out, "index-beyond-the-palette", 64, 64, palette(7, 5, new int[] {1, 2, 3}, beyond), "beyond");
        bad(out, "inflates-too-short", 64, 64, palette(7, 5, new int[] {1, 2, 3, 4}, new byte[rowBytes * 5 - 1]), "inflate to");
        bad(out, "inflates-too-long", 64, 64, palette(7, 5, new int[] {1, 2, 3, 4}, new byte[rowBytes * 5 + 1]), "inflate to more than");
        byte[] junk = four.data().clone();
        junk[PaletteTile.indexOffset(4)] = 0x11;
        bad(out, "not-zlib", 64, 64, new Tile(0, 0, 7, 5, Tile.FORMAT_PALETTE, junk), "not a zlib stream");
        byte[] trailing = java.util.Arrays.copyOf(four.data(), four.data().length + 2);
        bad(out, "bytes-after-the-zlib-stream", 64, 64, new Tile(0, 0, 7, 5, Tile.FORMAT_PALETTE, trailing), "not a zlib stream");
        bad(out, "zlib-stream-cut-short", 64, 64, new Tile(0, 0, 7, 5, Tile.FORMAT_PALETTE,
                java.util.Arrays.copyOf(four.data(), four.data().length - 3)), "not a zlib stream");
        return out.toString();
    }

    /** Colours, one per index, distinct. */
    static int[] colours(int n) {
        int[] c = new int[n];
        for (int i = 0; i < n; i++) c[i] = (i * 0x3b5f1d + 0x102030) & 0xffffff;
        return c;
    }

    static Tile good(StringBuilder out, TileEncoder encoder, String name, int w, int h, int count, int... colours) {
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) px[i] = colours[(i * 7 + i / w) % count];
        Tile t = encoder.palette(px, w, 0, 0, w, h).orElseThrow();
        Tile at = new Tile(3, 2, w, h, t.format(), t.data());
        ByteArrayOutputStream rgb = new ByteArrayOutputStream();
        for (int p : px) {
            rgb.write(p >> 16);
            rgb.write(p >> 8);
            rgb.write(p);
        }
        out.append("good ").append(name).append(' ').append(3 + w).append(' ').append(2 + h).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(at))).append(' ').append(HEX.formatHex(rgb.toByteArray())).append('\n');
        return t;
    }

    static void bad(StringBuilder out, String name, int desktopW, int desktopH, Tile t, String refusal) {
        out.append("bad ").append(name).append(' ').append(desktopW).append(' ').append(desktopH).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(t))).append(' ').append(refusal).append('\n');
    }

    static Tile with(Tile t, int offset, byte value) {
        byte[] d = t.data().clone();
        d[offset] = value;
        return new Tile(t.x(), t.y(), t.w(), t.h(), t.format(), d);
    }

    /** A PALETTE tile of any packed indexes, deflated here (not by the encoder). */
    static Tile palette(int w, int h, int[] colours, byte[] packed) {
        Deflater d = new Deflater(3);
        d.setInput(packed);
        d.finish();
        byte[] buf = new byte[packed.length + 64];
        int n = d.deflate(buf);
        d.end();
        return new Tile(0, 0, w, h, Tile.FORMAT_PALETTE, PaletteTile.data(colours, colours.length, buf, n));
    }
}
