package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Hextile (RFC 6143 §7.7.4): every subencoding, golden pictures from {@link HextileTiles}, and its bounds. */
class RfbHextileTest {
    private static final RfbEncodings HEXTILE = RfbEncodings.of(RfbEncodings.HEXTILE, RfbEncodings.RAW);
    private static final int R = 0xff0000;
    private static final int G = 0x00ff00;
    private static final int B = 0x0000ff;

    private final EventLog log = new EventLog();
    private final RfbClient client = new RfbClient("", false, log, HEXTILE);
    private final RfbServerBytes server = RfbServerBytes.handshake(64, 40);

    /** Feeds everything one byte at a time: tiles are decoded as they complete. */
    private Framebuffer feed() {
        byte[] b = server.toByteArray();
        for (int i = 0; i < b.length; i++) client.receive(b, i, 1);
        assertThat(client.pendingInputBytes()).isZero();
        return client.framebuffer();
    }

    private void assertRejected(Consumer<RfbServerBytes> writeUpdate, String message) {
        writeUpdate.accept(server);
        byte[] b = server.toByteArray();
        assertThatThrownBy(() -> client.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class).hasMessageContaining(message);
    }

    @Test
    void shouldDecodeRawTile_rfc6143_7_7_4() {
        server.framebufferUpdate(1).hextile(1, 2, 2, 2, new HextileTiles().raw(R, G, B, 0x123456).toByteArray());
        Framebuffer fb = feed();
        assertThat(TestImages.region(fb, 1, 2, 2, 2)).containsExactly(R, G, B, 0x123456);
        assertThat(log.events).containsExactly("init 64x40 test", "rect 1,2 2x2", "end");
    }

    @Test
    void shouldDecodeBackgroundForegroundAndColouredSubrects_rfc6143_7_7_4() {
        // Tile 1 (16x4): background R, foreground G, two mono subrects. Tile 2 (4x4): background carried over,
        // coloured subrects only. Tile 3 would start the next row, but the rectangle is 20x4.
        HextileTiles t = new HextileTiles();
        t.u8(HextileDecoder.BACKGROUND_SPECIFIED | HextileDecoder.FOREGROUND_SPECIFIED | HextileDecoder.ANY_SUBRECTS)
                .pixel(R).pixel(G).u8(2).subrect(0, 0, 1, 1).subrect(14, 2, 2, 2);
        t.u8(HextileDecoder.ANY_SUBRECTS | HextileDecoder.SUBRECTS_COLOURED).u8(1).pixel(B).subrect(1, 1, 3, 3);
        server.framebufferUpdate(1).hextile(0, 0, 20, 4, t.toByteArray());
        Framebuffer fb = feed();
        assertThat(fb.pixel(0, 0)).isEqualTo(G);
        assertThat(fb.pixel(1, 0)).isEqualTo(R);
        assertThat(TestImages.region(fb, 14, 2, 2, 2)).containsOnly(G);
        assertThat(fb.pixel(13, 3)).isEqualTo(R);
        assertThat(fb.pixel(16, 0)).isEqualTo(R); // carried-over background
        assertThat(TestImages.region(fb, 17, 1, 3, 3)).containsOnly(B);
        assertThat(fb.pixel(20, 0)).isZero();
    }

    @Test
    void shouldCarryTheForegroundOverToTheNextTile_rfc6143_7_7_4() {
        HextileTiles t = new HextileTiles();
        t.u8(HextileDecoder.BACKGROUND_SPECIFIED | HextileDecoder.FOREGROUND_SPECIFIED | HextileDecoder.ANY_SUBRECTS)
                .pixel(R).pixel(G).u8(1).subrect(0, 0, 1, 1);
        t.u8(HextileDecoder.ANY_SUBRECTS).u8(1).subrect(2, 0, 1, 1);
        server.framebufferUpdate(1).hextile(0, 0, 32, 1, t.toByteArray());
        Framebuffer fb = feed();
        assertThat(fb.pixel(0, 0)).isEqualTo(G);
        assertThat(fb.pixel(18, 0)).isEqualTo(G);
        assertThat(fb.pixel(17, 0)).isEqualTo(R);
    }

    @Test
    void shouldDecodeEncodedPicturesPixelForPixel_rfc6143_7_7_4() {
        int w = 53; // edge tiles 5 wide and 8 high
        int h = 40;
        int[][] pictures = {
            TestImages.text(w, h, 0xffffff, 0x000080, 3), TestImages.blocks(w, h, 5, 4), TestImages.photo(w, h, 5), new int[w * h],
        };
        Arrays.fill(pictures[3], 0x336699);
        for (int[] picture : pictures) {
            RfbClient fresh = new RfbClient("", false, new EventLog(), HEXTILE);
            RfbServerBytes s = RfbServerBytes.handshake(64, 40);
            s.framebufferUpdate(1).hextile(11, 0, w, h, HextileTiles.encode(picture, w, h));
            byte[] b = s.toByteArray();
            for (int i = 0; i < b.length; i += 13) fresh.receive(b, i, Math.min(13, b.length - i));
            assertThat(TestImages.region(fresh.framebuffer(), 11, 0, w, h)).containsExactly(picture);
            assertThat(TestImages.region(fresh.framebuffer(), 0, 0, 11, h)).containsOnly(0);
            fresh.close();
        }
    }

    @Test
    void shouldAcceptAnEmptyHextileRectangle() {
        server.framebufferUpdate(2).hextile(0, 0, 0, 0, new byte[0]).hextile(0, 0, 1, 1, new HextileTiles().raw(R).toByteArray());
        assertThat(feed().pixel(0, 0)).isEqualTo(R);
    }

    @Test
    void shouldRefuseAHugeHextileRectangleBeforeSizingAnyBuffer() {
        assertRejected(s -> s.framebufferUpdate(1).rectHeader(0, 0, 60000, 60000, RfbClient.ENCODING_HEXTILE), "outside the 64x40 framebuffer");
    }

    @Test
    void shouldRejectSubrectOutsideItsTile_rfc6143_7_7_4() {
        assertRejected(s -> s.framebufferUpdate(1).hextile(0, 0, 4, 4, new HextileTiles()
                .u8(HextileDecoder.BACKGROUND_SPECIFIED | HextileDecoder.ANY_SUBRECTS | HextileDecoder.SUBRECTS_COLOURED)
                .pixel(R).u8(1).pixel(G).subrect(2, 2, 3, 1).toByteArray()), "outside its 4x4 tile");
    }

    @Test
    void shouldRejectATileWithoutBackground_rfc6143_7_7_4() {
        assertRejected(s -> s.framebufferUpdate(1).hextile(0, 0, 4, 4, new HextileTiles().u8(0).toByteArray()), "specifies no background");
    }

    @Test
    void shouldRejectMonoSubrectsWithoutForeground_rfc6143_7_7_4() {
        assertRejected(s -> s.framebufferUpdate(1).hextile(0, 0, 4, 4, new HextileTiles()
                .u8(HextileDecoder.BACKGROUND_SPECIFIED | HextileDecoder.ANY_SUBRECTS).pixel(R).u8(1).subrect(0, 0, 1, 1).toByteArray()),
                "no foreground colour");
    }

    @Test
    void shouldRejectUndefinedSubencodingBitsAndContradictoryFlags_rfc6143_7_7_4() {
        assertRejected(s -> s.framebufferUpdate(1).hextile(0, 0, 4, 4, new HextileTiles().u8(0x20).toByteArray()), "undefined subencoding bits 20");
        RfbClient other = new RfbClient("", false, log, HEXTILE);
        byte[] b = RfbServerBytes.handshake(8, 8).framebufferUpdate(1)
                .hextile(0, 0, 4, 4, new HextileTiles().u8(HextileDecoder.FOREGROUND_SPECIFIED | HextileDecoder.SUBRECTS_COLOURED).toByteArray())
                .toByteArray();
        assertThatThrownBy(() -> other.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("both ForegroundSpecified and SubrectsColoured");
    }
}
