package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

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
 * The golden vectors of the ZSTREAM tile format (docs/protocol.md §1.1), {@code stream/src/test/vectors/zstream-tiles.txt}:
 * a session's tiles from two lanes of the encoder, in the order sent (a decoder must decode the good ones in order,
 * with one set of lanes), and malformed tiles each decoded by a fresh decoder. The stream module's
 * {@code ZstreamTileTest} and the browser's {@code zstream.test.mjs} decode the same file. Run with
 * {@code -Ddeskgate.rewriteVectors=true} to write it again after a reviewed change of the encoder.
 *
 * <p>Format, one vector a line: {@code good <name> <desktopW> <desktopH> <TILE message hex> <RGB hex of the pixels>}
 * or {@code bad <name> <desktopW> <desktopH> <TILE message hex> <text the refusal contains>}.
 */
class ZstreamVectorsTest {
    static final Path FILE = Path.of("../stream/src/test/vectors/zstream-tiles.txt");
    static final HexFormat HEX = HexFormat.of();

    @Test
    void shouldEncodeTheGoldenPicturesToTheGoldenBytes() throws Exception {
        String want = vectors();
        if (Boolean.getBoolean("deskgate.rewriteVectors")) Files.writeString(FILE, want);
        assertThat(Files.readString(FILE)).as("%s (rewrite with -Ddeskgate.rewriteVectors=true after a reviewed change)", FILE)
                .isEqualTo(want);
    }

    @Test
    void shouldStartEachLaneWithResetAndFindTheRepeatedPictureInTheStream() {
        try (TileEncoder lane0 = new TileEncoder(EncoderConfig.defaults(), 0)) {
            int[] px = text(24, 13);
            Tile first = exact(lane0, px, 24, 13), again = exact(lane0, px, 24, 13);
            assertThat(first.data()[0] & 0xff).isEqualTo(ZstreamTile.RESET);
            assertThat(again.data()[0] & 0xff).as("lane 0, no reset").isZero();
            assertThat(again.data().length).as("the second copy is a back-reference").isLessThan(first.data().length / 2);
            lane0.resetStream();
            assertThat(exact(lane0, px, 24, 13).data()).as("after a reset, the first tile's bytes again").isEqualTo(first.data());
        }
    }

    static int[] text(int w, int h) {
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) px[i] = ((i * 7 + i / w * 3) % 5 == 0) ? 0x000000 : 0xffffff;
        return px;
    }

    static int[] colours(int w, int h, int n) {
        int[] px = new int[w * h];
        for (int i = 0; i < px.length; i++) px[i] = ((i % n) * 0x3b5f1d + 0x102030) & 0xffffff;
        return px;
    }

    static Tile exact(TileEncoder e, int[] px, int w, int h) {
        return e.encodeExact(e.classify(px, w, 0, 0, w, h), px, w, 0, 0, w, h);
    }

    static String vectors() {
        StringBuilder out = new StringBuilder("# ZSTREAM tile vectors, written by encode's ZstreamVectorsTest; read by stream's ZstreamTileTest\n"
                + "# and frontdoor's zstream.test.mjs. The good ones are one session's tiles: decode them in order with one set of lanes.\n"
                + "# good <name> <desktopW> <desktopH> <TILE hex> <RGB hex>\n"
                + "# bad <name> <desktopW> <desktopH> <TILE hex> <text the refusal contains> (each with fresh lanes)\n");
        EncoderConfig config = EncoderConfig.defaults();
        Tile continuation;
        try (TileEncoder lane0 = new TileEncoder(config, 0); TileEncoder lane1 = new TileEncoder(config, 1)) {
            good(out, "lane0-reset-two-colours-1bit", lane0, text(24, 13), 24, 13);
            continuation = good(out, "lane0-the-same-again", lane0, text(24, 13), 24, 13);
            good(out, "lane1-reset-rgb", lane1, colours(20, 20, 300), 20, 20);
            good(out, "lane0-four-colours-2bit", lane0, colours(7, 5, 4), 7, 5);
            good(out, "lane0-sixteen-colours-4bit", lane0, colours(9, 9, 16), 9, 9);
            good(out, "lane1-forty-colours-8bit", lane1, colours(40, 4, 40), 40, 4);
            lane0.resetStream();
            good(out, "lane0-reset-again", lane0, colours(10, 3, 2), 10, 3);
            good(out, "lane0-after-the-reset", lane0, text(24, 13), 24, 13);
        }
        byte[] payload = new byte[3 * 2 + 3]; // two colours, then 3 rows of a 5-px tile: 1 byte each
        payload[3] = payload[4] = payload[5] = (byte) 0xff;
        payload[7] = 0x50;
        Tile ok = tile(5, 3, 1, payload, false);
        bad(out, "outside-the-desktop", 64, 64, new Tile(60, 0, 5, 3, Tile.FORMAT_ZSTREAM, ok.data()), "outside");
        byte[] reserved = ok.data().clone();
        reserved[0] |= 0x10;
        bad(out, "reserved-flag-bits", 64, 64, new Tile(0, 0, 5, 3, Tile.FORMAT_ZSTREAM, reserved), "reserved flag bits");
        bad(out, "continuation-without-reset", 64, 64, new Tile(0, 0, 24, 13, Tile.FORMAT_ZSTREAM, continuation.data()), "without RESET");
        bad(out, "no-sync-flush-at-the-end", 64, 64,
                new Tile(0, 0, 5, 3, Tile.FORMAT_ZSTREAM, Arrays.copyOf(ok.data(), ok.data().length - 1)), "sync flush");
        bad(out, "inflates-too-short", 64, 64, tile(5, 3, 1, Arrays.copyOf(payload, payload.length - 1), false), "inflates to");
        bad(out, "inflates-too-long", 64, 64, tile(5, 3, 1, Arrays.copyOf(payload, payload.length + 1), false), "inflates to more than");
        bad(out, "not-deflate", 64, 64, new Tile(0, 0, 5, 3, Tile.FORMAT_ZSTREAM, new byte[] {(byte) 0x80, 1, 0x06, 0, 0, (byte) 0xff, (byte) 0xff}),
                "not deflate");
        bad(out, "a-final-block", 64, 64, tile(5, 3, 1, payload, true), "ends the deflate stream");
        byte[] beyond = payload.clone(); // three colours (2 bits an index), one index 3
        byte[] three = new byte[3 * 3 + 2 * 3];
        System.arraycopy(beyond, 0, three, 0, 6);
        three[9] = (byte) 0xc0;
        bad(out, "index-beyond-the-palette", 64, 64, tile(5, 3, 2, three, false), "beyond");
        bad(out, "a-huge-claim", 65535, 65535, new Tile(0, 0, 65535, 65535, Tile.FORMAT_ZSTREAM, ok.data()), "claims");
        return out.toString();
    }

    static Tile good(StringBuilder out, String name, TileEncoder encoder, int[] px, int w, int h) {
        Tile t = exact(encoder, px, w, h);
        assertThat(t.format()).as(name).isEqualTo(Tile.FORMAT_ZSTREAM);
        Tile at = new Tile(3, 2, w, h, t.format(), t.data());
        ByteArrayOutputStream rgb = new ByteArrayOutputStream();
        for (int p : px) {
            rgb.write(p >> 16);
            rgb.write(p >> 8);
            rgb.write(p);
        }
        out.append("good ").append(name).append(' ').append(64).append(' ').append(64).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(at))).append(' ').append(HEX.formatHex(rgb.toByteArray())).append('\n');
        return at;
    }

    static void bad(StringBuilder out, String name, int desktopW, int desktopH, Tile t, String refusal) {
        out.append("bad ").append(name).append(' ').append(desktopW).append(' ').append(desktopH).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(t))).append(' ').append(refusal).append('\n');
    }

    /** A lane-0 RESET tile of any payload, deflated here (sync-flushed, or finished when {@code finalBlock}, then the marker). */
    static Tile tile(int w, int h, int mode, byte[] payload, boolean finalBlock) {
        Deflater d = new Deflater(3, true);
        d.setInput(payload);
        byte[] buf = new byte[payload.length + 64];
        int n;
        if (finalBlock) {
            d.finish();
            n = d.deflate(buf);
            buf[n++] = 0;
            buf[n++] = 0;
            buf[n++] = (byte) 0xff;
            buf[n++] = (byte) 0xff;
        } else {
            n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        }
        d.end();
        return new Tile(0, 0, w, h, Tile.FORMAT_ZSTREAM, ZstreamTile.data(ZstreamTile.flags(0, true), mode, buf, n));
    }
}
