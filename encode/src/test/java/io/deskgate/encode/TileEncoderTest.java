package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.encode.TileEncoder.Kind;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TileEncoderTest {

    @Test
    void shouldEncodeAOneColourRectangleAsFillWithItsRgbBytes() {
        int[] px = new int[16 * 16];
        java.util.Arrays.fill(px, 0xff0000);
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            Tile t = encoder.encode(px, 16, 3, 4, 1, 1);
            // docs/protocol.md §1.3: 1x1 FILL at (3, 4) in red
            assertThat(t).isEqualTo(new Tile(3, 4, 1, 1, Tile.FORMAT_FILL, new byte[] {(byte) 0xff, 0, 0}));
        }
    }

    @Test
    void shouldCountDistinctColoursUpToTheThreshold() {
        EncoderConfig config = new EncoderConfig(3, 0.8f, true, 100, 0.5, 4);
        int[] px = new int[64 * 64];
        for (int i = 0; i < px.length; i++) px[i] = (i % 100) * 0x010203; // exactly 100 colours
        try (TileEncoder encoder = new TileEncoder(config)) {
            assertThat(encoder.classify(px, 64, 0, 0, 64, 64)).isEqualTo(Kind.LOSSLESS);
            px[4095] = 0x123456; // the 101st colour, in the last pixel
            assertThat(encoder.classify(px, 64, 0, 0, 64, 64)).isEqualTo(Kind.PHOTO);
            assertThat(encoder.classify(px, 64, 0, 0, 64, 63)).isEqualTo(Kind.LOSSLESS); // a fresh count per rectangle
            java.util.Arrays.fill(px, 7);
            assertThat(encoder.classify(px, 64, 0, 0, 64, 64)).isEqualTo(Kind.FILL);
        }
    }

    @Test
    void shouldIgnoreTheUnusedHighByteOfPixels() {
        int[] px = {0xff00ff00, 0x0000ff00, 0x7f00ff00, 0x0000ff00};
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            assertThat(encoder.encode(px, 2, 0, 0, 2, 2)).isEqualTo(TileEncoder.fill(0x00ff00, 0, 0, 2, 2));
        }
    }

    @Test
    void shouldKeepTheSmallerOfZlibAndJpegWhenZlibExceedsTheLossyRatio() {
        Random random = new Random(3);
        int[] px = new int[64 * 64];
        for (int i = 0; i < px.length; i++) px[i] = random.nextInt(200) * 0x010101 + (i % 64);
        EncoderConfig config = new EncoderConfig(3, 0.5f, true, 1000, 0.01, 4);
        try (TileEncoder encoder = new TileEncoder(config)) {
            int zlib = encoder.zlib(px, 64, 0, 0, 64, 64).data().length;
            int jpeg = encoder.jpeg(px, 64, 0, 0, 64, 64).data().length;
            Tile chosen = encoder.encode(Kind.LOSSLESS, px, 64, 0, 0, 64, 64);
            assertThat(chosen.data().length).isEqualTo(Math.min(zlib, jpeg));
            assertThat(chosen.format()).isEqualTo(jpeg < zlib ? Tile.FORMAT_JPEG : Tile.FORMAT_ZLIB_RGB);
        }
    }

    @Test
    void shouldProduceSmallerJpegsAtLowerQuality() {
        Random random = new Random(5);
        int[] px = new int[64 * 64];
        for (int i = 0; i < px.length; i++) px[i] = random.nextInt(1 << 24);
        try (TileEncoder low = new TileEncoder(EncoderConfig.builder().jpegQuality(0.2f).build());
             TileEncoder high = new TileEncoder(EncoderConfig.builder().jpegQuality(0.95f).build())) {
            Tile lowTile = low.jpeg(px, 64, 0, 0, 64, 64);
            Tile highTile = high.jpeg(px, 64, 0, 0, 64, 64);
            assertThat(lowTile.data().length).isLessThan(highTile.data().length);
            assertThat(TileCanvas.decode(lowTile)).hasSize(64 * 64);
        }
    }

    @Test
    void shouldRejectRectanglesOutsideThePixelArray() {
        int[] px = new int[64 * 64];
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.defaults())) {
            assertThatThrownBy(() -> encoder.encode(px, 64, 60, 0, 8, 8)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> encoder.encode(px, 64, 0, 60, 8, 8)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> encoder.encode(px, 64, 0, 0, 0, 8)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldValidateConfig() {
        assertThatThrownBy(() -> new EncoderConfig(0, 0.8f, true, 256, 0.5, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EncoderConfig(3, 1.5f, true, 256, 0.5, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EncoderConfig(3, 0.8f, true, 5000, 0.5, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EncoderConfig(3, 0.8f, true, 256, 0.5, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
