package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.deskgate.encode.EncoderConfig.JpegLibrary;
import io.deskgate.encode.TurboJpeg.Subsampling;
import io.deskgate.stream.StreamMessage.Tile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * libjpeg-turbo through FFM: what it writes decodes (by the JDK's reader, as browsers would) to the pixels it was
 * given, arguments it must not pass to native code are refused, and without the library the encoder falls back to
 * the JDK's writer. The tests that need the library skip without it, except on CI ({@code CI=true}), where its
 * absence fails them: the launcher and {@code .ci/run} install {@code libturbojpeg0}.
 */
class TurboJpegTest {

    static TurboJpeg library() {
        TurboJpeg lib = TurboJpeg.shared();
        if (!lib.available()) {
            String why = lib.unavailableReason().orElseThrow();
            if ("true".equals(System.getenv("CI"))) fail("CI=true but libjpeg-turbo is not available: " + why);
            Assumptions.abort("libjpeg-turbo not available (apt-get install libturbojpeg0): " + why);
        }
        return lib;
    }

    /** A smooth gradient with some noise: photo-like, the content JPEG is for. */
    static int[] photo(int w, int h, long seed) {
        Random random = new Random(seed);
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = clamp(60 + x * 2 + random.nextInt(9) - 4);
                int g = clamp(90 + y * 2 + random.nextInt(9) - 4);
                int b = clamp(200 - x - y + random.nextInt(9) - 4);
                px[y * w + x] = r << 16 | g << 8 | b;
            }
        }
        return px;
    }

    /** Each pixel as its JPEG luminance (BT.601), in all three channels. */
    static int[] grey(int[] px) {
        int[] out = new int[px.length];
        for (int i = 0; i < px.length; i++) {
            int c = px[i];
            int y = (int) Math.round(0.299 * (c >> 16 & 0xff) + 0.587 * (c >> 8 & 0xff) + 0.114 * (c & 0xff));
            out[i] = y << 16 | y << 8 | y;
        }
        return out;
    }

    private static int clamp(int v) { return Math.max(0, Math.min(255, v)); }

    static int[] decode(byte[] jpeg, int w, int h) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(jpeg));
        assertThat(image).as("a JPEG the JDK can read").isNotNull();
        assertThat(image.getWidth()).isEqualTo(w);
        assertThat(image.getHeight()).isEqualTo(h);
        if (image.getRaster().getNumBands() == 1) { // a grey JPEG: the samples (getRGB would convert its linear grey)
            int[] samples = image.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < samples.length; i++) samples[i] = samples[i] * 0x010101;
            return samples;
        }
        return image.getRGB(0, 0, w, h, null, 0, w);
    }

    /** PSNR in dB over R, G and B of the {@code w x h} rectangle at (x, y) of {@code original} against {@code decoded}. */
    static double psnr(int[] original, int stride, int x, int y, int w, int h, int[] decoded) {
        double sum = 0;
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                int a = original[(y + row) * stride + x + col], b = decoded[row * w + col];
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = (a >> shift & 0xff) - (b >> shift & 0xff);
                    sum += d * d;
                }
            }
        }
        double mse = sum / (w * h * 3.0);
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    @Test
    void shouldDecodeToThePhotoWithinAPsnrBoundAtQuality80() throws IOException {
        try (TurboJpeg.Compressor c = library().open()) {
            int[] px = photo(64, 64, 1);
            byte[] jpeg = c.compress(px, 64, 0, 0, 64, 64, 80, Subsampling.S420);
            assertThat(jpeg[0] & 0xff).isEqualTo(0xff);
            assertThat(jpeg[1] & 0xff).as("SOI").isEqualTo(0xd8);
            assertThat(psnr(px, 64, 0, 0, 64, 64, decode(jpeg, 64, 64))).isGreaterThan(32.0);
            assertThat(jpeg.length).as("compressed, not raw").isLessThan(64 * 64 * 3 / 2);
        }
    }

    @Test
    void shouldEncodeEverySizeAndTheRightRectangleOfALargerFramebuffer() throws IOException {
        int stride = 200;
        int[] frame = photo(stride, 150, 2);
        try (TurboJpeg.Compressor c = library().open()) {
            int[][] rects = {{0, 0, 1, 1}, {10, 20, 64, 64}, {137, 133, 63, 17}, {0, 0, 200, 150}, {199, 149, 1, 1}, {5, 7, 3, 90}};
            for (int[] r : rects) {
                for (Subsampling s : Subsampling.values()) {
                    byte[] jpeg = c.compress(frame, stride, r[0], r[1], r[2], r[3], 80, s);
                    int[] decoded = decode(jpeg, r[2], r[3]);
                    int[] expected = s == Subsampling.GRAY ? grey(frame) : frame; // grey keeps only luminance
                    assertThat(psnr(expected, stride, r[0], r[1], r[2], r[3], decoded))
                            .as("%dx%d+%d+%d %s", r[2], r[3], r[0], r[1], s).isGreaterThan(28.0);
                }
            }
        }
    }

    @Test
    void shouldEncodeExtremeContent() throws IOException {
        int[] black = new int[64 * 64];
        int[] white = new int[64 * 64];
        java.util.Arrays.fill(white, 0xffffffff); // high byte set: ignored
        int[] checker = new int[64 * 64];
        int[] noise = new int[64 * 64];
        Random random = new Random(4);
        for (int i = 0; i < checker.length; i++) {
            checker[i] = ((i % 64) + (i / 64)) % 2 == 0 ? 0xffffff : 0;
            noise[i] = random.nextInt(1 << 24);
        }
        try (TurboJpeg.Compressor c = library().open()) {
            assertThat(psnr(black, 64, 0, 0, 64, 64, decode(c.compress(black, 64, 0, 0, 64, 64, 80, Subsampling.S420), 64, 64))).isGreaterThan(45);
            int[] whiteMasked = white.clone();
            for (int i = 0; i < whiteMasked.length; i++) whiteMasked[i] &= 0xffffff;
            assertThat(psnr(whiteMasked, 64, 0, 0, 64, 64, decode(c.compress(white, 64, 0, 0, 64, 64, 80, Subsampling.S420), 64, 64))).isGreaterThan(45);
            // the worst cases for JPEG still decode and stay within the library's own bound of the output
            assertThat(decode(c.compress(checker, 64, 0, 0, 64, 64, 100, Subsampling.S444), 64, 64)).hasSize(64 * 64);
            byte[] noisy = c.compress(noise, 64, 0, 0, 64, 64, 100, Subsampling.S444);
            assertThat(psnr(noise, 64, 0, 0, 64, 64, decode(noisy, 64, 64))).isGreaterThan(30);
            assertThat(c.compress(noise, 64, 0, 0, 64, 64, 1, Subsampling.S420).length).isLessThan(noisy.length);
        }
    }

    @Test
    void shouldRefuseBadArgumentsBeforeNativeCode() {
        int[] px = new int[64 * 64];
        try (TurboJpeg.Compressor c = library().open()) {
            assertThatThrownBy(() -> c.compress(px, 64, 60, 0, 8, 8, 80, Subsampling.S420)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.compress(px, 64, 0, 60, 8, 8, 80, Subsampling.S420)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.compress(px, 64, 0, 0, 0, 8, 80, Subsampling.S420)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.compress(px, 64, -1, 0, 8, 8, 80, Subsampling.S420)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.compress(px, 0, 0, 0, 1, 1, 80, Subsampling.S420)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.compress(px, 64, 0, 0, 8, 8, 0, Subsampling.S420)).hasMessageContaining("quality");
            assertThatThrownBy(() -> c.compress(px, 64, 0, 0, 8, 8, 101, Subsampling.S420)).hasMessageContaining("quality");
            assertThatThrownBy(() -> c.compress(new int[1], 1 << 13, 0, 0, 1 << 13, 1 << 12, 80, Subsampling.S420))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(c.compress(px, 64, 0, 0, 8, 8, 80, Subsampling.S420)).as("still usable after refusals").isNotEmpty();
        }
    }

    @Test
    void shouldRefuseUseAfterCloseAndCloseTwiceQuietly() {
        TurboJpeg.Compressor c = library().open();
        c.close();
        c.close();
        assertThatThrownBy(() -> c.compress(new int[1], 1, 0, 0, 1, 1, 80, Subsampling.S420)).hasMessageContaining("closed");
    }

    @Test
    void shouldSayWhyWhenTheLibraryCannotBeLoaded() {
        TurboJpeg missing = TurboJpeg.load("libdeskgate-no-such-library.so.0");
        assertThat(missing.available()).isFalse();
        assertThat(missing.unavailableReason()).hasValueSatisfying(why -> assertThat(why).contains("libdeskgate-no-such-library.so.0"));
        assertThatThrownBy(missing::open).isInstanceOf(IllegalStateException.class).hasMessageContaining("not available");
    }

    @Test
    void shouldSayWhichFunctionIsMissingFromALibraryThatIsNotTurboJpeg() {
        TurboJpeg notTurbo = TurboJpeg.load("libz.so.1"); // any library without the TurboJPEG functions
        Assumptions.assumeTrue(notTurbo.unavailableReason().map(w -> w.contains("has no function")).orElse(false),
                "libz.so.1 not loadable here");
        assertThat(notTurbo.unavailableReason()).hasValueSatisfying(why -> assertThat(why).contains("tjInitCompress"));
    }

    @Test
    void shouldFallBackToTheJdkEncoderWithoutTheLibraryUnlessTurboIsRequired() throws IOException {
        TurboJpeg missing = TurboJpeg.load("libdeskgate-no-such-library.so.0");
        int[] px = photo(64, 64, 3);
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults(), missing)) {
            assertThat(encoder.jpegLibrary()).isEqualTo(JpegLibrary.JDK);
            Tile t = encoder.jpeg(px, 64, 0, 0, 64, 64);
            assertThat(t.format()).isEqualTo(Tile.FORMAT_JPEG);
            assertThat(t.data()).isEqualTo(encoder.jdkJpeg(px, 64, 0, 0, 64, 64).data());
            assertThat(psnr(px, 64, 0, 0, 64, 64, decode(t.data(), 64, 64))).isGreaterThan(32.0);
        }
        EncoderConfig turbo = EncoderConfig.builder().jpegLibrary(JpegLibrary.TURBO).build();
        assertThatThrownBy(() -> new TileEncoder(turbo, missing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("jpeg-library is turbo").hasMessageContaining("libdeskgate-no-such-library.so.0");
        assertThatThrownBy(() -> TileEncoder.checkLibrary(turbo, missing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("engine.encoder.jpeg-library is turbo");
        TileEncoder.checkLibrary(EncoderConfig.defaults(), missing); // auto: the fallback, no error
    }

    @Test
    void shouldUseTheLibraryWhenAutoOrTurboAndNeverWhenJdk() throws IOException {
        TurboJpeg lib = library();
        int[] px = photo(128, 64, 5);
        for (JpegLibrary choice : JpegLibrary.values()) {
            try (TileEncoder encoder = new TileEncoder(EncoderConfig.builder().jpegLibrary(choice).build(), lib)) {
                JpegLibrary used = choice == JpegLibrary.JDK ? JpegLibrary.JDK : JpegLibrary.TURBO;
                assertThat(encoder.jpegLibrary()).as("%s", choice).isEqualTo(used);
                Tile t = encoder.encode(TileEncoder.Kind.PHOTO, px, 128, 64, 0, 64, 64);
                assertThat(t.format()).isEqualTo(Tile.FORMAT_JPEG);
                boolean sameAsJdk = java.util.Arrays.equals(t.data(), encoder.jdkJpeg(px, 128, 64, 0, 64, 64).data());
                assertThat(sameAsJdk).as("%s: the JDK's bytes exactly", choice).isEqualTo(used == JpegLibrary.JDK);
                assertThat(psnr(px, 128, 64, 0, 64, 64, decode(t.data(), 64, 64))).isGreaterThan(32.0);
            }
        }
    }
}
