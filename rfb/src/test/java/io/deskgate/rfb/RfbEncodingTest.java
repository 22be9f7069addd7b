package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RfbEncodingTest {
    private static final int R = 0xff0000;
    private static final int G = 0x00ff00;
    private static final int B = 0x0000ff;
    private static final int W = 0xffffff;

    private final EventLog log = new EventLog();
    private final RfbClient client = new RfbClient("", false, log);
    private final RfbServerBytes server = RfbServerBytes.handshake(8, 4);

    /** Feeds everything written so far, one byte at a time, so every message is also parsed in fragments. */
    private Framebuffer feed() {
        byte[] b = server.toByteArray();
        for (int i = 0; i < b.length; i++) client.receive(b, i, 1);
        return client.framebuffer();
    }

    private void assertRejected(Consumer<RfbServerBytes> writeUpdate, String message) {
        writeUpdate.accept(server);
        byte[] b = server.toByteArray();
        assertThatThrownBy(() -> client.receive(b, 0, b.length))
                .isInstanceOf(ProtocolException.class).hasMessageContaining(message);
    }

    private static int[] row(Framebuffer fb, int y) {
        int[] r = new int[fb.width()];
        System.arraycopy(fb.pixels(), y * fb.width(), r, 0, fb.width());
        return r;
    }

    @Test
    void shouldDecodeRawRectangleInClientPixelFormat_rfc6143_7_7_1() {
        server.framebufferUpdate(1).raw(1, 1, 3, 2, R, G, B, 0x123456, 0xabcdef, W);
        Framebuffer fb = feed();
        assertThat(row(fb, 0)).containsOnly(0);
        assertThat(row(fb, 1)).containsExactly(0, R, G, B, 0, 0, 0, 0);
        assertThat(row(fb, 2)).containsExactly(0, 0x123456, 0xabcdef, W, 0, 0, 0, 0);
        assertThat(fb.pixel(3, 2)).isEqualTo(W);
        assertThat(log.events).containsExactly("init 8x4 test", "rect 1,1 3x2", "end");
    }

    @Test
    void shouldApplyOverlappingCopyRectInBothDirections_rfc6143_7_7_2() {
        server.framebufferUpdate(2).raw(0, 0, 8, 1, 1, 2, 3, 4, 5, 6, 7, 8).raw(0, 1, 8, 1, 11, 12, 13, 14, 15, 16, 17, 18);
        server.framebufferUpdate(1).copyRect(0, 0, 0, 1, 8, 2); // down by one row: overlaps row 1
        server.framebufferUpdate(1).copyRect(1, 0, 0, 0, 7, 1); // left by one column: overlaps in the row
        Framebuffer fb = feed();
        assertThat(row(fb, 0)).containsExactly(2, 3, 4, 5, 6, 7, 8, 8);
        assertThat(row(fb, 1)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(row(fb, 2)).containsExactly(11, 12, 13, 14, 15, 16, 17, 18);
        assertThat(log.events).contains("copy 0,0 -> 0,1 8x2", "copy 1,0 -> 0,0 7x1");
        assertThat(log.updates).isEqualTo(3);
    }

    @Test
    void shouldDecodeZrleRawAndSolidTiles_rfc6143_7_7_6() {
        server.framebufferUpdate(2)
                .zrle(0, 0, 2, 2, new ZrleTiles().raw(R, G, B, W).toByteArray())
                .zrle(2, 0, 6, 4, new ZrleTiles().solid(0x102030).toByteArray());
        Framebuffer fb = feed();
        assertThat(row(fb, 0)).containsExactly(R, G, 0x102030, 0x102030, 0x102030, 0x102030, 0x102030, 0x102030);
        assertThat(row(fb, 1)).startsWith(B, W, 0x102030);
        assertThat(row(fb, 3)).containsExactly(0, 0, 0x102030, 0x102030, 0x102030, 0x102030, 0x102030, 0x102030);
        assertThat(log.events).containsExactly("init 8x4 test", "rect 0,0 2x2", "rect 2,0 6x4", "end");
    }

    @Test
    void shouldDecodeZrlePackedPaletteTilesWithPaddedRows_rfc6143_7_7_6() {
        // 2 colours: 1 bit per pixel; 8x2 tile -> one byte per row.
        server.framebufferUpdate(1).zrle(0, 0, 8, 2,
                new ZrleTiles().packedPalette(new int[] {R, G}, 0b1010_0001, 0b0111_1110).toByteArray());
        // 3 colours: 2 bits per pixel; 3 pixels per row pad to one byte.
        server.framebufferUpdate(1).zrle(0, 2, 3, 1,
                new ZrleTiles().packedPalette(new int[] {R, G, B}, 0b10_01_00_00).toByteArray());
        // 5 colours: 4 bits per pixel; 3 pixels per row -> two bytes, the last nibble padding.
        server.framebufferUpdate(1).zrle(0, 3, 3, 1,
                new ZrleTiles().packedPalette(new int[] {R, G, B, W, 0x777777}, 0x43, 0x20).toByteArray());
        Framebuffer fb = feed();
        assertThat(row(fb, 0)).containsExactly(G, R, G, R, R, R, R, G);
        assertThat(row(fb, 1)).containsExactly(R, G, G, G, G, G, G, R);
        assertThat(row(fb, 2)).startsWith(B, G, R).endsWith(0);
        assertThat(row(fb, 3)).containsExactly(0x777777, W, B, 0, 0, 0, 0, 0);
    }

    @Test
    void shouldDecodeZrlePlainRleRunsAcrossRows_rfc6143_7_7_6() {
        server.framebufferUpdate(1).zrle(0, 0, 8, 4,
                new ZrleTiles().plainRle().cpixel(R).runLength(3).cpixel(G).runLength(10).cpixel(B).runLength(19).toByteArray());
        Framebuffer fb = feed();
        assertThat(row(fb, 0)).containsExactly(R, R, R, G, G, G, G, G);
        assertThat(row(fb, 1)).containsExactly(G, G, G, G, G, B, B, B);
        assertThat(row(fb, 3)).containsOnly(B);
    }

    @Test
    void shouldDecodeZrlePaletteRleWithSinglePixelsAndLongRuns_rfc6143_7_7_6() {
        RfbServerBytes big = RfbServerBytes.handshake(300, 70);
        // 300x70: tiles 64 wide (4 full + one 44 wide) and 64 + 6 high, ten tiles in all.
        ZrleTiles tiles = new ZrleTiles();
        for (int t = 0; t < 10; t++) {
            int tw = t % 5 == 4 ? 44 : 64;
            int th = t < 5 ? 64 : 6;
            tiles.paletteRle(R, G, W).u8(0).u8(1).u8(0x82).runLength(tw * th - 2);
        }
        big.framebufferUpdate(1).zrle(0, 0, 300, 70, tiles.toByteArray());
        byte[] b = big.toByteArray();
        client.receive(b, 0, b.length);
        Framebuffer fb = client.framebuffer();
        for (int tx : new int[] {0, 64, 128, 192, 256}) {
            for (int ty : new int[] {0, 64}) {
                assertThat(fb.pixel(tx, ty)).isEqualTo(R);
                assertThat(fb.pixel(tx + 1, ty)).isEqualTo(G);
                assertThat(fb.pixel(tx + 2, ty)).isEqualTo(W);
            }
        }
        assertThat(fb.pixel(299, 69)).isEqualTo(W);
        assertThat(fb.pixel(63, 63)).isEqualTo(W);
    }

    @Test
    void shouldKeepOneZlibStreamAcrossZrleRectangles_rfc6143_7_7_6() {
        // The second rectangle's data back-references the first through the shared zlib window.
        byte[] tiles = new ZrleTiles().raw(0x010203, 0x040506, 0x070809, 0x0a0b0c).toByteArray();
        server.framebufferUpdate(2).zrle(0, 0, 2, 2, tiles).zrle(4, 2, 2, 2, tiles);
        Framebuffer fb = feed();
        assertThat(fb.pixel(4, 2)).isEqualTo(0x010203);
        assertThat(fb.pixel(5, 3)).isEqualTo(0x0a0b0c);
    }

    @Test
    void shouldResizeAndClearOnDesktopSize_rfc6143_7_8_2() {
        server.framebufferUpdate(2).raw(0, 0, 1, 1, W).desktopSize(20, 10);
        server.framebufferUpdate(1).raw(19, 9, 1, 1, R);
        Framebuffer fb = feed();
        assertThat(fb.width()).isEqualTo(20);
        assertThat(fb.height()).isEqualTo(10);
        assertThat(fb.pixel(0, 0)).isZero();
        assertThat(fb.pixel(19, 9)).isEqualTo(R);
        assertThat(log.events).contains("size 20x10");
    }

    @Test
    void shouldEndAnUpdateAtLastRect() {
        server.framebufferUpdate(0xffff).raw(0, 0, 1, 1, W).lastRect().bell();
        feed();
        assertThat(log.events).containsExactly("init 8x4 test", "rect 0,0 1x1", "end", "bell");
    }

    @Test
    void shouldReportBellAndLatin1CutTextAndIgnoreColourMap_rfc6143_7_6() {
        server.setColourMapEntries(0, 3).bell().serverCutText("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1)).framebufferUpdate(0);
        feed();
        assertThat(log.events).containsExactly("init 8x4 test", "bell", "cut café", "end");
        assertThat(client.pendingInputBytes()).isZero();
    }

    @Test
    void shouldRejectRectanglesOutsideTheFramebuffer() {
        assertRejected(s -> s.framebufferUpdate(1).raw(7, 0, 2, 1, R, G), "outside the 8x4 framebuffer");
    }

    @Test
    void shouldRejectCopyRectFromOutsideTheFramebuffer() {
        assertRejected(s -> s.framebufferUpdate(1).copyRect(7, 3, 0, 0, 2, 2), "CopyRect source");
    }

    @Test
    void shouldRejectUnknownEncodingAndMessageType() {
        assertRejected(s -> s.framebufferUpdate(1).rectHeader(0, 0, 1, 1, 7), "unrequested encoding 7");
        RfbClient other = new RfbClient("", false, log);
        byte[] b = RfbServerBytes.handshake(8, 4).u8(99).toByteArray();
        assertThatThrownBy(() -> other.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class).hasMessageContaining("message type 99");
    }

    @Test
    void shouldRejectOversizedCutTextBeforeBufferingIt() {
        assertRejected(s -> s.u8(3).u8(0).u8(0).u8(0).u32((1 << 20) + 1), "ServerCutText of 1048577 bytes");
    }

    @Test
    void shouldRejectOversizedZrleLengthBeforeBufferingIt() {
        assertRejected(s -> s.framebufferUpdate(1).rectHeader(0, 0, 1, 1, 16).u32((64 << 20) + 1), "exceeds 67108864");
    }

    @Test
    void shouldRejectDesktopSizeOutsideTheLimit() {
        assertRejected(s -> s.framebufferUpdate(1).desktopSize(9000, 10), "outside 1..8192");
    }

    @Test
    void shouldRejectZrleRunPastTheTile_rfc6143_7_7_6() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 2, 2,
                new ZrleTiles().plainRle().cpixel(R).runLength(5).toByteArray()), "overflows the tile");
    }

    @Test
    void shouldRejectZrlePaletteIndexBeyondThePalette_rfc6143_7_7_6() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 2, 1,
                new ZrleTiles().packedPalette(new int[] {R, G, B}, 0b11_00_0000).toByteArray()), "index 3 >= palette size 3");
    }

    @Test
    void shouldRejectZrleRlePaletteIndexBeyondThePalette_rfc6143_7_7_6() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 2, 1,
                new ZrleTiles().paletteRle(R, G).u8(5).u8(0).toByteArray()), "index 5 >= palette size 2");
    }

    @Test
    void shouldRejectUndefinedZrleSubencodings_rfc6143_7_7_6() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 1, 1, new ZrleTiles().u8(17).toByteArray()), "undefined subencoding 17");
        RfbClient other = new RfbClient("", false, log);
        RfbServerBytes s129 = RfbServerBytes.handshake(8, 4);
        s129.framebufferUpdate(1).zrle(0, 0, 1, 1, new ZrleTiles().u8(129).toByteArray());
        byte[] b = s129.toByteArray();
        assertThatThrownBy(() -> other.receive(b, 0, b.length)).hasMessageContaining("undefined subencoding 129");
    }

    @Test
    void shouldRejectZrleDataEndingMidTile() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 2, 2, new ZrleTiles().raw(R, G).toByteArray()), "ends in the middle of a tile");
    }

    @Test
    void shouldRejectZrleDataAfterTheLastTile() {
        assertRejected(s -> s.framebufferUpdate(1).zrle(0, 0, 1, 1, new ZrleTiles().solid(R).solid(G).toByteArray()), "after its last tile");
    }

    @Test
    void shouldRejectCorruptZlibData() {
        assertRejected(s -> s.framebufferUpdate(1).rectHeader(0, 0, 1, 1, 16).zrleData(new byte[] {0x78, (byte) 0x9c, (byte) 0xff, (byte) 0xff, 0x00}),
                "ZRLE zlib data is corrupt");
    }
}
