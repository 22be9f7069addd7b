package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Decodes the GLYPHS golden vectors (docs/protocol.md §1.1; {@code src/test/vectors/glyph-tiles.txt}, written by encode's
 * {@code GlyphVectorsTest} and decoded by the browser's {@code glyphs.test.mjs} too): the good ones in order with one
 * decoder (GLYPHS and ZSTREAM tiles of one lane) to exactly their pixels, every malformed one refused naming what is
 * wrong, a RESET emptying the lane's glyph cache, and seeded mutations refused only with {@link ProtocolException}.
 */
class GlyphTileTest {
    static final HexFormat HEX = HexFormat.of();

    static List<TileVector> vectors() throws Exception {
        return TileVector.load("glyph-tiles.txt");
    }

    @Test
    void shouldDecodeTheGoodVectorsInOrderToTheirPixels() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        assertThat(good).hasSizeGreaterThanOrEqualTo(8);
        assertThat(good.stream().filter(v -> v.tile().format() == Tile.FORMAT_GLYPHS)).hasSizeGreaterThanOrEqualTo(7);
        try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
            for (TileVector v : good) assertThat(decoder.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name()).isEqualTo(ZstreamTileTest.rgb(v.rest()));
        }
    }

    @Test
    void shouldRefuseEveryMalformedVectorNamingWhatIsWrong() throws Exception {
        List<TileVector> bad = vectors().stream().filter(v -> !v.good()).toList();
        assertThat(bad).hasSizeGreaterThanOrEqualTo(14);
        for (TileVector v : bad) {
            try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
                assertThatThrownBy(() -> decoder.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name())
                        .isInstanceOf(ProtocolException.class).hasMessageContaining(v.rest());
                assertThat(decoder.valid(v.tile().data().length > 0 ? v.tile().data()[0] & 0x0f : 0)).as(v.name() + ": the lane is lost").isFalse();
            }
        }
    }

    @Test
    void shouldEmptyTheGlyphCacheOnAResetAndRefuseAGlyphOfAnotherSize() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
            for (TileVector v : good) decoder.decode(v.tile(), v.desktopW(), v.desktopH());
            // Slot 0 holds a 3x5 glyph: a 3x5 tile naming it draws, a 4x5 one is refused.
            Tile cached = good.get(1).tile(); // the-same-cells-cached: refers to slots 0..2, no new glyph
            byte[] otherSize = cached.data().clone();
            otherSize[GlyphTile.CELL_WIDTH_OFFSET] = 4;
            assertThatThrownBy(() -> decoder.decode(new Tile(0, 0, 16, 10, Tile.FORMAT_GLYPHS, otherSize), 64, 64))
                    .isInstanceOf(ProtocolException.class).hasMessageContaining("holds no 4x5 glyph");
            // The lane is lost now; the first tile (RESET) brings it back, and its glyphs only.
            assertThatThrownBy(() -> decoder.decode(cached, 64, 64)).hasMessageContaining("without RESET");
            assertThat(decoder.decode(good.get(0).tile(), 64, 64)).isEqualTo(ZstreamTileTest.rgb(good.get(0).rest()));
            assertThat(decoder.decode(cached, 64, 64)).isEqualTo(ZstreamTileTest.rgb(good.get(1).rest()));
        }
    }

    @Test
    void shouldThrowOnlyProtocolExceptionForMutatedTiles() throws Exception {
        List<TileVector> vectors = vectors();
        Random random = new Random(0x61f9b5);
        int decoded = 0, rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            int k = random.nextInt(vectors.size());
            TileVector v = vectors.get(k);
            byte[] input = Mutator.mutate(StreamCodec.encode(v.tile()), random);
            try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
                for (int j = 0; j < k; j++) {
                    TileVector before = vectors.get(j);
                    if (before.good()) decoder.decode(before.tile(), before.desktopW(), before.desktopH());
                }
                if (StreamCodec.decode(input) instanceof Tile t && (t.format() == Tile.FORMAT_GLYPHS || t.format() == Tile.FORMAT_ZSTREAM)) {
                    int[] px = decoder.decode(t, v.desktopW(), v.desktopH());
                    assertThat(px).hasSize(t.w() * t.h());
                    decoded++;
                }
            } catch (ProtocolException e) {
                rejected++;
            }
        }
        assertThat(decoded).isPositive();
        assertThat(rejected).isPositive();
    }
}
