package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Tight (encoding 7, rfbproto "Tight"): golden tests against {@link TightRects}, a test-side encoder, and the
 * bounds on untrusted rectangles. Each picture is decoded into a framebuffer at an offset and compared pixel
 * by pixel (JPEG within a PSNR bound), the rest of the framebuffer staying black.
 */
class RfbTightTest {
    private static final RfbEncodings TIGHT = RfbEncodings.of(RfbEncodings.TIGHT, RfbEncodings.COPY_RECT,
            RfbEncodings.jpegQuality(8), RfbEncodings.LAST_RECT);
    private static final int FB_W = 80;
    private static final int FB_H = 60;
    private static final int X = 3;
    private static final int Y = 5;
    private static final int W = 37; // not a multiple of 8: palette rows pad
    private static final int H = 23;

    private final EventLog log = new EventLog();
    private final RfbClient client = new RfbClient("", false, log, TIGHT);
    private final RfbServerBytes server = RfbServerBytes.handshake(FB_W, FB_H);
    private final TightRects tight = new TightRects();

    private int fed;

    /** Feeds what was written since the last feed in 7-byte fragments, so every rectangle is also parsed in pieces. */
    private Framebuffer feed() {
        byte[] b = server.toByteArray();
        for (; fed < b.length; fed += 7) client.receive(b, fed, Math.min(7, b.length - fed));
        fed = b.length;
        assertThat(client.pendingInputBytes()).isZero();
        return client.framebuffer();
    }

    private void assertRejected(Consumer<RfbServerBytes> writeUpdate, String message) {
        writeUpdate.accept(server);
        byte[] b = server.toByteArray();
        assertThatThrownBy(() -> client.receive(b, fed, b.length - fed)).isInstanceOf(ProtocolException.class).hasMessageContaining(message);
    }

    /** The picture is at (X, Y) and every other pixel is still black. */
    private static void assertExactly(Framebuffer fb, int[] picture) {
        assertThat(TestImages.region(fb, X, Y, W, H)).containsExactly(picture);
        int[] all = fb.pixels().clone();
        for (int row = 0; row < H; row++) Arrays.fill(all, (Y + row) * FB_W + X, (Y + row) * FB_W + X + W, 0);
        assertThat(all).containsOnly(0);
    }

    @Test
    void shouldAskForTheGivenEncodingsInSetEncodings_rfc6143_7_5_2() {
        feed();
        byte[] sent = client.drainOutgoing();
        // Version, security type, ClientInit, SetPixelFormat (20 bytes), then SetEncodings.
        byte[] setEncodings = Arrays.copyOfRange(sent, 12 + 1 + 1 + 20, sent.length);
        assertThat(setEncodings).containsExactly(2, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 1, -1, -1, -1, -24, -1, -1, -1, 32);
    }

    @Test
    void shouldDecodeFillRectangles_rfbproto_tight() {
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.fill(0x123456));
        Framebuffer fb = feed();
        int[] expected = new int[W * H];
        Arrays.fill(expected, 0x123456);
        assertExactly(fb, expected);
        assertThat(log.events).containsExactly("init 80x60 test", "rect 3,5 37x23", "end");
    }

    @Test
    void shouldDecodeCopyFilterCompressedOnEveryStreamWithAndWithoutFilterByte_rfbproto_tight() {
        for (int stream = 0; stream < 4; stream++) {
            int[] picture = TestImages.photo(W, H, stream);
            RfbClient fresh = new RfbClient("", false, new EventLog(), TIGHT);
            RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H);
            s.framebufferUpdate(1).tight(X, Y, W, H, tight.copy(stream, stream % 2 == 0, picture));
            byte[] b = s.toByteArray();
            fresh.receive(b, 0, b.length);
            assertExactly(fresh.framebuffer(), picture);
            fresh.close();
        }
    }

    @Test
    void shouldDecodeTwoColourPaletteAsOneBitPerPixelWithPaddedRows_rfbproto_tight() {
        int[] picture = TestImages.text(W, H, 0xffffff, 0x202020, 1);
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.palette(1, new int[] {0x202020, 0xffffff}, picture, W, H));
        assertExactly(feed(), picture);
    }

    @Test
    void shouldDecodePalettesOfThreeTo256ColoursAsOneBytePerPixel_rfbproto_tight() {
        for (int colours : new int[] {3, 17, 256}) {
            int[] picture = TestImages.blocks(W, H, colours, colours);
            int[] palette = Arrays.stream(picture).distinct().toArray();
            RfbClient fresh = new RfbClient("", false, new EventLog(), TIGHT);
            RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H);
            s.framebufferUpdate(1).tight(X, Y, W, H, new TightRects().palette(2, palette, picture, W, H));
            byte[] b = s.toByteArray();
            fresh.receive(b, 0, b.length);
            assertThat(TestImages.region(fresh.framebuffer(), X, Y, W, H)).as("%d colours", colours).containsExactly(picture);
            fresh.close();
        }
    }

    @Test
    void shouldDecodeGradientFilter_rfbproto_tight() {
        int[] picture = TestImages.photo(W, H, 7);
        // Saturated corners make the prediction clamp at both ends.
        picture[0] = 0xffffff;
        picture[W + 1] = 0x000000;
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.gradient(3, picture, W, H));
        assertExactly(feed(), picture);
    }

    @Test
    void shouldSendDataShorterThan12BytesUncompressed_rfbproto_tight() {
        // 3 pixels = 9 bytes of TPIXELs: no compact length and no zlib.
        int[] three = {0x010203, 0x040506, 0x070809};
        byte[] body = tight.copy(0, false, three);
        assertThat(body).containsExactly(0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        server.framebufferUpdate(1).tight(0, 0, 3, 1, body);
        assertThat(TestImages.region(feed(), 0, 0, 3, 1)).containsExactly(three);
    }

    @Test
    void shouldKeepEachZlibStreamAcrossRectanglesAndResetItWhenTold_rfbproto_tight() {
        int[] a = TestImages.photo(W, H, 1);
        int[] b = TestImages.photo(W, H, 2);
        int[] c = TestImages.photo(W, H, 3);
        // a and b share stream 0; stream 0 is then reset on both sides (the fresh deflater starts a new zlib
        // header, which a client that did not reset would reject) and c is sent on it.
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.copy(0, false, a));
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.copy(0, false, b));
        Framebuffer fb = feed();
        assertExactly(fb, b);
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.reset(0).copy(0, false, c));
        assertExactly(feed(), c);
    }

    @Test
    void shouldRejectANewZlibHeaderOnAStreamThatWasNotReset_rfbproto_tight() {
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.copy(0, false, TestImages.photo(W, H, 1)));
        feed();
        TightRects other = new TightRects(); // a new deflater, but no reset bit: the stream is out of step
        assertRejected(s -> s.framebufferUpdate(1).tight(X, Y, W, H, other.copy(0, false, TestImages.photo(W, H, 2))), "Tight zlib data is corrupt");
    }

    @Test
    void shouldDecodeJpegWithinAPsnrBound_rfbproto_tight() {
        int[] picture = TestImages.photo(W, H, 9);
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.jpeg(picture, W, H, 0.9f));
        Framebuffer fb = feed();
        assertThat(TestImages.psnr(picture, TestImages.region(fb, X, Y, W, H))).isGreaterThan(30.0);
        int[] outside = fb.pixels().clone();
        for (int row = 0; row < H; row++) Arrays.fill(outside, (Y + row) * FB_W + X, (Y + row) * FB_W + X + W, 0);
        assertThat(outside).containsOnly(0);
    }

    @Test
    void shouldDecodeAGreyJpegToGreyPixels_rfbproto_tight() {
        int[] grey = new int[W * H];
        for (int i = 0; i < grey.length; i++) grey[i] = 0x010101 * ((i % W) * 255 / (W - 1));
        server.framebufferUpdate(1).tight(X, Y, W, H, tight.greyJpeg(grey, W, H, 0.9f));
        int[] decoded = TestImages.region(feed(), X, Y, W, H);
        assertThat(java.util.Arrays.stream(decoded).boxed().toList()).allMatch(p -> (p >>> 16) == (p & 0xFF) && ((p >>> 8) & 0xFF) == (p & 0xFF));
        // Luma values come back as they were (getRGB on a grey image would have brightened them to sRGB).
        assertThat(TestImages.psnr(grey, decoded)).isGreaterThan(30.0);
    }

    @Test
    void shouldDecodeCompactLengthsOfOneTwoAndThreeBytes_rfbproto_tight() {
        for (int n : new int[] {0, 127, 128, 16_383, 16_384, TightDecoder.MAX_COMPACT_LENGTH}) {
            byte[] c = TightRects.compactLength(n);
            long decoded = TightDecoder.compactLength(c, 0, c.length);
            assertThat((int) decoded).as("value of %d", n).isEqualTo(n);
            assertThat((int) (decoded >>> 32)).as("bytes of %d", n).isEqualTo(n < 128 ? 1 : n < 16_384 ? 2 : 3);
            assertThat(TightDecoder.compactLength(c, 0, c.length - 1)).as("incomplete %d", n).isEqualTo(-1);
        }
    }

    @Test
    void shouldMixTightWithCopyRectAndLastRect() {
        int[] picture = TestImages.photo(W, H, 4);
        server.framebufferUpdate(0xffff).tight(X, Y, W, H, tight.gradient(0, picture, W, H)).copyRect(X, Y, 40, 30, 10, 10).lastRect();
        Framebuffer fb = feed();
        assertThat(fb.pixel(40, 30)).isEqualTo(picture[0]);
        assertThat(fb.pixel(49, 39)).isEqualTo(picture[9 * W + 9]);
        assertThat(log.events).containsExactly("init 80x60 test", "rect 3,5 37x23", "copy 3,5 -> 40,30 10x10", "end");
    }

    @Test
    void shouldRefuseAHugeTightRectangleBeforeSizingAnyBuffer() {
        assertRejected(s -> s.framebufferUpdate(1).rectHeader(0, 0, 60000, 60000, RfbClient.ENCODING_TIGHT), "outside the 80x60 framebuffer");
    }

    @Test
    void shouldRejectUnknownCompressionTypesAndFilters_rfbproto_tight() {
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 4, 4, new byte[] {(byte) 0xA0}), "unsupported compression type 10");
        RfbClient other = new RfbClient("", false, log, TIGHT);
        byte[] b = RfbServerBytes.handshake(8, 8).framebufferUpdate(1).tight(0, 0, 4, 4, new byte[] {0x40, 3}).toByteArray();
        assertThatThrownBy(() -> other.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class).hasMessageContaining("unknown filter 3");
    }

    @Test
    void shouldRejectPaletteIndexBeyondThePalette_rfbproto_tight() {
        // 3 colours, 4 pixels as bytes (below 12: sent as is), one index 3.
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 4, 1, new byte[] {0x40, 1, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 1, 2, 3}),
                "palette index 3 >= palette size 3");
    }

    @Test
    void shouldRefuseZlibOutputBeyondTheRectangle() {
        // The compressed data holds 10x10 TPIXELs, but the rectangle is 4x4: the extra output is refused, not inflated on.
        byte[] body = new TightRects().copy(0, false, TestImages.photo(10, 10, 1));
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 4, 4, body), "after its last row");
    }

    @Test
    void shouldRejectZlibDataEndingMidRectangle() {
        byte[] body = new TightRects().copy(0, false, TestImages.photo(4, 4, 1));
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 10, 10, body), "ends in the middle of a row");
    }

    @Test
    void shouldRejectJpegOfAnotherSizeThanItsRectangle() {
        byte[] body = new TightRects().jpeg(TestImages.photo(16, 8, 1), 16, 8, 0.8f);
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 8, 16, body), "JPEG of 16x8 in a 8x16 rectangle");
    }

    @Test
    void shouldRejectCorruptJpeg() {
        byte[] garbage = {(byte) 0xFF, (byte) 0xD8, 1, 2, 3, 4, 5, 6};
        byte[] body = new byte[2 + garbage.length];
        body[0] = (byte) 0x90;
        body[1] = (byte) garbage.length;
        System.arraycopy(garbage, 0, body, 2, garbage.length);
        assertRejected(s -> s.framebufferUpdate(1).tight(0, 0, 8, 8, body), "JPEG data is corrupt");
    }

    @Test
    void shouldRejectTightUnlessRequested() {
        RfbClient zrleOnly = new RfbClient("", false, log);
        byte[] b = RfbServerBytes.handshake(8, 8).framebufferUpdate(1).tight(0, 0, 1, 1, new byte[] {(byte) 0x80, 1, 2, 3}).toByteArray();
        assertThatThrownBy(() -> zrleOnly.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class).hasMessageContaining("unrequested encoding 7");
    }
}
