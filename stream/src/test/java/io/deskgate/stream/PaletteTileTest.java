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
 * Decodes the PALETTE golden vectors (docs/protocol.md §1.1; {@code src/test/vectors/palette-tiles.txt}, written
 * by encode's {@code PaletteVectorsTest} and decoded by the browser's {@code display.test.mjs} too): the good ones
 * to their pixels, the malformed ones refused with a {@link ProtocolException} naming what is wrong.
 */
class PaletteTileTest {
    static final HexFormat HEX = HexFormat.of();

    static List<TileVector> vectors() throws Exception {
        return TileVector.load("palette-tiles.txt");
    }

    @Test
    void shouldDecodeEveryGoodVectorToItsPixels() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        assertThat(good).extracting(TileVector::name).contains("two-colours-1bit", "four-colours-2bit", "sixteen-colours-4bit", "forty-colours-8bit");
        for (TileVector v : good) {
            int[] px = PaletteTile.decode(v.tile(), v.desktopW(), v.desktopH());
            byte[] rgb = HEX.parseHex(v.rest());
            assertThat(px).as(v.name()).hasSize(rgb.length / 3);
            for (int i = 0; i < px.length; i++) {
                int want = (rgb[3 * i] & 0xff) << 16 | (rgb[3 * i + 1] & 0xff) << 8 | rgb[3 * i + 2] & 0xff;
                assertThat(px[i]).as("%s pixel %d", v.name(), i).isEqualTo(want);
            }
        }
    }

    @Test
    void shouldRefuseEveryMalformedVectorNamingWhatIsWrong() throws Exception {
        List<TileVector> bad = vectors().stream().filter(v -> !v.good()).toList();
        assertThat(bad).hasSizeGreaterThanOrEqualTo(9);
        for (TileVector v : bad) {
            assertThatThrownBy(() -> PaletteTile.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name())
                    .isInstanceOf(ProtocolException.class).hasMessageContaining("PALETTE tile").hasMessageContaining(v.rest());
        }
    }

    @Test
    void shouldRefuseAHugeRectangleBeforeSizingAnyBuffer() {
        Tile huge = new Tile(0, 0, 65535, 65535, Tile.FORMAT_PALETTE, new byte[] {1, 0, 0, 0, 1, 1, 1});
        assertThatThrownBy(() -> PaletteTile.decode(huge, 65535, 65534)).isInstanceOf(ProtocolException.class).hasMessageContaining("outside");
    }

    /** Seeded random mutation of every vector's TILE message: only ProtocolException may escape, on the codec or the decoder. */
    @Test
    void shouldThrowOnlyProtocolExceptionForMutatedTiles() throws Exception {
        List<TileVector> vectors = vectors();
        Random random = new Random(0x9a1e77e);
        int decoded = 0, rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            TileVector v = vectors.get(random.nextInt(vectors.size()));
            byte[] input = Mutator.mutate(StreamCodec.encode(v.tile()), random);
            try {
                if (StreamCodec.decode(input) instanceof Tile t && t.format() == Tile.FORMAT_PALETTE) {
                    int[] px = PaletteTile.decode(t, v.desktopW(), v.desktopH());
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

    @Test
    void shouldDecodeTheFormatThroughTheCodec() {
        assertThat(StreamCodec.decode(HEX.parseHex("01000000000001000105aa"))).isEqualTo(new Tile(0, 0, 1, 1, Tile.FORMAT_PALETTE, new byte[] {(byte) 0xaa}));
    }
}
