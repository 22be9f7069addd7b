package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.encode.TileEncoder;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The persistent-stream estimate: a repeated tile costs far less than its own zlib stream; other formats are not counted. */
class ZstreamEstimateTest {
    private static int[] text(long seed) {
        Random r = new Random(seed);
        int[] px = new int[64 * 64];
        for (int i = 0; i < px.length; i++) px[i] = r.nextInt(8) == 0 ? 0x000000 : 0xffffff;
        return px;
    }

    @Test
    void shouldChargeARepeatedTileLessThanItsOwnZlibStream() {
        try (TileEncoder enc = new TileEncoder(EncoderConfig.defaults()); ZstreamEstimate est = new ZstreamEstimate()) {
            Tile palette = enc.encodeExact(TileEncoder.Kind.LOSSLESS, text(1), 64, 0, 0, 64, 64);
            assertThat(palette.format()).isEqualTo(Tile.FORMAT_PALETTE);
            est.add(palette);
            long once = est.streamBytes(0, 0) + palette.data().length; // the chunk of the first copy
            est.add(palette);
            long twice = est.streamBytes(0, 0) + 2L * palette.data().length;
            assertThat(est.tiles()).isEqualTo(2);
            // The second copy is a back reference into the window: a few bytes, not another palette and index stream.
            assertThat(twice - once).isLessThan(palette.data().length / 10);
        }
    }

    @Test
    void shouldIgnoreTilesOfOtherFormats() {
        try (ZstreamEstimate est = new ZstreamEstimate()) {
            est.add(TileEncoder.fill(0x123456, 0, 0, 64, 64));
            assertThat(est.tiles()).isZero();
            assertThat(est.streamBytes(1000, 1)).isEqualTo(1000);
        }
    }

    @Test
    void shouldInflateAZlibRgbTileBackToItsPixels() {
        try (TileEncoder enc = new TileEncoder(EncoderConfig.defaults()); ZstreamEstimate est = new ZstreamEstimate()) {
            Tile rgb = enc.zlib(text(2), 64, 0, 0, 64, 64);
            est.add(rgb);
            assertThat(est.tiles()).isEqualTo(1);
            assertThat(est.streamBytes(rgb.data().length, 2)).isPositive();
        }
    }
}
