package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.WebpTile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * libwebp through FFM (docs/protocol.md §1.1, tile format 7): what it writes is a tile {@link WebpTile#check} accepts and
 * libwebp's own decoder turns back into the picture at a PSNR that follows the quality, arguments it must not pass to
 * native code are refused, and without the library a WebP-capable client gets JPEG. The tests that need the library
 * skip without it, except on CI ({@code CI=true}), where its absence fails them: the launcher and {@code .ci/run}
 * install {@code libwebp7}.
 */
class WebpEncoderTest {

    static WebpEncoder library() {
        WebpEncoder lib = WebpEncoder.shared();
        WebpTile.Decoder decoder = WebpTile.Decoder.shared();
        if (!lib.available() || !decoder.available()) {
            String why = lib.unavailableReason().or(decoder::unavailableReason).orElseThrow();
            if ("true".equals(System.getenv("CI"))) fail("CI=true but libwebp is not available: " + why);
            Assumptions.abort("libwebp not available (apt-get install libwebp7): " + why);
        }
        return lib;
    }

    private static int[] decode(byte[] webp, int w, int h) {
        return WebpTile.Decoder.shared().decode(new Tile(0, 0, w, h, Tile.FORMAT_WEBP, webp), w, h);
    }

    @Test
    void shouldRoundTripASyntheticPhotoAtAPsnrThatRisesWithTheQuality() {
        WebpEncoder lib = library();
        int w = 200, h = 120, stride = 256;
        int[] px = TurboJpegTest.photo(stride, 160, 7);
        byte[] low = lib.encode(px, stride, 30, 20, w, h, 30, 0);
        byte[] high = lib.encode(px, stride, 30, 20, w, h, 90, 0);

        double psnrLow = TurboJpegTest.psnr(px, stride, 30, 20, w, h, decode(low, w, h));
        double psnrHigh = TurboJpegTest.psnr(px, stride, 30, 20, w, h, decode(high, w, h));
        assertThat(psnrHigh).as("quality 90").isGreaterThan(38);
        assertThat(psnrLow).as("quality 30").isGreaterThan(28).isLessThan(psnrHigh);
        assertThat(low.length).isLessThan(high.length);
    }

    @Test
    void shouldWriteTheSimpleLossyFormatOfTheRectanglesSize() {
        WebpEncoder lib = library();
        int[] px = TurboJpegTest.photo(64, 64, 3);
        for (int[] size : new int[][] {{1, 1}, {3, 5}, {64, 64}, {17, 64}}) {
            byte[] webp = lib.encode(px, 64, 0, 0, size[0], size[1], 80, 0);
            Tile t = new Tile(0, 0, size[0], size[1], Tile.FORMAT_WEBP, webp);
            WebpTile.check(t, 64, 64); // RIFF, one VP8 key frame of exactly w x h, nothing else
            assertThat(new String(webp, 12, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("VP8 ");
        }
    }

    @Test
    void shouldDecodeAFlatColourToThatColourWithinJpegLikeTolerance() {
        WebpEncoder lib = library();
        int[] px = new int[32 * 32];
        java.util.Arrays.fill(px, 0x3366cc);
        int[] out = decode(lib.encode(px, 32, 0, 0, 32, 32, 90, 4), 32, 32);
        for (int c : out) {
            assertThat(Math.abs((c >> 16 & 0xff) - 0x33)).isLessThanOrEqualTo(3);
            assertThat(Math.abs((c >> 8 & 0xff) - 0x66)).isLessThanOrEqualTo(3);
            assertThat(Math.abs((c & 0xff) - 0xcc)).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void shouldMakeEveryMethodDecodableAndTheSlowestNoLargerThanTheFastest() {
        WebpEncoder lib = library();
        int[] px = TurboJpegTest.photo(128, 128, 11);
        byte[] fast = lib.encode(px, 128, 0, 0, 128, 128, 80, 0);
        for (int method = WebpEncoder.MIN_METHOD; method <= WebpEncoder.MAX_METHOD; method++) {
            byte[] webp = lib.encode(px, 128, 0, 0, 128, 128, 80, method);
            assertThat(TurboJpegTest.psnr(px, 128, 0, 0, 128, 128, decode(webp, 128, 128))).as("method " + method).isGreaterThan(35);
            if (method == WebpEncoder.MAX_METHOD) assertThat(webp.length).isLessThanOrEqualTo(fast.length);
        }
    }

    @Test
    void shouldRefuseArgumentsItMustNotPassToNativeCode() {
        WebpEncoder lib = library();
        int[] px = new int[64 * 64];
        assertThatThrownBy(() -> lib.encode(px, 64, 60, 0, 8, 8, 80, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
        assertThatThrownBy(() -> lib.encode(px, 64, 0, 60, 8, 8, 80, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
        assertThatThrownBy(() -> lib.encode(px, 64, 0, 0, 0, 8, 80, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lib.encode(px, 64, 0, 0, 8, 8, 101, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quality");
        assertThatThrownBy(() -> lib.encode(px, 64, 0, 0, 8, 8, 80, 7)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("method");
        int[] wide = new int[16384 * 2];
        assertThatThrownBy(() -> lib.encode(wide, 16384, 0, 0, 16384, 1, 80, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16383");
    }

    @Test
    void shouldSayWhyWhenTheLibraryPathIsWrong() {
        WebpEncoder missing = WebpEncoder.load("libdeskgate-no-such-webp.so.7");
        assertThat(missing.available()).isFalse();
        assertThat(missing.unavailableReason()).get().asString().contains("libdeskgate-no-such-webp.so.7").contains("libwebp7");
        assertThatThrownBy(() -> missing.encode(new int[4], 2, 0, 0, 2, 2, 80, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldSendJpegToAWebpCapableClientWhenTheLibraryIsMissing() {
        int[] px = TurboJpegTest.photo(64, 64, 5);
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            encoder.webpLibrary(WebpEncoder.load("libdeskgate-no-such-webp.so.7"));
            encoder.webp(true);
            assertThat(encoder.webp()).isFalse();
            assertThat(encoder.encode(TileEncoder.Kind.PHOTO, px, 64, 0, 0, 64, 64).format()).isEqualTo(Tile.FORMAT_JPEG);
        }
    }

    @Test
    void shouldSendWebpOnlyOnceTheClientSaidItDecodesIt() {
        library();
        int[] px = TurboJpegTest.photo(64, 64, 5);
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            assertThat(encoder.encode(TileEncoder.Kind.PHOTO, px, 64, 0, 0, 64, 64).format()).as("before").isEqualTo(Tile.FORMAT_JPEG);
            encoder.webp(true);
            Tile t = encoder.encode(TileEncoder.Kind.PHOTO, px, 64, 0, 0, 64, 64);
            assertThat(t.format()).isEqualTo(Tile.FORMAT_WEBP);
            assertThat(TurboJpegTest.psnr(px, 64, 0, 0, 64, 64, decode(t.data(), 64, 64))).isGreaterThan(35);
            assertThat(encoder.encodeExact(TileEncoder.Kind.PHOTO, px, 64, 0, 0, 64, 64).format()).as("refinement stays lossless")
                    .isEqualTo(Tile.FORMAT_ZLIB_RGB);
            encoder.webp(false);
            assertThat(encoder.encode(TileEncoder.Kind.PHOTO, px, 64, 0, 0, 64, 64).format()).as("after").isEqualTo(Tile.FORMAT_JPEG);
        }
    }
}
